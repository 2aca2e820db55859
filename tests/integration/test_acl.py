"""ACLs and Object Ownership: canned ACLs, x-amz-grant-* headers, AccessControlPolicy bodies,
Put/GetBucketAcl, Put/GetObjectAcl, Put/Get/DeleteBucketOwnershipControls, BucketOwnerEnforced
as the default for new buckets (api/s3_acl.c, api/s3_policy.c, api/authz.c)."""
import json

import pytest
from botocore.exceptions import ClientError

import s3sig
from conftest import (Account, client_error, random_access_key, random_secret_key, run_admin,
                      unique_name)

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def account(server, prefix, email=None):
    ak, sk = random_access_key(), random_secret_key()
    args = ["account", "create", unique_name(prefix), "--access-key", ak, "--secret-key", sk]
    if email:
        args += ["--email", email]
    p = run_admin(server, *args)
    assert p.returncode == 0, (p.stdout, p.stderr)
    info = json.loads(p.stdout)
    a = Account(info["name"], ak, sk, server)
    a.id, a.canonical_id = info["account_id"], info["canonical_id"]
    return a


@pytest.fixture(scope="module")
def bob(server):
    return account(server, "bob", email="bob-%s@example.com" % unique_name("e"))


def anon_status(server, method, path, **kw):
    c = s3sig.Client(server.endpoint, server.access_key, server.secret_key)
    return c.request(method, path, sign=False, **kw).status


def object_writer(s3, b):
    s3.put_bucket_ownership_controls(
        Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})


def grants(acl):
    out = set()
    for g in acl["Grants"]:
        ge = g["Grantee"]
        out.add((ge.get("ID") or ge.get("URI"), g["Permission"]))
    return out


def test_new_bucket_is_bucket_owner_enforced(s3, bucket):
    r = s3.get_bucket_ownership_controls(Bucket=bucket)
    assert r["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    # ACLs can be read (owner FULL_CONTROL) but not set
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert grants(acl) == {(acl["Owner"]["ID"], "FULL_CONTROL")}
    for op in (lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"),
               lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")):
        with pytest.raises(ClientError) as e:
            op()
        assert client_error(e) == (400, "AccessControlListNotSupported")
    # bucket-owner-full-control is accepted, as on S3
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    s3.put_object(Bucket=bucket, Key="k2", Body=b"x", ACL="private")  # the same, here
    acl = s3.get_object_acl(Bucket=bucket, Key="k")
    assert grants(acl) == {(acl["Owner"]["ID"], "FULL_CONTROL")}


def test_ownership_controls_api(s3, bucket):
    object_writer(s3, bucket)
    r = s3.get_bucket_ownership_controls(Bucket=bucket)
    assert r["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "ObjectWriter"}]
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert client_error(e) == (404, "OwnershipControlsNotFoundError")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "Whoever"}]})
    assert client_error(e) == (400, "MalformedXML")


def test_create_bucket_with_object_ownership(s3, bucket_name):
    b = bucket_name("own")
    s3.create_bucket(Bucket=b, ObjectOwnership="ObjectWriter", ACL="public-read")
    assert s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}]
    assert (ALL_USERS, "READ") in grants(s3.get_bucket_acl(Bucket=b))
    b2 = bucket_name("own")
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=b2, ACL="public-read")  # default: BucketOwnerEnforced
    assert client_error(e) == (400, "InvalidBucketAclWithObjectOwnership")
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=b2, ObjectOwnership="Nobody")
    assert client_error(e)[0] == 400


@pytest.mark.parametrize("canned,expect", [
    ("private", set()),
    ("public-read", {(ALL_USERS, "READ")}),
    ("public-read-write", {(ALL_USERS, "READ"), (ALL_USERS, "WRITE")}),
    ("authenticated-read", {(AUTH_USERS, "READ")}),
])
def test_canned_object_acls(server, s3, bucket, canned, expect):
    object_writer(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v", ACL=canned)
    acl = s3.get_object_acl(Bucket=bucket, Key="k")
    owner = acl["Owner"]["ID"]
    assert grants(acl) == {(owner, "FULL_CONTROL")} | expect
    public = (ALL_USERS, "READ") in expect
    assert anon_status(server, "GET", "/%s/k" % bucket) == (200 if public else 403)


def test_canned_bucket_acls(server, s3, bucket):
    object_writer(s3, bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert anon_status(server, "GET", "/" + bucket, query=[("list-type", "2")]) == 200
    s3.put_bucket_acl(Bucket=bucket, ACL="log-delivery-write")
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert ("http://acs.amazonaws.com/groups/s3/LogDelivery", "WRITE") in grants(acl)
    assert anon_status(server, "GET", "/" + bucket, query=[("list-type", "2")]) == 403
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    # with a public bucket ACL gone, BucketOwnerEnforced can be applied again
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})


def test_enforced_refused_while_bucket_acl_grants_others(s3, bucket):
    object_writer(s3, bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_ownership_controls(
            Bucket=bucket,
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    assert client_error(e) == (400, "InvalidBucketAclWithObjectOwnership")


def test_grant_headers_by_id_and_email(server, s3, bucket, bob):
    object_writer(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v",
                  GrantRead='id="%s"' % bob.canonical_id)
    assert bob.s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    with pytest.raises(ClientError) as e:
        bob.s3.get_object_acl(Bucket=bucket, Key="k")
    assert client_error(e) == (403, "AccessDenied")
    # by email: the same account
    p = run_admin(server, "account", "create", unique_name("carl"), "--email",
                  "carl-%s@example.com" % unique_name("x"))
    info = json.loads(p.stdout)
    carl = Account(info["name"], info["access_key"], info["secret_key"], server)
    s3.put_object_acl(Bucket=bucket, Key="k",
                      GrantFullControl='emailAddress="%s"' % info["email"])
    assert carl.s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    carl.s3.get_object_acl(Bucket=bucket, Key="k")
    # bob lost his grant with the new ACL
    with pytest.raises(ClientError):
        bob.s3.get_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=bucket, Key="k", GrantRead='emailAddress="nobody@nowhere"')
    assert client_error(e) == (400, "UnresolvableGrantByEmailAddress")
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=bucket, Key="k", GrantRead='id="%s"' % ("0" * 64))
    assert client_error(e)[0] == 400


def test_access_control_policy_body(server, s3, bucket, bob):
    object_writer(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    owner = s3.get_object_acl(Bucket=bucket, Key="k")["Owner"]
    policy = {"Owner": {"ID": owner["ID"]}, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "CanonicalUser", "ID": bob.canonical_id}, "Permission": "READ"},
        {"Grantee": {"Type": "Group", "URI": AUTH_USERS}, "Permission": "READ_ACP"},
    ]}
    s3.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy=policy)
    got = grants(s3.get_object_acl(Bucket=bucket, Key="k"))
    assert got == {(owner["ID"], "FULL_CONTROL"), (bob.canonical_id, "READ"),
                   (AUTH_USERS, "READ_ACP")}
    assert bob.s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    bob.s3.get_object_acl(Bucket=bucket, Key="k")  # READ_ACP via AuthenticatedUsers
    assert anon_status(server, "GET", "/%s/k" % bucket, query=[("acl", "")]) == 403
    with pytest.raises(ClientError) as e:
        bob.s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")
    assert client_error(e) == (403, "AccessDenied")


def test_malformed_acl_body(raw, s3, bucket):
    object_writer(s3, bucket)
    for body in (b"<AccessControlPolicy><AccessControlList><Grant><Permission>READ"
                 b"</Permission></Grant></AccessControlList></AccessControlPolicy>",
                 b"<AccessControlPolicy><AccessControlList><Grant><Grantee "
                 b"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\">"
                 b"<URI>http://example.com/x</URI></Grantee><Permission>READ</Permission>"
                 b"</Grant></AccessControlList></AccessControlPolicy>",
                 b"<nope/>", b"<<"):
        r = raw.request("PUT", "/" + bucket, query=[("acl", "")], body=body)
        assert r.status == 400, r
    r = raw.request("PUT", "/" + bucket, query=[("acl", "")],
                    headers={"x-amz-acl": "private"}, body=b"<AccessControlPolicy/>")
    assert r.status == 400, r
    r = raw.request("PUT", "/" + bucket, query=[("acl", "")],
                    headers={"x-amz-acl": "no-such-canned-acl"})
    assert r.status == 400, r
    # nothing changed
    assert len(s3.get_bucket_acl(Bucket=bucket)["Grants"]) == 1


def test_bucket_write_acl_lets_others_upload(server, s3, bucket, bob):
    object_writer(s3, bucket)
    s3.put_bucket_acl(Bucket=bucket, GrantWrite='id="%s"' % bob.canonical_id,
                      GrantFullControl='id="%s"' % s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"])
    bob.s3.put_object(Bucket=bucket, Key="from-bob", Body=b"b")
    # ObjectWriter: bob owns what he wrote (the default ACL gives him FULL_CONTROL)
    acl = bob.s3.get_object_acl(Bucket=bucket, Key="from-bob")
    assert acl["Owner"]["ID"] == bob.canonical_id
    assert bob.s3.get_object(Bucket=bucket, Key="from-bob")["Body"].read() == b"b"
    with pytest.raises(ClientError) as e:
        bob.s3.list_objects_v2(Bucket=bucket)  # WRITE is not READ
    assert client_error(e) == (403, "AccessDenied")


def test_bucket_owner_preferred(s3, bucket, bob):
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    owner_id = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    s3.put_bucket_acl(Bucket=bucket, GrantWrite='id="%s"' % bob.canonical_id,
                      GrantFullControl='id="%s"' % owner_id)
    bob.s3.put_object(Bucket=bucket, Key="given", Body=b"g", ACL="bucket-owner-full-control")
    assert s3.get_object_acl(Bucket=bucket, Key="given")["Owner"]["ID"] == owner_id
    bob.s3.put_object(Bucket=bucket, Key="kept", Body=b"k")
    assert bob.s3.get_object_acl(Bucket=bucket, Key="kept")["Owner"]["ID"] == bob.canonical_id


def test_stale_object_acl_does_not_survive_overwrite(server, s3, bucket):
    object_writer(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v1", ACL="public-read")
    assert anon_status(server, "GET", "/%s/k" % bucket) == 200
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2")  # new object: default (private) ACL
    assert anon_status(server, "GET", "/%s/k" % bucket) == 403
    s3.delete_object(Bucket=bucket, Key="k")
    s3.put_object(Bucket=bucket, Key="k", Body=b"v1")
    assert anon_status(server, "GET", "/%s/k" % bucket) == 403


def test_object_acl_of_missing_key(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object_acl(Bucket=bucket, Key="missing")
    assert client_error(e) == (404, "NoSuchKey")


# ---- objects written by another account (AWS's object context) ----------------------------

def writable_by(s3, bucket, other, ownership="ObjectWriter"):
    """An ACL-enabled bucket whose ACL lets `other` write (and its owner keep full control)."""
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})
    owner_id = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    s3.put_bucket_acl(Bucket=bucket, GrantWrite='id="%s"' % other.canonical_id,
                      GrantFullControl='id="%s"' % owner_id)
    return owner_id


def test_bucket_owner_needs_a_grant_to_read_another_accounts_object(server, s3, bucket, bob):
    owner_id = writable_by(s3, bucket, bob)
    pol = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::%s/*" % bucket}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=pol)
    bob.s3.put_object(Bucket=bucket, Key="bobs", Body=b"b")
    # bob's object: the bucket owner's root user may not read it or its ACL ...
    for op in (lambda: s3.get_object(Bucket=bucket, Key="bobs"),
               lambda: s3.head_object(Bucket=bucket, Key="bobs"),
               lambda: s3.get_object_acl(Bucket=bucket, Key="bobs"),
               lambda: s3.put_object_acl(Bucket=bucket, Key="bobs", ACL="public-read"),
               lambda: s3.get_object_tagging(Bucket=bucket, Key="bobs"),
               lambda: s3.copy_object(Bucket=bucket, Key="copy",
                                      CopySource={"Bucket": bucket, "Key": "bobs"})):
        with pytest.raises(ClientError) as e:
            op()
        assert client_error(e)[0] == 403
    # ... and the bucket policy's public read does not reach it (only the object owner grants)
    assert anon_status(server, "GET", "/%s/bobs" % bucket) == 403
    assert bob.s3.get_object(Bucket=bucket, Key="bobs")["Body"].read() == b"b"
    # the bucket owner still lists, and may delete it
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["bobs"]
    # bob grants read: now it can
    bob.s3.put_object_acl(Bucket=bucket, Key="bobs", GrantRead='id="%s"' % owner_id)
    assert s3.get_object(Bucket=bucket, Key="bobs")["Body"].read() == b"b"
    with pytest.raises(ClientError):  # READ is not READ_ACP
        s3.get_object_acl(Bucket=bucket, Key="bobs")
    # public-read by its owner: anonymous reads work (the bucket owner's policy did not matter)
    bob.s3.put_object_acl(Bucket=bucket, Key="bobs", ACL="public-read")
    assert anon_status(server, "GET", "/%s/bobs" % bucket) == 200
    s3.delete_object(Bucket=bucket, Key="bobs")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_object_writer_grant_to_bucket_owner_on_upload(s3, bucket, bob):
    owner_id = writable_by(s3, bucket, bob)
    bob.s3.put_object(Bucket=bucket, Key="given", Body=b"g", ACL="bucket-owner-full-control")
    acl = s3.get_object_acl(Bucket=bucket, Key="given")
    assert acl["Owner"]["ID"] == bob.canonical_id  # ObjectWriter: bob still owns it
    assert (owner_id, "FULL_CONTROL") in grants(acl)
    assert s3.get_object(Bucket=bucket, Key="given")["Body"].read() == b"g"
    bob.s3.put_object(Bucket=bucket, Key="read", Body=b"r", ACL="bucket-owner-read")
    assert s3.get_object(Bucket=bucket, Key="read")["Body"].read() == b"r"
    with pytest.raises(ClientError):
        s3.get_object_acl(Bucket=bucket, Key="read")


def test_bucket_owner_preferred_and_enforced_owner_reads(s3, bucket, bob):
    writable_by(s3, bucket, bob, "BucketOwnerPreferred")
    bob.s3.put_object(Bucket=bucket, Key="given", Body=b"g", ACL="bucket-owner-full-control")
    assert s3.get_object(Bucket=bucket, Key="given")["Body"].read() == b"g"  # the owner's now
    bob.s3.put_object(Bucket=bucket, Key="kept", Body=b"k")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="kept")
    assert client_error(e) == (403, "AccessDenied")
    # BucketOwnerEnforced: ACLs off, the bucket owner owns every object
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"k"


# ---- ACLs on multipart uploads --------------------------------------------------------------

def mpu(c, bucket, key, body=b"m" * 10, **create):
    uid = c.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    e = c.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=body)["ETag"]
    c.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e}]})


def test_multipart_acl_headers_apply_at_complete(server, s3, bucket, bob):
    object_writer(s3, bucket)
    mpu(s3, bucket, "pub", ACL="public-read")
    acl = s3.get_object_acl(Bucket=bucket, Key="pub")
    assert grants(acl) == {(acl["Owner"]["ID"], "FULL_CONTROL"), (ALL_USERS, "READ")}
    assert anon_status(server, "GET", "/%s/pub" % bucket) == 200
    mpu(s3, bucket, "granted", GrantRead='id="%s"' % bob.canonical_id,
        GrantReadACP='id="%s"' % bob.canonical_id)
    assert bob.s3.get_object(Bucket=bucket, Key="granted")["Body"].read() == b"m" * 10
    assert grants(bob.s3.get_object_acl(Bucket=bucket, Key="granted")) == {
        (bob.canonical_id, "READ"), (bob.canonical_id, "READ_ACP")}
    mpu(s3, bucket, "plain")  # no headers: the default, private
    assert anon_status(server, "GET", "/%s/plain" % bucket) == 403
    # a new upload over "pub" without headers: the new object is private again
    mpu(s3, bucket, "pub")
    assert anon_status(server, "GET", "/%s/pub" % bucket) == 403
    # headers are checked at Create
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="x", GrantRead='id="%s"' % ("0" * 64))
    assert client_error(e) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="x", ACL="public-read",
                                   GrantRead='id="%s"' % bob.canonical_id)
    assert client_error(e) == (400, "InvalidRequest")


def test_multipart_acl_with_object_ownership(s3, bucket, bob):
    # BucketOwnerEnforced (the default): a non-default ACL is refused at Create, as S3 does
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="k", ACL="public-read")
    assert client_error(e) == (400, "AccessControlListNotSupported")
    mpu(s3, bucket, "k", ACL="bucket-owner-full-control")
    # BucketOwnerPreferred: bob's upload with bucket-owner-full-control is the bucket owner's
    owner_id = writable_by(s3, bucket, bob, "BucketOwnerPreferred")
    mpu(bob.s3, bucket, "given", ACL="bucket-owner-full-control")
    assert s3.get_object_acl(Bucket=bucket, Key="given")["Owner"]["ID"] == owner_id
    mpu(bob.s3, bucket, "kept")
    assert bob.s3.get_object_acl(Bucket=bucket, Key="kept")["Owner"]["ID"] == bob.canonical_id
    # ACLs switched off between Create and Complete: the stored ACL is not applied
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    uid = s3.create_multipart_upload(Bucket=bucket, Key="late", ACL="public-read")["UploadId"]
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    e = s3.upload_part(Bucket=bucket, Key="late", UploadId=uid, PartNumber=1, Body=b"l")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="late", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e}]})
    acl = s3.get_object_acl(Bucket=bucket, Key="late")
    assert grants(acl) == {(owner_id, "FULL_CONTROL")}


# ---- grant headers and bodies as S3 conformance suites send them ----------------------------

def test_grant_headers_without_quotes_on_create_bucket(server, s3, bucket_name, bob):
    """Header grants without quotes (id=...; the ceph s3-tests send them so): the ACL is exactly
    the grants given, the owner gets nothing implicitly."""
    b = bucket_name("hdr")
    c = server.client()
    r = c.request("PUT", "/" + b, headers={
        "x-amz-object-ownership": "ObjectWriter",
        "x-amz-grant-read": "id=%s" % bob.canonical_id,
        "x-amz-grant-write": "id=%s" % bob.canonical_id,
        "x-amz-grant-read-acp": "id=%s" % bob.canonical_id,
        "x-amz-grant-write-acp": "id=%s" % bob.canonical_id,
        "x-amz-grant-full-control": "id=%s, uri=%s" % (bob.canonical_id, AUTH_USERS)})
    assert r.status == 200, r
    acl = s3.get_bucket_acl(Bucket=b)
    got = sorted((g["Grantee"].get("ID") or g["Grantee"]["URI"], g["Permission"])
                 for g in acl["Grants"])
    assert got == sorted([(bob.canonical_id, p) for p in
                          ("READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL")] +
                         [(AUTH_USERS, "FULL_CONTROL")])
    for g in acl["Grants"]:
        if "ID" in g["Grantee"]:
            assert g["Grantee"]["Type"] == "CanonicalUser" and g["Grantee"]["DisplayName"]
        else:
            assert g["Grantee"]["Type"] == "Group"
    # the owner still manages it (its root user), and bob can use each grant
    bob.s3.put_object(Bucket=b, Key="k", Body=b"x")
    bob.s3.list_objects_v2(Bucket=b)
    bob.s3.put_bucket_acl(Bucket=b, ACL="public-read")
    assert s3.get_bucket_acl(Bucket=b)["Owner"]["ID"] != bob.canonical_id


def test_bad_grant_headers(raw, s3, bucket, bob):
    object_writer(s3, bucket)
    bad = ['id="%s' % bob.canonical_id, 'id=', 'name="x"', 'uri="http://example.com/g"',
           'id="%s"' % ("f" * 64), 'id="a"b"']
    for v in bad:
        r = raw.request("PUT", "/" + bucket, query=[("acl", "")],
                        headers={"x-amz-grant-read": v})
        assert (r.status, r.error_code) == (400, "InvalidArgument"), (v, r)
    r = raw.request("PUT", "/" + bucket, query=[("acl", "")],
                    headers={"x-amz-grant-read": 'emailAddress="nobody@example.invalid"'})
    assert (r.status, r.error_code) == (400, "UnresolvableGrantByEmailAddress"), r
    # every header at once: 5 permissions x 3 grantees
    hdrs = {"x-amz-grant-" + p: 'uri="%s", uri="%s", id="%s"' % (ALL_USERS, AUTH_USERS,
                                                                  bob.canonical_id)
            for p in ("read", "write", "read-acp", "write-acp", "full-control")}
    r = raw.request("PUT", "/" + bucket, query=[("acl", "")], headers=hdrs)
    assert r.status == 200, r
    assert len(s3.get_bucket_acl(Bucket=bucket)["Grants"]) == 15


def err_fields(r):
    x = r.xml
    return {c.tag.split("}")[-1]: c.text for c in x}


def test_acl_validation_errors_as_s3_gives_them(raw, s3, bucket, bob):
    object_writer(s3, bucket)
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]

    def put_body(body):
        return raw.request("PUT", "/" + bucket, query=[("acl", "")], body=body.encode())

    xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    grant = ('<Grant><Grantee %s xsi:type="%%s">%%s</Grantee><Permission>READ</Permission>'
             '</Grant>' % xsi)
    doc = ('<AccessControlPolicy><Owner><ID>%s</ID></Owner><AccessControlList>%s'
           '</AccessControlList></AccessControlPolicy>')
    # the Owner element is required; its ID must be a canonical id, and the resource's owner
    r = put_body('<AccessControlPolicy><AccessControlList/></AccessControlPolicy>')
    assert (r.status, r.error_code) == (400, "MalformedACLError"), r
    r = put_body(doc % ("wrong-id", ""))
    f = err_fields(r)
    assert (r.status, f["Code"], f["Message"], f["ArgumentName"], f["ArgumentValue"]) == (
        400, "InvalidArgument", "Invalid id", "CanonicalUser/ID", "wrong-id"), r
    r = put_body(doc % (bob.canonical_id, ""))
    assert (r.status, r.error_code) == (403, "AccessDenied"), r
    # grantees
    r = put_body(doc % (owner, grant % ("CanonicalUser", "<ID>%s</ID>" % ("0" * 64))))
    f = err_fields(r)
    assert (f["Code"], f["Message"], f["ArgumentName"]) == (
        "InvalidArgument", "Invalid id", "CanonicalUser/ID"), r
    r = put_body(doc % (owner, grant % ("Group", "<URI>http://example.com/g</URI>")))
    f = err_fields(r)
    assert (f["Code"], f["Message"], f["ArgumentName"]) == (
        "InvalidArgument", "Invalid group uri", "Group/URI"), r
    r = put_body(doc % (owner, grant % ("Nobody", "<ID>%s</ID>" % owner)))
    assert (r.status, r.error_code) == (400, "MalformedACLError"), r
    r = put_body(doc % (owner, grant % ("AmazonCustomerByEmail",
                                        "<EmailAddress>no@example.invalid</EmailAddress>")))
    assert (r.status, r.error_code) == (400, "UnresolvableGrantByEmailAddress"), r
    r = put_body(doc % (owner, grant.replace("READ", "READ_ALL") % ("CanonicalUser",
                                                                     "<ID>%s</ID>" % owner)))
    assert (r.status, r.error_code) == (400, "MalformedACLError"), r
    # header grants
    for hv, msg, name in (('id="%s"' % ("0" * 64), "Invalid id", "id"),
                          ('uri="http://example.com/g"', "Invalid group uri", "uri"),
                          ('fakekey="1234"', "Argument format not recognized",
                           "x-amz-grant-write")):
        r = raw.request("PUT", "/" + bucket, query=[("acl", "")],
                        headers={"x-amz-grant-write": hv})
        f = err_fields(r)
        assert (r.status, f["Code"], f["Message"], f["ArgumentName"]) == (
            400, "InvalidArgument", msg, name), (hv, r)
    # nothing changed, and a valid document still works
    assert grants(s3.get_bucket_acl(Bucket=bucket)) == {(owner, "FULL_CONTROL")}
    r = put_body(doc % (owner, grant % ("CanonicalUser", "<ID>%s</ID>" % bob.canonical_id)))
    assert r.status == 200, r
    assert grants(s3.get_bucket_acl(Bucket=bucket)) == {(bob.canonical_id, "READ")}


def test_object_acl_of_a_delete_marker(raw, s3, bucket):
    object_writer(s3, bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"v")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    path = "/%s/k" % bucket
    cases = ((("GET", []), 404, "NoSuchKey"),
             (("PUT", []), 405, "MethodNotAllowed"),
             (("GET", [("versionId", marker)]), 405, "MethodNotAllowed"),
             (("PUT", [("versionId", marker)]), 405, "MethodNotAllowed"))
    for (method, q), status, code in cases:
        r = raw.request(method, path, query=[("acl", "")] + q,
                        headers={"x-amz-acl": "public-read"} if method == "PUT" else None)
        assert (r.status, r.error_code) == (status, code), (method, q, r)
        assert r.header("x-amz-delete-marker") == "true" and r.header("x-amz-version-id") == marker
        if status == 405:
            f = err_fields(r)
            assert (f["Method"], f["ResourceType"]) == (method, "DeleteMarker"), r
    # the version under the marker keeps its own ACL
    s3.put_object_acl(Bucket=bucket, Key="k", VersionId=v1, ACL="public-read")
    assert (ALL_USERS, "READ") in grants(s3.get_object_acl(Bucket=bucket, Key="k", VersionId=v1))


def test_missing_key_is_404_to_whoever_may_list(server, s3, bucket):
    """S3 answers a read of a missing key with 404 NoSuchKey to a principal that may list the
    bucket, 403 to anyone else. With ACLs a missing object has no ACL to grant s3:GetObject, so
    the bucket's READ grant (ListBucket) is what decides (ceph s3-tests
    test_object_raw_get_object_gone)."""
    object_writer(s3, bucket)
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x", ACL="public-read")
    assert anon_status(server, "GET", "/%s/gone" % bucket) == 200
    s3.delete_object(Bucket=bucket, Key="gone")
    # a private bucket: the anonymous caller may not learn that the key is missing
    assert anon_status(server, "GET", "/%s/gone" % bucket) == 403
    assert anon_status(server, "HEAD", "/%s/gone" % bucket) == 403
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert anon_status(server, "GET", "/%s/gone" % bucket) == 404
    assert anon_status(server, "HEAD", "/%s/gone" % bucket) == 404
    # an object that exists but is private stays 403, listable bucket or not
    s3.put_object(Bucket=bucket, Key="private", Body=b"x")
    assert anon_status(server, "GET", "/%s/private" % bucket) == 403
    # an explicit Deny of the read is not overruled by the listing permission
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": "arn:aws:s3:::%s/gone" % bucket}]}))
    assert anon_status(server, "GET", "/%s/gone" % bucket) == 403
    s3.delete_bucket_policy(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="private")


def test_missing_key_with_list_allowed_by_policy(server, s3, bucket):
    """The same decision with a bucket policy: s3:ListBucket to everyone but no s3:GetObject
    makes a missing key 404 and an existing one 403."""
    s3.put_object(Bucket=bucket, Key="here", Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                       "Resource": "arn:aws:s3:::%s" % bucket}]}))
    assert anon_status(server, "GET", "/%s/not-here" % bucket) == 404
    assert anon_status(server, "GET", "/%s/here" % bucket) == 403
    # a version id is not a plain read of the current key: no listing shortcut
    assert anon_status(server, "GET", "/%s/not-here" % bucket,
                       query=[("versionId", "null")]) == 403
    s3.delete_bucket_policy(Bucket=bucket)


def test_upload_initiator_and_owner_are_its_creator(s3, bucket, bob):
    """ListMultipartUploads and ListParts name the account that created an upload as its
    Initiator and Owner, not the bucket owner (ceph s3-tests test_list_multipart_upload_owner)."""
    owner_id = writable_by(s3, bucket, bob)
    mine = s3.create_multipart_upload(Bucket=bucket, Key="mine")["UploadId"]
    bobs = bob.s3.create_multipart_upload(Bucket=bucket, Key="bobs")["UploadId"]
    ups = {u["Key"]: u for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]}
    assert ups["bobs"]["Initiator"]["ID"] == bob.canonical_id
    assert ups["bobs"]["Owner"]["ID"] == bob.canonical_id
    assert ups["mine"]["Initiator"]["ID"] == owner_id and ups["mine"]["Owner"]["ID"] == owner_id
    lp = bob.s3.list_parts(Bucket=bucket, Key="bobs", UploadId=bobs)
    assert lp["Initiator"]["ID"] == bob.canonical_id and lp["Owner"]["ID"] == bob.canonical_id
    lp = s3.list_parts(Bucket=bucket, Key="mine", UploadId=mine)
    assert lp["Owner"]["ID"] == owner_id
    bob.s3.abort_multipart_upload(Bucket=bucket, Key="bobs", UploadId=bobs)
    s3.abort_multipart_upload(Bucket=bucket, Key="mine", UploadId=mine)


def test_policy_condition_on_grant_header(s3, bucket, bob):
    """A bucket policy may require a grant header's value (s3:x-amz-grant-full-control): an
    upload by another account that grants the bucket owner full control is allowed, and the
    object's ACL names the bucket owner. As on AWS (PutObject: "to change the object's ACL in
    your PutObject request you must have s3:PutObjectAcl"), an upload with a grant header needs
    s3:PutObjectAcl besides s3:PutObject; ceph s3-tests' test_bucket_policy_put_obj_grant
    grants only s3:PutObject (RGW's behaviour)."""
    object_writer(s3, bucket)
    owner_id = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                       "Action": ["s3:PutObject", "s3:PutObjectAcl"],
                       "Resource": "arn:aws:s3:::%s/*" % bucket,
                       "Condition": {"StringEquals": {
                           "s3:x-amz-grant-full-control": "id=" + owner_id}}}]}))
    r = bob.raw.request("PUT", "/%s/granted" % bucket, body=b"k",
                        headers={"x-amz-grant-full-control": "id=" + owner_id})
    assert r.status == 200, r.body
    # another value of the header does not meet the condition
    r = bob.raw.request("PUT", "/%s/other" % bucket, body=b"k",
                        headers={"x-amz-grant-full-control": "id=" + bob.canonical_id})
    assert r.status == 403, r.body
    with pytest.raises(ClientError) as e:
        bob.s3.put_object(Bucket=bucket, Key="not-granted", Body=b"k")
    assert client_error(e)[0] == 403
    acl = s3.get_object_acl(Bucket=bucket, Key="granted")
    assert (owner_id, "FULL_CONTROL") in grants(acl)
