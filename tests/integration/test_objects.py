"""Object operations: PutObject, GetObject, HeadObject, DeleteObject, content headers,
user metadata, ETag/Content-MD5, storage classes, size limits, key names."""
import base64
import hashlib
import os

import pytest
from botocore.exceptions import ClientError

import s3sig
from conftest import client_error, seeded_bytes, unique_name

STORAGE_CLASSES = ["STANDARD", "STANDARD_IA", "ONEZONE_IA", "GLACIER_IR", "GLACIER",
                   "DEEP_ARCHIVE", "INTELLIGENT_TIERING"]


def etag_of(data):
    return '"%s"' % hashlib.md5(data).hexdigest()


@pytest.mark.parametrize("size", [0, 1, 1000, 65535, 65536, 65537, 200_000, 3 * 1024 * 1024 + 17])
def test_put_get_roundtrip(s3, bucket, size):
    data = seeded_bytes(size, size)
    key = "obj-%d" % size
    r = s3.put_object(Bucket=bucket, Key=key, Body=data)
    assert r["ETag"] == etag_of(data)
    g = s3.get_object(Bucket=bucket, Key=key)
    assert g["Body"].read() == data
    assert g["ContentLength"] == size
    assert g["ETag"] == etag_of(data)
    h = s3.head_object(Bucket=bucket, Key=key)
    assert h["ContentLength"] == size
    assert h["ETag"] == etag_of(data)
    assert h["LastModified"] is not None


def test_get_headers(raw, bucket, s3):
    s3.put_object(Bucket=bucket, Key="h", Body=b"hello")
    r = raw.get(bucket, "h")
    assert r.status == 200
    assert r.body == b"hello"
    assert r.header("Content-Length") == "5"
    assert r.header("ETag") == etag_of(b"hello")
    assert r.header("Last-Modified", "").endswith("GMT")
    assert r.header("Accept-Ranges") == "bytes"
    h = raw.head(bucket, "h")
    assert h.status == 200 and h.body == b""
    assert h.header("Content-Length") == "5"
    assert h.header("ETag") == etag_of(b"hello")


def test_default_content_type(raw, bucket):
    r = raw.put(bucket, "noct", b"data")
    assert r.status == 200, r
    g = raw.get(bucket, "noct")
    assert g.header("Content-Type") == "binary/octet-stream"


def test_content_headers_stored(s3, raw, bucket):
    hdrs = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Encoding": "gzip",
        "Content-Disposition": 'attachment; filename="data.csv"',
        "Content-Language": "en-GB",
        "Cache-Control": "max-age=3600, must-revalidate",
        "Expires": "Thu, 01 Dec 2033 16:00:00 GMT",
    }
    r = raw.put(bucket, "ch", b"a,b\n1,2\n", headers=hdrs)
    assert r.status == 200, r
    for resp in (raw.get(bucket, "ch"), raw.head(bucket, "ch")):
        assert resp.status == 200
        for n, v in hdrs.items():
            assert resp.header(n) == v, (n, resp.headers)
    g = s3.get_object(Bucket=bucket, Key="ch")
    assert g["ContentType"] == hdrs["Content-Type"]
    assert g["ContentDisposition"] == hdrs["Content-Disposition"]
    assert g["CacheControl"] == hdrs["Cache-Control"]


def test_user_metadata(s3, bucket):
    meta = {"color": "blue", "Mixed-Case": "Value With Spaces", "empty": ""}
    s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata=meta)
    h = s3.head_object(Bucket=bucket, Key="m")
    # S3 returns user metadata names in lower case
    assert h["Metadata"].get("color") == "blue"
    assert h["Metadata"].get("mixed-case") == "Value With Spaces"
    g = s3.get_object(Bucket=bucket, Key="m")
    assert g["Metadata"].get("color") == "blue"
    # an empty value is kept and returned (ceph s3-tests test_object_set_get_metadata_*_empty)
    assert h["Metadata"].get("empty") == "" and g["Metadata"].get("empty") == ""
    s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata={"meta1": ""})
    assert s3.get_object(Bucket=bucket, Key="m")["Metadata"] == {"meta1": ""}


def test_overwrite_replaces_data_and_metadata(s3, bucket):
    s3.put_object(Bucket=bucket, Key="ow", Body=b"first", Metadata={"v": "1"},
                  ContentType="text/plain")
    s3.put_object(Bucket=bucket, Key="ow", Body=b"second!", Metadata={"w": "2"})
    g = s3.get_object(Bucket=bucket, Key="ow")
    assert g["Body"].read() == b"second!"
    assert g["ETag"] == etag_of(b"second!")
    assert g["Metadata"] == {"w": "2"}
    assert g["ContentType"] != "text/plain"


def test_metadata_limit(s3, bucket):
    # User-defined metadata is limited to 2 KB (sum of UTF-8 key and value bytes).
    s3.put_object(Bucket=bucket, Key="small-meta", Body=b"x", Metadata={"a": "v" * 1500})
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="big-meta", Body=b"x", Metadata={"a": "v" * 2100})
    assert client_error(e) == (400, "MetadataTooLarge")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="big-meta",
                      Body=b"x", Metadata={"k%d" % i: "v" * 200 for i in range(12)})
    assert client_error(e) == (400, "MetadataTooLarge")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="big-meta")
    assert client_error(e)[0] == 404


def test_content_md5_good(raw, bucket):
    data = b"integrity matters"
    r = raw.put(bucket, "md5ok", data, headers={"Content-MD5": s3sig.md5_b64(data)})
    assert r.status == 200, r
    assert r.header("ETag") == etag_of(data)


def test_content_md5_mismatch(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="md5", Body=b"original")
    r = raw.put(bucket, "md5", b"new data", headers={"Content-MD5": s3sig.md5_b64(b"other")})
    assert (r.status, r.error_code) == (400, "BadDigest"), r
    assert s3.get_object(Bucket=bucket, Key="md5")["Body"].read() == b"original"


@pytest.mark.parametrize("value", ["not base64!!", base64.b64encode(b"short").decode(), "",
                                   "AWS4 HAHAHA"])
def test_content_md5_invalid(raw, s3, bucket, value):
    r = raw.put(bucket, "md5inv", b"data", headers={"Content-MD5": value})
    assert (r.status, r.error_code) == (400, "InvalidDigest"), r
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="md5inv")


def test_etag_is_md5(raw, bucket):
    for i, data in enumerate([b"", b"a", os.urandom(100_000)]):
        r = raw.put(bucket, "e%d" % i, data)
        assert r.header("ETag") == etag_of(data)


@pytest.mark.parametrize("cls", STORAGE_CLASSES)
def test_storage_classes(s3, raw, bucket, cls):
    key = "sc-" + cls
    r = raw.put(bucket, key, b"class data", headers={"x-amz-storage-class": cls})
    assert r.status == 200, r
    h = raw.head(bucket, key)
    assert h.status == 200
    if cls == "STANDARD":
        # S3 returns x-amz-storage-class for all objects except STANDARD ones
        assert h.header("x-amz-storage-class") in (None, "STANDARD")
    else:
        assert h.header("x-amz-storage-class") == cls, h.headers
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key)["Contents"]
    assert [o["StorageClass"] for o in listed] == [cls]


def test_default_storage_class_in_listing(s3, bucket):
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    (o,) = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert o["StorageClass"] == "STANDARD"


@pytest.mark.parametrize("cls", ["FOO", "STANDARD_IA_X"])
def test_invalid_storage_class(raw, s3, bucket, cls):
    r = raw.put(bucket, "badsc", b"x", headers={"x-amz-storage-class": cls})
    assert (r.status, r.error_code) == (400, "InvalidStorageClass"), r
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="badsc")


def test_get_missing_key(s3, raw, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="missing")
    assert client_error(e) == (404, "NoSuchKey")
    r = raw.get(bucket, "missing")
    root = r.xml
    assert root.findtext("Code") == "NoSuchKey"
    h = raw.head(bucket, "missing")
    assert h.status == 404 and h.body == b""


def test_missing_bucket(s3):
    name = unique_name("nope")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=name, Key="k")
    assert client_error(e) == (404, "NoSuchBucket")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert client_error(e) == (404, "NoSuchBucket")
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=name)
    assert client_error(e) == (404, "NoSuchBucket")
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=name, Key="k")
    assert client_error(e) == (404, "NoSuchBucket")


def test_delete_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="d", Body=b"x")
    r = s3.delete_object(Bucket=bucket, Key="d")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="d")
    assert client_error(e) == (404, "NoSuchKey")
    # deleting a key that does not exist succeeds too
    r = s3.delete_object(Bucket=bucket, Key="never-existed")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204


SPECIAL_KEYS = [
    "a b c",
    "dir/sub dir/file.txt",
    "ünïcödé/ключ/鍵",
    "plus+sign",
    "percent%41literal",
    "question?mark",
    "hash#tag",
    "amp&eq=semi;colon",
    "tilde~star*paren()",
    "double//slash",
    "trailing/",
    "quote'\"",
    "comma,colon:at@dollar$",
    "year=2026/month=11/day=21/data_00.csv",
]


def test_special_keys(s3, bucket):
    for i, key in enumerate(SPECIAL_KEYS):
        s3.put_object(Bucket=bucket, Key=key, Body=("%d:%s" % (i, key)).encode())
    for i, key in enumerate(SPECIAL_KEYS):
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == (
            "%d:%s" % (i, key)).encode(), key
    listed = []
    kw = {}
    while True:
        r = s3.list_objects_v2(Bucket=bucket, **kw)
        listed += [o["Key"] for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        kw = {"ContinuationToken": r["NextContinuationToken"]}
    assert sorted(listed) == sorted(SPECIAL_KEYS)
    # lexicographic order of UTF-8 bytes
    assert listed == sorted(SPECIAL_KEYS, key=lambda k: k.encode())


def test_dot_segment_keys_not_normalised(raw, bucket):
    # Keys are opaque: "a/../b" and "./c" are keys of their own, not paths to normalise.
    # (Raw requests: urllib3 under boto3 would normalise the URL itself.)
    for key in ("dots/../x", "./dot", "dir/./y"):
        r = raw.put(bucket, key, key.encode())
        assert r.status == 200, (key, r)
    for key in ("dots/../x", "./dot", "dir/./y"):
        g = raw.get(bucket, key)
        assert (g.status, g.body) == (200, key.encode()), key
    for key in ("x", "dot", "dir/y"):
        assert raw.get(bucket, key).status == 404, key


def test_key_length_limit(raw, s3, bucket):
    ok = "k" * 1024
    r = raw.put(bucket, ok, b"x")
    assert r.status == 200, r
    assert s3.get_object(Bucket=bucket, Key=ok)["Body"].read() == b"x"
    r = raw.put(bucket, "k" * 1025, b"x")
    assert (r.status, r.error_code) == (400, "KeyTooLongError"), r


def _big_put_head(raw, bucket, key, length, expect):
    headers = [("Content-Length", str(length))]
    if expect:
        headers.append(("Expect", "100-continue"))
    head, *_ = raw.signed_head_bytes("PUT", "/%s/%s" % (bucket, key), headers,
                                     s3sig.UNSIGNED)
    return head


@pytest.mark.parametrize("expect", [True, False])
def test_single_put_limit(raw, s3, bucket, expect):
    # 5 GiB + 1 in one PUT: EntityTooLarge, decided from the header alone (no body sent).
    head = _big_put_head(raw, bucket, "huge", 5 * 1024 ** 3 + 1, expect)
    buf = s3sig.raw_exchange(raw.host, raw.port, head, timeout=15)
    r = s3sig.parse_raw_response(buf)
    assert r is not None, "no final response to an oversized PUT: %r" % buf[:300]
    assert (r.status, r.error_code) == (400, "EntityTooLarge"), r
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="huge")


def test_single_put_at_limit_is_accepted(raw, s3, bucket):
    # Exactly 5 GiB is allowed: with Expect: 100-continue the server invites the body. We
    # then hang up; nothing may become visible.
    import socket
    head = _big_put_head(raw, bucket, "five-gib", 5 * 1024 ** 3, True)
    s = socket.create_connection((raw.host, raw.port), timeout=15)
    try:
        s.sendall(head)
        first = s.recv(4096)
        s.sendall(b"x" * 65536)
    finally:
        s.close()
    assert first.startswith(b"HTTP/1.1 100"), first[:200]
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="five-gib")
    assert client_error(e)[0] == 404


def test_response_overrides(s3, raw, bucket):
    s3.put_object(Bucket=bucket, Key="ov", Body=b"override me", ContentType="text/plain")
    q = [
        ("response-content-type", "application/x-custom"),
        ("response-content-language", "fr"),
        ("response-expires", "Wed, 21 Oct 2037 07:28:00 GMT"),
        ("response-cache-control", "no-cache"),
        ("response-content-disposition", 'attachment; filename="x y.txt"'),
        ("response-content-encoding", "identity"),
    ]
    r = raw.request("GET", "/%s/ov" % bucket, query=q)
    assert r.status == 200, r
    assert r.body == b"override me"
    assert r.header("Content-Type") == "application/x-custom"
    assert r.header("Content-Language") == "fr"
    assert r.header("Expires") == "Wed, 21 Oct 2037 07:28:00 GMT"
    assert r.header("Cache-Control") == "no-cache"
    assert r.header("Content-Disposition") == 'attachment; filename="x y.txt"'
    assert r.header("Content-Encoding") == "identity"
    # boto3 spelling of the same
    g = s3.get_object(Bucket=bucket, Key="ov", ResponseContentType="image/png")
    assert g["ContentType"] == "image/png"
    # the stored object is unchanged
    assert s3.head_object(Bucket=bucket, Key="ov")["ContentType"] == "text/plain"


def test_put_empty_body_then_get(raw, bucket):
    r = raw.put(bucket, "empty", b"")
    assert r.status == 200, r
    g = raw.get(bucket, "empty")
    assert g.status == 200 and g.body == b""
    assert g.header("Content-Length") == "0"
    assert g.header("ETag") == etag_of(b"")


def test_if_none_match_star_on_put(raw, s3, bucket):
    r = raw.put(bucket, "once", b"v1", headers={"If-None-Match": "*"})
    assert r.status == 200, r
    r = raw.put(bucket, "once", b"v2", headers={"If-None-Match": "*"})
    assert (r.status, r.error_code) == (412, "PreconditionFailed"), r
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"v1"


def test_if_match_on_put(raw, s3, bucket):
    # If-Match on a write: the current ETag or "*" (any current object); with no current
    # object (never written, deleted, or a delete marker on top) it is 404 NoSuchKey, as ceph
    # s3-tests' test_put_object_if_match (conditional_write, not fails_on_aws) expects
    for key in ("never",):
        for im in ("*", '"0123456789abcdef0123456789abcdef"'):
            r = raw.put(bucket, key, b"x", headers={"If-Match": im})
            assert (r.status, r.error_code) == (404, "NoSuchKey"), (im, r)
    etag = raw.put(bucket, "cas", b"v1").header("ETag")
    r = raw.put(bucket, "cas", b"v2", headers={"If-Match": '"0123456789abcdef0123456789abcdef"'})
    assert (r.status, r.error_code) == (412, "PreconditionFailed"), r
    r = raw.put(bucket, "cas", b"v2", headers={"If-Match": etag})
    assert r.status == 200, r
    r = raw.put(bucket, "cas", b"v3", headers={"If-Match": "*"})
    assert r.status == 200, r
    assert s3.get_object(Bucket=bucket, Key="cas")["Body"].read() == b"v3"
    s3.delete_object(Bucket=bucket, Key="cas")
    r = raw.put(bucket, "cas", b"v4", headers={"If-Match": "*"})
    assert (r.status, r.error_code) == (404, "NoSuchKey"), r
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    raw.put(bucket, "vk", b"v1")
    s3.delete_object(Bucket=bucket, Key="vk")  # a delete marker is no current object
    r = raw.put(bucket, "vk", b"v2", headers={"If-Match": "*"})
    assert (r.status, r.error_code) == (404, "NoSuchKey"), r


def test_put_to_other_objects_untouched(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"A")
    s3.put_object(Bucket=bucket, Key="ab", Body=b"AB")
    s3.put_object(Bucket=bucket, Key="a/b", Body=b"A/B")
    s3.delete_object(Bucket=bucket, Key="a")
    assert s3.get_object(Bucket=bucket, Key="ab")["Body"].read() == b"AB"
    assert s3.get_object(Bucket=bucket, Key="a/b")["Body"].read() == b"A/B"
