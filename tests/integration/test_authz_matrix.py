"""Authorization matrix through the real server: principal x operation x bucket setting ->
allow/deny, every row checked (api/authz.c; docs/security.md).

A module-scoped server with two listeners: the plain one and one labelled as a VPC endpoint
(`--listen 127.0.0.2:PORT,vpce=vpce-1a2b3c4d`), so aws:SourceVpce rows are real.
"Allowed" means the request got past authorization: anything but 403 (a 404 NoSuchKey or
NoSuchBucketPolicy is an allowed request that found nothing).
"""
import json
import os

import pytest

import s3sig
from conftest import (Server, free_port, random_access_key, random_secret_key, run_admin,
                      unique_name)

VPCE = "vpce-1a2b3c4d"
PHI_KEY = "phi.txt"


@pytest.fixture(scope="module")
def msrv(tmp_root):
    d = os.path.join(tmp_root, unique_name("matrix"))
    os.makedirs(os.path.join(d, "data"))
    port2 = free_port()
    srv = Server(os.path.join(d, "data"), os.path.join(d, "server.log"), random_access_key(),
                 random_secret_key())
    srv.listens = ["127.0.0.1:%d" % srv.port, "127.0.0.2:%d,vpce=%s" % (port2, VPCE)]
    srv.vpce_endpoint = "http://127.0.0.2:%d" % port2
    srv.start()
    try:
        srv.wait_ready()
        yield srv
    finally:
        rc, hung = srv.stop()
        assert not hung
        assert "ERROR: AddressSanitizer" not in srv.log_text()
        assert "runtime error:" not in srv.log_text()


class Other:
    pass


@pytest.fixture(scope="module")
def other(msrv):
    """Another account, created with `strata admin account create` (its id from the answer)."""
    o = Other()
    o.name = unique_name("other")
    o.access_key, o.secret_key = random_access_key(), random_secret_key()
    p = run_admin(msrv, "account", "create", o.name, "--access-key", o.access_key,
                  "--secret-key", o.secret_key)
    assert p.returncode == 0, (p.stdout, p.stderr)
    info = json.loads(p.stdout)
    o.id, o.canonical_id = info["account_id"], info["canonical_id"]
    return o


@pytest.fixture(scope="module")
def other_id(other):
    return other.id


def owner_raw(msrv):
    return msrv.client()


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow_public_read(b):
    return {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::%s/*" % b}


SETTINGS = ["none", "public-read", "deny-no-sse", "cross-account", "phi-deny", "vpce-only",
            "bpa-restrict", "acl-public-read", "acl-public-read+ignore", "acl-other-writer"]


def owner_canonical_id(msrv):
    r = owner_raw(msrv).request("GET", "/")
    assert r.status == 200, r
    return r.xml.find("{*}Owner/{*}ID").text


@pytest.fixture(scope="module")
def buckets(msrv, other, other_id):
    """setting name -> bucket name, each with objects 'obj' and 'phi.txt' (tagged PHI).
    acl-other-writer: an ObjectWriter bucket whose ACL lets the other account write, with a
    public-read bucket policy; the other account wrote 'obj' (private) and 'phi.txt' (granting
    the bucket owner's account READ), so both are the other account's objects."""
    raw = owner_raw(msrv)
    out = {}
    for s in SETTINGS:
        b = unique_name("m")
        assert raw.create_bucket(b).status == 200
        assert raw.put(b, "obj", b"hello").status == 200
        r = raw.put(b, PHI_KEY, b"secret", headers={"x-amz-tagging": "Classification=PHI"})
        assert r.status == 200, r
        pol = None
        if s == "public-read":
            pol = policy(allow_public_read(b))
        elif s == "deny-no-sse":
            pol = policy({"Sid": "DenyUnencrypted", "Effect": "Deny", "Principal": "*",
                          "Action": "s3:PutObject", "Resource": "arn:aws:s3:::%s/*" % b,
                          "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}})
        elif s == "cross-account":
            pol = policy({"Sid": "Other", "Effect": "Allow",
                          "Principal": {"AWS": "arn:aws:iam::%s:root" % other_id},
                          "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                          "Resource": ["arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b]})
        elif s == "phi-deny":
            pol = policy(allow_public_read(b),
                         {"Sid": "NoPHI", "Effect": "Deny", "Principal": "*",
                          "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % b,
                          "Condition": {"StringEquals":
                                        {"s3:ExistingObjectTag/Classification": "PHI"}}})
        elif s == "vpce-only":
            pol = policy({"Sid": "VpceOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                          "Resource": ["arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b],
                          "Condition": {"StringNotEquals": {"aws:SourceVpce": VPCE}}})
        elif s in ("bpa-restrict", "acl-other-writer"):
            pol = policy(allow_public_read(b))
        if pol:
            r = raw.request("PUT", "/" + b, query=[("policy", "")], body=pol.encode())
            assert r.status == 204, r
        if s == "bpa-restrict":
            body = (b"<PublicAccessBlockConfiguration><RestrictPublicBuckets>true"
                    b"</RestrictPublicBuckets></PublicAccessBlockConfiguration>")
            r = raw.request("PUT", "/" + b, query=[("publicAccessBlock", "")], body=body)
            assert r.status == 200, r
        if s.startswith("acl-public-read"):
            body = (b"<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership>"
                    b"</Rule></OwnershipControls>")
            r = raw.request("PUT", "/" + b, query=[("ownershipControls", "")], body=body)
            assert r.status == 200, r
            r = raw.request("PUT", "/" + b + "/obj", query=[("acl", "")],
                            headers={"x-amz-acl": "public-read"})
            assert r.status == 200, r
            r = raw.request("PUT", "/" + b, query=[("acl", "")],
                            headers={"x-amz-acl": "public-read"})
            assert r.status == 200, r
        if s == "acl-other-writer":
            body = (b"<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership>"
                    b"</Rule></OwnershipControls>")
            r = raw.request("PUT", "/" + b, query=[("ownershipControls", "")], body=body)
            assert r.status == 200, r
            owner_cid = owner_canonical_id(msrv)
            r = raw.request("PUT", "/" + b, query=[("acl", "")], headers={
                "x-amz-grant-write": 'id="%s"' % other.canonical_id,
                "x-amz-grant-full-control": 'id="%s"' % owner_cid})
            assert r.status == 200, r
            oc = s3sig.Client(msrv.endpoint, other.access_key, other.secret_key)
            assert oc.put(b, "obj", b"others").status == 200
            r = oc.put(b, PHI_KEY, b"granted", headers={
                "x-amz-grant-read": 'id="%s"' % owner_cid})
            assert r.status == 200, r
        if s == "acl-public-read+ignore":
            body = (b"<PublicAccessBlockConfiguration><IgnorePublicAcls>true"
                    b"</IgnorePublicAcls></PublicAccessBlockConfiguration>")
            r = raw.request("PUT", "/" + b, query=[("publicAccessBlock", "")], body=body)
            assert r.status == 200, r
        out[s] = b
    return out


def client_for(msrv, other, who, via_vpce=False):
    ep = msrv.vpce_endpoint if via_vpce else msrv.endpoint
    if isinstance(who, tuple):  # (access key, secret, session token or None)
        return s3sig.Client(ep, who[0], who[1]), (who[2] or True)
    if who == "owner":
        return s3sig.Client(ep, msrv.access_key, msrv.secret_key), True
    if who == "other":
        return s3sig.Client(ep, other.access_key, other.secret_key), True
    return s3sig.Client(ep, msrv.access_key, msrv.secret_key), False  # anonymous: unsigned


_n = [0]


def run_op(msrv, other, who, op, b, via_vpce=False):
    c, sign = client_for(msrv, other, who, via_vpce)
    _n[0] += 1
    if isinstance(sign, str):  # an STS session token
        token = sign
        sign = True
        base = c.request

        def request(method, path, headers=None, **kw):
            h = dict(headers or {})
            h["x-amz-security-token"] = token
            return base(method, path, headers=h, **kw)
        c.request = request
    if op == "GetObject":
        r = c.request("GET", "/%s/obj" % b, sign=sign)
    elif op == "GetPHI":
        r = c.request("GET", "/%s/%s" % (b, PHI_KEY), sign=sign)
    elif op == "PutObject":
        r = c.request("PUT", "/%s/put-%d" % (b, _n[0]), body=b"x", sign=sign)
    elif op == "PutObjectSSE":
        r = c.request("PUT", "/%s/sse-%d" % (b, _n[0]), body=b"x", sign=sign,
                      headers={"x-amz-server-side-encryption": "AES256"})
    elif op == "ListBucket":
        r = c.request("GET", "/%s" % b, query=[("list-type", "2")], sign=sign)
    elif op == "DeleteObject":
        key = "del-%d" % _n[0]
        assert owner_raw(msrv).put(b, key, b"d").status in (200, 403)
        r = c.request("DELETE", "/%s/%s" % (b, key), sign=sign)
    elif op == "GetObjectAcl":
        r = c.request("GET", "/%s/obj" % b, query=[("acl", "")], sign=sign)
    elif op == "DeleteOthers":  # delete an object the other account just wrote
        key = "theirs-%d" % _n[0]
        oc = s3sig.Client(msrv.endpoint, other.access_key, other.secret_key)
        assert oc.put(b, key, b"d").status == 200
        r = c.request("DELETE", "/%s/%s" % (b, key), sign=sign)
    elif op == "GetBucketPolicy":
        r = c.request("GET", "/%s" % b, query=[("policy", "")], sign=sign)
    else:
        raise AssertionError(op)
    if r.status == 403:
        assert r.error_code == "AccessDenied", r
        return False
    assert r.status < 500, r
    return True


A, D = True, False
# (setting, principal, operation, expected, via the vpce listener)
ROWS = [
    # no policy: the owner only
    ("none", "owner", "GetObject", A, False),
    ("none", "owner", "PutObject", A, False),
    ("none", "owner", "ListBucket", A, False),
    ("none", "owner", "DeleteObject", A, False),
    ("none", "owner", "GetBucketPolicy", A, False),
    ("none", "other", "GetObject", D, False),
    ("none", "other", "PutObject", D, False),
    ("none", "other", "ListBucket", D, False),
    ("none", "other", "DeleteObject", D, False),
    ("none", "other", "GetBucketPolicy", D, False),
    ("none", "anon", "GetObject", D, False),
    ("none", "anon", "PutObject", D, False),
    ("none", "anon", "ListBucket", D, False),
    ("none", "anon", "DeleteObject", D, False),
    ("none", "anon", "GetBucketPolicy", D, False),
    # public-read policy: anyone reads objects, nothing else
    ("public-read", "anon", "GetObject", A, False),
    ("public-read", "anon", "ListBucket", D, False),
    ("public-read", "anon", "PutObject", D, False),
    ("public-read", "anon", "DeleteObject", D, False),
    ("public-read", "other", "GetObject", A, False),
    ("public-read", "other", "PutObject", D, False),
    ("public-read", "other", "GetBucketPolicy", D, False),
    ("public-read", "owner", "PutObject", A, False),
    # force encryption: PutObject without the SSE header is denied, even for the owner
    ("deny-no-sse", "owner", "PutObject", D, False),
    ("deny-no-sse", "owner", "PutObjectSSE", A, False),
    ("deny-no-sse", "owner", "GetObject", A, False),
    ("deny-no-sse", "other", "PutObjectSSE", D, False),
    # cross-account grant: the named account, for the named actions only
    ("cross-account", "other", "GetObject", A, False),
    ("cross-account", "other", "PutObject", A, False),
    ("cross-account", "other", "ListBucket", A, False),
    ("cross-account", "other", "DeleteObject", D, False),
    ("cross-account", "other", "GetBucketPolicy", D, False),
    ("cross-account", "anon", "GetObject", D, False),
    ("cross-account", "owner", "DeleteObject", A, False),
    # tag-based deny: objects tagged Classification=PHI are not readable, by anyone
    ("phi-deny", "anon", "GetObject", A, False),
    ("phi-deny", "anon", "GetPHI", D, False),
    ("phi-deny", "other", "GetPHI", D, False),
    ("phi-deny", "owner", "GetPHI", D, False),
    ("phi-deny", "owner", "GetObject", A, False),
    # SourceVpce: only through the labelled listener, whoever asks
    ("vpce-only", "owner", "GetObject", D, False),
    ("vpce-only", "owner", "GetObject", A, True),
    ("vpce-only", "owner", "PutObject", D, False),
    ("vpce-only", "owner", "PutObject", A, True),
    ("vpce-only", "owner", "ListBucket", A, True),
    ("vpce-only", "owner", "GetBucketPolicy", A, False),  # the owner can always fix the policy
    ("vpce-only", "other", "GetObject", D, True),
    ("vpce-only", "anon", "GetObject", D, True),
    # Block Public Access RestrictPublicBuckets: a public policy stops working outside the account
    ("bpa-restrict", "anon", "GetObject", D, False),
    ("bpa-restrict", "other", "GetObject", D, False),
    ("bpa-restrict", "owner", "GetObject", A, False),
    # ACLs (ObjectWriter bucket): public-read on the bucket and the object
    ("acl-public-read", "anon", "GetObject", A, False),
    ("acl-public-read", "anon", "ListBucket", A, False),
    ("acl-public-read", "anon", "PutObject", D, False),
    ("acl-public-read", "anon", "GetPHI", D, False),  # that object's ACL is private
    ("acl-public-read", "other", "GetObject", A, False),
    ("acl-public-read", "other", "DeleteObject", D, False),
    # ... and with IgnorePublicAcls the same grants count for nothing
    ("acl-public-read+ignore", "anon", "GetObject", D, False),
    ("acl-public-read+ignore", "anon", "ListBucket", D, False),
    ("acl-public-read+ignore", "other", "GetObject", D, False),
    ("acl-public-read+ignore", "owner", "GetObject", A, False),
    # ACLs on, objects the other account wrote: they are its objects. The bucket owner's root
    # user reads them only by a grant in the object's ACL, the bucket policy's public read
    # does not reach them; deleting and listing stay the bucket owner's
    ("acl-other-writer", "owner", "GetObject", D, False),
    ("acl-other-writer", "owner", "GetObjectAcl", D, False),
    ("acl-other-writer", "owner", "GetPHI", A, False),  # granted READ by the object's owner
    ("acl-other-writer", "owner", "ListBucket", A, False),
    ("acl-other-writer", "owner", "DeleteOthers", A, False),
    ("acl-other-writer", "other", "GetObject", A, False),
    ("acl-other-writer", "other", "GetObjectAcl", A, False),
    ("acl-other-writer", "other", "PutObject", A, False),
    ("acl-other-writer", "other", "ListBucket", D, False),
    ("acl-other-writer", "other", "DeleteOthers", A, False),  # bucket WRITE
    ("acl-other-writer", "anon", "GetObject", D, False),
    ("acl-other-writer", "anon", "GetPHI", D, False),
]


@pytest.mark.parametrize("setting,who,op,expected,vpce", ROWS,
                         ids=["%s|%s|%s%s" % (r[0], r[1], r[2], "|vpce" if r[4] else "")
                              for r in ROWS])
def test_matrix(msrv, other, buckets, setting, who, op, expected, vpce):
    got = run_op(msrv, other, who, op, buckets[setting], via_vpce=vpce)
    assert got == expected, "%s %s on %s setting: expected %s" % (
        who, op, setting, "allow" if expected else "deny")


@pytest.fixture(scope="module")
def iam_principals(msrv):
    """IAM identities of the owner's account: a user without policies, a user allowed to read
    (s3:GetObject, s3:ListBucket), and a role session allowed s3:* (via STS AssumeRole)."""
    import boto3
    from botocore.config import Config
    cfg = Config(region_name="us-east-1", retries={"total_max_attempts": 1, "mode": "standard"})

    def client(svc):
        return boto3.session.Session().client(svc, endpoint_url=msrv.endpoint, config=cfg,
                                              aws_access_key_id=msrv.access_key,
                                              aws_secret_access_key=msrv.secret_key)
    iam, sts = client("iam"), client("sts")
    acct = sts.get_caller_identity()["Account"]
    out = {}
    for who, pol in (("iam-user-no-policy", None),
                     ("iam-user-reader", policy({"Effect": "Allow",
                                                 "Action": ["s3:GetObject", "s3:ListBucket"],
                                                 "Resource": "*"}))):
        name = unique_name("u")
        iam.create_user(UserName=name)
        if pol:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=pol)
        k = iam.create_access_key(UserName=name)["AccessKey"]
        out[who] = (k["AccessKeyId"], k["SecretAccessKey"], None)
    trust = policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % acct},
                    "Action": "sts:AssumeRole"})
    rname = unique_name("r")
    role = iam.create_role(RoleName=rname, AssumeRolePolicyDocument=trust)["Role"]
    iam.put_role_policy(RoleName=rname, PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="matrix")["Credentials"]
    out["assumed-role"] = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    # a session whose session policy allows only reading: the intersection applies
    c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ro", Policy=policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))["Credentials"]
    out["assumed-role-ro-session"] = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])

    # a permissions boundary (read only) over a policy that allows everything
    bnd = iam.create_policy(PolicyName=unique_name("bnd"), PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "iam:ListRoles"],
         "Resource": "*"}))["Policy"]
    # tag-based access: the same policy, allowed only while aws:PrincipalTag/team is blue
    by_tag = policy({"Effect": "Allow", "Action": ["s3:*", "iam:ListUsers"], "Resource": "*",
                     "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}})
    users = (("iam-user-bounded", policy({"Effect": "Allow", "Action": ["s3:*", "iam:*"],
                                          "Resource": "*"}), {"PermissionsBoundary": bnd["Arn"]}),
             ("iam-user-tag-blue", by_tag, {"Tags": [{"Key": "team", "Value": "blue"}]}),
             ("iam-user-tag-red", by_tag, {"Tags": [{"Key": "team", "Value": "red"}]}),
             ("iam-user-iam-admin", policy({"Effect": "Allow", "Action": "iam:*",
                                            "Resource": "*"}), {}))
    arns = {}
    for who, pol, kw in users:
        name = unique_name("u")
        arns[who] = iam.create_user(UserName=name, **kw)["User"]["Arn"]
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=pol)
        k = iam.create_access_key(UserName=name)["AccessKey"]
        out[who] = (k["AccessKeyId"], k["SecretAccessKey"], None)
    # session tags: a role whose policy asks for the tag, assumed with team=blue / team=red
    tname = unique_name("r")
    trole = iam.create_role(RoleName=tname, AssumeRolePolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % acct},
         "Action": ["sts:AssumeRole", "sts:TagSession"]}))["Role"]
    iam.put_role_policy(RoleName=tname, PolicyName="p", PolicyDocument=by_tag)
    for team in ("blue", "red"):
        c = sts.assume_role(RoleArn=trole["Arn"], RoleSessionName="tag-" + team,
                            Tags=[{"Key": "team", "Value": team}])["Credentials"]
        out["session-tag-" + team] = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    out["_arns"] = arns
    out["_acct"] = acct
    out["_iam"] = iam
    return out


IAM_ROWS = [
    ("none", "iam-user-no-policy", "GetObject", D),
    ("none", "iam-user-no-policy", "ListBucket", D),
    ("none", "iam-user-no-policy", "PutObject", D),
    ("none", "iam-user-reader", "GetObject", A),
    ("none", "iam-user-reader", "ListBucket", A),
    ("none", "iam-user-reader", "PutObject", D),
    ("none", "iam-user-reader", "DeleteObject", D),
    ("none", "iam-user-reader", "GetBucketPolicy", D),
    ("phi-deny", "iam-user-reader", "GetObject", A),
    ("phi-deny", "iam-user-reader", "GetPHI", D),  # the bucket's explicit deny wins
    ("none", "assumed-role", "GetObject", A),
    ("none", "assumed-role", "PutObject", A),
    ("none", "assumed-role", "DeleteObject", A),
    ("deny-no-sse", "assumed-role", "PutObject", D),
    ("deny-no-sse", "assumed-role", "PutObjectSSE", A),
    ("none", "assumed-role-ro-session", "GetObject", A),
    ("none", "assumed-role-ro-session", "PutObject", D),
    ("none", "assumed-role-ro-session", "ListBucket", D),
    # a permissions boundary caps the user's s3:* to reading
    ("none", "iam-user-bounded", "GetObject", A),
    ("none", "iam-user-bounded", "ListBucket", A),
    ("none", "iam-user-bounded", "PutObject", D),
    ("none", "iam-user-bounded", "DeleteObject", D),
    ("phi-deny", "iam-user-bounded", "GetPHI", D),
    # aws:PrincipalTag from the IAM user's tags
    ("none", "iam-user-tag-blue", "GetObject", A),
    ("none", "iam-user-tag-blue", "PutObject", A),
    ("none", "iam-user-tag-red", "GetObject", D),
    ("none", "iam-user-tag-red", "PutObject", D),
    # ... and from STS session tags
    ("none", "session-tag-blue", "GetObject", A),
    ("none", "session-tag-blue", "ListBucket", A),
    ("none", "session-tag-red", "GetObject", D),
    ("none", "session-tag-red", "ListBucket", D),
    # another account's objects: the identity policy alone does not reach them; a grant to the
    # account in the object's ACL plus the identity's own policy does
    ("acl-other-writer", "iam-user-reader", "GetObject", D),
    ("acl-other-writer", "iam-user-reader", "GetPHI", A),
    ("acl-other-writer", "iam-user-no-policy", "GetPHI", D),
    ("acl-other-writer", "assumed-role", "GetObject", D),
    ("acl-other-writer", "assumed-role", "GetPHI", A),
    ("acl-other-writer", "assumed-role", "DeleteOthers", A),
]


@pytest.mark.parametrize("setting,who,op,expected", IAM_ROWS,
                         ids=["%s|%s|%s" % r[:3] for r in IAM_ROWS])
def test_matrix_iam_principals(msrv, other, buckets, iam_principals, setting, who, op, expected):
    ak, sk, token = iam_principals[who]
    got = run_op(msrv, other, (ak, sk, token), op, buckets[setting])
    assert got == expected, "%s %s on %s setting: expected %s" % (
        who, op, setting, "allow" if expected else "deny")


def iam_call(msrv, creds, action):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    ak, sk, token = creds
    c = boto3.session.Session().client(
        "iam", endpoint_url=msrv.endpoint, aws_access_key_id=ak, aws_secret_access_key=sk,
        aws_session_token=token,
        config=Config(region_name="us-east-1", retries={"total_max_attempts": 1}))
    try:
        getattr(c, action)(MaxItems=1)
        return True
    except ClientError as e:
        assert e.response["Error"]["Code"] == "AccessDenied", e.response
        assert e.response["Error"]["Message"].startswith("User: arn:aws:"), e.response
        return False


# IAM calls by IAM principals: (principal, IAM API call, expected)
IAM_API_ROWS = [
    ("iam-user-no-policy", "list_users", D),
    ("iam-user-reader", "list_users", D),  # s3 permissions only
    ("iam-user-iam-admin", "list_users", A),
    ("iam-user-iam-admin", "list_roles", A),
    ("iam-user-iam-admin", "list_policies", A),
    ("iam-user-bounded", "list_roles", A),  # iam:* policy, boundary allows iam:ListRoles only
    ("iam-user-bounded", "list_users", D),
    ("iam-user-bounded", "list_policies", D),
    ("iam-user-tag-blue", "list_users", A),
    ("iam-user-tag-red", "list_users", D),
    ("session-tag-blue", "list_users", A),
    ("session-tag-red", "list_users", D),
    ("assumed-role", "list_users", D),  # the role allows s3:* only
]


@pytest.mark.parametrize("who,action,expected", IAM_API_ROWS,
                         ids=["%s|%s" % r[:2] for r in IAM_API_ROWS])
def test_matrix_iam_api(msrv, iam_principals, who, action, expected):
    got = iam_call(msrv, iam_principals[who], action)
    assert got == expected, "%s %s: expected %s" % (who, action, "allow" if expected else "deny")


@pytest.fixture(scope="module")
def trust_roles(iam_principals):
    """Roles whose trust policies use conditions: an ExternalId, a principal tag, the source
    address, and session tags."""
    iam, acct, arns = iam_principals["_iam"], iam_principals["_acct"], iam_principals["_arns"]
    root = "arn:aws:iam::%s:root" % acct

    def role(principal, action="sts:AssumeRole", cond=None):
        st = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action}
        if cond:
            st["Condition"] = cond
        return iam.create_role(RoleName=unique_name("tr"),
                               AssumeRolePolicyDocument=policy(st))["Role"]["Arn"]
    tagged = [arns["iam-user-tag-blue"], arns["iam-user-tag-red"]]
    return {
        "external-id": role(root, cond={"StringEquals": {"sts:ExternalId": "x-1234"}}),
        "principal-tag": role(tagged, cond={"StringEquals": {"aws:PrincipalTag/team": "blue"}}),
        "source-ip": role(root, cond={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}),
        "other-net": role(root, cond={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        "tag-session": role(root, action=["sts:AssumeRole", "sts:TagSession"]),
        "no-tag-session": role(root),
    }


# AssumeRole against trust policies: (role, caller, AssumeRole arguments, expected)
TRUST_ROWS = [
    ("external-id", "owner", {"ExternalId": "x-1234"}, A),
    ("external-id", "owner", {"ExternalId": "x-9999"}, D),
    ("external-id", "owner", {}, D),
    ("principal-tag", "iam-user-tag-blue", {}, A),  # named by the trust policy: enough alone
    ("principal-tag", "iam-user-tag-red", {}, D),
    ("principal-tag", "owner", {}, D),  # the account's root user is not named
    ("source-ip", "owner", {}, A),
    ("other-net", "owner", {}, D),
    ("tag-session", "owner", {"Tags": [{"Key": "team", "Value": "blue"}]}, A),
    ("no-tag-session", "owner", {"Tags": [{"Key": "team", "Value": "blue"}]}, D),
    ("no-tag-session", "owner", {}, A),
]


@pytest.mark.parametrize("role,who,kw,expected", TRUST_ROWS,
                         ids=["%s|%s|%s" % (r[0], r[1], ",".join(sorted(r[2]))) for r in TRUST_ROWS])
def test_matrix_trust(msrv, iam_principals, trust_roles, role, who, kw, expected):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    if who == "owner":
        ak, sk = msrv.access_key, msrv.secret_key
    else:
        ak, sk, _ = iam_principals[who]
    sts = boto3.session.Session().client(
        "sts", endpoint_url=msrv.endpoint, aws_access_key_id=ak, aws_secret_access_key=sk,
        config=Config(region_name="us-east-1", retries={"total_max_attempts": 1}))
    try:
        sts.assume_role(RoleArn=trust_roles[role], RoleSessionName="trust-row", **kw)
        got = True
    except ClientError as e:
        assert e.response["Error"]["Code"] == "AccessDenied", e.response
        got = False
    assert got == expected, "%s assuming %s with %s: expected %s" % (
        who, role, kw, "allow" if expected else "deny")


def test_no_such_bucket_before_access_denied(msrv):
    """S3 answers NoSuchBucket for a missing bucket even to the anonymous principal."""
    c = s3sig.Client(msrv.endpoint, msrv.access_key, msrv.secret_key)
    r = c.request("GET", "/%s/k" % unique_name("nope"), sign=False)
    assert r.status == 404 and r.error_code == "NoSuchBucket", r


def test_anonymous_list_buckets_denied(msrv):
    c = s3sig.Client(msrv.endpoint, msrv.access_key, msrv.secret_key)
    r = c.request("GET", "/", sign=False)
    assert r.status == 403 and r.error_code == "AccessDenied", r


def tagging_body(tags):
    return ("<Tagging><TagSet>%s</TagSet></Tagging>" % "".join(
        "<Tag><Key>%s</Key><Value>%s</Value></Tag>" % kv for kv in tags)).encode()


def put_tagging(c, b, key, body, headers=None):
    h = {"content-md5": s3sig.md5_b64(body)}
    h.update(headers or {})
    r = c.request("PUT", "/%s/%s" % (b, key), query=[("tagging", "")], headers=h, body=body)
    return r.status, r.error_code


def test_request_object_tag_keys_from_put_object_tagging_body(msrv):
    """s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys for PutObjectTagging come from the
    Tagging body, which arrives after the headers: the request is decided again with them."""
    import boto3
    from botocore.config import Config
    cfg = Config(region_name="us-east-1", retries={"total_max_attempts": 1, "mode": "standard"})
    iam = boto3.session.Session().client("iam", endpoint_url=msrv.endpoint, config=cfg,
                                         aws_access_key_id=msrv.access_key,
                                         aws_secret_access_key=msrv.secret_key)
    raw = owner_raw(msrv)
    b = unique_name("tags")
    assert raw.create_bucket(b).status == 200
    assert raw.put(b, "k", b"v").status == 200
    name = unique_name("tagger")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:PutObjectTagging", "Resource": "*",
         "Condition": {"StringEquals": {"s3:RequestObjectTag/env": "prod"},
                       "ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["env", "team"]}}}))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    user = s3sig.Client(msrv.endpoint, k["AccessKeyId"], k["SecretAccessKey"])
    assert put_tagging(user, b, "k", tagging_body([("env", "prod")]))[0] == 200
    assert put_tagging(user, b, "k", tagging_body([("env", "prod"), ("team", "a")]))[0] == 200
    assert put_tagging(user, b, "k", tagging_body([("env", "dev")])) == (403, "AccessDenied")
    assert put_tagging(user, b, "k", tagging_body([("env", "prod"), ("x", "1")])) == (
        403, "AccessDenied")
    assert put_tagging(user, b, "k", tagging_body([])) == (403, "AccessDenied")
    # an x-amz-tagging header does not stand in for the body
    assert put_tagging(user, b, "k", tagging_body([("env", "dev")]),
                       headers={"x-amz-tagging": "env=prod"}) == (403, "AccessDenied")
    # a bad body from a caller not (yet) found allowed: AccessDenied, nothing more
    assert put_tagging(user, b, "k", b"<Tagging><TagSet><Tag>") == (403, "AccessDenied")
    r = raw.request("GET", "/%s/k" % b, query=[("tagging", "")])
    assert b"<Key>team</Key>" in r.body and b"dev" not in r.body
    # a bucket policy's deny by the body's tags stops even the owner's root user
    r = raw.request("PUT", "/" + b, query=[("policy", "")], body=policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObjectTagging",
         "Resource": "arn:aws:s3:::%s/*" % b,
         "Condition": {"StringEquals": {"s3:RequestObjectTag/Classification": "PHI"}}}).encode())
    assert r.status == 204, r
    assert put_tagging(raw, b, "k", tagging_body([("Classification", "PHI")])) == (
        403, "AccessDenied")
    assert put_tagging(raw, b, "k", tagging_body([("Classification", "public")]))[0] == 200
    assert put_tagging(raw, b, "k", b"<Tagging>") == (400, "MalformedXML")
    # PutObject with x-amz-tagging also needs s3:PutObjectTagging; the header gives the keys
    r = raw.put(b, "new", b"x", headers={"x-amz-tagging": "Classification=PHI"})
    assert (r.status, r.error_code) == (403, "AccessDenied"), r
    assert raw.put(b, "new", b"x", headers={"x-amz-tagging": "Classification=public"}).status == 200
