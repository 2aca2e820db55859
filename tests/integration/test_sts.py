"""STS on the S3 endpoint (SigV4 service "sts"): GetCallerIdentity, GetSessionToken,
AssumeRole (trust policy, durations, session policy and tags), and temporary credentials
(x-amz-security-token) for S3, STS and IAM calls: expired and forged tokens are refused."""
import json
import os
import subprocess
import time

import pytest
from botocore.exceptions import ClientError

from conftest import (AWS_CLI, Server, client_error, create_account, make_boto3,
                      random_access_key, random_secret_key, unique_name)
from test_iam import DOC, boto, trust_doc


S3_ALL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


@pytest.fixture(scope="module")
def iam(server):
    return boto("iam", server.endpoint, server.access_key, server.secret_key)


@pytest.fixture(scope="module")
def sts(server):
    return boto("sts", server.endpoint, server.access_key, server.secret_key)


@pytest.fixture(scope="module")
def account_id(sts):
    return sts.get_caller_identity()["Account"]


@pytest.fixture(scope="module")
def role(iam, account_id):
    name = unique_name("role")
    r = iam.create_role(RoleName=name, MaxSessionDuration=7200,
                        AssumeRolePolicyDocument=json.dumps(trust_doc(account_id)))["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="s3", PolicyDocument=S3_ALL)
    return r


def creds_clients(endpoint, c):
    args = (endpoint, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    import boto3
    from botocore.config import Config
    s3 = boto3.session.Session().client(
        "s3", endpoint_url=endpoint, aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"],
        config=Config(region_name="us-east-1", s3={"addressing_style": "path"},
                      signature_version="s3v4",
                      retries={"total_max_attempts": 1, "mode": "standard"}))
    return boto("sts", *args), s3, boto("iam", *args)


def test_caller_identity_root(sts, account_id):
    r = sts.get_caller_identity()
    assert r["Arn"] == "arn:aws:iam::%s:root" % account_id and r["UserId"] == account_id
    assert len(account_id) == 12 and account_id.isdigit()


def test_caller_identity_user(iam, server, account_id):
    name = unique_name("u")
    iam.create_user(UserName=name)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    r = boto("sts", server.endpoint, k["AccessKeyId"], k["SecretAccessKey"]).get_caller_identity()
    assert r["Arn"] == "arn:aws:iam::%s:user/%s" % (account_id, name)
    assert r["UserId"].startswith("AIDA") and r["Account"] == account_id


def test_assume_role_and_use_credentials(sts, server, role, account_id, s3):
    out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="etl-job", DurationSeconds=900)
    c, who = out["Credentials"], out["AssumedRoleUser"]
    assert c["AccessKeyId"].startswith("ASIA") and c["SessionToken"]
    assert who["Arn"] == "arn:aws:sts::%s:assumed-role/%s/etl-job" % (account_id, role["RoleName"])
    assert who["AssumedRoleId"] == role["RoleId"] + ":etl-job"
    left = c["Expiration"].timestamp() - time.time()
    assert 840 < left <= 905, left

    tsts, ts3, tiam = creds_clients(server.endpoint, c)
    me = tsts.get_caller_identity()
    assert me["Arn"] == who["Arn"] and me["UserId"] == who["AssumedRoleId"]
    assert me["Account"] == account_id

    # S3 with the temporary credentials (acting as the role's account for now).
    b = unique_name("rb")
    ts3.create_bucket(Bucket=b)
    ts3.put_object(Bucket=b, Key="k", Body=b"role data")
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"role data"
    assert ts3.get_object(Bucket=b, Key="k")["Body"].read() == b"role data"
    url = ts3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "k"}, ExpiresIn=60)
    import urllib.request
    assert urllib.request.urlopen(url, timeout=10).read() == b"role data"
    ts3.delete_object(Bucket=b, Key="k")
    ts3.delete_bucket(Bucket=b)

    # The role's policies allow s3:* only: IAM calls are denied, in IAM's words.
    with pytest.raises(ClientError) as e:
        tiam.list_users()
    assert client_error(e) == (403, "AccessDenied")
    assert e.value.response["Error"]["Message"] == (
        "User: %s is not authorized to perform: iam:ListUsers on resource: "
        "arn:aws:iam::%s:user/ because no identity-based policy allows the iam:ListUsers action"
        % (who["Arn"], account_id))


def test_assume_role_session_policy_tags_external_id(sts, iam, account_id):
    trust = trust_doc(account_id)
    trust["Statement"][0]["Action"] = ["sts:AssumeRole", "sts:TagSession"]
    trust["Statement"][0]["Condition"] = {"StringEquals": {"sts:ExternalId": "ext-123"}}
    r = iam.create_role(RoleName=unique_name("ext"), AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=r["Arn"], RoleSessionName="s1")
    assert client_error(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=r["Arn"], RoleSessionName="s1", ExternalId="wrong-id")
    assert client_error(e) == (403, "AccessDenied")
    out = sts.assume_role(RoleArn=r["Arn"], RoleSessionName="s1", ExternalId="ext-123",
                          Policy=json.dumps(DOC), Tags=[{"Key": "project", "Value": "x"}])
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert 0 < out["PackedPolicySize"] <= 100
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=r["Arn"], RoleSessionName="s1", ExternalId="ext-123",
                        Policy="{not json")
    assert client_error(e) == (400, "MalformedPolicyDocument")


def test_assume_role_refusals(sts, role, account_id, server, iam):
    # duration past the role's MaxSessionDuration
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7201)
    assert client_error(e) == (400, "ValidationError")
    assert sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7200)
    # bad session name
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="bad name!")
    assert client_error(e) == (400, "ValidationError")
    # no such role
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn="arn:aws:iam::%s:role/none-%s" % (account_id, unique_name("x")),
                        RoleSessionName="s1")
    assert client_error(e) == (403, "AccessDenied")
    # a trust policy naming another principal only
    other = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:user/someone" % account_id},
        "Action": "sts:AssumeRole"}]}
    r = iam.create_role(RoleName=unique_name("o"), AssumeRolePolicyDocument=json.dumps(other))["Role"]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=r["Arn"], RoleSessionName="s1")
    assert client_error(e) == (403, "AccessDenied")
    # an explicit Deny wins
    deny = trust_doc(account_id)
    deny["Statement"].append(dict(deny["Statement"][0], Effect="Deny"))
    r = iam.create_role(RoleName=unique_name("d"), AssumeRolePolicyDocument=json.dumps(deny))["Role"]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=r["Arn"], RoleSessionName="s1")
    assert client_error(e) == (403, "AccessDenied")


def test_cross_account_assume_role(server, iam, account_id):
    other = create_account(server, unique_name("xacct"))
    osts = boto("sts", server.endpoint, other.access_key, other.secret_key)
    other_id = osts.get_caller_identity()["Account"]
    assert other_id != account_id
    r = iam.create_role(RoleName=unique_name("x"),
                        AssumeRolePolicyDocument=json.dumps(trust_doc(other_id)))["Role"]
    out = osts.assume_role(RoleArn=r["Arn"], RoleSessionName="visitor")
    assert out["AssumedRoleUser"]["Arn"].startswith("arn:aws:sts::%s:assumed-role/" % account_id)
    # the role trusted by the other account is not assumable by this one
    r2 = iam.create_role(RoleName=unique_name("y"),
                         AssumeRolePolicyDocument=json.dumps(trust_doc(other_id)))["Role"]
    with pytest.raises(ClientError) as e:
        boto("sts", server.endpoint, server.access_key, server.secret_key).assume_role(
            RoleArn=r2["Arn"], RoleSessionName="s1")
    assert client_error(e) == (403, "AccessDenied")


def test_get_session_token(iam, server, account_id):
    name = unique_name("u")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=S3_ALL)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    usts = boto("sts", server.endpoint, k["AccessKeyId"], k["SecretAccessKey"])
    c = usts.get_session_token(DurationSeconds=900)["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA")
    tsts, ts3, _ = creds_clients(server.endpoint, c)
    assert tsts.get_caller_identity()["Arn"] == "arn:aws:iam::%s:user/%s" % (account_id, name)
    ts3.list_buckets()
    with pytest.raises(ClientError) as e:
        tsts.get_session_token()
    assert client_error(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        usts.get_session_token(DurationSeconds=129601)
    assert client_error(e)[1] in ("ValidationError",)


def test_forged_and_mismatched_tokens(sts, role, server):
    c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="f1")["Credentials"]
    c2 = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="g1")["Credentials"]
    tok = c["SessionToken"]
    flipped = tok[:20] + ("A" if tok[20] != "A" else "B") + tok[21:]
    cases = {"forged": dict(c, SessionToken=flipped),
             "other session's token": dict(c, SessionToken=c2["SessionToken"]),
             "garbage": dict(c, SessionToken="garbage")}
    for what, bad in cases.items():
        tsts, ts3, _ = creds_clients(server.endpoint, bad)
        with pytest.raises(ClientError) as e:
            ts3.list_buckets()
        assert client_error(e) == (400, "InvalidToken"), what
        with pytest.raises(ClientError) as e:
            tsts.get_caller_identity()
        assert client_error(e) == (403, "InvalidClientTokenId"), what
    # no token at all
    s3 = make_boto3(server.endpoint, c["AccessKeyId"], c["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        s3.list_buckets()
    assert client_error(e) == (400, "InvalidToken")
    # wrong secret with the right token
    _, ts3, _ = creds_clients(server.endpoint, dict(c, SecretAccessKey="x" * 40))
    with pytest.raises(ClientError) as e:
        ts3.list_buckets()
    assert client_error(e) == (403, "SignatureDoesNotMatch")


def test_awscli_sts(aws_cli, server, role, account_id, tmp_root):
    me = json.loads(aws_cli("sts", "get-caller-identity").stdout)
    assert me["Arn"] == "arn:aws:iam::%s:root" % account_id
    out = json.loads(aws_cli("sts", "assume-role", "--role-arn", role["Arn"],
                             "--role-session-name", "cli").stdout)
    c = out["Credentials"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": c["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
                "AWS_SESSION_TOKEN": c["SessionToken"], "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": os.path.join(tmp_root, "aws-config"), "HOME": tmp_root,
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp_root, "none"),
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": ""})
    p = subprocess.run([AWS_CLI, "--endpoint-url", server.endpoint, "sts", "get-caller-identity"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["Arn"].endswith(":assumed-role/%s/cli" % role["RoleName"])
    b = unique_name("clirole")
    p = subprocess.run([AWS_CLI, "--endpoint-url", server.endpoint, "s3", "mb", "s3://" + b],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    subprocess.run([AWS_CLI, "--endpoint-url", server.endpoint, "s3", "rb", "s3://" + b],
                   env=env, capture_output=True, text=True, timeout=60)


def test_expired_credentials(tmp_root):
    """A server whose STS floor is 2 s (STRATA_STS_MIN_DURATION) shows expiry end to end."""
    d = os.path.join(tmp_root, "sts-expiry")
    os.makedirs(d, exist_ok=True)
    srv = Server(os.path.join(d, "data"), os.path.join(d, "server.log"), random_access_key(),
                 random_secret_key(), extra_env={"STRATA_STS_MIN_DURATION": "2"})
    srv.start()
    try:
        srv.wait_ready()
        iam = boto("iam", srv.endpoint, srv.access_key, srv.secret_key)
        sts = boto("sts", srv.endpoint, srv.access_key, srv.secret_key, parameter_validation=False)
        acct = sts.get_caller_identity()["Account"]
        r = iam.create_role(RoleName="short", AssumeRolePolicyDocument=json.dumps(trust_doc(acct)))
        iam.put_role_policy(RoleName="short", PolicyName="s3", PolicyDocument=S3_ALL)
        c = sts.assume_role(RoleArn=r["Role"]["Arn"], RoleSessionName="s1", DurationSeconds=6)["Credentials"]
        tsts, ts3, _ = creds_clients(srv.endpoint, c)
        assert tsts.get_caller_identity()["Account"] == acct
        ts3.list_buckets()
        time.sleep(max(0.0, c["Expiration"].timestamp() - time.time()) + 1.2)
        with pytest.raises(ClientError) as e:
            ts3.list_buckets()
        assert client_error(e) == (400, "ExpiredToken")
        with pytest.raises(ClientError) as e:
            tsts.get_caller_identity()
        assert client_error(e) == (400, "ExpiredToken")
        # the expired session record is deleted on sight; the answer stays ExpiredToken
        with pytest.raises(ClientError) as e:
            ts3.list_buckets()
        assert client_error(e) == (400, "ExpiredToken")
        # a forged token for that key is still refused as invalid
        _, bad, _ = creds_clients(srv.endpoint, dict(c, SessionToken=c["SessionToken"][:-8] + "AAAAAAA="))
        with pytest.raises(ClientError) as e:
            bad.list_buckets()
        assert client_error(e)[0] in (400, 403) and client_error(e)[1] != "ExpiredToken"
    finally:
        rc, hung = srv.stop()
        assert not hung
        assert "ERROR: AddressSanitizer" not in srv.log_text()


# ---- trust policies evaluated by the policy engine -------------------------------------------

def user_with_key(iam, policy=None, tags=None):
    name = unique_name("u")
    iam.create_user(UserName=name, **({"Tags": tags} if tags else {}))
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return name, k["AccessKeyId"], k["SecretAccessKey"]


def allow(action, resource="*", **cond):
    st = {"Effect": "Allow", "Action": action, "Resource": resource}
    if cond:
        st["Condition"] = cond
    return {"Version": "2012-10-17", "Statement": [st]}


def trust(principal, action="sts:AssumeRole", **cond):
    st = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action}
    if cond:
        st["Condition"] = cond
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def denied(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert client_error(e) == (403, "AccessDenied")
    return e.value.response["Error"]["Message"]


def test_trust_conditions(sts, iam, account_id):
    root = "arn:aws:iam::%s:root" % account_id
    cases = [  # (condition, allowed)
        ({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, True),
        ({"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, False),
        ({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, True),
        ({"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, False),
        ({"StringLike": {"sts:RoleSessionName": "job-*"}}, True),
        ({"StringEquals": {"sts:RoleSessionName": "other"}}, False),
        ({"Bool": {"aws:SecureTransport": "true"}}, False),
        ({"StringEquals": {"aws:PrincipalType": "Account"}}, True),
    ]
    for cond, ok in cases:
        r = iam.create_role(RoleName=unique_name("tc"),
                            AssumeRolePolicyDocument=trust(root, **cond))["Role"]
        if ok:
            assert sts.assume_role(RoleArn=r["Arn"], RoleSessionName="job-1")["Credentials"], cond
        else:
            msg = denied(sts.assume_role, RoleArn=r["Arn"], RoleSessionName="job-1")
            assert msg == ("User: %s is not authorized to perform: sts:AssumeRole on resource: %s"
                           % (root, r["Arn"])), cond


def test_trust_external_id_operators(sts, iam, account_id):
    root = "arn:aws:iam::%s:root" % account_id
    r = iam.create_role(RoleName=unique_name("ext"), AssumeRolePolicyDocument=trust(
        root, StringLike={"sts:ExternalId": "tenant-*"}))["Role"]
    assert sts.assume_role(RoleArn=r["Arn"], RoleSessionName="s1", ExternalId="tenant-42")
    denied(sts.assume_role, RoleArn=r["Arn"], RoleSessionName="s1", ExternalId="other-42")
    denied(sts.assume_role, RoleArn=r["Arn"], RoleSessionName="s1")
    # Null: the trust policy demands that no ExternalId is sent
    r = iam.create_role(RoleName=unique_name("ext"), AssumeRolePolicyDocument=trust(
        root, Null={"sts:ExternalId": "true"}))["Role"]
    assert sts.assume_role(RoleArn=r["Arn"], RoleSessionName="s1")
    denied(sts.assume_role, RoleArn=r["Arn"], RoleSessionName="s1", ExternalId="x-1")


def test_iam_user_needs_identity_permission_to_assume(sts, iam, server, account_id):
    root = "arn:aws:iam::%s:root" % account_id
    role = iam.create_role(RoleName=unique_name("ua"), AssumeRolePolicyDocument=trust(root))["Role"]
    # the trust policy names the account: its users also need sts:AssumeRole themselves
    name, ak, sk = user_with_key(iam)
    usts = boto("sts", server.endpoint, ak, sk)
    msg = denied(usts.assume_role, RoleArn=role["Arn"], RoleSessionName="s1")
    assert msg.startswith("User: arn:aws:iam::%s:user/%s is not authorized to perform: "
                          "sts:AssumeRole on resource: %s" % (account_id, name, role["Arn"]))
    iam.put_user_policy(UserName=name, PolicyName="p",
                        PolicyDocument=json.dumps(allow("sts:AssumeRole", role["Arn"])))
    out = usts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    assert out["AssumedRoleUser"]["Arn"].endswith(":assumed-role/%s/s1" % role["RoleName"])
    # an explicit deny in the user's own policy wins
    iam.put_user_policy(UserName=name, PolicyName="d", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sts:*",
                                                 "Resource": "*"}]}))
    denied(usts.assume_role, RoleArn=role["Arn"], RoleSessionName="s1")
    # a trust policy naming the user itself (same account) needs no identity permission
    name2, ak2, sk2 = user_with_key(iam)
    role2 = iam.create_role(RoleName=unique_name("un"), AssumeRolePolicyDocument=trust(
        "arn:aws:iam::%s:user/%s" % (account_id, name2)))["Role"]
    assert boto("sts", server.endpoint, ak2, sk2).assume_role(RoleArn=role2["Arn"],
                                                              RoleSessionName="s1")
    # ... and does not let the account's root user in
    denied(sts.assume_role, RoleArn=role2["Arn"], RoleSessionName="s1")


def test_trust_principal_tag(sts, iam, server, account_id):
    root = "arn:aws:iam::%s:root" % account_id
    role = iam.create_role(RoleName=unique_name("pt"), AssumeRolePolicyDocument=trust(
        root, StringEquals={"aws:PrincipalTag/team": "data"}))["Role"]
    may = allow("sts:AssumeRole", role["Arn"])
    _, ak, sk = user_with_key(iam, may, tags=[{"Key": "Team", "Value": "data"}])
    assert boto("sts", server.endpoint, ak, sk).assume_role(RoleArn=role["Arn"],
                                                            RoleSessionName="s1")
    _, ak, sk = user_with_key(iam, may, tags=[{"Key": "team", "Value": "web"}])
    denied(boto("sts", server.endpoint, ak, sk).assume_role, RoleArn=role["Arn"],
           RoleSessionName="s1")
    _, ak, sk = user_with_key(iam, may)
    denied(boto("sts", server.endpoint, ak, sk).assume_role, RoleArn=role["Arn"],
           RoleSessionName="s1")


def test_session_tags_need_tag_session(sts, iam, account_id):
    root = "arn:aws:iam::%s:root" % account_id
    r = iam.create_role(RoleName=unique_name("ts"), AssumeRolePolicyDocument=trust(root))["Role"]
    assert sts.assume_role(RoleArn=r["Arn"], RoleSessionName="s1")
    denied(sts.assume_role, RoleArn=r["Arn"], RoleSessionName="s1",
           Tags=[{"Key": "project", "Value": "x"}])
    # sts:TagSession allowed only for some tag values (aws:RequestTag) and keys (aws:TagKeys)
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "sts:TagSession",
         "Condition": {"StringEquals": {"aws:RequestTag/project": "blue"},
                       "ForAllValues:StringEquals": {"aws:TagKeys": ["project", "cost"]}}}]}
    r = iam.create_role(RoleName=unique_name("ts"), AssumeRolePolicyDocument=json.dumps(doc))["Role"]
    assert sts.assume_role(RoleArn=r["Arn"], RoleSessionName="s1",
                           Tags=[{"Key": "project", "Value": "blue"}])
    denied(sts.assume_role, RoleArn=r["Arn"], RoleSessionName="s1",
           Tags=[{"Key": "project", "Value": "red"}])
    denied(sts.assume_role, RoleArn=r["Arn"], RoleSessionName="s1",
           Tags=[{"Key": "project", "Value": "blue"}, {"Key": "owner", "Value": "me"}])
    with pytest.raises(ClientError) as e:  # duplicate keys, ignoring case
        sts.assume_role(RoleArn=r["Arn"], RoleSessionName="s1",
                        Tags=[{"Key": "project", "Value": "blue"},
                              {"Key": "Project", "Value": "blue"}])
    assert client_error(e) == (400, "ValidationError")


def test_session_tags_are_principal_tags(sts, iam, server, account_id):
    """aws:PrincipalTag of a role session: the role's tags, session tags overriding them; for S3
    and for IAM calls."""
    root = "arn:aws:iam::%s:root" % account_id
    name = unique_name("st")
    role = iam.create_role(RoleName=name, Tags=[{"Key": "project", "Value": "blue"}],
                           AssumeRolePolicyDocument=trust(
                               root, action=["sts:AssumeRole", "sts:TagSession"]))["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(
        allow(["s3:ListAllMyBuckets", "iam:GetRole"],
              StringEquals={"aws:PrincipalTag/project": "blue"})))

    def session(tags=None):
        kw = {"Tags": tags} if tags else {}
        c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", **kw)["Credentials"]
        return creds_clients(server.endpoint, c)

    _, s3c, iamc = session()  # the role's own tag
    s3c.list_buckets()
    iamc.get_role(RoleName=name)
    _, s3c, iamc = session([{"Key": "Project", "Value": "red"}])  # the session tag overrides
    with pytest.raises(ClientError) as e:
        s3c.list_buckets()
    assert client_error(e) == (403, "AccessDenied")
    denied(iamc.get_role, RoleName=name)
    _, s3c, _ = session([{"Key": "other", "Value": "x"}])  # other keys leave the role's tag
    s3c.list_buckets()


def test_role_session_cannot_get_session_token(sts, role, server):
    c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="gst")["Credentials"]
    tsts, _, _ = creds_clients(server.endpoint, c)
    denied(tsts.get_session_token)
    # GetCallerIdentity needs no permission at all
    assert tsts.get_caller_identity()["Arn"].endswith("/gst")


def test_managed_session_policies(sts, iam, server, account_id):
    """PolicyArns: managed policies of the role's account narrow the session like an inline
    session policy (each session policy must allow)."""
    root = "arn:aws:iam::%s:root" % account_id
    name = unique_name("mp")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(root))["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(
        allow(["s3:ListAllMyBuckets", "iam:GetRole"])))
    mp = iam.create_policy(PolicyName=unique_name("sp"),
                           PolicyDocument=json.dumps(allow("iam:GetRole")))["Policy"]
    c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1",
                        PolicyArns=[{"arn": mp["Arn"]}])["Credentials"]
    _, s3c, iamc = creds_clients(server.endpoint, c)
    assert iamc.get_role(RoleName=name)["Role"]["RoleName"] == name
    with pytest.raises(ClientError) as e:
        s3c.list_buckets()
    assert client_error(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", PolicyArns=[
            {"arn": "arn:aws:iam::%s:policy/%s" % (account_id, unique_name("none"))}])
    assert client_error(e) == (400, "MalformedPolicyDocument")


def test_seed_instance_role_is_the_only_way_in(sts, iam, server, account_id, second_account):
    """The seed's example: a role (as attached to a compute instance) grants the workload S3
    access, and the data bucket's policy (in another account) allows only that role: the
    role's sessions get in; the same account's root and an IAM user with s3:* do not."""
    name = unique_name("ec2role")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        trust_doc(account_id)))["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="s3", PolicyDocument=S3_ALL)
    data = second_account.s3
    b = unique_name("data")
    data.create_bucket(Bucket=b)
    data.put_object(Bucket=b, Key="in/1.csv", Body=b"a,b\n")
    data.put_bucket_policy(Bucket=b, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "OnlyTheInstanceRole", "Effect": "Allow",
                       "Principal": {"AWS": role["Arn"]},
                       "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                       "Resource": ["arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b]}]}))

    c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="i-0abc123")["Credentials"]
    _, rs3, _ = creds_clients(server.endpoint, c)
    assert rs3.get_object(Bucket=b, Key="in/1.csv")["Body"].read() == b"a,b\n"
    rs3.put_object(Bucket=b, Key="out/1.csv", Body=b"done")
    assert [o["Key"] for o in rs3.list_objects_v2(Bucket=b)["Contents"]] == ["in/1.csv",
                                                                            "out/1.csv"]
    with pytest.raises(ClientError) as e:  # not granted by the bucket policy
        rs3.delete_object(Bucket=b, Key="in/1.csv")
    assert client_error(e) == (403, "AccessDenied")

    user = unique_name("u")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=S3_ALL)
    k = iam.create_access_key(UserName=user)["AccessKey"]
    others = [make_boto3(server.endpoint, server.access_key, server.secret_key),
              make_boto3(server.endpoint, k["AccessKeyId"], k["SecretAccessKey"])]
    for other in others:
        with pytest.raises(ClientError) as e:
            other.get_object(Bucket=b, Key="in/1.csv")
        assert client_error(e) == (403, "AccessDenied")
