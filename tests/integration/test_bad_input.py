"""Malformed input of every kind: the server answers with an S3 error (or closes the
connection), never crashes or hangs, and no object changes. Every test ends by checking
that the server still answers and that a sentinel object is intact."""
import socket

import pytest

import s3sig
from conftest import unique_name

SENTINEL = b"sentinel content that must never change"


@pytest.fixture
def victim(s3):
    # one per test, so that damage done by one test cannot fail the next ones
    name = unique_name("bad")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="sentinel", Body=SENTINEL, Metadata={"m": "1"},
                  ContentType="text/plain")
    return name


@pytest.fixture(autouse=True)
def still_fine(raw, victim):
    yield
    r = raw.request("GET", "/")
    assert r.status == 200, "server no longer answers ListBuckets: %r" % r
    g = raw.get(victim, "sentinel")
    assert g.status == 200 and g.body == SENTINEL, "sentinel object changed: %r" % g
    assert g.header("x-amz-meta-m") == "1"
    assert g.header("Content-Type") == "text/plain"
    keys = raw.request("GET", "/" + victim, query=[("list-type", "2")])
    assert keys.status == 200
    found = [el.text for el in keys.xml.iter() if el.tag.endswith("Key")]
    assert found == ["sentinel"], found


def status_of(buf):
    line = buf.split(b"\r\n", 1)[0].split(b" ")
    return int(line[1]) if len(line) > 1 and line[1].isdigit() else None


def exchange(raw, data, timeout=3, **kw):
    # Silence is tolerated for garbage (libmicrohttpd waits for a request line it can parse,
    # and RFC 7230 lets a server skip empty lines); still_fine() then proves that a stuck
    # connection does not stop the server from serving others.
    return s3sig.raw_exchange(raw.host, raw.port, data, timeout=timeout, **kw)


def assert_client_error_or_closed(buf, allowed=(400, 404, 405, 411, 413, 414, 431, 501, 505)):
    if buf == b"":
        return  # closing the connection on garbage is acceptable
    st = status_of(buf)
    assert st in allowed, buf[:400]


# --- garbage on the wire ---------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"\x00\x01\x02\x03\xff\xfe\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET / FOO/1.1\r\nHost: x\r\n\r\n",
    b"GET  /  HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX: \xff\xfe\x00bin\r\n\r\n",
    b"GET /%zz%00%ff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\r\n\r\n\r\n\r\n",
    b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    b"PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    b"PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"ffffffffffffffffffff\r\nx\r\n",
], ids=lambda b: repr(b[:40])[2:-1])
def test_garbage_requests(raw, data):
    buf = exchange(raw, data)
    # anonymous garbage may also be refused as AccessDenied
    assert_client_error_or_closed(buf, allowed=(400, 403, 404, 405, 411, 413, 414, 431, 501, 505))


def test_missing_host_header(raw):
    buf = exchange(raw, b"GET / HTTP/1.1\r\n\r\n")
    assert_client_error_or_closed(buf, allowed=(400, 403))


def test_abandoned_partial_requests(raw):
    socks = []
    try:
        for i in range(30):
            s = socket.create_connection((raw.host, raw.port), timeout=10)
            s.sendall([b"GET / HT", b"PUT /x/y HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nab",
                       b""][i % 3])
            socks.append(s)
        # the server keeps serving others while these hang
        r = raw.request("GET", "/")
        assert r.status == 200, r
    finally:
        for s in socks:
            s.close()


# --- signed but malformed S3 requests -----------------------------------------------------

@pytest.mark.parametrize("method", ["PATCH", "FOO", "TRACE", "CONNECT"])
def test_unsupported_methods(raw, victim, method):
    r = raw.request(method, "/%s/sentinel" % victim)
    assert r.status in (400, 405, 501), r
    if r.body:
        assert r.error_code in ("MethodNotAllowed", "NotImplemented", "InvalidRequest",
                                "BadRequest"), r


@pytest.mark.parametrize("path", ["/%s/%%zz", "/%s/%%", "/%s/a%%ff%%fe", "/%s/%%c0%%af"])
def test_bad_percent_encoding_or_utf8(raw, victim, path):
    r = raw.request("PUT", path % victim, body=b"evil", raw_path=True)
    assert r.status == 400, r
    assert r.error_code in ("InvalidURI", "InvalidArgument"), r


def test_put_without_content_length(raw, victim):
    r = raw.request("PUT", "/%s/nolength" % victim, body=b"", content_length=False)
    assert (r.status, r.error_code) == (411, "MissingContentLength"), r


def test_truncated_body(raw, victim):
    head, *_ = raw.signed_head_bytes("PUT", "/%s/sentinel" % victim,
                                     [("Content-Length", "1000")], s3sig.UNSIGNED)
    buf = exchange(raw, head + b"x" * 500, shutdown_write=True)
    if buf:
        assert status_of(buf) in (400,), buf[:300]


def test_body_longer_than_content_length(raw, victim):
    # the extra bytes are the next "request" on the connection; the object gets the first 3
    data = b"abcdef"
    r = raw.request("PUT", "/%s/short" % victim, body=data,
                    headers={"Content-Length": "3"}, payload=s3sig.sha256_hex(data))
    assert (r.status, r.error_code) == (400, "XAmzContentSHA256Mismatch"), r


@pytest.mark.parametrize("body", [
    b"not xml",
    b"<CreateBucketConfiguration><LocationConstraint>",
    b"<CreateBucketConfiguration><LocationConstraint>a</Wrong></CreateBucketConfiguration>",
    b"\xff\xfe<\x00x\x00",
    b"<" * 10000,
], ids=lambda b: repr(b[:40])[2:-1])
def test_create_bucket_bad_xml(raw, body):
    name = unique_name("badxml")
    r = raw.request("PUT", "/" + name, body=body)
    assert (r.status, r.error_code) == (400, "MalformedXML"), r
    assert raw.request("HEAD", "/" + name).status == 404


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1
                                                                else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b"]><Delete><Object><Key>&lol9;</Key></Object></Delete>")


def test_delete_objects_entity_expansion(raw, victim):
    r = raw.request("POST", "/" + victim, query=[("delete", None)], body=BILLION_LAUGHS,
                    headers={"Content-MD5": s3sig.md5_b64(BILLION_LAUGHS)})
    assert r.status == 400, r
    assert r.error_code == "MalformedXML", r


def test_create_bucket_entity_expansion(raw):
    body = BILLION_LAUGHS.replace(b"<Delete><Object><Key>&lol9;</Key></Object></Delete>",
                                  b"<CreateBucketConfiguration><LocationConstraint>&lol9;"
                                  b"</LocationConstraint></CreateBucketConfiguration>")
    name = unique_name("lol")
    r = raw.request("PUT", "/" + name, body=body)
    assert r.status == 400, r
    assert raw.request("HEAD", "/" + name).status == 404


@pytest.mark.parametrize("body", [
    b"<Delete><Object><Key>sentinel</Key></Object>",
    b"<Delete><Object><Key>sentinel</Key></Object></Delete><Extra/>",
    b"<Delete><Object><Key>sentinel</Key><Key>other</Key></Object></Delete>junk",
    b"\x00" * 100,
], ids=lambda b: repr(b[:40])[2:-1])
def test_delete_objects_bad_xml_deletes_nothing(raw, victim, body):
    r = raw.request("POST", "/" + victim, query=[("delete", None)], body=body,
                    headers={"Content-MD5": s3sig.md5_b64(body)})
    assert (r.status, r.error_code) == (400, "MalformedXML"), r


@pytest.mark.parametrize("spec", [
    "bytes=99999999999999999999999-",
    "bytes=0-99999999999999999999999",
    "bytes=-99999999999999999999999",
    "bytes=" + "1" * 5000 + "-",
    "bytes=0-1,2-3,4-5," * 200,
], ids=lambda v: v[:40])
def test_extreme_ranges(raw, victim, spec):
    r = raw.get(victim, "sentinel", headers={"Range": spec})
    assert r.status in (200, 206, 416), r
    if r.status == 200:
        assert r.body == SENTINEL
    elif r.status == 206:
        first, last = map(int, r.header("Content-Range").split()[1].split("/")[0].split("-"))
        assert r.body == SENTINEL[first:last + 1]
    else:
        assert r.error_code == "InvalidRange"


def test_bad_content_md5_on_overwrite(raw, victim):
    r = raw.put(victim, "sentinel", b"evil", headers={"Content-MD5": s3sig.md5_b64(b"good")})
    assert (r.status, r.error_code) == (400, "BadDigest"), r
    r = raw.put(victim, "sentinel", b"evil", headers={"Content-MD5": "%%%"})
    assert (r.status, r.error_code) == (400, "InvalidDigest"), r


def test_huge_metadata_on_overwrite(raw, victim):
    hdrs = {"x-amz-meta-k%03d" % i: "v" * 500 for i in range(60)}   # ~30 KB
    r = raw.put(victim, "sentinel", b"evil", headers=hdrs)
    assert (r.status, r.error_code) == (400, "MetadataTooLarge"), r


def test_invalid_storage_class_on_overwrite_and_copy(raw, victim):
    r = raw.put(victim, "sentinel", b"evil", headers={"x-amz-storage-class": "BOGUS"})
    assert (r.status, r.error_code) == (400, "InvalidStorageClass"), r
    r = raw.put(victim, "copy", headers={"x-amz-copy-source": "/%s/sentinel" % victim,
                                         "x-amz-storage-class": "BOGUS"})
    assert (r.status, r.error_code) == (400, "InvalidStorageClass"), r


@pytest.mark.parametrize("source", ["nobucketkey", "/", "", "/%s/", "%%zz/%%zz",
                                    "/%s/missing", "/%s/sentinel?versionId=bogus"])
def test_bad_copy_sources(raw, victim, source):
    src = source % victim if "%s" in source else source
    r = raw.put(victim, "copy-target", headers={"x-amz-copy-source": src})
    assert 400 <= r.status < 500, (src, r)
    assert r.error_code in ("InvalidArgument", "InvalidRequest", "NoSuchKey", "NoSuchVersion",
                            "InvalidURI", "NoSuchBucket"), (src, r)


@pytest.mark.parametrize("name", ["ab", "A" * 70, "under_score", "192.168.1.1", "-x-x-"])
def test_bad_bucket_names_everywhere(raw, name):
    for method, path, body in (("PUT", "/" + name, b""), ("PUT", "/%s/k" % name, b"x"),
                               ("GET", "/" + name, b""), ("DELETE", "/" + name, b"")):
        r = raw.request(method, path, body=body)
        assert 400 <= r.status < 500, (method, path, r)
        assert r.error_code in ("InvalidBucketName", "NoSuchBucket"), (method, path, r)


def test_aws_chunked_bad_framing(raw, victim):
    for body in (b"zz;chunk-signature=" + b"0" * 64 + b"\r\nhello\r\n",
                 b"5;chunk-signature=" + b"0" * 64 + b"\r\nhello",
                 b"5\r\nhello\r\n0\r\n\r\n",
                 b"ffffffffffffffff;chunk-signature=" + b"0" * 64 + b"\r\n"):
        headers = [("Content-Encoding", "aws-chunked"),
                   ("x-amz-decoded-content-length", "5"),
                   ("Content-Length", str(len(body)))]
        head, *_ = raw.signed_head_bytes("PUT", "/%s/sentinel" % victim, headers,
                                         s3sig.STREAMING_SIGNED)
        buf = exchange(raw, head + body, shutdown_write=True)
        if buf:
            st = status_of(buf)
            assert st is not None and 400 <= st < 500, buf[:300]


def test_aws_chunked_decoded_length_mismatch(raw, victim, s3):
    data = b"x" * 1000
    n = len(data)
    headers = [("Content-Encoding", "aws-chunked"),
               ("x-amz-decoded-content-length", str(n + 10)),
               ("Content-Length", str(len("%x;chunk-signature=" % n) + 64 + 4 + n
                                      + len("0;chunk-signature=") + 64 + 4))]
    head, sig, key, scope, amz_date = raw.signed_head_bytes(
        "PUT", "/%s/sentinel" % victim, headers, s3sig.STREAMING_SIGNED)
    body = s3sig.aws_chunked_body(data, 65536, key, sig, amz_date, scope)
    buf = exchange(raw, head + body, shutdown_write=True)
    if buf:
        st = status_of(buf)
        assert st is not None and 400 <= st < 500, buf[:300]


def test_long_query_string(raw, victim):
    q = [("p%d" % i, "v" * 50) for i in range(200)]
    r = raw.request("GET", "/%s/sentinel" % victim, query=q)
    assert r.status in (200, 400, 414), r


def test_unknown_subresource(raw, victim):
    r = raw.request("GET", "/" + victim, query=[("no-such-subresource", None)])
    # S3 ignores unknown query parameters on a ListObjects request
    assert r.status in (200, 400, 501), r


@pytest.mark.parametrize("hdr,val", [
    ("x-amz-meta-ok", "caf\xe9"),
    ("x-amz-meta-", "empty name"),
])
def test_odd_metadata_headers(raw, victim, hdr, val):
    # latin-1 bytes that are not valid UTF-8 on the wire
    r = raw.put(victim, "oddmeta", b"x", headers={hdr: val})
    assert r.status in (200, 400, 403), r
    if r.status == 200:
        assert raw.delete(victim, "oddmeta").status == 204


def test_empty_key_put(raw, victim):
    # "/bucket/" addresses the bucket, a PUT there is CreateBucket on an existing bucket
    r = raw.request("PUT", "/%s/" % victim, body=b"")
    assert r.status in (200, 409), r
