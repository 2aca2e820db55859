"""Block Public Access: the bucket-level API (Put/Get/DeletePublicAccessBlock), the
account-level setting through the S3 Control path, and the four flags' effects on policies and
ACLs (api/s3_policy.c, api/authz.c)."""
import json

import pytest
from botocore.exceptions import ClientError

import s3sig
from conftest import (Account, client_error, create_account, random_access_key,
                      random_secret_key, run_admin, unique_name)

ALL_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def public_read(b):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/*" % b}]})


def pab(**flags):
    return {f: bool(flags.get(f, False)) for f in ALL_FLAGS}


def anon_status(server, method, path, **kw):
    c = s3sig.Client(server.endpoint, server.access_key, server.secret_key)
    return c.request(method, path, sign=False, **kw).status


def test_put_get_delete(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_public_access_block(Bucket=bucket)
    assert client_error(e) == (404, "NoSuchPublicAccessBlockConfiguration")
    cfg = pab(BlockPublicAcls=True, RestrictPublicBuckets=True)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=cfg)
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == cfg
    s3.delete_public_access_block(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_public_access_block(Bucket=bucket)
    assert client_error(e) == (404, "NoSuchPublicAccessBlockConfiguration")


def test_malformed_configuration(raw, bucket):
    for body in (b"<PublicAccessBlockConfiguration><BlockPublicAcls>maybe</BlockPublicAcls>"
                 b"</PublicAccessBlockConfiguration>", b"<Nope/>", b"<<<"):
        r = raw.request("PUT", "/" + bucket, query=[("publicAccessBlock", "")], body=body)
        assert r.status == 400 and r.error_code == "MalformedXML", r


def test_block_public_policy(s3, bucket):
    s3.put_public_access_block(Bucket=bucket,
                               PublicAccessBlockConfiguration=pab(BlockPublicPolicy=True))
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    assert client_error(e) == (403, "AccessDenied")
    # a non-public policy is fine
    restricted = json.loads(public_read(bucket))
    restricted["Statement"][0]["Condition"] = {"IpAddress": {"aws:SourceIp": "10.0.0.0/16"}}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(restricted))


def test_restrict_public_buckets(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    assert anon_status(server, "GET", "/%s/k" % bucket) == 200
    s3.put_public_access_block(Bucket=bucket,
                               PublicAccessBlockConfiguration=pab(RestrictPublicBuckets=True))
    assert anon_status(server, "GET", "/%s/k" % bucket) == 403
    s3.get_object(Bucket=bucket, Key="k")  # the owner's account is unaffected
    s3.delete_public_access_block(Bucket=bucket)
    assert anon_status(server, "GET", "/%s/k" % bucket) == 200


def test_block_and_ignore_public_acls(server, s3, bucket):
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_object(Bucket=bucket, Key="k", Body=b"v", ACL="public-read")
    assert anon_status(server, "GET", "/%s/k" % bucket) == 200
    s3.put_public_access_block(Bucket=bucket,
                               PublicAccessBlockConfiguration=pab(BlockPublicAcls=True))
    for op in (lambda: s3.put_object(Bucket=bucket, Key="k2", Body=b"v", ACL="public-read"),
               lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read-write"),
               lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read")):
        with pytest.raises(ClientError) as e:
            op()
        assert client_error(e) == (403, "AccessDenied")
    s3.put_object(Bucket=bucket, Key="k3", Body=b"v", ACL="private")
    # BlockPublicAcls does not affect ACLs already in place ...
    assert anon_status(server, "GET", "/%s/k" % bucket) == 200
    # ... IgnorePublicAcls does
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=pab(
        BlockPublicAcls=True, IgnorePublicAcls=True))
    assert anon_status(server, "GET", "/%s/k" % bucket) == 403


def test_needs_permission(second_account, bucket):
    c = second_account.s3
    for op in (lambda: c.get_public_access_block(Bucket=bucket),
               lambda: c.put_public_access_block(Bucket=bucket,
                                                 PublicAccessBlockConfiguration=pab()),
               lambda: c.delete_public_access_block(Bucket=bucket)):
        with pytest.raises(ClientError) as e:
            op()
        assert client_error(e) == (403, "AccessDenied")


class S3Control:
    """The S3 Control calls for account-level BPA, signed by hand: botocore puts the account
    id into the host name (ACCOUNT.s3-control...), which a loopback endpoint cannot resolve.
    The request is the same: /v20180820/configuration/publicAccessBlock, x-amz-account-id."""
    PATH = "/v20180820/configuration/publicAccessBlock"

    def __init__(self, server, acct):
        self.c = s3sig.Client(server.endpoint, acct.access_key, acct.secret_key)

    def call(self, method, acct_id, body=b""):
        return self.c.request(method, self.PATH, headers={"x-amz-account-id": acct_id},
                              body=body)


def pab_xml(**flags):
    inner = "".join("<%s>%s</%s>" % (f, "true" if flags.get(f) else "false", f)
                    for f in ALL_FLAGS)
    return ('<PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/'
            '2018-08-20/">%s</PublicAccessBlockConfiguration>' % inner).encode()


def test_account_level(server):
    """Account-level BPA (S3 Control API): applies to every bucket of the account."""
    acct = account_with_id(server, "bpaacct")
    b = unique_name("bpa")
    acct.s3.create_bucket(Bucket=b)
    acct.s3.put_object(Bucket=b, Key="k", Body=b"v")
    acct.s3.put_bucket_policy(Bucket=b, Policy=public_read(b))
    assert anon_status(server, "GET", "/%s/k" % b) == 200
    ctl = S3Control(server, acct)
    r = ctl.call("GET", acct.id)
    assert r.status == 404 and r.error_code == "NoSuchPublicAccessBlockConfiguration", r
    r = ctl.call("PUT", acct.id, pab_xml(BlockPublicPolicy=True, RestrictPublicBuckets=True))
    assert r.status == 200, r
    r = ctl.call("GET", acct.id)
    assert r.status == 200, r
    got = {el.tag.split("}")[-1]: el.text for el in r.xml}
    assert got == {"BlockPublicAcls": "false", "IgnorePublicAcls": "false",
                   "BlockPublicPolicy": "true", "RestrictPublicBuckets": "true"}
    assert anon_status(server, "GET", "/%s/k" % b) == 403
    with pytest.raises(ClientError) as e:
        acct.s3.put_bucket_policy(Bucket=b, Policy=public_read(b))
    assert client_error(e) == (403, "AccessDenied")
    # another account cannot read or change it
    other = create_account(server, unique_name("bpaother"))
    for m in ("GET", "PUT", "DELETE"):
        r = S3Control(server, other).call(m, acct.id, pab_xml() if m == "PUT" else b"")
        assert r.status == 403, r
    r = S3Control(server, acct).call("GET", acct.id, b"")
    assert r.status == 200
    assert anon(server).request("GET", S3Control.PATH, sign=False,
                                headers={"x-amz-account-id": acct.id}).status == 403
    assert ctl.call("DELETE", acct.id).status == 204
    assert anon_status(server, "GET", "/%s/k" % b) == 200


def anon(server):
    return s3sig.Client(server.endpoint, server.access_key, server.secret_key)


def account_with_id(server, prefix):
    """An account made with `strata admin account create`, with its id from the answer."""
    ak, sk = random_access_key(), random_secret_key()
    p = run_admin(server, "account", "create", unique_name(prefix), "--access-key", ak,
                  "--secret-key", sk)
    assert p.returncode == 0, (p.stdout, p.stderr)
    info = json.loads(p.stdout)
    a = Account(info["name"], ak, sk, server)
    a.id = info["account_id"]
    return a
