"""CopyObject: metadata directive, content headers, cross-bucket, copy-source conditions."""
import datetime as dt
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from conftest import client_error, seeded_bytes, unique_name


@pytest.fixture
def src(s3, bucket):
    data = seeded_bytes(7, 300_000)
    s3.put_object(Bucket=bucket, Key="src/obj", Body=data, ContentType="text/csv",
                  ContentLanguage="de", CacheControl="max-age=60",
                  Metadata={"origin": "source", "n": "1"})
    h = s3.head_object(Bucket=bucket, Key="src/obj")
    return {"bucket": bucket, "key": "src/obj", "data": data, "etag": h["ETag"],
            "last_modified": h["LastModified"],
            "last_modified_raw": h["ResponseMetadata"]["HTTPHeaders"]["last-modified"]}


def test_copy_default_directive_copies_metadata(s3, src):
    r = s3.copy_object(Bucket=src["bucket"], Key="dst/copy",
                       CopySource={"Bucket": src["bucket"], "Key": src["key"]})
    assert r["CopyObjectResult"]["ETag"] == src["etag"]
    assert r["CopyObjectResult"]["LastModified"] is not None
    g = s3.get_object(Bucket=src["bucket"], Key="dst/copy")
    assert g["Body"].read() == src["data"]
    assert g["ETag"] == src["etag"]
    assert g["ContentType"] == "text/csv"
    assert g["ContentLanguage"] == "de"
    assert g["CacheControl"] == "max-age=60"
    assert g["Metadata"] == {"origin": "source", "n": "1"}


def test_copy_explicit_copy_directive_ignores_new_metadata(s3, src):
    s3.copy_object(Bucket=src["bucket"], Key="dst/copy2", MetadataDirective="COPY",
                   Metadata={"ignored": "yes"},
                   CopySource={"Bucket": src["bucket"], "Key": src["key"]})
    g = s3.head_object(Bucket=src["bucket"], Key="dst/copy2")
    assert g["Metadata"] == {"origin": "source", "n": "1"}


def test_copy_replace_directive(s3, src):
    s3.copy_object(Bucket=src["bucket"], Key="dst/rep", MetadataDirective="REPLACE",
                   Metadata={"fresh": "meta"}, ContentType="application/json",
                   CopySource={"Bucket": src["bucket"], "Key": src["key"]})
    g = s3.get_object(Bucket=src["bucket"], Key="dst/rep")
    assert g["Body"].read() == src["data"]
    assert g["Metadata"] == {"fresh": "meta"}
    assert g["ContentType"] == "application/json"
    assert g.get("ContentLanguage") is None
    assert g.get("CacheControl") is None
    # the source is untouched
    h = s3.head_object(Bucket=src["bucket"], Key=src["key"])
    assert h["Metadata"] == {"origin": "source", "n": "1"}
    assert h["ContentType"] == "text/csv"


def test_copy_cross_bucket(s3, src):
    other = unique_name("dst")
    s3.create_bucket(Bucket=other)
    s3.copy_object(Bucket=other, Key="copied",
                   CopySource={"Bucket": src["bucket"], "Key": src["key"]})
    assert s3.get_object(Bucket=other, Key="copied")["Body"].read() == src["data"]


def test_copy_overwrites_destination(s3, src):
    s3.put_object(Bucket=src["bucket"], Key="dst/existing", Body=b"old", Metadata={"old": "1"})
    s3.copy_object(Bucket=src["bucket"], Key="dst/existing",
                   CopySource={"Bucket": src["bucket"], "Key": src["key"]})
    g = s3.get_object(Bucket=src["bucket"], Key="dst/existing")
    assert g["Body"].read() == src["data"]
    assert g["Metadata"] == {"origin": "source", "n": "1"}


def test_copy_special_key_names(s3, bucket):
    key = "dir with space/ünï+plus%percent?q=1"
    s3.put_object(Bucket=bucket, Key=key, Body=b"special")
    s3.copy_object(Bucket=bucket, Key="copied special",
                   CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=bucket, Key="copied special")["Body"].read() == b"special"


@pytest.mark.parametrize("leading_slash", [True, False])
def test_copy_source_header_forms(raw, s3, bucket, leading_slash):
    s3.put_object(Bucket=bucket, Key="a b/c", Body=b"hdr")
    source = "%s%s/%s" % ("/" if leading_slash else "", bucket, urllib.parse.quote("a b/c"))
    r = raw.put(bucket, "copy-%s" % leading_slash, headers={"x-amz-copy-source": source})
    assert r.status == 200, r
    root = r.xml
    assert root.tag.endswith("CopyObjectResult")
    assert any(c.tag.endswith("ETag") for c in root)
    assert s3.get_object(Bucket=bucket, Key="copy-%s" % leading_slash)["Body"].read() == b"hdr"


def test_copy_empty_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    s3.copy_object(Bucket=bucket, Key="empty2", CopySource={"Bucket": bucket, "Key": "empty"})
    assert s3.get_object(Bucket=bucket, Key="empty2")["Body"].read() == b""


def test_copy_to_itself_without_change_is_rejected(s3, src):
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=src["bucket"], Key=src["key"],
                       CopySource={"Bucket": src["bucket"], "Key": src["key"]})
    assert client_error(e) == (400, "InvalidRequest")


def test_copy_to_itself_with_replace(s3, src):
    s3.copy_object(Bucket=src["bucket"], Key=src["key"], MetadataDirective="REPLACE",
                   Metadata={"changed": "yes"},
                   CopySource={"Bucket": src["bucket"], "Key": src["key"]})
    g = s3.get_object(Bucket=src["bucket"], Key=src["key"])
    assert g["Body"].read() == src["data"]
    assert g["Metadata"] == {"changed": "yes"}


def test_copy_to_itself_changing_storage_class(s3, raw, src):
    s3.copy_object(Bucket=src["bucket"], Key=src["key"], StorageClass="STANDARD_IA",
                   CopySource={"Bucket": src["bucket"], "Key": src["key"]})
    h = raw.head(src["bucket"], src["key"])
    assert h.header("x-amz-storage-class") == "STANDARD_IA"
    assert s3.get_object(Bucket=src["bucket"], Key=src["key"])["Body"].read() == src["data"]


def test_copy_missing_source(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "missing"})
    assert client_error(e) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="x",
                       CopySource={"Bucket": unique_name("nope"), "Key": "k"})
    assert client_error(e) == (404, "NoSuchBucket")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="x")


def test_copy_to_missing_bucket(s3, src):
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=unique_name("nope"), Key="x",
                       CopySource={"Bucket": src["bucket"], "Key": src["key"]})
    assert client_error(e) == (404, "NoSuchBucket")


def _copy(s3, src, key, **cond):
    return s3.copy_object(Bucket=src["bucket"], Key=key,
                          CopySource={"Bucket": src["bucket"], "Key": src["key"]}, **cond)


def _copy_fails(s3, src, key, **cond):
    with pytest.raises(ClientError) as e:
        _copy(s3, src, key, **cond)
    assert client_error(e) == (412, "PreconditionFailed")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=src["bucket"], Key=key)


def test_copy_if_match(s3, src):
    _copy(s3, src, "c/ifmatch-ok", CopySourceIfMatch=src["etag"])
    _copy_fails(s3, src, "c/ifmatch-bad", CopySourceIfMatch='"0123456789abcdef0123456789abcdef"')


def test_copy_if_none_match(s3, src):
    _copy(s3, src, "c/inm-ok", CopySourceIfNoneMatch='"0123456789abcdef0123456789abcdef"')
    _copy_fails(s3, src, "c/inm-bad", CopySourceIfNoneMatch=src["etag"])


def test_copy_if_modified_since(s3, src):
    lm = src["last_modified"]
    _copy(s3, src, "c/ims-ok", CopySourceIfModifiedSince=lm - dt.timedelta(days=1))
    _copy_fails(s3, src, "c/ims-bad", CopySourceIfModifiedSince=lm)


def test_copy_if_unmodified_since(s3, src):
    lm = src["last_modified"]
    _copy(s3, src, "c/ius-ok", CopySourceIfUnmodifiedSince=lm)
    _copy_fails(s3, src, "c/ius-bad", CopySourceIfUnmodifiedSince=lm - dt.timedelta(days=1))


def test_copy_if_match_true_and_unmodified_since_false_copies(s3, src):
    # S3: if-match true + if-unmodified-since false -> 200 and the copy is made.
    lm = src["last_modified"]
    _copy(s3, src, "c/combo1", CopySourceIfMatch=src["etag"],
          CopySourceIfUnmodifiedSince=lm - dt.timedelta(days=1))
    assert s3.get_object(Bucket=src["bucket"], Key="c/combo1")["Body"].read() == src["data"]


def test_copy_if_none_match_false_and_modified_since_true_fails(s3, src):
    # S3: if-none-match false + if-modified-since true -> 412.
    lm = src["last_modified"]
    _copy_fails(s3, src, "c/combo2", CopySourceIfNoneMatch=src["etag"],
                CopySourceIfModifiedSince=lm - dt.timedelta(days=1))


def test_copy_invalid_metadata_directive(raw, s3, src):
    r = raw.put(src["bucket"], "c/baddir", headers={
        "x-amz-copy-source": "/%s/%s" % (src["bucket"], src["key"]),
        "x-amz-metadata-directive": "MERGE"})
    assert (r.status, r.error_code) == (400, "InvalidArgument"), r
    with pytest.raises(ClientError):
        s3.head_object(Bucket=src["bucket"], Key="c/baddir")
