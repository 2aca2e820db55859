"""IAM Query API on the S3 endpoint (SigV4 service "iam"): users, access keys, inline and
managed policies, groups, roles, tags, pagination and errors, with boto3 and the AWS CLI."""
import json
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import client_error, make_boto3, unique_name

S3_ALL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


DOC = {"Version": "2012-10-17",
       "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def boto(service, endpoint, ak, sk, token=None, **cfg):
    import boto3
    from botocore.config import Config
    config = Config(region_name="us-east-1", retries={"total_max_attempts": 1, "mode": "standard"},
                    **cfg)
    return boto3.session.Session().client(service, endpoint_url=endpoint, aws_access_key_id=ak,
                                          aws_secret_access_key=sk, aws_session_token=token,
                                          config=config)


@pytest.fixture(scope="module")
def iam(server):
    return boto("iam", server.endpoint, server.access_key, server.secret_key)


@pytest.fixture(scope="module")
def sts(server):
    return boto("sts", server.endpoint, server.access_key, server.secret_key)


@pytest.fixture(scope="module")
def account_id(sts):
    return sts.get_caller_identity()["Account"]


def err(excinfo):
    return client_error(excinfo)


def new_user(iam, **kw):
    name = unique_name("u")
    iam.create_user(UserName=name, **kw)
    return name


# ---- users ---------------------------------------------------------------------------------

def test_create_get_list_delete_user(iam, account_id):
    name = unique_name("u")
    u = iam.create_user(UserName=name, Path="/eng/", Tags=[{"Key": "team", "Value": "data"}])["User"]
    assert u["UserName"] == name and u["Path"] == "/eng/"
    assert u["Arn"] == "arn:aws:iam::%s:user/eng/%s" % (account_id, name)
    assert u["UserId"].startswith("AIDA") and len(u["UserId"]) == 21
    got = iam.get_user(UserName=name)["User"]
    assert got["UserId"] == u["UserId"] and got["Tags"] == [{"Key": "team", "Value": "data"}]
    assert name in [x["UserName"] for x in iam.list_users(PathPrefix="/eng/")["Users"]]
    assert name not in [x["UserName"] for x in iam.list_users(PathPrefix="/ops/")["Users"]]
    iam.delete_user(UserName=name)
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName=name)
    assert err(e) == (404, "NoSuchEntity")


def test_user_exists_case_insensitive(iam):
    name = new_user(iam)
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName=name.upper())
    assert err(e) == (409, "EntityAlreadyExists")


def test_user_name_validation(iam):
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="bad/name")
    assert err(e) == (400, "ValidationError")
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName=unique_name("u"), Path="noslash")
    assert err(e) == (400, "ValidationError")


def test_get_user_without_name_is_root(iam, account_id):
    u = iam.get_user()["User"]
    assert u["Arn"] == "arn:aws:iam::%s:root" % account_id


def test_list_users_pagination(iam):
    prefix = "/page-%s/" % unique_name("p")
    names = sorted(unique_name("pg") for _ in range(5))
    for n in names:
        iam.create_user(UserName=n, Path=prefix)
    seen, marker = [], None
    while True:
        kw = {"PathPrefix": prefix, "MaxItems": 2}
        if marker:
            kw["Marker"] = marker
        r = iam.list_users(**kw)
        assert len(r["Users"]) <= 2
        seen += [u["UserName"] for u in r["Users"]]
        if not r["IsTruncated"]:
            break
        marker = r["Marker"]
    assert seen == names
    assert [u["UserName"] for u in iam.get_paginator("list_users").paginate(
        PathPrefix=prefix, PaginationConfig={"PageSize": 3}).build_full_result()["Users"]] == names


def test_user_tags(iam):
    name = new_user(iam)
    iam.tag_user(UserName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.tag_user(UserName=name, Tags=[{"Key": "a", "Value": "3"}])
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=name)["Tags"]}
    assert tags == {"a": "3", "b": "2"}
    iam.untag_user(UserName=name, TagKeys=["a"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "b", "Value": "2"}]


# ---- access keys ---------------------------------------------------------------------------

def test_access_key_lifecycle_and_s3(iam, server, s3):
    name = new_user(iam)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    assert k["AccessKeyId"].startswith("AKIA") and len(k["AccessKeyId"]) == 20
    assert k["Status"] == "Active" and len(k["SecretAccessKey"]) == 40
    meta = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert [(m["AccessKeyId"], m["Status"]) for m in meta] == [(k["AccessKeyId"], "Active")]

    # The user's keys work for S3, with what its policies allow (api/authz.c).
    iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=S3_ALL)
    us3 = make_boto3(server.endpoint, k["AccessKeyId"], k["SecretAccessKey"])
    b = unique_name("ub")
    us3.create_bucket(Bucket=b)
    us3.put_object(Bucket=b, Key="x", Body=b"from user")
    assert s3.get_object(Bucket=b, Key="x")["Body"].read() == b"from user"

    iam.update_access_key(UserName=name, AccessKeyId=k["AccessKeyId"], Status="Inactive")
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    with pytest.raises(ClientError) as e:
        us3.list_objects_v2(Bucket=b)
    assert err(e) == (403, "InvalidAccessKeyId")
    iam.update_access_key(UserName=name, AccessKeyId=k["AccessKeyId"], Status="Active")
    assert us3.list_objects_v2(Bucket=b)["KeyCount"] == 1

    iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"] == []
    with pytest.raises(ClientError) as e:
        us3.list_objects_v2(Bucket=b)
    assert err(e) == (403, "InvalidAccessKeyId")
    s3.delete_object(Bucket=b, Key="x")
    s3.delete_bucket(Bucket=b)


def test_access_key_limit_and_errors(iam):
    name = new_user(iam)
    iam.create_access_key(UserName=name)
    iam.create_access_key(UserName=name)
    with pytest.raises(ClientError) as e:
        iam.create_access_key(UserName=name)
    assert err(e) == (409, "LimitExceeded")
    with pytest.raises(ClientError) as e:
        iam.create_access_key(UserName=unique_name("ghost"))
    assert err(e) == (404, "NoSuchEntity")
    with pytest.raises(ClientError) as e:
        iam.delete_access_key(UserName=name, AccessKeyId="AKIANOTAREALKEY00000")
    assert err(e) == (404, "NoSuchEntity")


def test_delete_user_conflicts(iam):
    name = new_user(iam)
    k = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=name)
    assert err(e) == (409, "DeleteConflict")
    iam.delete_access_key(UserName=name, AccessKeyId=k)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(DOC))
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=name)
    assert err(e) == (409, "DeleteConflict")
    iam.delete_user_policy(UserName=name, PolicyName="p")
    g = unique_name("g")
    iam.create_group(GroupName=g)
    iam.add_user_to_group(GroupName=g, UserName=name)
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=name)
    assert err(e) == (409, "DeleteConflict")
    iam.remove_user_from_group(GroupName=g, UserName=name)
    iam.delete_user(UserName=name)
    iam.delete_group(GroupName=g)


def test_iam_user_cannot_call_iam(iam, server, account_id):
    name = new_user(iam)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    uiam = boto("iam", server.endpoint, k["AccessKeyId"], k["SecretAccessKey"])
    x = unique_name("x")
    with pytest.raises(ClientError) as e:
        uiam.create_user(UserName=x)
    assert err(e) == (403, "AccessDenied")
    assert e.value.response["Error"]["Message"] == (
        "User: arn:aws:iam::%s:user/%s is not authorized to perform: iam:CreateUser on resource: "
        "arn:aws:iam::%s:user/%s because no identity-based policy allows the iam:CreateUser "
        "action" % (account_id, name, account_id, x))


def policy_doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def user_client(iam, server, policy=None, **create):
    name = new_user(iam, **create)
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return name, boto("iam", server.endpoint, k["AccessKeyId"], k["SecretAccessKey"])


def test_iam_user_with_permission_calls_iam(iam, server, account_id):
    """An IAM user's identity policies decide its IAM calls, on the resource ARNs IAM uses
    (users under a path, the path ARN for List*), with conditions and explicit denies."""
    team = "arn:aws:iam::%s:user/team/*" % account_id
    name, uiam = user_client(iam, server, policy_doc(
        {"Effect": "Allow", "Action": ["iam:CreateUser", "iam:GetUser", "iam:ListUsers",
                                       "iam:TagUser", "iam:DeleteUser"], "Resource": team},
        {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": team,
         "Condition": {"StringEquals": {"aws:ResourceTag/keep": "yes"}}},
        {"Effect": "Deny", "Action": "iam:TagUser", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["keep"]}}}))
    x = unique_name("t")
    assert uiam.create_user(UserName=x, Path="/team/")["User"]["Path"] == "/team/"
    assert uiam.get_user(UserName=x)["User"]["UserName"] == x
    with pytest.raises(ClientError) as e:  # outside /team/
        uiam.create_user(UserName=unique_name("t"))
    assert err(e) == (403, "AccessDenied")
    # ListUsers is checked on the path ARN: only the /team/ prefix is allowed
    assert x in [u["UserName"] for u in uiam.list_users(PathPrefix="/team/")["Users"]]
    with pytest.raises(ClientError) as e:
        uiam.list_users()
    assert e.value.response["Error"]["Message"].endswith(
        "iam:ListUsers on resource: arn:aws:iam::%s:user/ because no identity-based policy "
        "allows the iam:ListUsers action" % account_id)
    # aws:TagKeys and aws:ResourceTag/<k> conditions
    uiam.tag_user(UserName=x, Tags=[{"Key": "env", "Value": "dev"}])
    with pytest.raises(ClientError) as e:
        uiam.tag_user(UserName=x, Tags=[{"Key": "keep", "Value": "yes"}])
    assert e.value.response["Error"]["Message"].endswith(
        "with an explicit deny in an identity-based policy")
    iam.tag_user(UserName=x, Tags=[{"Key": "keep", "Value": "yes"}])  # the root user may
    with pytest.raises(ClientError) as e:
        uiam.delete_user(UserName=x)
    assert err(e) == (403, "AccessDenied")
    iam.untag_user(UserName=x, TagKeys=["keep"])
    uiam.delete_user(UserName=x)
    # its own user without UserName: the resource is the caller itself (not under /team/)
    with pytest.raises(ClientError) as e:
        uiam.get_user()
    assert err(e) == (403, "AccessDenied")
    # a change of the user's policies applies to the next request
    iam.put_user_policy(UserName=name, PolicyName="self", PolicyDocument=policy_doc(
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource":
         "arn:aws:iam::%s:user/${aws:username}" % account_id}))
    assert uiam.get_user()["User"]["UserName"] == name


def test_group_policy_grants_iam(iam, server):
    name, uiam = user_client(iam, server)
    g = unique_name("g")
    iam.create_group(GroupName=g)
    iam.put_group_policy(GroupName=g, PolicyName="ro", PolicyDocument=policy_doc(
        {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}))
    with pytest.raises(ClientError):
        uiam.list_groups()
    iam.add_user_to_group(GroupName=g, UserName=name)
    assert g in [x["GroupName"] for x in uiam.list_groups()["Groups"]]
    with pytest.raises(ClientError) as e:
        uiam.create_group(GroupName=unique_name("g"))
    assert err(e) == (403, "AccessDenied")


def test_permissions_boundary_api(iam, account_id):
    pol = iam.create_policy(PolicyName=unique_name("pb"), PolicyDocument=json.dumps(DOC))["Policy"]
    assert pol["PermissionsBoundaryUsageCount"] == 0
    u = unique_name("u")
    got = iam.create_user(UserName=u, PermissionsBoundary=pol["Arn"])["User"]
    want = {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": pol["Arn"]}
    assert got["PermissionsBoundary"] == want
    assert iam.get_user(UserName=u)["User"]["PermissionsBoundary"] == want
    assert iam.get_policy(PolicyArn=pol["Arn"])["Policy"]["PermissionsBoundaryUsageCount"] == 1
    with pytest.raises(ClientError) as e:  # in use as a boundary
        iam.delete_policy(PolicyArn=pol["Arn"])
    assert err(e) == (409, "DeleteConflict")
    iam.delete_user_permissions_boundary(UserName=u)
    assert "PermissionsBoundary" not in iam.get_user(UserName=u)["User"]
    iam.put_user_permissions_boundary(UserName=u, PermissionsBoundary=pol["Arn"])
    assert iam.get_user(UserName=u)["User"]["PermissionsBoundary"] == want
    r = unique_name("r")
    iam.create_role(RoleName=r, AssumeRolePolicyDocument=json.dumps(trust_doc(account_id)),
                    PermissionsBoundary=pol["Arn"])
    assert iam.get_role(RoleName=r)["Role"]["PermissionsBoundary"] == want
    assert iam.get_policy(PolicyArn=pol["Arn"])["Policy"]["PermissionsBoundaryUsageCount"] == 2
    iam.delete_role_permissions_boundary(RoleName=r)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=r)["Role"]
    iam.put_role_permissions_boundary(RoleName=r, PermissionsBoundary=pol["Arn"])
    # errors: not a policy ARN, no such policy, no such user
    with pytest.raises(ClientError) as e:
        iam.put_user_permissions_boundary(UserName=u, PermissionsBoundary="arn:aws:s3:::bucket-x")
    assert err(e) == (400, "InvalidInput")
    missing = "arn:aws:iam::%s:policy/%s" % (account_id, unique_name("none"))
    with pytest.raises(ClientError) as e:
        iam.put_user_permissions_boundary(UserName=u, PermissionsBoundary=missing)
    assert err(e) == (404, "NoSuchEntity")
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName=unique_name("u"), PermissionsBoundary=missing)
    assert err(e) == (404, "NoSuchEntity")
    with pytest.raises(ClientError) as e:
        iam.put_user_permissions_boundary(UserName=unique_name("none"),
                                          PermissionsBoundary=pol["Arn"])
    assert err(e) == (404, "NoSuchEntity")
    iam.delete_user_permissions_boundary(UserName=u)
    iam.delete_role_permissions_boundary(RoleName=r)
    iam.delete_policy(PolicyArn=pol["Arn"])


def test_permissions_boundary_limits_user(iam, server, s3, account_id):
    """A boundary caps what the user's policies grant, for S3 and for IAM calls."""
    bnd = iam.create_policy(PolicyName=unique_name("pb"), PolicyDocument=policy_doc(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "iam:GetUser"],
         "Resource": "*"}))["Policy"]
    name = new_user(iam, PermissionsBoundary=bnd["Arn"])
    iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=policy_doc(
        {"Effect": "Allow", "Action": ["s3:*", "iam:*"], "Resource": "*"}))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    us3 = make_boto3(server.endpoint, k["AccessKeyId"], k["SecretAccessKey"])
    uiam = boto("iam", server.endpoint, k["AccessKeyId"], k["SecretAccessKey"])
    b = unique_name("pb")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=b"v")
    assert us3.get_object(Bucket=b, Key="k")["Body"].read() == b"v"
    with pytest.raises(ClientError) as e:
        us3.put_object(Bucket=b, Key="k2", Body=b"v")
    assert err(e) == (403, "AccessDenied")
    assert uiam.get_user(UserName=name)["User"]["UserName"] == name
    with pytest.raises(ClientError) as e:
        uiam.list_users()
    assert e.value.response["Error"]["Message"].endswith(
        "because no permissions boundary allows the iam:ListUsers action")
    # the user cannot lift its own boundary: DeleteUserPermissionsBoundary is outside it
    with pytest.raises(ClientError) as e:
        uiam.delete_user_permissions_boundary(UserName=name)
    assert err(e) == (403, "AccessDenied")
    iam.delete_user_permissions_boundary(UserName=name)
    us3.put_object(Bucket=b, Key="k2", Body=b"v")
    uiam.list_users(MaxItems=1)


def test_role_session_calls_iam(iam, sts, server, account_id):
    r = unique_name("r")
    role = iam.create_role(RoleName=r, AssumeRolePolicyDocument=json.dumps(trust_doc(account_id)))
    iam.put_role_policy(RoleName=r, PolicyName="p", PolicyDocument=policy_doc(
        {"Effect": "Allow", "Action": ["iam:GetRole", "iam:ListRoles"], "Resource": "*"}))
    c = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="admin1")["Credentials"]
    riam = boto("iam", server.endpoint, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert riam.get_role(RoleName=r)["Role"]["RoleName"] == r
    assert riam.list_roles(MaxItems=1)["Roles"]
    with pytest.raises(ClientError) as e:
        riam.delete_role(RoleName=r)
    assert e.value.response["Error"]["Message"] == (
        "User: arn:aws:sts::%s:assumed-role/%s/admin1 is not authorized to perform: "
        "iam:DeleteRole on resource: arn:aws:iam::%s:role/%s because no identity-based policy "
        "allows the iam:DeleteRole action" % (account_id, r, account_id, r))
    # a session policy narrows the role's permissions
    c = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="narrow",
                        Policy=policy_doc({"Effect": "Allow", "Action": "iam:ListRoles",
                                           "Resource": "*"}))["Credentials"]
    niam = boto("iam", server.endpoint, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    niam.list_roles(MaxItems=1)
    with pytest.raises(ClientError) as e:
        niam.get_role(RoleName=r)
    assert e.value.response["Error"]["Message"].endswith(
        "because no session policy allows the iam:GetRole action")


def test_bad_credentials_for_iam(server):
    bad = boto("iam", server.endpoint, "AKIANOSUCHKEY0000000", "x" * 40)
    with pytest.raises(ClientError) as e:
        bad.list_users()
    assert err(e) == (403, "InvalidClientTokenId")
    wrong = boto("iam", server.endpoint, server.access_key, "y" * 40)
    with pytest.raises(ClientError) as e:
        wrong.list_users()
    assert err(e) == (403, "SignatureDoesNotMatch")


# ---- inline and managed policies -----------------------------------------------------------

def test_inline_user_policy(iam):
    name = new_user(iam)
    iam.put_user_policy(UserName=name, PolicyName="s3all", PolicyDocument=json.dumps(DOC))
    got = iam.get_user_policy(UserName=name, PolicyName="s3all")
    assert got["PolicyDocument"] == DOC
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["s3all"]
    with pytest.raises(ClientError) as e:
        iam.get_user_policy(UserName=name, PolicyName="nope")
    assert err(e) == (404, "NoSuchEntity")
    iam.delete_user_policy(UserName=name, PolicyName="s3all")
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == []


@pytest.mark.parametrize("doc", ["not json", "{\"Version\": \"2012-10-17\"}",
                                 json.dumps({"Statement": [{"Effect": "Maybe", "Action": "*"}]}),
                                 json.dumps({"Version": "1999", "Statement": DOC["Statement"]})])
def test_malformed_policy_document(iam, doc):
    name = new_user(iam)
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc)
    assert err(e) == (400, "MalformedPolicyDocument")


def test_inline_policy_size_quota(iam):
    name = new_user(iam)
    big = dict(DOC, Statement=[{"Effect": "Allow", "Action": "s3:GetObject",
                                "Resource": "arn:aws:s3:::%s/*" % ("b" * 60 + str(i))}
                               for i in range(30)])
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName=name, PolicyName="big", PolicyDocument=json.dumps(big))
    assert err(e) == (409, "LimitExceeded")


def test_managed_policy_versions_and_attachments(iam, account_id):
    pname = unique_name("mp")
    p = iam.create_policy(PolicyName=pname, PolicyDocument=json.dumps(DOC),
                          Description="all of s3")["Policy"]
    assert p["Arn"] == "arn:aws:iam::%s:policy/%s" % (account_id, pname)
    assert p["DefaultVersionId"] == "v1" and p["AttachmentCount"] == 0
    with pytest.raises(ClientError) as e:
        iam.create_policy(PolicyName=pname, PolicyDocument=json.dumps(DOC))
    assert err(e) == (409, "EntityAlreadyExists")

    user = new_user(iam)
    iam.attach_user_policy(UserName=user, PolicyArn=p["Arn"])
    att = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    assert att == [{"PolicyName": pname, "PolicyArn": p["Arn"]}]
    assert iam.get_policy(PolicyArn=p["Arn"])["Policy"]["AttachmentCount"] == 1

    doc2 = dict(DOC, Statement=[{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])
    v2 = iam.create_policy_version(PolicyArn=p["Arn"], PolicyDocument=json.dumps(doc2),
                                   SetAsDefault=True)["PolicyVersion"]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"] is True
    assert iam.get_policy(PolicyArn=p["Arn"])["Policy"]["DefaultVersionId"] == "v2"
    assert iam.get_policy_version(PolicyArn=p["Arn"], VersionId="v2")["PolicyVersion"]["Document"] == doc2
    assert iam.get_policy_version(PolicyArn=p["Arn"], VersionId="v1")["PolicyVersion"]["Document"] == DOC
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=p["Arn"])["Versions"]] == ["v1", "v2"]
    for _ in range(3):
        iam.create_policy_version(PolicyArn=p["Arn"], PolicyDocument=json.dumps(DOC))
    with pytest.raises(ClientError) as e:
        iam.create_policy_version(PolicyArn=p["Arn"], PolicyDocument=json.dumps(DOC))
    assert err(e) == (409, "LimitExceeded")
    with pytest.raises(ClientError) as e:
        iam.delete_policy_version(PolicyArn=p["Arn"], VersionId="v2")
    assert err(e) == (409, "DeleteConflict")
    iam.set_default_policy_version(PolicyArn=p["Arn"], VersionId="v1")

    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=p["Arn"])
    assert err(e) == (409, "DeleteConflict")
    iam.detach_user_policy(UserName=user, PolicyArn=p["Arn"])
    with pytest.raises(ClientError) as e:
        iam.detach_user_policy(UserName=user, PolicyArn=p["Arn"])
    assert err(e) == (404, "NoSuchEntity")
    for v in ("v2", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=p["Arn"], VersionId=v)
    iam.delete_policy(PolicyArn=p["Arn"])
    with pytest.raises(ClientError) as e:
        iam.get_policy(PolicyArn=p["Arn"])
    assert err(e) == (404, "NoSuchEntity")


def test_attach_unknown_policy(iam, account_id):
    user = new_user(iam)
    with pytest.raises(ClientError) as e:
        iam.attach_user_policy(UserName=user,
                               PolicyArn="arn:aws:iam::%s:policy/nope-%s" % (account_id, user))
    assert err(e) == (404, "NoSuchEntity")
    with pytest.raises(ClientError) as e:
        iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert err(e) == (404, "NoSuchEntity")


def test_list_policies_local_and_only_attached(iam):
    p = iam.create_policy(PolicyName=unique_name("lp"), PolicyDocument=json.dumps(DOC))["Policy"]
    names = [x["PolicyName"] for x in iam.list_policies(Scope="Local", MaxItems=1000)["Policies"]]
    assert p["PolicyName"] in names
    assert iam.list_policies(Scope="AWS")["Policies"] == []
    attached = [x["PolicyName"] for x in iam.list_policies(OnlyAttached=True, MaxItems=1000)["Policies"]]
    assert p["PolicyName"] not in attached


# ---- groups and roles ----------------------------------------------------------------------

def test_groups(iam, account_id):
    g = unique_name("g")
    grp = iam.create_group(GroupName=g, Path="/teams/")["Group"]
    assert grp["Arn"] == "arn:aws:iam::%s:group/teams/%s" % (account_id, g)
    a, b = new_user(iam), new_user(iam)
    iam.add_user_to_group(GroupName=g, UserName=a)
    iam.add_user_to_group(GroupName=g, UserName=b)
    iam.add_user_to_group(GroupName=g, UserName=a)  # idempotent
    got = iam.get_group(GroupName=g)
    assert got["Group"]["GroupName"] == g
    assert sorted(u["UserName"] for u in got["Users"]) == sorted([a, b])
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName=a)["Groups"]] == [g]
    assert g in [x["GroupName"] for x in iam.list_groups(PathPrefix="/teams/")["Groups"]]
    iam.put_group_policy(GroupName=g, PolicyName="gp", PolicyDocument=json.dumps(DOC))
    assert iam.get_group_policy(GroupName=g, PolicyName="gp")["PolicyDocument"] == DOC
    mp = iam.create_policy(PolicyName=unique_name("gmp"), PolicyDocument=json.dumps(DOC))["Policy"]
    iam.attach_group_policy(GroupName=g, PolicyArn=mp["Arn"])
    assert iam.list_attached_group_policies(GroupName=g)["AttachedPolicies"][0]["PolicyArn"] == mp["Arn"]
    with pytest.raises(ClientError) as e:
        iam.delete_group(GroupName=g)
    assert err(e) == (409, "DeleteConflict")
    iam.remove_user_from_group(GroupName=g, UserName=a)
    iam.remove_user_from_group(GroupName=g, UserName=b)
    iam.delete_group_policy(GroupName=g, PolicyName="gp")
    iam.detach_group_policy(GroupName=g, PolicyArn=mp["Arn"])
    iam.delete_group(GroupName=g)
    with pytest.raises(ClientError) as e:
        iam.get_group(GroupName=g)
    assert err(e) == (404, "NoSuchEntity")


def trust_doc(account_id):
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % account_id},
        "Action": "sts:AssumeRole"}]}


def test_roles(iam, account_id):
    r = unique_name("r")
    role = iam.create_role(RoleName=r, AssumeRolePolicyDocument=json.dumps(trust_doc(account_id)),
                           Description="reads", MaxSessionDuration=7200,
                           Tags=[{"Key": "env", "Value": "test"}])["Role"]
    assert role["Arn"] == "arn:aws:iam::%s:role/%s" % (account_id, r)
    assert role["RoleId"].startswith("AROA")
    got = iam.get_role(RoleName=r)["Role"]
    assert got["AssumeRolePolicyDocument"] == trust_doc(account_id)
    assert got["MaxSessionDuration"] == 7200 and got["Description"] == "reads"
    assert got["Tags"] == [{"Key": "env", "Value": "test"}]
    iam.update_role(RoleName=r, MaxSessionDuration=3600)
    assert iam.get_role(RoleName=r)["Role"]["MaxSessionDuration"] == 3600
    iam.put_role_policy(RoleName=r, PolicyName="rp", PolicyDocument=json.dumps(DOC))
    assert iam.list_role_policies(RoleName=r)["PolicyNames"] == ["rp"]
    iam.tag_role(RoleName=r, Tags=[{"Key": "k", "Value": "v"}])
    assert len(iam.list_role_tags(RoleName=r)["Tags"]) == 2
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName=r)
    assert err(e) == (409, "DeleteConflict")
    iam.delete_role_policy(RoleName=r, PolicyName="rp")
    iam.delete_role(RoleName=r)
    assert r not in [x["RoleName"] for x in iam.list_roles(MaxItems=1000)["Roles"]]


def test_role_trust_policy_validation(iam):
    no_principal = {"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName=unique_name("r"), AssumeRolePolicyDocument=json.dumps(no_principal))
    assert err(e) == (400, "MalformedPolicyDocument")
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName=unique_name("r"), AssumeRolePolicyDocument="{}",
                        MaxSessionDuration=100000)
    assert err(e)[0] == 400


def test_unknown_action_and_raw_form(server):
    """Hand-signed Query requests: without x-amz-content-sha256 (the body hash is signed, as
    botocore does for IAM), a GET with the form in the query, and an unknown action."""
    c = server.client()
    hdrs = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    r = c.request("POST", "/", body=b"Action=FlyToTheMoon&Version=2010-05-08", headers=hdrs,
                  service="iam")
    assert r.status == 400 and b"<Code>InvalidAction</Code>" in r.body
    assert b"<ErrorResponse" in r.body and b"<Type>Sender</Type>" in r.body
    r = c.request("GET", "/", query=[("Action", "ListUsers"), ("Version", "2010-05-08")],
                  service="iam")
    assert r.status == 200 and b"<ListUsersResponse" in r.body, r.body
    r = c.request("POST", "/", body=b"Version=2010-05-08", headers=hdrs, service="iam")
    assert r.status == 400 and b"MissingAction" in r.body
    r = c.request("POST", "/", body=b"Action=ListUsers&Marker=%zz", headers=hdrs, service="iam")
    assert r.status == 400 and b"ValidationError" in r.body


# ---- the AWS CLI ---------------------------------------------------------------------------

def test_awscli_iam_flow(aws_cli, account_id, tmp_path):
    user = unique_name("cli")
    out = json.loads(aws_cli("iam", "create-user", "--user-name", user).stdout)
    assert out["User"]["UserName"] == user
    key = json.loads(aws_cli("iam", "create-access-key", "--user-name", user).stdout)["AccessKey"]
    keys = json.loads(aws_cli("iam", "list-access-keys", "--user-name", user).stdout)
    assert keys["AccessKeyMetadata"][0]["AccessKeyId"] == key["AccessKeyId"]
    pol = tmp_path / "p.json"
    pol.write_text(json.dumps(DOC))
    aws_cli("iam", "put-user-policy", "--user-name", user, "--policy-name", "inline",
            "--policy-document", "file://%s" % pol)
    got = json.loads(aws_cli("iam", "get-user-policy", "--user-name", user, "--policy-name",
                             "inline").stdout)
    assert got["PolicyDocument"] == DOC
    mp = json.loads(aws_cli("iam", "create-policy", "--policy-name", unique_name("climp"),
                            "--policy-document", "file://%s" % pol).stdout)["Policy"]
    aws_cli("iam", "attach-user-policy", "--user-name", user, "--policy-arn", mp["Arn"])
    att = json.loads(aws_cli("iam", "list-attached-user-policies", "--user-name", user).stdout)
    assert att["AttachedPolicies"][0]["PolicyArn"] == mp["Arn"]
    v = json.loads(aws_cli("iam", "create-policy-version", "--policy-arn", mp["Arn"],
                           "--policy-document", "file://%s" % pol, "--set-as-default").stdout)
    assert v["PolicyVersion"]["VersionId"] == "v2"
    grp = unique_name("clig")
    aws_cli("iam", "create-group", "--group-name", grp)
    aws_cli("iam", "add-user-to-group", "--group-name", grp, "--user-name", user)
    g = json.loads(aws_cli("iam", "get-group", "--group-name", grp).stdout)
    assert [u["UserName"] for u in g["Users"]] == [user]
    trust = tmp_path / "t.json"
    trust.write_text(json.dumps(trust_doc(account_id)))
    role = json.loads(aws_cli("iam", "create-role", "--role-name", unique_name("clir"),
                              "--assume-role-policy-document", "file://%s" % trust).stdout)["Role"]
    assert role["Arn"].startswith("arn:aws:iam::%s:role/" % account_id)
    aws_cli("iam", "update-access-key", "--user-name", user, "--access-key-id",
            key["AccessKeyId"], "--status", "Inactive")
    aws_cli("iam", "delete-access-key", "--user-name", user, "--access-key-id", key["AccessKeyId"])
    p = aws_cli("iam", "get-user", "--user-name", unique_name("nobody"), check=False)
    assert p.returncode != 0 and "NoSuchEntity" in p.stderr
    aws_cli("iam", "put-user-permissions-boundary", "--user-name", user,
            "--permissions-boundary", mp["Arn"])
    got = json.loads(aws_cli("iam", "get-user", "--user-name", user).stdout)["User"]
    assert got["PermissionsBoundary"]["PermissionsBoundaryArn"] == mp["Arn"]
    aws_cli("iam", "delete-user-permissions-boundary", "--user-name", user)


def test_iam_persists_across_restart(iam, server):
    name = new_user(iam)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    server.stop()
    server.start()
    server.wait_ready()
    assert iam.get_user(UserName=name)["User"]["UserName"] == name
    iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=S3_ALL)
    us3 = make_boto3(server.endpoint, k["AccessKeyId"], k["SecretAccessKey"])
    us3.list_buckets()
