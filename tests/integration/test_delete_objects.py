"""DeleteObjects (multi-object delete): verbose and quiet modes, missing keys, limits, XML."""
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

import s3sig
from conftest import client_error

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def put_keys(s3, bucket, keys):
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())


def remaining(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_delete_objects_verbose(s3, bucket):
    keys = ["a", "b/c", "d e", "ünï"]
    put_keys(s3, bucket, keys + ["keep"])
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(keys)
    assert not r.get("Errors")
    assert remaining(s3, bucket) == ["keep"]


def test_delete_objects_missing_keys_are_reported_deleted(s3, bucket):
    put_keys(s3, bucket, ["x"])
    r = s3.delete_objects(Bucket=bucket,
                          Delete={"Objects": [{"Key": "x"}, {"Key": "never-was"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["never-was", "x"]
    assert not r.get("Errors")


def test_delete_objects_quiet(s3, bucket):
    put_keys(s3, bucket, ["q1", "q2"])
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "q1"}, {"Key": "q2"}],
                                                 "Quiet": True})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert not r.get("Deleted")
    assert not r.get("Errors")
    assert remaining(s3, bucket) == []


def test_delete_objects_raw_xml_response(raw, s3, bucket):
    put_keys(s3, bucket, ["r1"])
    body = (b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b'<Object><Key>r1</Key></Object><Object><Key>r&amp;2</Key></Object></Delete>')
    r = raw.request("POST", "/" + bucket, query=[("delete", None)], body=body,
                    headers={"Content-MD5": s3sig.md5_b64(body),
                             "Content-Type": "application/xml"})
    assert r.status == 200, r
    root = ET.fromstring(r.body)
    assert root.tag in ("DeleteResult", NS + "DeleteResult")
    keys = sorted(el.text for el in root.iter() if el.tag in ("Key", NS + "Key"))
    assert keys == ["r&2", "r1"]


def test_delete_objects_without_namespace(raw, s3, bucket):
    put_keys(s3, bucket, ["nn"])
    body = b"<Delete><Object><Key>nn</Key></Object></Delete>"
    r = raw.request("POST", "/" + bucket, query=[("delete", None)], body=body,
                    headers={"Content-MD5": s3sig.md5_b64(body)})
    assert r.status == 200, r
    assert remaining(s3, bucket) == []


def test_delete_objects_requires_content_md5(raw, s3, bucket):
    # Content-MD5 (or an x-amz-checksum-*) is required for multi-object delete.
    put_keys(s3, bucket, ["md5req"])
    body = b"<Delete><Object><Key>md5req</Key></Object></Delete>"
    r = raw.request("POST", "/" + bucket, query=[("delete", None)], body=body)
    assert (r.status, r.error_code) == (400, "InvalidRequest"), r
    assert remaining(s3, bucket) == ["md5req"]


def test_delete_objects_bad_md5(raw, s3, bucket):
    put_keys(s3, bucket, ["badmd5"])
    body = b"<Delete><Object><Key>badmd5</Key></Object></Delete>"
    r = raw.request("POST", "/" + bucket, query=[("delete", None)], body=body,
                    headers={"Content-MD5": s3sig.md5_b64(b"something else")})
    assert (r.status, r.error_code) == (400, "BadDigest"), r
    assert remaining(s3, bucket) == ["badmd5"]


def test_delete_objects_limit_1000(raw, s3, bucket):
    put_keys(s3, bucket, ["k0"])
    objs = "".join("<Object><Key>k%d</Key></Object>" % i for i in range(1001))
    body = ("<Delete>%s</Delete>" % objs).encode()
    r = raw.request("POST", "/" + bucket, query=[("delete", None)], body=body,
                    headers={"Content-MD5": s3sig.md5_b64(body)})
    assert (r.status, r.error_code) == (400, "MalformedXML"), r
    assert remaining(s3, bucket) == ["k0"]


def test_delete_objects_exactly_1000(s3, bucket):
    put_keys(s3, bucket, ["t1", "t2"])
    objs = [{"Key": "t%d" % i} for i in range(1000)]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": objs, "Quiet": True})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert remaining(s3, bucket) == []


@pytest.mark.parametrize("body", [
    b"",
    b"not xml at all",
    b"<Delete>",
    b"<Delete><Object><Key>x</Key></Object>",
    b"<Delete></Delete>",
    b"<Delete><Object></Object></Delete>",
    b"<Wrong><Object><Key>x</Key></Object></Wrong>",
])
def test_delete_objects_malformed_xml(raw, s3, bucket, body):
    put_keys(s3, bucket, ["x", "survivor"])
    r = raw.request("POST", "/" + bucket, query=[("delete", None)], body=body,
                    headers={"Content-MD5": s3sig.md5_b64(body)})
    assert r.status == 400, r
    assert r.error_code in ("MalformedXML", "MissingRequestBodyError"), r
    if body:
        assert r.error_code == "MalformedXML", r
    assert remaining(s3, bucket) == ["survivor", "x"]


def test_delete_objects_missing_bucket(s3):
    from conftest import unique_name
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket=unique_name("nope"), Delete={"Objects": [{"Key": "a"}]})
    assert client_error(e) == (404, "NoSuchBucket")
