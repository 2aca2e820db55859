"""Object and bucket tags: x-amz-tagging on PutObject and CopyObject (tagging directive),
Put/Get/DeleteObjectTagging, x-amz-tagging-count, bucket tagging, and S3's limits and answers."""
import pytest
from botocore.exceptions import ClientError

import s3sig
from conftest import client_error


def tagset(d):
    return [{"Key": k, "Value": v} for k, v in d.items()]


def tags_of(s3, bucket, key, **kw):
    r = s3.get_object_tagging(Bucket=bucket, Key=key, **kw)
    return {t["Key"]: t["Value"] for t in r["TagSet"]}


def err(excinfo):
    e = excinfo.value.response
    return e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"], e["Error"].get("Message")


def test_put_object_with_tagging_header(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&b=two%20words&c=")
    assert tags_of(s3, bucket, "k") == {"a": "1", "b": "two words", "c": ""}
    r = s3.get_object(Bucket=bucket, Key="k")
    assert r["TagCount"] == 3
    h = s3.head_object(Bucket=bucket, Key="k")
    assert h["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "3"
    # untagged objects have no count header
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    h = s3.head_object(Bucket=bucket, Key="plain")
    assert "x-amz-tagging-count" not in h["ResponseMetadata"]["HTTPHeaders"]
    assert s3.get_object_tagging(Bucket=bucket, Key="plain")["TagSet"] == []


def test_put_get_delete_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", Tagging="old=1")
    before = s3.head_object(Bucket=bucket, Key="k")
    tags = {"project": "strata", "team": "storage: s3/api", "x@y.z": "a+b=c_-"}
    r = s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tagset(tags)})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert tags_of(s3, bucket, "k") == tags  # replaced, not merged
    after = s3.head_object(Bucket=bucket, Key="k")
    # tags do not change the data, the ETag or Last-Modified
    assert after["ETag"] == before["ETag"]
    assert after["LastModified"] == before["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
    r = s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tags_of(s3, bucket, "k") == {}
    # deleting again is fine
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    # an empty TagSet clears too
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"a": "b"})})
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": []})
    assert tags_of(s3, bucket, "k") == {}


def test_tagging_unicode(s3, bucket):
    tags = {"étiquette": "中文 值", "Ключ": "٣"}
    s3.put_object(Bucket=bucket, Key="u", Body=b"x")
    s3.put_object_tagging(Bucket=bucket, Key="u", Tagging={"TagSet": tagset(tags)})
    assert tags_of(s3, bucket, "u") == tags
    # 128 characters (256 bytes in UTF-8) are allowed for a key
    long_key = "é" * 128
    s3.put_object_tagging(Bucket=bucket, Key="u", Tagging={"TagSet": tagset({long_key: "v" * 256})})
    assert tags_of(s3, bucket, "u") == {long_key: "v" * 256}


def test_tagging_missing_object(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object_tagging(Bucket=bucket, Key="nope")
    assert client_error(e) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="nope", Tagging={"TagSet": tagset({"a": "b"})})
    assert client_error(e) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as e:
        s3.delete_object_tagging(Bucket=bucket, Key="nope")
    assert client_error(e) == (404, "NoSuchKey")


def test_tagging_version_null(s3, bucket):
    # an unversioned object is the "null" version
    s3.put_object(Bucket=bucket, Key="v", Body=b"x", Tagging="a=1")
    assert tags_of(s3, bucket, "v", VersionId="null") == {"a": "1"}
    s3.put_object_tagging(Bucket=bucket, Key="v", VersionId="null",
                          Tagging={"TagSet": tagset({"b": "2"})})
    assert tags_of(s3, bucket, "v") == {"b": "2"}


@pytest.mark.parametrize("tags,status,code,message", [
    ({"k%d" % i: "v" for i in range(11)}, 400, "BadRequest", "Object tags cannot be greater than 10"),
    ({"k" * 129: "v"}, 400, "InvalidTag", "The TagKey you have provided is invalid"),
    ({"k": "v" * 257}, 400, "InvalidTag", "The TagValue you have provided is invalid"),
    ({"a,b": "v"}, 400, "InvalidTag", "The TagKey you have provided is invalid"),
    ({"k": "a*b"}, 400, "InvalidTag", "The TagValue you have provided is invalid"),
    ({"k": "\U0001F600"}, 400, "InvalidTag", "The TagValue you have provided is invalid"),
])
def test_object_tag_limits(s3, bucket, tags, status, code, message):
    s3.put_object(Bucket=bucket, Key="lim", Body=b"x", Tagging="keep=1")
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="lim", Tagging={"TagSet": tagset(tags)})
    assert err(e) == (status, code, message)
    assert tags_of(s3, bucket, "lim") == {"keep": "1"}
    # the same limits on PutObject's header
    hdr = "&".join("%s=%s" % (s3sig.uri_encode(k, ""), s3sig.uri_encode(v, "")) for k, v in tags.items())
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="lim", Body=b"new", Tagging=hdr)
    assert err(e) == (status, code, message)
    assert s3.get_object(Bucket=bucket, Key="lim")["Body"].read() == b"x"


def test_empty_tag_key(raw, s3, bucket):
    # botocore refuses an empty key itself, so send it by hand
    s3.put_object(Bucket=bucket, Key="ek", Body=b"x")
    body = b"<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag></TagSet></Tagging>"
    r = raw.request("PUT", "/%s/ek" % bucket, query=[("tagging", None)], body=body,
                    headers={"Content-MD5": s3sig.md5_b64(body)})
    assert (r.status, r.error_code) == (400, "InvalidTag"), r
    assert r.xml.findtext("Message") == "The TagKey you have provided is invalid"
    r = raw.put(bucket, "ek", b"y", headers={"x-amz-tagging": "=v"})
    assert (r.status, r.error_code) == (400, "InvalidTag"), r


def test_ten_tags_allowed(s3, bucket):
    tags = {"k%d" % i: "v%d" % i for i in range(10)}
    s3.put_object(Bucket=bucket, Key="ten", Body=b"x")
    s3.put_object_tagging(Bucket=bucket, Key="ten", Tagging={"TagSet": tagset(tags)})
    assert tags_of(s3, bucket, "ten") == tags


def test_duplicate_tag_keys(s3, bucket, raw):
    s3.put_object(Bucket=bucket, Key="dup", Body=b"x")
    body = (b"<Tagging><TagSet><Tag><Key>k</Key><Value>1</Value></Tag>"
            b"<Tag><Key>k</Key><Value>2</Value></Tag></TagSet></Tagging>")
    r = raw.request("PUT", "/%s/dup" % bucket, query=[("tagging", None)], body=body,
                    headers={"Content-MD5": s3sig.md5_b64(body)})
    assert (r.status, r.error_code) == (400, "InvalidTag"), r
    assert r.xml.findtext("Message") == "Cannot provide multiple Tags with the same key"
    assert r.xml.findtext("TagKey") == "k"


def test_tagging_header_malformed(raw, s3, bucket):
    for bad in ("a=b=c", "a=1&a=2", "a=%zz"):
        r = raw.put(bucket, "hdr", b"x", headers={"x-amz-tagging": bad})
        assert (r.status, r.error_code) == (400, "InvalidArgument"), (bad, r)
        assert r.xml.findtext("ArgumentName") == "x-amz-tagging"
        assert r.xml.findtext("ArgumentValue") == bad
        assert "without tag name duplicates" in r.xml.findtext("Message")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="hdr")


def test_put_object_tagging_requires_md5(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="md5", Body=b"x")
    body = b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>"
    r = raw.request("PUT", "/%s/md5" % bucket, query=[("tagging", None)], body=body)
    assert (r.status, r.error_code) == (400, "InvalidRequest"), r
    r = raw.request("PUT", "/%s/md5" % bucket, query=[("tagging", None)], body=body,
                    headers={"Content-MD5": s3sig.md5_b64(b"other")})
    assert (r.status, r.error_code) == (400, "BadDigest"), r
    # an additional checksum replaces Content-MD5
    r = raw.request("PUT", "/%s/md5" % bucket, query=[("tagging", None)], body=body,
                    headers={"x-amz-checksum-crc32": s3sig.crc32_b64(body)})
    assert r.status == 200, r
    assert tags_of(s3, bucket, "md5") == {"a": "b"}
    r = raw.request("PUT", "/%s/md5" % bucket, query=[("tagging", None)], body=b"<Tagging/>",
                    headers={"Content-MD5": s3sig.md5_b64(b"<Tagging/>")})
    assert (r.status, r.error_code) == (400, "MalformedXML"), r


def test_copy_tagging_directive(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", Tagging="a=1&b=2")
    src = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="copy-default", CopySource=src)
    assert tags_of(s3, bucket, "copy-default") == {"a": "1", "b": "2"}
    s3.copy_object(Bucket=bucket, Key="copy-copy", CopySource=src, TaggingDirective="COPY",
                   Tagging="ignored=1")
    assert tags_of(s3, bucket, "copy-copy") == {"a": "1", "b": "2"}
    s3.copy_object(Bucket=bucket, Key="copy-replace", CopySource=src, TaggingDirective="REPLACE",
                   Tagging="c=3")
    assert tags_of(s3, bucket, "copy-replace") == {"c": "3"}
    s3.copy_object(Bucket=bucket, Key="copy-none", CopySource=src, TaggingDirective="REPLACE")
    assert tags_of(s3, bucket, "copy-none") == {}
    assert s3.get_object(Bucket=bucket, Key="copy-replace")["Body"].read() == b"payload"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="copy-bad", CopySource=src, TaggingDirective="REPLACE",
                       Tagging="k=a*b")
    assert client_error(e) == (400, "InvalidTag")


def test_copy_tagging_directive_invalid(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    r = raw.put(bucket, "dst", headers={"x-amz-copy-source": "/%s/src" % bucket,
                                        "x-amz-tagging-directive": "MERGE"})
    assert (r.status, r.error_code) == (400, "InvalidArgument"), r


def test_bucket_tagging(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert client_error(e) == (404, "NoSuchTagSet")
    assert e.value.response["Error"]["Message"] == "The TagSet does not exist"
    tags = {"k%02d" % i: "v%d" % i for i in range(50)}
    r = s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tagset(tags)})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    got = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert {t["Key"]: t["Value"] for t in got} == tags
    assert [t["Key"] for t in got] == sorted(tags)  # order kept
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tagset({"only": "one"})})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "only", "Value": "one"}]
    r = s3.delete_bucket_tagging(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert client_error(e) == (404, "NoSuchTagSet")
    s3.delete_bucket_tagging(Bucket=bucket)  # idempotent


def test_bucket_tag_limits(s3, bucket):
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tagset({"keep": "1"})})
    with pytest.raises(ClientError) as e:
        s3.put_bucket_tagging(Bucket=bucket,
                              Tagging={"TagSet": tagset({"k%d" % i: "v" for i in range(51)})})
    assert err(e) == (400, "BadRequest", "Bucket tag count cannot be greater than 50")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tagset({"k" * 129: "v"})})
    assert err(e)[:2] == (400, "InvalidTag")
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "keep", "Value": "1"}]


def test_bucket_tagging_missing_bucket(s3, bucket_name):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket_name())
    assert client_error(e) == (404, "NoSuchBucket")


def test_bucket_tagging_gone_with_bucket(s3, bucket_name):
    name = bucket_name()
    s3.create_bucket(Bucket=name)
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tagset({"a": "b"})})
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=name)
    assert client_error(e) == (404, "NoSuchTagSet")


def test_tagging_other_account_denied(second_account, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1")
    with pytest.raises(ClientError) as e:
        second_account.s3.get_object_tagging(Bucket=bucket, Key="k")
    assert client_error(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        second_account.s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": []})
    assert client_error(e) == (403, "AccessDenied")


def test_multipart_tagging_header(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mpt", Tagging="a=1&b=two")
    r = s3.upload_part(Bucket=bucket, Key="mpt", UploadId=up["UploadId"], PartNumber=1, Body=b"x")
    s3.complete_multipart_upload(Bucket=bucket, Key="mpt", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"]}]})
    assert tags_of(s3, bucket, "mpt") == {"a": "1", "b": "two"}
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="mpt2", Tagging="k=a*b")
    assert client_error(e) == (400, "InvalidTag")
