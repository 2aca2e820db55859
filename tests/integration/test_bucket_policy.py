"""Bucket policies: Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus, bad documents (fail
closed), and the request-context condition keys they can use (api/s3_policy.c, api/authz.c)."""
import json

import pytest
from botocore.exceptions import ClientError

import s3sig
from conftest import client_error, create_account, unique_name


def doc(*statements, version="2012-10-17"):
    return json.dumps({"Version": version, "Statement": list(statements)})


def public_read(b):
    return {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::%s/*" % b}


def anon(server):
    return s3sig.Client(server.endpoint, server.access_key, server.secret_key)


def anon_get(server, b, k, **kw):
    return anon(server).request("GET", "/%s/%s" % (b, k), sign=False, **kw)


def test_put_get_delete_policy(s3, bucket):
    p = doc(public_read(bucket))
    s3.put_bucket_policy(Bucket=bucket, Policy=p)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(p)
    s3.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert client_error(e) == (404, "NoSuchBucketPolicy")
    s3.delete_bucket_policy(Bucket=bucket)  # deleting nothing is fine, as on S3


def test_policy_stored_as_sent(raw, bucket):
    p = b'{ "Version":"2012-10-17",\n  "Statement":[{"Effect":"Deny","Principal":"*",' \
        b'"Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::%s"}]}' % bucket.encode()
    assert raw.request("PUT", "/" + bucket, query=[("policy", "")], body=p).status == 204
    r = raw.request("GET", "/" + bucket, query=[("policy", "")])
    assert r.status == 200 and r.body == p
    assert r.header("content-type").startswith("application/json")


def test_public_read_policy_lets_anonymous_read(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert anon_get(server, bucket, "k").status == 403
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(public_read(bucket)))
    r = anon_get(server, bucket, "k")
    assert r.status == 200 and r.body == b"v"
    # reading is all it allows
    r = anon(server).request("PUT", "/%s/k2" % bucket, body=b"x", sign=False)
    assert r.status == 403 and r.error_code == "AccessDenied"
    s3.delete_bucket_policy(Bucket=bucket)
    assert anon_get(server, bucket, "k").status == 403  # the cache follows the change


def test_policy_status(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy_status(Bucket=bucket)
    assert client_error(e) == (404, "NoSuchBucketPolicy")
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(public_read(bucket)))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    restricted = dict(public_read(bucket),
                      Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/24"}})
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(restricted))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    vpce = dict(public_read(bucket),
                Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(vpce))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False


@pytest.mark.parametrize("body,needle", [
    (b"not json", None),
    (b"{}", None),
    (b'{"Version":"2012-10-17","Statement":[]}', None),
    (b'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
     b'"Action":"s3:GetObjekt","Resource":"arn:aws:s3:::b/*"}]}', b"GetObjekt"),
    (b'{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
     b'"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}', None),  # no Principal
    (b'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
     b'"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",'
     b'"Condition":{"StringEqualz":{"aws:SourceIp":"x"}}}]}', None),
    (b'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
     b'"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",'
     b'"Condition":{"IpAddress":{"aws:SourceIp":"999.0.0.0/8"}}}]}', None),
    (b"", None),
    (b"[" * 5000, None),
])
def test_malformed_policy(raw, bucket, body, needle):
    r = raw.request("PUT", "/" + bucket, query=[("policy", "")], body=body)
    assert r.status == 400 and r.error_code == "MalformedPolicy", r
    if needle:
        assert needle in r.body, r
    # nothing stored: fail closed, and the bucket still works for its owner
    assert raw.request("GET", "/" + bucket, query=[("policy", "")]).status == 404
    assert raw.request("GET", "/" + bucket, query=[("list-type", "2")]).status == 200


def test_oversized_policy(raw, bucket):
    st = public_read(bucket)
    st["Sid"] = "S"
    big = {"Version": "2012-10-17", "Statement": [dict(st, Sid="S%d" % i) for i in range(400)]}
    body = json.dumps(big).encode()
    assert len(body) > 20 * 1024
    r = raw.request("PUT", "/" + bucket, query=[("policy", "")], body=body)
    assert r.status == 400 and r.error_code == "MalformedPolicy", r
    huge = b" " * (3 << 20)  # past the XML/JSON body limit altogether
    r = raw.request("PUT", "/" + bucket, query=[("policy", "")], body=huge)
    assert r.status == 400 and r.error_code in ("MalformedPolicy", "MaxMessageLengthExceeded"), r
    assert raw.request("GET", "/" + bucket, query=[("policy", "")]).status == 404


def test_owner_can_always_manage_policy(s3, bucket):
    """A deny-everything policy does not lock the owner's root out of the policy itself."""
    deny_all = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket]}
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(deny_all))
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=bucket)
    assert client_error(e) == (403, "AccessDenied")
    s3.get_bucket_policy(Bucket=bucket)
    s3.delete_bucket_policy(Bucket=bucket)
    s3.list_objects_v2(Bucket=bucket)


def test_policy_ops_need_permission(second_account, s3, bucket):
    c = second_account.s3
    for op in (lambda: c.get_bucket_policy(Bucket=bucket),
               lambda: c.put_bucket_policy(Bucket=bucket, Policy=doc(public_read(bucket))),
               lambda: c.delete_bucket_policy(Bucket=bucket),
               lambda: c.get_bucket_policy_status(Bucket=bucket)):
        with pytest.raises(ClientError) as e:
            op()
        assert client_error(e) == (403, "AccessDenied")


def test_cross_account_grant(server, s3, bucket):
    other = create_account(server, unique_name("xacct"))
    s3.put_object(Bucket=bucket, Key="shared/a", Body=b"A")
    s3.put_object(Bucket=bucket, Key="private/b", Body=b"B")
    # the other account's id: it is in its ARN only; ask via a bucket it owns
    ob = unique_name("xown")
    other.s3.create_bucket(Bucket=ob)
    with pytest.raises(ClientError) as e:
        other.s3.get_object(Bucket=bucket, Key="shared/a")
    assert client_error(e) == (403, "AccessDenied")
    cid = other.s3.list_buckets()["Owner"]["ID"]
    grant = {"Effect": "Allow", "Principal": {"CanonicalUser": cid},
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/shared/*" % bucket}
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(grant))
    assert other.s3.get_object(Bucket=bucket, Key="shared/a")["Body"].read() == b"A"
    with pytest.raises(ClientError) as e:
        other.s3.get_object(Bucket=bucket, Key="private/b")
    assert client_error(e) == (403, "AccessDenied")
    # cross-account copy needs read on the source and write on the destination
    other.s3.copy_object(Bucket=ob, Key="copy", CopySource={"Bucket": bucket, "Key": "shared/a"})
    with pytest.raises(ClientError) as e:
        other.s3.copy_object(Bucket=ob, Key="copy2",
                             CopySource={"Bucket": bucket, "Key": "private/b"})
    assert client_error(e) == (403, "AccessDenied")


def test_deny_put_without_sse(s3, bucket):
    deny = {"Sid": "DenyUnencryptedUploads", "Effect": "Deny", "Principal": "*",
            "Action": "s3:PutObject", "Resource": "arn:aws:s3:::%s/*" % bucket,
            "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(deny))
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert client_error(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="plain-mpu")
    assert client_error(e) == (403, "AccessDenied")
    s3.put_object(Bucket=bucket, Key="enc", Body=b"x", ServerSideEncryption="AES256")


def test_tag_based_deny(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="phi", Body=b"p", Tagging="Classification=PHI")
    s3.put_object(Bucket=bucket, Key="ok", Body=b"o", Tagging="Classification=Public")
    deny = {"Sid": "NoPHI", "Effect": "Deny", "Principal": "*",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": "arn:aws:s3:::%s/*" % bucket,
            "Condition": {"StringEquals": {"s3:ExistingObjectTag/Classification": "PHI"}}}
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(deny))
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="phi")
    assert client_error(e) == (403, "AccessDenied")
    assert s3.get_object(Bucket=bucket, Key="ok")["Body"].read() == b"o"
    # retagging changes the answer at once (tags are read with the request)
    s3.put_object_tagging(Bucket=bucket, Key="phi",
                          Tagging={"TagSet": [{"Key": "Classification", "Value": "Public"}]})
    assert s3.get_object(Bucket=bucket, Key="phi")["Body"].read() == b"p"


def test_request_tag_condition(s3, bucket):
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::%s/*" % bucket,
            "Condition": {"StringNotEquals": {"s3:RequestObjectTag/team": "blue"}}}
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(deny))
    with pytest.raises(ClientError):
        s3.put_object(Bucket=bucket, Key="a", Body=b"x", Tagging="team=red")
    s3.put_object(Bucket=bucket, Key="a", Body=b"x", Tagging="team=blue")


def test_prefix_condition_on_listing(server, s3, bucket):
    other = create_account(server, unique_name("lister"))
    cid = other.s3.list_buckets()["Owner"]["ID"]
    s3.put_object(Bucket=bucket, Key="home/alice/x", Body=b"x")
    grant = {"Effect": "Allow", "Principal": {"CanonicalUser": cid}, "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::%s" % bucket,
             "Condition": {"StringLike": {"s3:prefix": "home/alice/*"}}}
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(grant))
    r = other.s3.list_objects_v2(Bucket=bucket, Prefix="home/alice/")
    assert [o["Key"] for o in r["Contents"]] == ["home/alice/x"]
    for prefix in ("home/", ""):
        with pytest.raises(ClientError) as e:
            other.s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
        assert client_error(e) == (403, "AccessDenied")


def test_source_ip_condition(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    allow = dict(public_read(bucket), Condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}})
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(allow))
    assert anon_get(server, bucket, "k").status == 200
    allow = dict(public_read(bucket), Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(allow))
    assert anon_get(server, bucket, "k").status == 403
    # X-Forwarded-For is not believed from a peer that is not a configured trusted proxy
    r = anon_get(server, bucket, "k", headers={"X-Forwarded-For": "10.1.2.3"})
    assert r.status == 403


def test_secure_transport_false_on_plain_http(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(deny))
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert client_error(e) == (403, "AccessDenied")
    s3.delete_bucket_policy(Bucket=bucket)
    s3.get_object(Bucket=bucket, Key="k")


def test_delete_objects_checked_per_key(server, s3, bucket):
    other = create_account(server, unique_name("deleter"))
    cid = other.s3.list_buckets()["Owner"]["ID"]
    for k in ("tmp/a", "keep/b"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    grant = {"Effect": "Allow", "Principal": {"CanonicalUser": cid}, "Action": "s3:DeleteObject",
             "Resource": "arn:aws:s3:::%s/tmp/*" % bucket}
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(grant))
    r = other.s3.delete_objects(Bucket=bucket,
                                Delete={"Objects": [{"Key": "tmp/a"}, {"Key": "keep/b"}]})
    assert [d["Key"] for d in r.get("Deleted", [])] == ["tmp/a"]
    assert [(x["Key"], x["Code"]) for x in r.get("Errors", [])] == [("keep/b", "AccessDenied")]
    s3.head_object(Bucket=bucket, Key="keep/b")


def test_missing_key_is_access_denied_without_list_permission(server, s3, bucket):
    """S3 answers NoSuchKey only to principals that may list the bucket (no key probing)."""
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(public_read(bucket)))
    r = anon_get(server, bucket, "missing")
    assert r.status == 403 and r.error_code == "AccessDenied", r
    listing = {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
               "Resource": "arn:aws:s3:::%s" % bucket}
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(public_read(bucket), listing))
    r = anon_get(server, bucket, "missing")
    assert r.status == 404 and r.error_code == "NoSuchKey", r
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="missing")  # the owner
    assert client_error(e) == (404, "NoSuchKey")


def test_cross_account_needs_both_sides(server, s3, bucket):
    """An IAM user of another account needs its own policy AND the bucket policy."""
    import boto3
    from botocore.config import Config
    from conftest import Account, random_access_key, random_secret_key, run_admin
    ak, sk = random_access_key(), random_secret_key()
    p = run_admin(server, "account", "create", unique_name("both"), "--access-key", ak,
                  "--secret-key", sk)
    assert p.returncode == 0, (p.stdout, p.stderr)
    other_id = json.loads(p.stdout)["account_id"]
    iam = boto3.session.Session().client(
        "iam", endpoint_url=server.endpoint, aws_access_key_id=ak, aws_secret_access_key=sk,
        config=Config(region_name="us-east-1", retries={"total_max_attempts": 1}))
    users = {}
    for who, pol in (("bare", None), ("reader", doc({"Effect": "Allow", "Action": "s3:GetObject",
                                                      "Resource": "*"}))):
        name = unique_name(who)
        iam.create_user(UserName=name)
        if pol:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=pol)
        k = iam.create_access_key(UserName=name)["AccessKey"]
        users[who] = Account(name, k["AccessKeyId"], k["SecretAccessKey"], server).s3
    root = Account("root", ak, sk, server).s3
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    for c in (root, users["bare"], users["reader"]):
        with pytest.raises(ClientError) as e:
            c.get_object(Bucket=bucket, Key="k")
        assert client_error(e) == (403, "AccessDenied")
    grant = {"Effect": "Allow", "Principal": {"AWS": other_id}, "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::%s/*" % bucket}
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(grant))
    assert root.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    assert users["reader"].get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    with pytest.raises(ClientError) as e:
        users["bare"].get_object(Bucket=bucket, Key="k")  # its own account did not allow it
    assert client_error(e) == (403, "AccessDenied")
