"""Additional checksums (x-amz-checksum-*): every algorithm in a header and in aws-chunked
trailers (unsigned and signed), S3's answers to wrong, malformed and inconsistent values,
GET/HEAD with x-amz-checksum-mode, and GetObjectAttributes."""
import base64
import hashlib
import zlib

import pytest
from botocore.exceptions import ClientError

import s3sig
from conftest import client_error, seeded_bytes

try:
    from awscrt import checksums as _crt
except ImportError:  # pragma: no cover - Debian's python3-awscrt is a test dependency
    _crt = None

ALGOS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]


def _crc64nvme(data, prev=0):
    """CRC-64/NVME; prev continues a previous value (chaining, like zlib.crc32)."""
    poly = 0x9A6C9329AC4BC9B5
    if not hasattr(_crc64nvme, "table"):
        t = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ poly if c & 1 else c >> 1
            t.append(c)
        _crc64nvme.table = t
    t = _crc64nvme.table
    c = prev ^ 0xFFFFFFFFFFFFFFFF
    for b in data:
        c = (c >> 8) ^ t[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFFFFFFFFFF


def _crc32c(data):
    if _crt is not None:
        return _crt.crc32c(data)
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def raw_checksum(algo, data):
    if algo == "CRC32":
        return (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
    if algo == "CRC32C":
        return _crc32c(data).to_bytes(4, "big")
    if algo == "CRC64NVME":
        return _crc64nvme(data).to_bytes(8, "big")
    if algo == "SHA1":
        return hashlib.sha1(data).digest()
    return hashlib.sha256(data).digest()


def b64(algo, data):
    return base64.b64encode(raw_checksum(algo, data)).decode()


def hname(algo):
    return "x-amz-checksum-" + algo.lower()


def test_known_values():
    # the catalogue check values over "123456789"
    assert raw_checksum("CRC32", b"123456789").hex() == "cbf43926"
    assert raw_checksum("CRC32C", b"123456789").hex() == "e3069283"
    assert raw_checksum("CRC64NVME", b"123456789").hex() == "ae8b14860a799888"


# --- headers -------------------------------------------------------------------------------

@pytest.mark.parametrize("algo", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_boto3_checksum_algorithm(s3, bucket, algo):
    # botocore computes the value and sends it in x-amz-checksum-<algo> (over http: a header)
    data = seeded_bytes(len(algo), 70_000)
    r = s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm=algo)
    assert r["Checksum" + algo] == b64(algo, data)
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"
    h = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert h["Checksum" + algo] == b64(algo, data)
    assert h["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"
    g = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert g["Checksum" + algo] == b64(algo, data)
    assert g["Body"].read() == data  # botocore also checks the body against the value
    # without checksum mode, no checksum headers
    g = s3.get_object(Bucket=bucket, Key="k")
    assert "Checksum" + algo not in g
    assert "x-amz-checksum-type" not in g["ResponseMetadata"]["HTTPHeaders"]
    g["Body"].read()


@pytest.mark.parametrize("algo", ALGOS)
def test_header_each_algorithm(raw, s3, bucket, algo):
    data = seeded_bytes(7, 33_333)
    r = raw.put(bucket, "h", data, headers={hname(algo): b64(algo, data)})
    assert r.status == 200, r
    assert r.header(hname(algo)) == b64(algo, data)
    assert r.header("x-amz-checksum-type") == "FULL_OBJECT"
    r = raw.head(bucket, "h", headers={"x-amz-checksum-mode": "ENABLED"})
    assert r.header(hname(algo)) == b64(algo, data)
    assert r.header("x-amz-checksum-type") == "FULL_OBJECT"
    r = raw.get(bucket, "h", headers={"x-amz-checksum-mode": "ENABLED"})
    assert r.body == data and r.header(hname(algo)) == b64(algo, data)
    # a range read has no checksum of its own
    r = raw.get(bucket, "h", headers={"x-amz-checksum-mode": "ENABLED", "Range": "bytes=0-9"})
    assert r.status == 206 and r.body == data[:10]
    assert r.header(hname(algo)) is None and r.header("x-amz-checksum-type") is None


@pytest.mark.parametrize("algo", ALGOS)
def test_header_wrong_value(raw, s3, bucket, algo):
    s3.put_object(Bucket=bucket, Key="h", Body=b"original")
    data = seeded_bytes(8, 5000)
    wrong = base64.b64encode(b"\x01" * len(raw_checksum(algo, b""))).decode()
    r = raw.put(bucket, "h", data, headers={hname(algo): wrong})
    assert (r.status, r.error_code) == (400, "BadDigest"), r
    assert r.xml.findtext("Message") == \
        "The %s you specified did not match the calculated checksum." % algo
    # malformed values: hex, unpadded base64, wrong length
    good = b64(algo, data)
    for bad in (raw_checksum(algo, data).hex(), good.rstrip("="),
                base64.b64encode(raw_checksum(algo, data) + b"x").decode()):
        if bad == good:
            continue
        r = raw.put(bucket, "h", data, headers={hname(algo): bad})
        assert (r.status, r.error_code) == (400, "InvalidRequest"), (bad, r)
        assert r.xml.findtext("Message") == "Value for %s header is invalid." % hname(algo)
    assert s3.get_object(Bucket=bucket, Key="h")["Body"].read() == b"original"


def test_wrong_crc32_raw_signer(raw, s3, bucket):
    # the case: a deliberately wrong x-amz-checksum-crc32, signed by hand
    s3.put_object(Bucket=bucket, Key="w", Body=b"before")
    r = raw.put(bucket, "w", b"after", headers={"x-amz-checksum-crc32": s3sig.crc32_b64(b"nope")})
    assert (r.status, r.error_code) == (400, "BadDigest"), r
    assert s3.get_object(Bucket=bucket, Key="w")["Body"].read() == b"before"


def test_sdk_checksum_algorithm_rules(raw, bucket):
    data = b"123456789"
    crc = {"x-amz-checksum-crc32": "y/Q5Jg=="}
    r = raw.put(bucket, "s", data, headers={"x-amz-sdk-checksum-algorithm": "CRC32"})
    assert (r.status, r.error_code) == (400, "InvalidRequest"), r
    assert r.xml.findtext("Message") == (
        "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or "
        "x-amz-trailer headers were found.")
    r = raw.put(bucket, "s", data, headers=dict(crc, **{"x-amz-sdk-checksum-algorithm": "SHA256"}))
    assert (r.status, r.error_code) == (400, "BadDigest"), r
    assert r.xml.findtext("Message") == "The SHA256 you specified did not match the calculated checksum."
    r = raw.put(bucket, "s", data, headers=dict(crc, **{"x-amz-sdk-checksum-algorithm": "MD4"}))
    assert (r.status, r.error_code) == (400, "InvalidRequest"), r
    assert "Checksum algorithm provided is unsupported" in r.xml.findtext("Message")
    r = raw.put(bucket, "s", data, headers=dict(crc, **{"x-amz-sdk-checksum-algorithm": "crc32"}))
    assert r.status == 200, r
    r = raw.put(bucket, "s", data, headers=dict(crc, **{"x-amz-checksum-crc32c": "4waSgw=="}))
    assert (r.status, r.error_code) == (400, "InvalidRequest"), r
    assert r.xml.findtext("Message") == \
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."


# --- trailers ------------------------------------------------------------------------------

def _unsigned_trailer_put(raw, bucket, key, data, algo, value=None, extra=None):
    value = b64(algo, data) if value is None else value
    body = s3sig.unsigned_trailer_body(data, 8192, trailer_name=hname(algo), trailer_value=value)
    headers = [("Content-Encoding", "aws-chunked"),
               ("x-amz-decoded-content-length", str(len(data))),
               ("x-amz-trailer", hname(algo)),
               ("Content-Length", str(len(body)))] + list(extra or [])
    head, *_ = raw.signed_head_bytes("PUT", "/%s/%s" % (bucket, key), headers,
                                     s3sig.STREAMING_UNSIGNED_TRAILER)
    return s3sig.parse_raw_response(s3sig.raw_exchange(raw.host, raw.port, head + body))


def _signed_trailer_body(data, chunk, key, seed, amz_date, scope, trailer, bad_sig=False):
    out, prev = [], seed
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    for piece in pieces:
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev,
                         s3sig.EMPTY_SHA256, s3sig.sha256_hex(piece)])
        prev = s3sig.hmac_hex(key, sts)
        out.append(b"%x;chunk-signature=%s\r\n" % (len(piece), prev.encode()))
        if piece:
            out.append(piece + b"\r\n")
    name, value = trailer
    tline = "%s:%s\n" % (name, value)
    sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, prev,
                     s3sig.sha256_hex(tline.encode())])
    tsig = s3sig.hmac_hex(key, sts)
    if bad_sig:
        tsig = ("0" if tsig[0] != "0" else "1") + tsig[1:]
    out.append(("%s:%s\r\nx-amz-trailer-signature:%s\r\n\r\n" % (name, value, tsig)).encode())
    return b"".join(out)


def _signed_trailer_put(raw, bucket, key, data, algo, value=None, bad_sig=False):
    value = b64(algo, data) if value is None else value
    chunk = 8192
    # the body length does not depend on signature values: build once with a dummy key
    probe = _signed_trailer_body(data, chunk, b"k", "0" * 64, "d", "s", (hname(algo), value))
    headers = [("Content-Encoding", "aws-chunked"),
               ("x-amz-decoded-content-length", str(len(data))),
               ("x-amz-trailer", hname(algo)),
               ("Content-Length", str(len(probe)))]
    head, sig, key_, scope, amz_date = raw.signed_head_bytes(
        "PUT", "/%s/%s" % (bucket, key), headers, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
    body = _signed_trailer_body(data, chunk, key_, sig, amz_date, scope, (hname(algo), value),
                                bad_sig)
    assert len(body) == len(probe)
    return s3sig.parse_raw_response(s3sig.raw_exchange(raw.host, raw.port, head + body))


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_trailer_each_algorithm(raw, s3, bucket, algo, signed):
    put = _signed_trailer_put if signed else _unsigned_trailer_put
    data = seeded_bytes(len(algo) + signed, 20_000)
    r = put(raw, bucket, "t", data, algo)
    assert r is not None and r.status == 200, r
    assert r.header(hname(algo)) == b64(algo, data)
    r = raw.head(bucket, "t", headers={"x-amz-checksum-mode": "ENABLED"})
    assert r.header(hname(algo)) == b64(algo, data)
    assert s3.get_object(Bucket=bucket, Key="t")["Body"].read() == data
    # a wrong trailer value: BadDigest, nothing stored
    wrong = b64(algo, b"something else")
    r = put(raw, bucket, "t", seeded_bytes(99, 20_000), algo, value=wrong)
    assert r is not None and (r.status, r.error_code) == (400, "BadDigest"), r
    assert r.xml.findtext("Message") == \
        "The %s you specified did not match the calculated checksum." % algo
    # a malformed trailer value
    r = put(raw, bucket, "t", seeded_bytes(98, 1000), algo, value="not-base64!")
    assert r is not None and (r.status, r.error_code) == (400, "InvalidRequest"), r
    assert r.xml.findtext("Message") == "Value for %s trailing header is invalid." % hname(algo)
    assert s3.get_object(Bucket=bucket, Key="t")["Body"].read() == data


def test_signed_trailer_bad_signature(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="ts", Body=b"keep")
    r = _signed_trailer_put(raw, bucket, "ts", seeded_bytes(3, 10_000), "CRC32C", bad_sig=True)
    assert r is not None and (r.status, r.error_code) == (403, "SignatureDoesNotMatch"), r
    assert s3.get_object(Bucket=bucket, Key="ts")["Body"].read() == b"keep"


def test_trailer_with_sdk_algorithm(raw, bucket):
    data = seeded_bytes(4, 3000)
    r = _unsigned_trailer_put(raw, bucket, "sdk", data, "SHA256",
                              extra=[("x-amz-sdk-checksum-algorithm", "SHA256")])
    assert r is not None and r.status == 200, r
    r = _unsigned_trailer_put(raw, bucket, "sdk", data, "SHA256",
                              extra=[("x-amz-checksum-crc32", b64("CRC32", data))])
    assert r is not None and (r.status, r.error_code) == (400, "InvalidRequest"), r


def test_trailer_announced_but_missing(raw, s3, bucket):
    data = seeded_bytes(5, 100)
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)
    headers = [("Content-Encoding", "aws-chunked"),
               ("x-amz-decoded-content-length", str(len(data))),
               ("x-amz-trailer", "x-amz-checksum-crc32"),
               ("Content-Length", str(len(body)))]
    head, *_ = raw.signed_head_bytes("PUT", "/%s/missing" % bucket, headers,
                                     s3sig.STREAMING_UNSIGNED_TRAILER)
    r = s3sig.parse_raw_response(s3sig.raw_exchange(raw.host, raw.port, head + body))
    assert r is not None and (r.status, r.error_code) == (400, "MalformedTrailerError"), r
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="missing")


def test_trailer_unknown_name(raw, bucket):
    data = b"abc"
    r = _unsigned_trailer_put(raw, bucket, "u", data, "CRC32",
                              extra=[])  # sanity: works
    assert r.status == 200, r
    body = s3sig.unsigned_trailer_body(data, 8192, trailer_name="x-amz-checksum-md5",
                                       trailer_value="AAAA")
    headers = [("Content-Encoding", "aws-chunked"),
               ("x-amz-decoded-content-length", str(len(data))),
               ("x-amz-trailer", "x-amz-checksum-md5"),
               ("Content-Length", str(len(body)))]
    head, *_ = raw.signed_head_bytes("PUT", "/%s/u" % bucket, headers,
                                     s3sig.STREAMING_UNSIGNED_TRAILER)
    r = s3sig.parse_raw_response(s3sig.raw_exchange(raw.host, raw.port, head + body))
    assert r is not None and (r.status, r.error_code) == (400, "InvalidRequest"), r


def test_copy_keeps_checksum(s3, bucket):
    data = seeded_bytes(6, 1234)
    s3.put_object(Bucket=bucket, Key="src", Body=data, ChecksumAlgorithm="SHA256")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    h = s3.head_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED")
    assert h["ChecksumSHA256"] == b64("SHA256", data)


def boto_mpu(s3, bucket, key, algo, parts):
    """A multipart upload through boto3 with algo's checksum on every part (each part's value
    checked as it is answered); returns CompleteMultipartUpload's response."""
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algo)
    done = []
    for n, data in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=n,
                           Body=data, ChecksumAlgorithm=algo)
        assert r["Checksum" + algo] == b64(algo, data)
        done.append({"PartNumber": n, "ETag": r["ETag"], "Checksum" + algo: r["Checksum" + algo]})
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": done})


def test_copy_result_carries_checksum(s3, bucket):
    data = seeded_bytes(61, 4321)
    s3.put_object(Bucket=bucket, Key="csrc", Body=data, ChecksumAlgorithm="CRC32")
    r = s3.copy_object(Bucket=bucket, Key="cdst", CopySource={"Bucket": bucket, "Key": "csrc"})
    assert r["CopyObjectResult"]["ChecksumCRC32"] == b64("CRC32", data)


@pytest.mark.parametrize("algo", ["CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_copy_with_checksum_algorithm(raw, s3, bucket, algo):
    """x-amz-checksum-algorithm on CopyObject: the copy gets that algorithm's value of its bytes
    (full-object), in the result and on the object; the source's other algorithm is gone."""
    data = seeded_bytes(62, 70_000)
    s3.put_object(Bucket=bucket, Key="asrc", Body=data, ChecksumAlgorithm="CRC32")
    r = raw.request("PUT", "/%s/adst" % bucket,
                    headers={"x-amz-copy-source": "/%s/asrc" % bucket,
                             "x-amz-checksum-algorithm": algo})
    assert r.status == 200, r.body
    res = r.xml
    assert res.findtext(NS + "Checksum" + algo) == b64(algo, data)
    assert res.findtext(NS + "ChecksumType") == "FULL_OBJECT"
    h = s3.head_object(Bucket=bucket, Key="adst", ChecksumMode="ENABLED")
    hh = h["ResponseMetadata"]["HTTPHeaders"]
    assert hh[hname(algo)] == b64(algo, data)
    assert hh["x-amz-checksum-type"] == "FULL_OBJECT"
    assert "x-amz-checksum-crc32" not in hh
    assert s3.get_object(Bucket=bucket, Key="adst")["Body"].read() == data


def test_copy_with_unknown_checksum_algorithm(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="usrc", Body=b"abc")
    r = raw.request("PUT", "/%s/udst" % bucket,
                    headers={"x-amz-copy-source": "/%s/usrc" % bucket,
                             "x-amz-checksum-algorithm": "MD4"})
    assert (r.status, r.error_code) == (400, "InvalidRequest"), r.body
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="udst")
    assert client_error(e)[0] == 404


def test_copy_of_composite_object_gets_full_object_checksum(s3, bucket):
    """A copy is one part: a multipart source's composite value ("...-2") is not carried over;
    the copy's value of the same algorithm is computed over its bytes."""
    parts = [seeded_bytes(63, MIB5), seeded_bytes(64, 1000)]
    boto_mpu(s3, bucket, "msrc", "SHA256", parts)
    r = s3.copy_object(Bucket=bucket, Key="mdst", CopySource={"Bucket": bucket, "Key": "msrc"})
    whole = b"".join(parts)
    assert r["CopyObjectResult"]["ChecksumSHA256"] == b64("SHA256", whole)
    h = s3.head_object(Bucket=bucket, Key="mdst", ChecksumMode="ENABLED")
    assert h["ChecksumSHA256"] == b64("SHA256", whole)
    assert h["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"


def test_listings_show_checksum_algorithm_and_type(raw, s3, bucket):
    """ListObjects (v1, v2) and ListObjectVersions name each object's checksum algorithm and
    type; objects without an additional checksum have neither element."""
    s3.put_object(Bucket=bucket, Key="l/crc", Body=b"one", ChecksumAlgorithm="CRC32C")
    s3.put_object(Bucket=bucket, Key="l/plain", Body=b"two")
    boto_mpu(s3, bucket, "l/mpu", "SHA1", [b"three"])
    r = s3.list_objects_v2(Bucket=bucket, Prefix="l/")
    assert {c["Key"]: c.get("ChecksumAlgorithm") for c in r["Contents"]} == {
        "l/crc": ["CRC32C"], "l/mpu": ["SHA1"], "l/plain": None}
    want = {"l/crc": ("CRC32C", "FULL_OBJECT"), "l/mpu": ("SHA1", "COMPOSITE"),
            "l/plain": (None, None)}
    for query, elem in ((["list-type=2"], "Contents"), ([], "Contents"), (["versions"], "Version")):
        q = [tuple((x.split("=") + [None])[:2]) for x in query] + [("prefix", "l/")]
        lr = raw.request("GET", "/%s" % bucket, query=q)
        assert lr.status == 200, lr.body
        got = {e.findtext(NS + "Key"): (e.findtext(NS + "ChecksumAlgorithm"),
                                        e.findtext(NS + "ChecksumType"))
               for e in lr.xml.iter(NS + elem)}
        assert got == want, (query, got)


# --- GetObjectAttributes --------------------------------------------------------------------

def test_get_object_attributes(s3, bucket):
    data = seeded_bytes(9, 4321)
    put = s3.put_object(Bucket=bucket, Key="a", Body=data, ChecksumAlgorithm="CRC32",
                        StorageClass="STANDARD_IA")
    r = s3.get_object_attributes(Bucket=bucket, Key="a",
                                 ObjectAttributes=["ETag", "Checksum", "ObjectParts",
                                                   "StorageClass", "ObjectSize"])
    assert r["ETag"] == put["ETag"].strip('"')  # no quotes here, as on S3
    assert r["Checksum"]["ChecksumCRC32"] == b64("CRC32", data)
    assert "ObjectParts" not in r  # a single-part object
    assert r["StorageClass"] == "STANDARD_IA"
    assert r["ObjectSize"] == len(data)
    assert r["LastModified"] == s3.head_object(Bucket=bucket, Key="a")["LastModified"]
    r = s3.get_object_attributes(Bucket=bucket, Key="a", ObjectAttributes=["ObjectSize"])
    assert r["ObjectSize"] == len(data) and "ETag" not in r and "Checksum" not in r
    # no checksum: no Checksum element
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    r = s3.get_object_attributes(Bucket=bucket, Key="plain", ObjectAttributes=["Checksum", "ETag"])
    assert "Checksum" not in r and r["ETag"] == s3sig.md5_hex(b"x")
    with pytest.raises(ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="nope", ObjectAttributes=["ETag"])
    assert client_error(e) == (404, "NoSuchKey")


def test_get_object_attributes_xml_and_errors(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="x", Body=b"hello", ChecksumAlgorithm="SHA1")
    r = raw.get(bucket, "x", query=[("attributes", None)],
                headers={"x-amz-object-attributes": "ObjectSize,ETag,Checksum,StorageClass"})
    assert r.status == 200, r
    root = r.xml
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    assert root.tag == ns + "GetObjectAttributesResponse"
    # S3's element order whatever the order asked for
    assert [c.tag[len(ns):] for c in root] == ["ETag", "Checksum", "StorageClass", "ObjectSize"]
    ck = root.find(ns + "Checksum")
    assert ck.findtext(ns + "ChecksumSHA1") == b64("SHA1", b"hello")
    assert ck.findtext(ns + "ChecksumType") == "FULL_OBJECT"
    r = raw.get(bucket, "x", query=[("attributes", None)])
    assert (r.status, r.error_code) == (400, "InvalidArgument"), r
    r = raw.get(bucket, "x", query=[("attributes", None)],
                headers={"x-amz-object-attributes": "ETag,Bogus"})
    assert (r.status, r.error_code) == (400, "InvalidArgument"), r


# --- multipart --------------------------------------------------------------------------------

MIB5 = 5 * 1024 * 1024


def test_multipart_crc64nvme_full_object(raw, s3, bucket):
    # CRC64NVME uploads get a FULL_OBJECT checksum: the parts' CRCs combined (no data re-read)
    part1, part2 = bytes(range(256)) * (MIB5 // 256), seeded_bytes(12, 1000)
    c1 = _crc64nvme(part1)
    c2 = _crc64nvme(part2)
    whole = _crc64nvme(part2, c1)  # chaining over the concatenation, independent of combining
    enc = lambda c: base64.b64encode(c.to_bytes(8, "big")).decode()
    r = raw.request("POST", "/%s/mp" % bucket, query=[("uploads", None)],
                    headers={"x-amz-checksum-algorithm": "CRC64NVME"})
    assert r.status == 200, r
    uid = r.xml.findtext("{http://s3.amazonaws.com/doc/2006-03-01/}UploadId")
    etags = []
    for n, (data, c) in enumerate([(part1, c1), (part2, c2)], 1):
        r = raw.request("PUT", "/%s/mp" % bucket, query=[("partNumber", str(n)), ("uploadId", uid)],
                        body=data, headers={"x-amz-checksum-crc64nvme": enc(c)}, payload="UNSIGNED-PAYLOAD")
        assert r.status == 200, r
        etags.append(r.header("ETag"))
    body = ("<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (i + 1, e)
        for i, e in enumerate(etags))).encode()
    r = raw.request("POST", "/%s/mp" % bucket, query=[("uploadId", uid)], body=body)
    assert r.status == 200, r
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    assert r.xml.findtext(ns + "ChecksumCRC64NVME") == enc(whole)
    assert r.xml.findtext(ns + "ChecksumType") == "FULL_OBJECT"
    h = raw.head(bucket, "mp", headers={"x-amz-checksum-mode": "ENABLED"})
    assert h.header("x-amz-checksum-crc64nvme") == enc(whole)
    assert h.header("x-amz-checksum-type") == "FULL_OBJECT"


def test_multipart_composite_and_attributes(s3, bucket):
    parts = [seeded_bytes(20, MIB5), seeded_bytes(21, 777)]
    r = boto_mpu(s3, bucket, "cmp", "CRC32", parts)
    raws = b"".join(raw_checksum("CRC32", d) for d in parts)
    want = base64.b64encode((zlib.crc32(raws) & 0xFFFFFFFF).to_bytes(4, "big")).decode() + "-2"
    assert r["ChecksumCRC32"] == want
    h = s3.head_object(Bucket=bucket, Key="cmp", ChecksumMode="ENABLED")
    assert h["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "COMPOSITE"
    a = s3.get_object_attributes(Bucket=bucket, Key="cmp",
                                 ObjectAttributes=["ETag", "Checksum", "ObjectParts", "ObjectSize"])
    assert a["ETag"].endswith("-2")
    # GetObjectAttributes gives a composite value without its "-N" (S3 does the same)
    assert a["Checksum"]["ChecksumCRC32"] == want.split("-")[0]
    op = a["ObjectParts"]
    assert op["TotalPartsCount"] == 2
    assert [(p["PartNumber"], p["Size"], p["ChecksumCRC32"]) for p in op["Parts"]] == [
        (n, len(d), b64("CRC32", d)) for n, d in enumerate(parts, 1)]
    assert op["IsTruncated"] is False and op["MaxParts"] == 1000
    assert a["ObjectSize"] == sum(len(d) for d in parts)
    # paging: x-amz-max-parts and x-amz-part-number-marker
    a = s3.get_object_attributes(Bucket=bucket, Key="cmp", ObjectAttributes=["ObjectParts"],
                                 MaxParts=1)
    op = a["ObjectParts"]
    assert [p["PartNumber"] for p in op["Parts"]] == [1]
    assert op["IsTruncated"] is True and op["NextPartNumberMarker"] == 1 and op["MaxParts"] == 1
    a = s3.get_object_attributes(Bucket=bucket, Key="cmp", ObjectAttributes=["ObjectParts"],
                                 MaxParts=1, PartNumberMarker=op["NextPartNumberMarker"])
    op = a["ObjectParts"]
    assert [p["PartNumber"] for p in op["Parts"]] == [2]
    assert op["IsTruncated"] is False and op["PartNumberMarker"] == 1
    assert op["NextPartNumberMarker"] == 2


# --- multipart checksum type (x-amz-checksum-type) ----------------------------------------------

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def _mpu_create(raw, bucket, key, algo=None, ctype=None):
    h = {}
    if algo:
        h["x-amz-checksum-algorithm"] = algo
    if ctype:
        h["x-amz-checksum-type"] = ctype
    r = raw.request("POST", "/%s/%s" % (bucket, key), query=[("uploads", None)], headers=h)
    uid = r.xml.findtext(NS + "UploadId") if r.status == 200 else None
    return r, uid


def _mpu_part(raw, bucket, key, uid, n, data, headers=None):
    return raw.request("PUT", "/%s/%s" % (bucket, key), query=[("partNumber", str(n)),
                                                               ("uploadId", uid)],
                       body=data, headers=headers or {}, payload="UNSIGNED-PAYLOAD")


def _mpu_complete(raw, bucket, key, uid, parts, headers=None):
    """parts: list of (number, etag, {ElementName: value})."""
    body = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag>%s</Part>" % (
            n, e, "".join("<%s>%s</%s>" % (k, v, k) for k, v in (ck or {}).items()))
        for n, e, ck in parts)
    return raw.request("POST", "/%s/%s" % (bucket, key), query=[("uploadId", uid)],
                       body=body.encode(), headers=headers or {})


def _err(r):
    root = r.xml
    return r.status, root.findtext("Code"), root.findtext("Message")


def test_multipart_checksum_type_at_create(raw, bucket):
    # S3's combinations: CRC64NVME only FULL_OBJECT, SHA only COMPOSITE, CRC32/CRC32C either
    for algo, ctype, want in [("CRC32", None, "COMPOSITE"), ("CRC32C", None, "COMPOSITE"),
                              ("SHA1", None, "COMPOSITE"), ("SHA256", None, "COMPOSITE"),
                              ("CRC64NVME", None, "FULL_OBJECT"),
                              ("CRC32", "FULL_OBJECT", "FULL_OBJECT"),
                              ("CRC32C", "FULL_OBJECT", "FULL_OBJECT"),
                              ("CRC32", "COMPOSITE", "COMPOSITE"),
                              ("SHA256", "COMPOSITE", "COMPOSITE"),
                              ("CRC64NVME", "FULL_OBJECT", "FULL_OBJECT")]:
        key = "t-%s-%s" % (algo, ctype)
        r, uid = _mpu_create(raw, bucket, key, algo, ctype)
        assert r.status == 200, r
        assert r.header("x-amz-checksum-algorithm") == algo
        assert r.header("x-amz-checksum-type") == want, (algo, ctype)
        lp = raw.request("GET", "/%s/%s" % (bucket, key), query=[("uploadId", uid)])
        assert lp.xml.findtext(NS + "ChecksumAlgorithm") == algo
        assert lp.xml.findtext(NS + "ChecksumType") == want
    lu = raw.request("GET", "/%s" % bucket, query=[("uploads", None)])
    types = {u.findtext(NS + "Key"): (u.findtext(NS + "ChecksumAlgorithm"),
                                      u.findtext(NS + "ChecksumType"))
             for u in lu.xml.iter(NS + "Upload")}
    assert types["t-CRC32-FULL_OBJECT"] == ("CRC32", "FULL_OBJECT")
    assert types["t-SHA1-None"] == ("SHA1", "COMPOSITE")
    # no algorithm: neither header nor element
    r, uid = _mpu_create(raw, bucket, "plain")
    assert r.status == 200 and r.header("x-amz-checksum-type") is None
    lp = raw.request("GET", "/%s/plain" % bucket, query=[("uploadId", uid)])
    assert lp.xml.find(NS + "ChecksumType") is None
    bad = [
        ("SHA256", "FULL_OBJECT",
         "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."),
        ("SHA1", "FULL_OBJECT",
         "The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm."),
        ("CRC64NVME", "COMPOSITE",
         "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."),
        ("CRC32", "PARTIAL", "Value for x-amz-checksum-type header is invalid."),
        (None, "FULL_OBJECT", "The x-amz-checksum-type header can only be used with the "
                              "x-amz-checksum-algorithm header."),
        (None, "COMPOSITE", "The x-amz-checksum-type header can only be used with the "
                            "x-amz-checksum-algorithm header."),
    ]
    for algo, ctype, msg in bad:
        r, _ = _mpu_create(raw, bucket, "bad", algo, ctype)
        assert _err(r) == (400, "InvalidRequest", msg), r
    r, _ = _mpu_create(raw, bucket, "bad", "MD5")
    assert _err(r)[:2] == (400, "InvalidRequest")


@pytest.mark.parametrize("algo", ["CRC32", "CRC32C"])
def test_multipart_full_object_crc(raw, bucket, algo):
    """x-amz-checksum-type: FULL_OBJECT for CRC32/CRC32C: the object's value is the CRC of the
    whole object (combined from the parts', no -N), compared with the one sent on Complete."""
    key = "full-" + algo
    parts = [seeded_bytes(30, MIB5), seeded_bytes(31, MIB5 + 3), seeded_bytes(32, 1001)]
    whole = b"".join(parts)
    r, uid = _mpu_create(raw, bucket, key, algo, "FULL_OBJECT")
    assert r.status == 200, r
    etags = []
    for n, data in enumerate(parts, 1):
        # part 2 carries no checksum: a FULL_OBJECT upload lets S3 compute it
        h = {} if n == 2 else {hname(algo): b64(algo, data)}
        r = _mpu_part(raw, bucket, key, uid, n, data, h)
        assert r.status == 200, r
        assert r.header(hname(algo)) == b64(algo, data)
        etags.append(r.header("ETag"))
    lp = raw.request("GET", "/%s/%s" % (bucket, key), query=[("uploadId", uid)])
    assert [p.findtext(NS + "Checksum" + algo) for p in lp.xml.iter(NS + "Part")] == [
        b64(algo, d) for d in parts]
    plist = [(n, e, None) for n, e in enumerate(etags, 1)]  # part values are optional here
    # the type on Complete must be the upload's
    r = _mpu_complete(raw, bucket, key, uid, plist, {"x-amz-checksum-type": "COMPOSITE"})
    assert _err(r) == (400, "InvalidRequest", "The upload was created using the FULL_OBJECT "
                       "checksum mode. The complete request must use the same checksum mode.")
    r = _mpu_complete(raw, bucket, key, uid, plist, {"x-amz-checksum-type": "WHOLE"})
    assert _err(r) == (400, "InvalidRequest", "Value for x-amz-checksum-type header is invalid.")
    # a full-object value has no -N; a wrong one is BadDigest
    r = _mpu_complete(raw, bucket, key, uid, plist, {hname(algo): b64(algo, whole) + "-3"})
    assert _err(r) == (400, "InvalidRequest", "Value for %s header is invalid." % hname(algo))
    r = _mpu_complete(raw, bucket, key, uid, plist, {hname(algo): b64(algo, b"other")})
    assert _err(r) == (400, "BadDigest", "The %s you specified did not match the calculated "
                       "checksum." % algo.lower())
    # a wrong part value in the body: InvalidPart
    r = _mpu_complete(raw, bucket, key, uid,
                      [(1, etags[0], {"Checksum" + algo: b64(algo, b"x")})] + plist[1:])
    assert _err(r)[:2] == (400, "InvalidPart"), r
    r = _mpu_complete(raw, bucket, key, uid,
                      [(1, etags[0], {"Checksum" + algo: b64(algo, parts[0])})] + plist[1:],
                      {hname(algo): b64(algo, whole), "x-amz-checksum-type": "FULL_OBJECT"})
    assert r.status == 200, r
    assert r.xml.findtext(NS + "Checksum" + algo) == b64(algo, whole)
    assert r.xml.findtext(NS + "ChecksumType") == "FULL_OBJECT"
    for method in ("HEAD", "GET"):
        g = raw.request(method, "/%s/%s" % (bucket, key), headers={"x-amz-checksum-mode": "ENABLED"})
        assert g.status == 200
        assert g.header(hname(algo)) == b64(algo, whole)
        assert g.header("x-amz-checksum-type") == "FULL_OBJECT"
    assert raw.get(bucket, key).body == whole
    # a part of a FULL_OBJECT object of several parts has no value of its own on S3
    g = raw.request("HEAD", "/%s/%s" % (bucket, key), query=[("partNumber", "2")],
                    headers={"x-amz-checksum-mode": "ENABLED"})
    assert g.status == 206 and g.header(hname(algo)) is None
    # a single-part object is its own part 1
    raw.put(bucket, "one", b"single", headers={hname(algo): b64(algo, b"single")})
    g = raw.request("HEAD", "/%s/one" % bucket, query=[("partNumber", "1")],
                    headers={"x-amz-checksum-mode": "ENABLED"})
    assert g.header(hname(algo)) == b64(algo, b"single"), g.headers
    assert g.header("x-amz-checksum-type") == "FULL_OBJECT"
    # GetObjectAttributes: the value, FULL_OBJECT, and only the part count
    r = raw.get(bucket, key, query=[("attributes", None)],
                headers={"x-amz-object-attributes": "Checksum,ObjectParts"})
    assert r.status == 200, r
    ck = r.xml.find(NS + "Checksum")
    assert ck.findtext(NS + "Checksum" + algo) == b64(algo, whole)
    assert ck.findtext(NS + "ChecksumType") == "FULL_OBJECT"
    op = r.xml.find(NS + "ObjectParts")
    assert [c.tag[len(NS):] for c in op] == ["PartsCount"] and op.findtext(NS + "PartsCount") == "3"


def test_multipart_composite_rules(raw, s3, bucket):
    """A COMPOSITE upload: every part needs a value of the upload's algorithm (UploadPart and
    Complete), with S3's codes and messages; the value stated on Complete may carry -N."""
    key = "comp"
    parts = [seeded_bytes(40, MIB5), seeded_bytes(41, 333)]
    r, uid = _mpu_create(raw, bucket, key, "SHA256")
    assert r.header("x-amz-checksum-type") == "COMPOSITE"
    r = _mpu_part(raw, bucket, key, uid, 1, parts[0])
    assert _err(r) == (400, "InvalidRequest", "Checksum Type mismatch occurred, expected checksum "
                       "Type: sha256, actual checksum Type: null")
    r = _mpu_part(raw, bucket, key, uid, 1, parts[0], {hname("CRC32"): b64("CRC32", parts[0])})
    assert _err(r) == (400, "InvalidRequest", "Checksum Type mismatch occurred, expected checksum "
                       "Type: sha256, actual checksum Type: crc32")
    etags = []
    for n, data in enumerate(parts, 1):
        r = _mpu_part(raw, bucket, key, uid, n, data, {hname("SHA256"): b64("SHA256", data)})
        assert r.status == 200, r
        etags.append(r.header("ETag"))
    good = [(n, e, {"ChecksumSHA256": b64("SHA256", d)})
            for n, (e, d) in enumerate(zip(etags, parts), 1)]
    comp = base64.b64encode(hashlib.sha256(b"".join(
        raw_checksum("SHA256", d) for d in parts)).digest()).decode()
    # part values are required in a COMPOSITE Complete
    r = _mpu_complete(raw, bucket, key, uid, [(1, etags[0], None), good[1]])
    assert _err(r) == (400, "InvalidRequest", "The upload was created using a sha256 checksum. The "
                       "complete request must include the checksum for each part. It was missing "
                       "for part 1 in the request.")
    r = _mpu_complete(raw, bucket, key, uid, [(1, etags[0], {"ChecksumSHA256": "nope"}), good[1]])
    assert _err(r) == (400, "InvalidArgument",
                       "Invalid Base64 or multiple checksums present in request")
    wrong_part = [(1, etags[0], {"ChecksumSHA256": b64("SHA256", b"x")}), good[1]]
    r = _mpu_complete(raw, bucket, key, uid, wrong_part)
    assert _err(r)[:2] == (400, "InvalidPart")
    # ... and with the object's value stated too, S3 answers BadDigest first
    r = _mpu_complete(raw, bucket, key, uid, wrong_part, {hname("SHA256"): comp})
    assert _err(r)[:2] == (400, "BadDigest")
    for bad in (comp + "-a", comp + "-0", "abc"):
        r = _mpu_complete(raw, bucket, key, uid, good, {hname("SHA256"): bad})
        assert _err(r) == (400, "InvalidRequest", "Value for x-amz-checksum-sha256 header is "
                           "invalid."), bad
    r = _mpu_complete(raw, bucket, key, uid, good, {hname("SHA256"): comp + "-3"})
    assert _err(r) == (400, "BadDigest", "The sha256 you specified did not match the calculated "
                       "checksum.")
    r = _mpu_complete(raw, bucket, key, uid, good, {hname("SHA256"): comp + "-2",
                                                    "x-amz-checksum-type": "COMPOSITE"})
    assert r.status == 200, r
    assert r.xml.findtext(NS + "ChecksumSHA256") == comp + "-2"
    assert r.xml.findtext(NS + "ChecksumType") == "COMPOSITE"
    h = raw.head(bucket, key, headers={"x-amz-checksum-mode": "ENABLED"})
    assert h.header("x-amz-checksum-sha256") == comp + "-2"
    assert h.header("x-amz-checksum-type") == "COMPOSITE"
    # ?partNumber=N with checksum mode: the part's own value (none without the mode)
    for n, data in enumerate(parts, 1):
        for method in ("HEAD", "GET"):
            g = raw.request(method, "/%s/%s" % (bucket, key), query=[("partNumber", str(n))],
                            headers={"x-amz-checksum-mode": "ENABLED"})
            assert g.status == 206, g
            assert g.header("x-amz-checksum-sha256") == b64("SHA256", data)
            assert g.header("x-amz-checksum-type") == "COMPOSITE"
        g = raw.request("HEAD", "/%s/%s" % (bucket, key), query=[("partNumber", str(n))])
        assert g.header("x-amz-checksum-sha256") is None
    # a range has none
    g = raw.get(bucket, key, headers={"x-amz-checksum-mode": "ENABLED", "Range": "bytes=0-9"})
    assert g.status == 206 and g.header("x-amz-checksum-sha256") is None


def test_multipart_no_algorithm_complete_header(raw, bucket):
    # an upload created without an algorithm: S3 accepts a checksum header on Complete
    # without checking it (and the object gets no additional checksum here)
    r, uid = _mpu_create(raw, bucket, "na")
    r = _mpu_part(raw, bucket, "na", uid, 1, b"abc")
    r = _mpu_complete(raw, bucket, "na", uid, [(1, r.header("ETag"), None)],
                      {hname("CRC32"): b64("CRC32", b"zzz")})
    assert r.status == 200, r
    h = raw.head(bucket, "na", headers={"x-amz-checksum-mode": "ENABLED"})
    assert h.header("x-amz-checksum-crc32") is None


def test_multipart_attributes_parts_paging(raw, s3, bucket):
    """GetObjectAttributes lists a composite object's parts with their numbers as uploaded
    (gaps kept), sizes and values, paged by x-amz-max-parts / x-amz-part-number-marker;
    UploadPartCopy parts of an upload with an algorithm get their value computed."""
    src = seeded_bytes(50, MIB5 + 7)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    # in a versioned bucket (the record is re-encoded with its version id)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    key = "paged"
    r, uid = _mpu_create(raw, bucket, key, "CRC32C")
    datas = {2: seeded_bytes(51, MIB5), 5: src, 9: seeded_bytes(52, 10)}
    etags = {}
    for n in (2, 9):
        r = _mpu_part(raw, bucket, key, uid, n, datas[n], {hname("CRC32C"): b64("CRC32C", datas[n])})
        assert r.status == 200, r
        etags[n] = r.header("ETag")
    r = raw.request("PUT", "/%s/%s" % (bucket, key), query=[("partNumber", "5"), ("uploadId", uid)],
                    headers={"x-amz-copy-source": "/%s/src" % bucket})
    assert r.status == 200, r
    assert r.xml.findtext(NS + "ChecksumCRC32C") == b64("CRC32C", src)
    etags[5] = r.xml.findtext(NS + "ETag")
    r = _mpu_complete(raw, bucket, key, uid, [(n, etags[n], {"ChecksumCRC32C": b64("CRC32C", datas[n])})
                                              for n in (2, 5, 9)])
    assert r.status == 200, r

    def page(max_parts=None, marker=None):
        h = {"x-amz-object-attributes": "ObjectParts"}
        if max_parts is not None:
            h["x-amz-max-parts"] = str(max_parts)
        if marker is not None:
            h["x-amz-part-number-marker"] = str(marker)
        r = raw.get(bucket, key, query=[("attributes", None)], headers=h)
        assert r.status == 200, r
        return r.xml.find(NS + "ObjectParts")

    op = page()
    assert [c.tag[len(NS):] for c in op][:5] == ["PartsCount", "PartNumberMarker",
                                                 "NextPartNumberMarker", "MaxParts", "IsTruncated"]
    got = [(int(p.findtext(NS + "PartNumber")), int(p.findtext(NS + "Size")),
            p.findtext(NS + "ChecksumCRC32C")) for p in op.findall(NS + "Part")]
    assert got == [(n, len(datas[n]), b64("CRC32C", datas[n])) for n in (2, 5, 9)]
    assert op.findtext(NS + "PartsCount") == "3" and op.findtext(NS + "IsTruncated") == "false"
    seen, marker = [], 0
    while True:
        op = page(2, marker)
        seen += [int(p.findtext(NS + "PartNumber")) for p in op.findall(NS + "Part")]
        assert op.findtext(NS + "PartNumberMarker") == str(marker)
        if op.findtext(NS + "IsTruncated") == "false":
            break
        marker = int(op.findtext(NS + "NextPartNumberMarker"))
    assert seen == [2, 5, 9]
    op = page(1, 5)
    assert [int(p.findtext(NS + "PartNumber")) for p in op.findall(NS + "Part")] == [9]
    op = page(10, 9)
    assert op.findall(NS + "Part") == [] and op.findtext(NS + "NextPartNumberMarker") == "9"
    # boto3 parses the same document
    a = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=["ObjectParts"],
                                 MaxParts=2)
    assert [p["PartNumber"] for p in a["ObjectParts"]["Parts"]] == [2, 5]
    assert a["ObjectParts"]["IsTruncated"] is True
    # a tagging update rewrites the record and keeps the parts; an older version keeps its own
    vid = s3.head_object(Bucket=bucket, Key=key)["VersionId"]
    s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    op = page()
    assert [int(p.findtext(NS + "PartNumber")) for p in op.findall(NS + "Part")] == [2, 5, 9]
    s3.put_object(Bucket=bucket, Key=key, Body=b"now single")
    a = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=["ObjectParts"])
    assert "ObjectParts" not in a
    a = s3.get_object_attributes(Bucket=bucket, Key=key, VersionId=vid,
                                 ObjectAttributes=["ObjectParts", "Checksum"])
    assert [p["ChecksumCRC32C"] for p in a["ObjectParts"]["Parts"]] == [
        b64("CRC32C", datas[n]) for n in (2, 5, 9)]
