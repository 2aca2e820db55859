"""AWS Signature Version 4: header auth in every payload mode, aws-chunked streaming with chunk
signatures, unsigned payload with a trailing checksum, presigned URLs, clock skew, and the
failures (wrong secret, unknown key, malformed Authorization, anonymous)."""
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

import s3sig
from conftest import client_error, make_boto3, random_access_key, seeded_bytes


@pytest.fixture
def existing(s3, bucket):
    s3.put_object(Bucket=bucket, Key="existing", Body=b"original content")
    return bucket


def unchanged(s3, bucket, key="existing", data=b"original content"):
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def absent(s3, bucket, key):
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key=key)
    assert client_error(e)[0] == 404


# --- payload modes ------------------------------------------------------------------------

def test_signed_payload(raw, s3, bucket):
    data = seeded_bytes(1, 100_000)
    r = raw.put(bucket, "signed", data)
    assert r.status == 200, r
    assert s3.get_object(Bucket=bucket, Key="signed")["Body"].read() == data


def test_signed_payload_mismatch(raw, s3, existing):
    r = raw.put(existing, "existing", b"tampered body",
                payload=s3sig.sha256_hex(b"a different body"))
    assert (r.status, r.error_code) == (400, "XAmzContentSHA256Mismatch"), r
    unchanged(s3, existing)


def test_signed_payload_mismatch_large(raw, s3, existing):
    # the mismatch can only be known at the end of a multi-segment body
    data = seeded_bytes(2, 1_000_000)
    r = raw.put(existing, "existing", data, payload=s3sig.sha256_hex(data[:-1] + b"X"))
    assert (r.status, r.error_code) == (400, "XAmzContentSHA256Mismatch"), r
    unchanged(s3, existing)


def test_unsigned_payload(raw, s3, bucket):
    data = seeded_bytes(3, 70_000)
    r = raw.put(bucket, "unsigned", data, payload=s3sig.UNSIGNED)
    assert r.status == 200, r
    assert r.header("ETag") == '"%s"' % s3sig.md5_hex(data)
    assert s3.get_object(Bucket=bucket, Key="unsigned")["Body"].read() == data


def test_get_with_unsigned_payload(raw, s3, existing):
    r = raw.get(existing, "existing", payload=s3sig.UNSIGNED)
    assert r.status == 200 and r.body == b"original content"


def test_missing_content_sha256_header(raw, s3, existing):
    # x-amz-content-sha256 is required for all SigV4 header-authenticated S3 requests.
    r = raw.put(existing, "existing", b"no hash header", payload=False)
    assert (r.status, r.error_code) == (400, "InvalidRequest"), r
    unchanged(s3, existing)


def test_invalid_content_sha256_value(raw, s3, existing):
    r = raw.put(existing, "existing", b"x", payload="not-a-hash")
    assert (r.status, r.error_code) == (400, "InvalidArgument"), r
    unchanged(s3, existing)


def _streaming_put(raw, bucket, key, data, chunk=65536, corrupt=None, extra_headers=(),
                   content_encoding="aws-chunked"):
    n_full, rest = divmod(len(data), chunk)
    sizes = [chunk] * n_full + ([rest] if rest else []) + [0]
    enc_len = sum(len("%x;chunk-signature=" % s) + 64 + 2 + s + 2 for s in sizes)
    headers = [("Content-Encoding", content_encoding),
               ("x-amz-decoded-content-length", str(len(data))),
               ("Content-Length", str(enc_len))] + list(extra_headers)
    head, sig, key_, scope, amz_date = raw.signed_head_bytes(
        "PUT", "/%s/%s" % (bucket, key), headers, s3sig.STREAMING_SIGNED)
    body = s3sig.aws_chunked_body(data, chunk, key_, sig, amz_date, scope, corrupt=corrupt)
    assert len(body) == enc_len
    buf = s3sig.raw_exchange(raw.host, raw.port, head + body)
    return s3sig.parse_raw_response(buf)


@pytest.mark.parametrize("size", [0, 1, 8192, 65536, 200_000])
def test_streaming_signed_chunks(raw, s3, bucket, size):
    data = seeded_bytes(size + 5, size)
    r = _streaming_put(raw, bucket, "stream-%d" % size, data)
    assert r is not None and r.status == 200, r
    assert r.header("ETag") == '"%s"' % s3sig.md5_hex(data)
    g = s3.get_object(Bucket=bucket, Key="stream-%d" % size)
    assert g["Body"].read() == data
    assert g["ContentLength"] == size
    # aws-chunked is a transfer detail, not a property of the stored object
    assert g.get("ContentEncoding") in (None, "")


def test_streaming_keeps_other_content_encoding(raw, s3, bucket):
    data = seeded_bytes(9, 20_000)
    r = _streaming_put(raw, bucket, "gz", data, chunk=8192, content_encoding="aws-chunked,gzip")
    assert r is not None and r.status == 200, r
    assert s3.head_object(Bucket=bucket, Key="gz").get("ContentEncoding") == "gzip"


@pytest.mark.parametrize("corrupt", [0, 1, 3])
def test_streaming_bad_chunk_signature(raw, s3, existing, corrupt):
    # chunk 0, a middle chunk, and the final zero-length chunk (index 3 for 3 data chunks)
    data = seeded_bytes(11, 3 * 65536)
    r = _streaming_put(raw, existing, "existing", data, corrupt=corrupt)
    assert r is not None, "no response to a bad chunk signature"
    assert (r.status, r.error_code) == (403, "SignatureDoesNotMatch"), r
    unchanged(s3, existing)


def test_streaming_wrong_seed(raw, s3, existing):
    # chunk signatures chained from a different seed signature must fail
    data = seeded_bytes(12, 10_000)
    headers = [("Content-Encoding", "aws-chunked"),
               ("x-amz-decoded-content-length", str(len(data))),
               ("Content-Length", str(len("%x;chunk-signature=" % len(data)) + 64 + 4 + len(data)
                                      + len("0;chunk-signature=") + 64 + 4))]
    head, sig, key_, scope, amz_date = raw.signed_head_bytes(
        "PUT", "/%s/existing" % existing, headers, s3sig.STREAMING_SIGNED)
    body = s3sig.aws_chunked_body(data, 65536, key_, "0" * 64, amz_date, scope)
    r = s3sig.parse_raw_response(s3sig.raw_exchange(raw.host, raw.port, head + body))
    assert r is not None and (r.status, r.error_code) == (403, "SignatureDoesNotMatch"), r
    unchanged(s3, existing)


def _trailer_put(raw, bucket, key, data, trailer_value=None, chunk=16384, transfer_chunked=False):
    body = s3sig.unsigned_trailer_body(data, chunk, trailer_value=trailer_value)
    headers = [("Content-Encoding", "aws-chunked"),
               ("x-amz-decoded-content-length", str(len(data))),
               ("x-amz-trailer", "x-amz-checksum-crc32")]
    if transfer_chunked:
        headers.append(("Transfer-Encoding", "chunked"))
        wire = s3sig.http_chunked(body, 10_000)
    else:
        headers.append(("Content-Length", str(len(body))))
        wire = body
    head, *_ = raw.signed_head_bytes("PUT", "/%s/%s" % (bucket, key), headers,
                                     s3sig.STREAMING_UNSIGNED_TRAILER)
    return s3sig.parse_raw_response(s3sig.raw_exchange(raw.host, raw.port, head + wire))


@pytest.mark.parametrize("size", [0, 5, 100_000])
def test_unsigned_trailer_crc32(raw, s3, bucket, size):
    data = seeded_bytes(size + 99, size)
    r = _trailer_put(raw, bucket, "trailer-%d" % size, data)
    assert r is not None and r.status == 200, r
    assert r.header("ETag") == '"%s"' % s3sig.md5_hex(data)
    assert s3.get_object(Bucket=bucket, Key="trailer-%d" % size)["Body"].read() == data


def test_unsigned_trailer_inside_http_chunked(raw, s3, bucket):
    # what SDKs with default checksums send: aws-chunked framing inside HTTP chunking
    data = seeded_bytes(77, 50_000)
    r = _trailer_put(raw, bucket, "trailer-te", data, transfer_chunked=True)
    assert r is not None and r.status == 200, r
    assert s3.get_object(Bucket=bucket, Key="trailer-te")["Body"].read() == data


def test_unsigned_trailer_bad_crc32(raw, s3, existing):
    data = seeded_bytes(5, 40_000)
    r = _trailer_put(raw, existing, "existing", data, trailer_value=s3sig.crc32_b64(b"other"))
    assert r is not None and (r.status, r.error_code) == (400, "BadDigest"), r
    unchanged(s3, existing)


# --- presigned URLs -------------------------------------------------------------------------

def presigner(server):
    return make_boto3(server.endpoint, server.access_key, server.secret_key)


def urlopen(url, method="GET", data=None):
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def err_code(body):
    return s3sig.Response(0, "", [], body).error_code


def test_presigned_get_boto3(server, s3, existing):
    url = presigner(server).generate_presigned_url(
        "get_object", Params={"Bucket": existing, "Key": "existing"}, ExpiresIn=300)
    assert "X-Amz-Signature=" in url
    status, _, body = urlopen(url)
    assert (status, body) == (200, b"original content")


def test_presigned_put_boto3(server, s3, bucket):
    url = presigner(server).generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "via-presign"}, ExpiresIn=300)
    status, headers, body = urlopen(url, "PUT", b"presigned upload")
    assert status == 200, body
    assert s3.get_object(Bucket=bucket, Key="via-presign")["Body"].read() == b"presigned upload"


def test_presigned_get_with_response_override(server, existing):
    url = presigner(server).generate_presigned_url(
        "get_object", Params={"Bucket": existing, "Key": "existing",
                              "ResponseContentType": "text/x-presigned"}, ExpiresIn=300)
    status, headers, body = urlopen(url)
    assert status == 200
    assert {k.lower(): v for k, v in headers.items()}["content-type"] == "text/x-presigned"


def test_presigned_hand_made(raw, existing):
    url = s3sig.presign_url(raw.endpoint, "GET", "/%s/existing" % existing, raw.access_key,
                            raw.secret, expires=60)
    status, _, body = urlopen(url)
    assert (status, body) == (200, b"original content")


def test_presigned_expired(raw, existing):
    url = s3sig.presign_url(raw.endpoint, "GET", "/%s/existing" % existing, raw.access_key,
                            raw.secret, expires=60, amz_date=s3sig.amz_now(-3600))
    status, _, body = urlopen(url)
    assert (status, err_code(body)) == (403, "AccessDenied"), body


def test_presigned_expires_over_seven_days(raw, existing):
    url = s3sig.presign_url(raw.endpoint, "GET", "/%s/existing" % existing, raw.access_key,
                            raw.secret, expires=604801)
    status, _, body = urlopen(url)
    assert (status, err_code(body)) == (400, "AuthorizationQueryParametersError"), body


def test_presigned_seven_days_is_allowed(raw, existing):
    url = s3sig.presign_url(raw.endpoint, "GET", "/%s/existing" % existing, raw.access_key,
                            raw.secret, expires=604800)
    status, _, body = urlopen(url)
    assert status == 200, body


def test_presigned_tampered(raw, s3, existing):
    url = s3sig.presign_url(raw.endpoint, "PUT", "/%s/existing" % existing, raw.access_key,
                            raw.secret, expires=60)
    # same signature, different key
    status, _, body = urlopen(url.replace("/existing?", "/other?"), "PUT", b"evil")
    assert (status, err_code(body)) == (403, "SignatureDoesNotMatch"), body
    absent(s3, existing, "other")
    # signed for GET, used for PUT
    url = s3sig.presign_url(raw.endpoint, "GET", "/%s/existing" % existing, raw.access_key,
                            raw.secret, expires=60)
    status, _, body = urlopen(url, "PUT", b"evil")
    assert (status, err_code(body)) == (403, "SignatureDoesNotMatch"), body
    unchanged(s3, existing)


def test_presigned_wrong_secret(raw, existing):
    url = s3sig.presign_url(raw.endpoint, "GET", "/%s/existing" % existing, raw.access_key,
                            "x" * 40, expires=60)
    status, _, body = urlopen(url)
    assert (status, err_code(body)) == (403, "SignatureDoesNotMatch"), body


def test_presigned_unknown_key(raw, existing):
    url = s3sig.presign_url(raw.endpoint, "GET", "/%s/existing" % existing,
                            random_access_key(), "x" * 40, expires=60)
    status, _, body = urlopen(url)
    assert (status, err_code(body)) == (403, "InvalidAccessKeyId"), body


# --- time ------------------------------------------------------------------------------------

@pytest.mark.parametrize("offset", [-20 * 60, 20 * 60, -3 * 86400])
def test_clock_skew(raw, s3, existing, offset):
    r = raw.put(existing, "existing", b"skewed", amz_date=s3sig.amz_now(offset))
    assert (r.status, r.error_code) == (403, "RequestTimeTooSkewed"), r
    unchanged(s3, existing)


@pytest.mark.parametrize("offset", [-10 * 60, 10 * 60])
def test_clock_skew_within_15_minutes(raw, existing, offset):
    r = raw.get(existing, "existing", amz_date=s3sig.amz_now(offset))
    assert r.status == 200, r


@pytest.mark.parametrize("value", ["Bad Date", "", "20261301T000000Z"])
def test_bad_amz_date(raw, s3, existing, value):
    r = raw.put(existing, "existing", b"baddate", headers={"x-amz-date": value},
                amz_date=value or "20260101T000000Z", scope_date=s3sig.amz_now()[:8])
    assert r.status == 403, r
    assert r.error_code in ("AccessDenied", "SignatureDoesNotMatch"), r
    unchanged(s3, existing)


# --- credential failures -----------------------------------------------------------------

def test_wrong_secret(raw, s3, existing):
    r = raw.put(existing, "existing", b"wrong secret", secret="W" * 40)
    assert (r.status, r.error_code) == (403, "SignatureDoesNotMatch"), r
    unchanged(s3, existing)
    from conftest import make_boto3 as mk
    bad = mk(raw.endpoint, raw.access_key, "W" * 40)
    with pytest.raises(ClientError) as e:
        bad.list_buckets()
    assert client_error(e) == (403, "SignatureDoesNotMatch")


def test_unknown_access_key(raw, s3, existing):
    r = raw.put(existing, "existing", b"unknown", access_key=random_access_key())
    assert (r.status, r.error_code) == (403, "InvalidAccessKeyId"), r
    unchanged(s3, existing)


def test_signature_mismatch_after_tampering_signed_header(raw, s3, existing):
    # sign x-amz-meta-a=1, send x-amz-meta-a=2
    hdrs = [("Host", raw.hostport), ("x-amz-meta-a", "1"),
            ("x-amz-content-sha256", s3sig.sha256_hex(b"t")), ("Content-Length", "1")]
    path = "/%s/existing" % existing
    s3sig.sign_headers("PUT", path, [], hdrs, s3sig.sha256_hex(b"t"), raw.access_key,
                       raw.secret, s3sig.amz_now())
    hdrs = [(n, "2" if n == "x-amz-meta-a" else v) for n, v in hdrs]
    r = raw.request("PUT", path, headers=hdrs[1:], body=b"t", sign=False)
    assert (r.status, r.error_code) == (403, "SignatureDoesNotMatch"), r
    unchanged(s3, existing)


def test_signature_mismatch_other_query(raw, existing):
    # signed for ?list-type=2, sent with an extra parameter
    hdrs = [("Host", raw.hostport), ("x-amz-content-sha256", s3sig.EMPTY_SHA256)]
    s3sig.sign_headers("GET", "/" + existing, [("list-type", "2")], hdrs, s3sig.EMPTY_SHA256,
                       raw.access_key, raw.secret, s3sig.amz_now())
    r = raw.request("GET", "/" + existing, query=[("list-type", "2"), ("prefix", "x")],
                    headers=hdrs[1:], sign=False)
    assert (r.status, r.error_code) == (403, "SignatureDoesNotMatch"), r


def test_garbage_signature(raw, existing):
    for sig in ("zz" * 32, "abc", ""):
        auth = ("AWS4-HMAC-SHA256 Credential=%s/%s/us-east-1/s3/aws4_request, "
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=%s"
                % (raw.access_key, s3sig.amz_now()[:8], sig))
        r = raw.get(existing, "existing", auth_override=auth)
        assert r.status in (400, 403), (sig, r)
        assert r.error_code in ("SignatureDoesNotMatch", "AuthorizationHeaderMalformed"), r


def test_anonymous_denied(raw, s3, existing):
    for method, path, body in (("GET", "/%s/existing" % existing, b""),
                               ("PUT", "/%s/existing" % existing, b"anon"),
                               ("GET", "/" + existing, b""),
                               ("GET", "/", b""),
                               ("DELETE", "/%s/existing" % existing, b"")):
        r = raw.request(method, path, body=body, sign=False, payload=False)
        assert (r.status, r.error_code) == (403, "AccessDenied"), (method, path, r)
    unchanged(s3, existing)


def test_empty_authorization_header(raw, existing):
    r = raw.get(existing, "existing", auth_override="")
    assert (r.status, r.error_code) == (403, "AccessDenied"), r


MALFORMED_AUTH = [
    "AWS4-HMAC-SHA256 Credential=HAHAHA",
    "AWS4-HMAC-SHA256 Credential=%(ak)s/%(d)s/us-east-1/s3/aws4_request",
    "AWS4-HMAC-SHA256 Credential=%(ak)s/%(d)s/us-east-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-date",
    "AWS4-HMAC-SHA256 Credential=%(ak)s/%(d)s/us-east-1/s3, SignedHeaders=host, "
    "Signature=" + "0" * 64,
    "AWS4-HMAC-SHA256 Credential=%(ak)s/notadate/us-east-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    "AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=",
    "AWS4-HMAC-SHA256",
    "AWS4-HMAC-SHA256 " + "Credential=" + "A" * 20000,
]


@pytest.mark.parametrize("i", range(len(MALFORMED_AUTH)))
def test_malformed_authorization(raw, s3, existing, i):
    auth = MALFORMED_AUTH[i] % {"ak": raw.access_key, "d": s3sig.amz_now()[:8]}
    r = raw.put(existing, "existing", b"malformed", auth_override=auth)
    assert r.status == 400, r
    assert r.error_code in ("AuthorizationHeaderMalformed", "InvalidArgument"), r
    unchanged(s3, existing)


def test_unsupported_auth_scheme(raw, s3, existing):
    r = raw.put(existing, "existing", b"x", auth_override="AWS4 HAHAHA")
    assert (r.status, r.error_code) == (400, "InvalidArgument"), r
    r = raw.put(existing, "existing", b"x", auth_override="Bearer abcdef")
    assert (r.status, r.error_code) == (400, "InvalidArgument"), r
    unchanged(s3, existing)


def test_wrong_region_in_scope(raw, s3, existing):
    r = raw.put(existing, "existing", b"region", region="eu-west-1")
    assert (r.status, r.error_code) == (400, "AuthorizationHeaderMalformed"), r
    unchanged(s3, existing)


def test_scope_date_differs_from_amz_date(raw, s3, existing):
    r = raw.put(existing, "existing", b"date", scope_date="20200101")
    assert (r.status, r.error_code) == (400, "AuthorizationHeaderMalformed"), r
    unchanged(s3, existing)


def test_boto3_sigv4_roundtrip_special_key(s3, bucket):
    # boto3 signs with its own canonicalisation; keys that need encoding must verify.
    key = "sig/ünï cödé+(1)~*'!"
    s3.put_object(Bucket=bucket, Key=key, Body=b"ok")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"ok"


def test_checksum_header_crc32(raw, s3, existing):
    data = seeded_bytes(31, 90_000)
    r = raw.put(existing, "crc-ok", data, headers={"x-amz-checksum-crc32": s3sig.crc32_b64(data)})
    assert r.status == 200, r
    assert s3.get_object(Bucket=existing, Key="crc-ok")["Body"].read() == data
    r = raw.put(existing, "existing", data,
                headers={"x-amz-checksum-crc32": s3sig.crc32_b64(b"not the data")})
    assert (r.status, r.error_code) == (400, "BadDigest"), r
    unchanged(s3, existing)


def test_content_encoding_kept_as_sent_without_aws_chunked(s3, bucket):
    # Only the aws-chunked coding is dropped; other values keep their spelling (ceph s3-tests
    # test_object_content_encoding_aws_chunked)
    cases = [("gzip", "gzip"), ("deflate, gzip", "deflate, gzip"), ("gzip, aws-chunked", "gzip"),
             ("aws-chunked, gzip", "gzip"), ("deflate,aws-chunked,gzip", "deflate, gzip"),
             ("aws-chunked", None), ("aws-chunked, aws-chunked", None)]
    for sent, want in cases:
        s3.put_object(Bucket=bucket, Key="enc", Body=b"x", ContentEncoding=sent)
        assert s3.head_object(Bucket=bucket, Key="enc").get("ContentEncoding") == want, sent


def test_presigned_zero_lifetime_is_expired(raw, existing):
    # X-Amz-Expires=0 is a well-formed URL that is expired at once: 403 AccessDenied (ceph
    # s3-tests test_object_raw_get_x_amz_expires_out_range_zero); past 7 days stays the
    # 400 AuthorizationQueryParametersError S3 gives
    url = s3sig.presign_url(raw.endpoint, "GET", "/%s/existing" % existing, raw.access_key,
                            raw.secret, expires=0)
    status, _, body = urlopen(url)
    assert (status, err_code(body)) == (403, "AccessDenied"), body
    url = s3sig.presign_url(raw.endpoint, "GET", "/%s/existing" % existing, raw.access_key,
                            raw.secret, expires=604801)
    status, _, body = urlopen(url)
    assert (status, err_code(body)) == (400, "AuthorizationQueryParametersError"), body
