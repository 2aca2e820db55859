"""Bucket operations: CreateBucket, HeadBucket, DeleteBucket, ListBuckets, GetBucketLocation.

Expected behaviour is Amazon S3's (API reference, us-east-1 endpoint)."""
import pytest
from botocore.exceptions import ClientError

from conftest import client_error, unique_name

LOCATION_XML = ('<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                '<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>')


def test_create_head_list_delete(s3):
    name = unique_name("cb")
    r = s3.create_bucket(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["ResponseMetadata"]["HTTPHeaders"].get("location") == "/" + name
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    listed = s3.list_buckets()
    names = [b["Name"] for b in listed["Buckets"]]
    assert name in names
    entry = next(b for b in listed["Buckets"] if b["Name"] == name)
    assert entry["CreationDate"] is not None
    assert listed["Owner"]["ID"]
    r = s3.delete_bucket(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert client_error(e)[0] == 404


def test_list_buckets_sorted(s3):
    names = sorted(unique_name("ls") for _ in range(3))
    for n in reversed(names):
        s3.create_bucket(Bucket=n)
    listed = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert listed == sorted(listed)
    for n in names:
        assert n in listed


def test_create_existing_own_bucket(s3, raw):
    # S3: BucketAlreadyOwnedByYou (409) everywhere except us-east-1, where for legacy
    # compatibility it answers 200 OK. The test server's region is us-east-1, so 200 (boto3
    # and ceph s3-tests re-create their own buckets and expect it); the bucket and its
    # contents survive.
    name = unique_name("own")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"keep me")
    r = raw.create_bucket(name)
    assert r.status == 200, r
    s3.create_bucket(Bucket=name)
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"keep me"


def test_head_bucket_missing(s3, raw):
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=unique_name("nope"))
    assert client_error(e)[0] == 404
    r = raw.request("HEAD", "/" + unique_name("nope"))
    assert r.status == 404 and r.body == b""


def test_delete_bucket_missing(s3):
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=unique_name("nope"))
    assert client_error(e) == (404, "NoSuchBucket")


def test_delete_bucket_not_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a/b", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert client_error(e) == (409, "BucketNotEmpty")
    assert s3.get_object(Bucket=bucket, Key="a/b")["Body"].read() == b"x"
    s3.delete_object(Bucket=bucket, Key="a/b")
    assert s3.delete_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_get_bucket_location_us_east_1(s3, raw, bucket):
    # us-east-1 buckets have an empty LocationConstraint element.
    assert s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") is None
    r = raw.request("GET", "/" + bucket, query=[("location", None)])
    assert r.status == 200
    root = r.xml
    assert root.tag.endswith("LocationConstraint")
    assert (root.text or "") == ""


def test_get_bucket_location_missing_bucket(s3):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_location(Bucket=unique_name("nope"))
    assert client_error(e) == (404, "NoSuchBucket")


def test_create_bucket_explicit_us_east_1_constraint(raw):
    # S3 rejects an explicit "us-east-1" LocationConstraint: InvalidLocationConstraint.
    name = unique_name("loc")
    r = raw.create_bucket(name, body=(LOCATION_XML % "us-east-1").encode())
    assert (r.status, r.error_code) == (400, "InvalidLocationConstraint"), r


def test_create_bucket_other_region_constraint(raw, s3):
    # The us-east-1 endpoint may create a bucket in another region (AWS's global endpoint
    # does); if it refuses, it must be with a location error. Either way it must be coherent.
    name = unique_name("loc")
    r = raw.create_bucket(name, body=(LOCATION_XML % "eu-west-1").encode())
    if r.status == 200:
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    else:
        assert r.status == 400, r
        assert r.error_code in ("IllegalLocationConstraintException",
                                "InvalidLocationConstraint"), r
        with pytest.raises(ClientError):
            s3.head_bucket(Bucket=name)


def test_create_bucket_bogus_constraint(raw):
    name = unique_name("loc")
    r = raw.create_bucket(name, body=(LOCATION_XML % "not-a-region").encode())
    assert (r.status, r.error_code) == (400, "InvalidLocationConstraint"), r


def test_create_bucket_empty_configuration(raw, s3):
    # An empty CreateBucketConfiguration means us-east-1, as no body does.
    name = unique_name("cfg")
    body = b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'
    r = raw.create_bucket(name, body=body)
    assert r.status == 200, r
    s3.head_bucket(Bucket=name)


def _valid_names():
    import uuid
    u = uuid.uuid4().hex
    return [
        u[:3],                                # shortest
        (u * 4)[:63],                         # longest
        "%d" % (10 ** 11 + int(u[:8], 16)),   # digits only
        "my.bucket-name1." + u[:12],          # dots and dashes
        "a-b.c-d" + u[:8],
    ]


INVALID_NAMES = [
    "ab",                 # too short
    "a" * 64,             # too long
    "UpperCase",          # uppercase
    "under_score",        # underscore
    "-startdash",         # must start with letter/digit
    "enddash-",           # must end with letter/digit
    ".startdot",
    "enddot.",
    "two..dots",          # adjacent periods
    "192.168.5.4",        # IP address form
    "xn--abcdef",         # reserved prefix
    "sthree-abc",         # reserved prefix
    "abc-s3alias",        # reserved suffix
    "abc--ol-s3",         # reserved suffix
    "sp ace",             # not a DNS label character
]


def test_valid_bucket_names(raw, s3):
    for name in _valid_names():
        assert 3 <= len(name) <= 63
        r = raw.create_bucket(name)
        assert r.status == 200, (name, r)
        s3.head_bucket(Bucket=name)


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_bucket_names(raw, name):
    r = raw.request("PUT", "/" + name)
    assert (r.status, r.error_code) == (400, "InvalidBucketName"), (name, r)


def test_invalid_bucket_name_on_object_op(raw):
    # Operations on a bucket whose name could never exist.
    r = raw.put("UpperCase_Bucket", "k", b"x")
    assert r.status in (400, 404), r
    assert r.error_code in ("InvalidBucketName", "NoSuchBucket"), r


def test_list_buckets_empty_for_new_account(server):
    from conftest import create_account
    acct = create_account(server)
    r = acct.s3.list_buckets()
    assert r["Buckets"] == []
    assert r["Owner"]["ID"]


def test_expected_bucket_owner(server, s3, bucket):
    # x-amz-expected-bucket-owner: another account id is 403 AccessDenied, for bucket and
    # object requests alike; the owner's own id is accepted (ceph s3-tests
    # test_expected_bucket_owner)
    import boto3
    owner = boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                         aws_access_key_id=server.access_key,
                         aws_secret_access_key=server.secret_key).get_caller_identity()["Account"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert s3.list_objects(Bucket=bucket, ExpectedBucketOwner=owner)["Contents"][0]["Key"] == "k"
    s3.put_object(Bucket=bucket, Key="k2", Body=b"v", ExpectedBucketOwner=owner)
    other = "111122223333" if owner != "111122223333" else "444455556666"
    for call in (lambda: s3.list_objects(Bucket=bucket, ExpectedBucketOwner=other),
                 lambda: s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=other),
                 lambda: s3.put_object(Bucket=bucket, Key="k3", Body=b"v",
                                       ExpectedBucketOwner=other),
                 lambda: s3.get_bucket_versioning(Bucket=bucket, ExpectedBucketOwner=other + "x")):
        with pytest.raises(ClientError) as e:
            call()
        assert client_error(e) == (403, "AccessDenied")
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == ["k", "k2"]


def test_source_expected_bucket_owner(server, s3, bucket):
    # x-amz-source-expected-bucket-owner on CopyObject and UploadPartCopy: a source bucket owned
    # by another account than the one named is 403 AccessDenied, and nothing is written
    import boto3
    owner = boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                         aws_access_key_id=server.access_key,
                         aws_secret_access_key=server.secret_key).get_caller_identity()["Account"]
    other = "111122223333" if owner != "111122223333" else "444455556666"
    s3.put_object(Bucket=bucket, Key="src", Body=b"v" * 100)
    src = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="ok", CopySource=src, ExpectedSourceBucketOwner=owner)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="no", CopySource=src, ExpectedSourceBucketOwner=other)
    assert client_error(e) == (403, "AccessDenied")
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, CopySource=src,
                            ExpectedSourceBucketOwner=other)
    assert client_error(e) == (403, "AccessDenied")
    r = s3.upload_part_copy(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, CopySource=src,
                            ExpectedSourceBucketOwner=owner)
    assert r["CopyPartResult"]["ETag"]
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=up)
    assert sorted(o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]) == ["ok", "src"]


def test_list_buckets_paged_and_prefixed(server):
    # ListBuckets max-buckets / continuation-token / prefix (API_ListBuckets; ceph s3-tests
    # test_list_buckets_paginated), on an account of its own so the listing is known. Raw
    # requests: Debian's botocore 1.29 predates these parameters and drops them silently.
    from conftest import create_account
    acct = create_account(server)

    def page(*query):
        r = acct.raw.request("GET", "/", query=list(query))
        assert r.status == 200, r
        names = [el.text for el in r.xml.iter() if el.tag.endswith("}Name")]
        tok = [el.text for el in r.xml if el.tag.endswith("}ContinuationToken")]
        pre = [el.text for el in r.xml if el.tag.endswith("}Prefix")]
        return names, (tok[0] if tok else None), pre

    assert page(("max-buckets", "1")) == ([], None, [])
    names = sorted(unique_name("pg") for _ in range(3))
    for n in names:
        acct.s3.create_bucket(Bucket=n)
    got, tok = page(("max-buckets", "2"))[:2]
    assert got == names[:2] and tok
    got2, tok2 = page(("max-buckets", "2"), ("continuation-token", tok))[:2]
    assert got2 == names[2:] and tok2 is None
    assert page(("prefix", names[1])) == ([names[1]], None, [names[1]])
    assert [b["Name"] for b in acct.s3.list_buckets()["Buckets"]] == names
    for bad in ("0", "10001", "x"):
        r = acct.raw.request("GET", "/", query=[("max-buckets", bad)])
        assert (r.status, r.error_code) == (400, "InvalidArgument"), (bad, r)
    r = acct.raw.request("GET", "/", query=[("continuation-token", "!!bad!!")])
    assert (r.status, r.error_code) == (400, "InvalidArgument"), r
