"""Conditional GET/HEAD (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) and
single byte ranges (206 / 416 InvalidRange; invalid syntax ignored)."""
import datetime as dt
import email.utils

import pytest

from conftest import seeded_bytes

SIZE = 100_000
OTHER_ETAG = '"0123456789abcdef0123456789abcdef"'


def httpdate(d):
    return email.utils.format_datetime(d.astimezone(dt.timezone.utc), usegmt=True)


@pytest.fixture
def obj(s3, raw, bucket):
    data = seeded_bytes(42, SIZE)
    s3.put_object(Bucket=bucket, Key="obj", Body=data)
    h = raw.head(bucket, "obj")
    lm = email.utils.parsedate_to_datetime(h.header("Last-Modified"))
    return {"bucket": bucket, "key": "obj", "data": data, "etag": h.header("ETag"),
            "lm_raw": h.header("Last-Modified"), "lm": lm}


def get(raw, obj, method="GET", **headers):
    return raw.request(method, "/%s/%s" % (obj["bucket"], obj["key"]), headers=headers)


# --- conditional requests ---------------------------------------------------------------

def test_if_match(raw, obj):
    r = get(raw, obj, **{"If-Match": obj["etag"]})
    assert r.status == 200 and r.body == obj["data"]
    r = get(raw, obj, **{"If-Match": OTHER_ETAG})
    assert (r.status, r.error_code) == (412, "PreconditionFailed"), r
    r = get(raw, obj, **{"If-Match": "*"})
    assert r.status == 200


def test_if_none_match(raw, obj):
    r = get(raw, obj, **{"If-None-Match": obj["etag"]})
    assert r.status == 304, r
    assert r.body == b""
    assert r.header("ETag") == obj["etag"]
    r = get(raw, obj, **{"If-None-Match": OTHER_ETAG})
    assert r.status == 200 and r.body == obj["data"]


def test_if_modified_since(raw, obj):
    r = get(raw, obj, **{"If-Modified-Since": obj["lm_raw"]})
    assert r.status == 304, r
    r = get(raw, obj, **{"If-Modified-Since": httpdate(obj["lm"] - dt.timedelta(days=1))})
    assert r.status == 200 and r.body == obj["data"]


def test_if_unmodified_since(raw, obj):
    r = get(raw, obj, **{"If-Unmodified-Since": obj["lm_raw"]})
    assert r.status == 200
    r = get(raw, obj, **{"If-Unmodified-Since": httpdate(obj["lm"] - dt.timedelta(days=1))})
    assert (r.status, r.error_code) == (412, "PreconditionFailed"), r


def test_if_match_true_unmodified_since_false(raw, obj):
    # S3: If-Match true and If-Unmodified-Since false -> 200 OK with the data.
    r = get(raw, obj, **{"If-Match": obj["etag"],
                         "If-Unmodified-Since": httpdate(obj["lm"] - dt.timedelta(days=1))})
    assert r.status == 200 and r.body == obj["data"]


def test_if_none_match_false_modified_since_true(raw, obj):
    # S3: If-None-Match false and If-Modified-Since true -> 304 Not Modified.
    r = get(raw, obj, **{"If-None-Match": obj["etag"],
                         "If-Modified-Since": httpdate(obj["lm"] - dt.timedelta(days=1))})
    assert r.status == 304, r


def test_if_none_match_true_modified_since_false(raw, obj):
    # If-None-Match takes precedence: it holds, so the object is returned.
    r = get(raw, obj, **{"If-None-Match": OTHER_ETAG, "If-Modified-Since": obj["lm_raw"]})
    assert r.status == 200


def test_conditional_head(raw, obj):
    r = get(raw, obj, "HEAD", **{"If-Match": OTHER_ETAG})
    assert r.status == 412 and r.body == b""
    r = get(raw, obj, "HEAD", **{"If-None-Match": obj["etag"]})
    assert r.status == 304 and r.body == b""
    r = get(raw, obj, "HEAD", **{"If-Match": obj["etag"]})
    assert r.status == 200


def test_conditional_boto3(s3, obj):
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=obj["bucket"], Key=obj["key"], IfMatch=OTHER_ETAG)
    assert e.value.response["Error"]["Code"] == "PreconditionFailed"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=obj["bucket"], Key=obj["key"], IfNoneMatch=obj["etag"])
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304


def test_invalid_conditional_dates_are_ignored(raw, obj):
    for h in ("If-Modified-Since", "If-Unmodified-Since"):
        r = get(raw, obj, **{h: "not a date"})
        assert r.status == 200 and r.body == obj["data"], (h, r)


def test_conditional_on_missing_key(raw, obj):
    r = raw.get(obj["bucket"], "missing", headers={"If-Match": obj["etag"]})
    assert r.status == 404, r


# --- ranges ------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,first,last", [
    ("bytes=0-0", 0, 0),
    ("bytes=0-9", 0, 9),
    ("bytes=65530-65545", 65530, 65545),       # across a 64 KiB boundary
    ("bytes=10-", 10, SIZE - 1),
    ("bytes=-10", SIZE - 10, SIZE - 1),
    ("bytes=99990-200000", 99990, SIZE - 1),   # end past the object is clamped
    ("bytes=-200000", 0, SIZE - 1),            # suffix longer than the object
    ("bytes=%d-%d" % (SIZE - 1, SIZE - 1), SIZE - 1, SIZE - 1),
])
def test_range(raw, obj, spec, first, last):
    r = get(raw, obj, Range=spec)
    assert r.status == 206, r
    assert r.body == obj["data"][first:last + 1]
    assert r.header("Content-Range") == "bytes %d-%d/%d" % (first, last, SIZE)
    assert r.header("Content-Length") == str(last - first + 1)
    assert r.header("ETag") == obj["etag"]


def test_range_head(raw, obj):
    r = get(raw, obj, "HEAD", Range="bytes=0-99")
    assert r.status == 206, r
    assert r.header("Content-Length") == "100"
    assert r.header("Content-Range") == "bytes 0-99/%d" % SIZE


def test_range_boto3(s3, obj):
    g = s3.get_object(Bucket=obj["bucket"], Key=obj["key"], Range="bytes=100-199")
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert g["Body"].read() == obj["data"][100:200]
    assert g["ContentRange"] == "bytes 100-199/%d" % SIZE


@pytest.mark.parametrize("spec", ["bytes=%d-" % SIZE, "bytes=%d-%d" % (SIZE, SIZE + 10),
                                  "bytes=200000-300000"])
def test_range_not_satisfiable(raw, obj, spec):
    r = get(raw, obj, Range=spec)
    assert (r.status, r.error_code) == (416, "InvalidRange"), r


def test_range_on_empty_object(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    r = raw.get(bucket, "empty", headers={"Range": "bytes=40-50"})
    assert (r.status, r.error_code) == (416, "InvalidRange"), r


@pytest.mark.parametrize("spec", ["bytes=abc", "bytes=5-1", "items=0-5", "bytes=--5",
                                  "bytes=1-2-3", "bytes=", "0-5", "bytes=0x10-0x20"])
def test_invalid_range_syntax_is_ignored(raw, obj, spec):
    # A syntactically invalid Range is ignored (RFC 7233): the whole object, 200.
    r = get(raw, obj, Range=spec)
    assert r.status == 200, (spec, r)
    assert r.body == obj["data"]


def test_range_with_if_match_failing(raw, obj):
    r = get(raw, obj, Range="bytes=0-9", **{"If-Match": OTHER_ETAG})
    assert (r.status, r.error_code) == (412, "PreconditionFailed"), r


def test_range_with_if_none_match(raw, obj):
    r = get(raw, obj, Range="bytes=0-9", **{"If-None-Match": obj["etag"]})
    assert r.status == 304, r
