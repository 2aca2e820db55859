"""Multipart upload: Create, UploadPart (every payload mode), UploadPartCopy, Complete (order,
ETags, sizes, checksums), Abort, ListParts, ListMultipartUploads, GET/HEAD ?partNumber=, boto3's
managed transfers and the AWS CLI, every error S3 gives for bad input (and that nothing
half-written becomes visible), and streaming big objects through with the server's memory
bounded (1 GiB here; >= 20 GiB with STRATA_BIG=1, `make test-big`)."""
import base64
import hashlib
import http.client
import os
import socket
import threading
import time
import zlib

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

import s3sig
from conftest import client_error, seeded_bytes, unique_name

MiB = 1024 * 1024
GiB = 1024 * MiB


def md5_etag(parts):
    """The multipart ETag: hex(MD5(concatenated part MD5s)) + "-N", quoted."""
    d = b"".join(hashlib.md5(p).digest() for p in parts)
    return '"%s-%d"' % (hashlib.md5(d).hexdigest(), len(parts))


def upload(s3, bucket, key, parts, **create):
    """Creates an upload and uploads `parts` (list of bytes). Returns (upload id, parts list for
    Complete)."""
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    for i, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=i, Body=p)
        assert r["ETag"] == '"%s"' % hashlib.md5(p).hexdigest()
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    return uid, done


def complete(s3, bucket, key, uid, parts):
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                        MultipartUpload={"Parts": parts})


def assert_absent(s3, bucket, key):
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key=key)
    assert client_error(e)[0] == 404


def part_numbers(s3, bucket, key, uid):
    return [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key=key, UploadId=uid)
            .get("Parts", [])]


# --------------------------------------------------------------------------------------
# the basic flow


def test_create_upload_complete_get(s3, bucket):
    parts = [seeded_bytes(1, 5 * MiB), seeded_bytes(2, 5 * MiB + 123), seeded_bytes(3, 1000)]
    uid, done = upload(s3, bucket, "dir/big", parts, ContentType="text/x-test",
                       Metadata={"color": "blue"}, StorageClass="STANDARD_IA")
    assert_absent(s3, bucket, "dir/big")
    r = complete(s3, bucket, "dir/big", uid, done)
    assert r["ETag"] == md5_etag(parts)
    assert r["Bucket"] == bucket and r["Key"] == "dir/big"
    assert r["Location"].endswith("/%s/dir/big" % bucket)
    data = b"".join(parts)
    g = s3.get_object(Bucket=bucket, Key="dir/big")
    assert g["Body"].read() == data
    assert g["ETag"] == md5_etag(parts)
    assert g["ContentType"] == "text/x-test"
    assert g["Metadata"] == {"color": "blue"}
    assert g["StorageClass"] == "STANDARD_IA"
    h = s3.head_object(Bucket=bucket, Key="dir/big")
    assert h["ContentLength"] == len(data)
    # the upload is gone
    for call in (lambda: s3.list_parts(Bucket=bucket, Key="dir/big", UploadId=uid),
                 lambda: complete(s3, bucket, "dir/big", uid, done),
                 lambda: s3.abort_multipart_upload(Bucket=bucket, Key="dir/big", UploadId=uid)):
        with pytest.raises(ClientError) as e:
            call()
        assert client_error(e) == (404, "NoSuchUpload")
    lst = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in lst] == [("dir/big", len(data),
                                                                 md5_etag(parts))]


def test_ranges_across_part_boundaries(s3, raw, bucket):
    parts = [seeded_bytes(10, 5 * MiB + 1), seeded_bytes(11, 5 * MiB + 2), seeded_bytes(12, 777)]
    uid, done = upload(s3, bucket, "r", parts)
    complete(s3, bucket, "r", uid, done)
    data = b"".join(parts)
    b1 = len(parts[0])
    for first, last in [(0, 0), (b1 - 3, b1 + 3), (b1 - 1, b1), (b1, b1), (65530, 65540),
                        (b1 - 10, len(data) - 1), (len(data) - 800, len(data) - 1),
                        (0, len(data) - 1), (len(data) - 1, len(data) - 1)]:
        r = raw.get(bucket, "r", headers={"Range": "bytes=%d-%d" % (first, last)})
        assert r.status == 206, r
        assert r.body == data[first:last + 1], (first, last)
        assert r.header("Content-Range") == "bytes %d-%d/%d" % (first, last, len(data))
    r = raw.get(bucket, "r", headers={"Range": "bytes=-1000"})
    assert r.body == data[-1000:]


def test_part_number_get_and_head(s3, raw, bucket):
    parts = [seeded_bytes(20, 5 * MiB), seeded_bytes(21, 5 * MiB + 7), seeded_bytes(22, 99)]
    uid, done = upload(s3, bucket, "p", parts)
    complete(s3, bucket, "p", uid, done)
    total = sum(map(len, parts))
    off = 0
    for i, p in enumerate(parts, 1):
        g = s3.get_object(Bucket=bucket, Key="p", PartNumber=i)
        assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert g["Body"].read() == p
        assert g["PartsCount"] == 3
        assert g["ContentRange"] == "bytes %d-%d/%d" % (off, off + len(p) - 1, total)
        h = s3.head_object(Bucket=bucket, Key="p", PartNumber=i)
        assert h["ContentLength"] == len(p) and h["PartsCount"] == 3
        off += len(p)
    r = raw.get(bucket, "p", query=[("partNumber", "4")])
    assert (r.status, r.error_code) == (416, "InvalidPartNumber")
    for bad in ("0", "10001", "x", "-1"):
        r = raw.get(bucket, "p", query=[("partNumber", bad)])
        assert (r.status, r.error_code) == (400, "InvalidArgument"), bad
    r = raw.get(bucket, "p", query=[("partNumber", "1")], headers={"Range": "bytes=0-1"})
    assert (r.status, r.error_code) == (400, "InvalidRequest")
    # a single-part object is its own part 1
    s3.put_object(Bucket=bucket, Key="single", Body=b"hello")
    g = s3.get_object(Bucket=bucket, Key="single", PartNumber=1)
    assert g["Body"].read() == b"hello"
    r = raw.get(bucket, "single", query=[("partNumber", "2")])
    assert (r.status, r.error_code) == (416, "InvalidPartNumber")


def test_overwrite_and_replace_part(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"old contents")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    p1a, p1b, p2 = seeded_bytes(30, 5 * MiB), seeded_bytes(31, 5 * MiB), seeded_bytes(32, 10)
    s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=p1a)
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=p1b)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
    ls = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in ls] == [(1, e1, 5 * MiB),
                                                                    (2, e2, 10)]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"old contents"
    complete(s3, bucket, "k", uid, [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == p1b + p2
    # and a plain PUT over the multipart object
    s3.put_object(Bucket=bucket, Key="k", Body=b"new")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"new"


def test_complete_subset_of_parts(s3, bucket):
    parts = [seeded_bytes(40 + i, 5 * MiB if i < 3 else 100) for i in range(4)]
    uid, done = upload(s3, bucket, "sub", parts)
    # parts 1, 3, 4: gaps are fine
    chosen = [done[0], done[2], done[3]]
    r = complete(s3, bucket, "sub", uid, chosen)
    assert r["ETag"] == md5_etag([parts[0], parts[2], parts[3]])
    assert s3.get_object(Bucket=bucket, Key="sub")["Body"].read() == parts[0] + parts[2] + parts[3]
    g = s3.get_object(Bucket=bucket, Key="sub", PartNumber=2)
    assert g["Body"].read() == parts[2]


def test_zero_length_last_part_and_single_small_part(s3, bucket):
    uid, done = upload(s3, bucket, "z", [seeded_bytes(50, 5 * MiB), b""])
    complete(s3, bucket, "z", uid, done)
    assert s3.get_object(Bucket=bucket, Key="z")["Body"].read() == seeded_bytes(50, 5 * MiB)
    uid, done = upload(s3, bucket, "one", [b"tiny"])
    r = complete(s3, bucket, "one", uid, done)
    assert r["ETag"] == md5_etag([b"tiny"])
    assert s3.get_object(Bucket=bucket, Key="one")["Body"].read() == b"tiny"


def test_abort(s3, raw, bucket):
    uid, done = upload(s3, bucket, "ab", [seeded_bytes(60, 1000)])
    r = raw.request("DELETE", "/%s/ab" % bucket, query=[("uploadId", uid)])
    assert r.status == 204, r
    for call in (lambda: s3.list_parts(Bucket=bucket, Key="ab", UploadId=uid),
                 lambda: s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=uid),
                 lambda: s3.upload_part(Bucket=bucket, Key="ab", UploadId=uid, PartNumber=1,
                                        Body=b"x"),
                 lambda: complete(s3, bucket, "ab", uid, done)):
        with pytest.raises(ClientError) as e:
            call()
        assert client_error(e) == (404, "NoSuchUpload")
    assert_absent(s3, bucket, "ab")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_versioned_bucket(s3, bucket):
    """A completed upload in a versioned bucket is a new version, like a PUT."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v0 = s3.put_object(Bucket=bucket, Key="v", Body=b"plain")["VersionId"]
    p1 = [seeded_bytes(130, 5 * MiB), seeded_bytes(131, 10)]
    uid, done = upload(s3, bucket, "v", p1)
    r1 = complete(s3, bucket, "v", uid, done)
    p2 = [seeded_bytes(132, 20)]
    uid, done = upload(s3, bucket, "v", p2)
    r2 = complete(s3, bucket, "v", uid, done)
    assert r1["VersionId"] and r2["VersionId"] and len({v0, r1["VersionId"], r2["VersionId"]}) == 3
    vs = s3.list_object_versions(Bucket=bucket, Prefix="v")["Versions"]
    assert [v["VersionId"] for v in vs] == [r2["VersionId"], r1["VersionId"], v0]
    assert [v["ETag"] for v in vs[:2]] == [md5_etag(p2), md5_etag(p1)]
    assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == p2[0]
    g = s3.get_object(Bucket=bucket, Key="v", VersionId=r1["VersionId"])
    assert g["Body"].read() == b"".join(p1) and g["VersionId"] == r1["VersionId"]
    g = s3.get_object(Bucket=bucket, Key="v", VersionId=r1["VersionId"], PartNumber=2)
    assert g["Body"].read() == p1[1] and g["PartsCount"] == 2
    # UploadPartCopy from an older version reports it
    uid = s3.create_multipart_upload(Bucket=bucket, Key="w")["UploadId"]
    r = s3.upload_part_copy(Bucket=bucket, Key="w", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "v", "VersionId": r1["VersionId"]},
                            CopySourceRange="bytes=0-99")
    assert r["CopySourceVersionId"] == r1["VersionId"]
    assert r["CopyPartResult"]["ETag"] == '"%s"' % hashlib.md5(p1[0][:100]).hexdigest()
    # deleting versions: the older multipart version goes, the others stay readable
    s3.delete_object(Bucket=bucket, Key="v", VersionId=r1["VersionId"])
    assert s3.get_object(Bucket=bucket, Key="v", VersionId=v0)["Body"].read() == b"plain"
    assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == p2[0]


# --------------------------------------------------------------------------------------
# boto3 managed transfers, the AWS CLI


def test_upload_file_download_file(s3, bucket, tmp_path):
    src = tmp_path / "src.bin"
    data = seeded_bytes(70, 23 * MiB + 5)
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=5 * MiB,
                         max_concurrency=4)
    s3.upload_file(str(src), bucket, "xfer/file.bin", Config=cfg)
    h = s3.head_object(Bucket=bucket, Key="xfer/file.bin")
    assert h["ContentLength"] == len(data)
    assert h["ETag"].endswith('-5"')
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "xfer/file.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == data


def test_awscli_cp_up_and_down(aws_cli, s3, bucket, tmp_path):
    src = tmp_path / "cli.bin"
    size = 101 * MiB + 17
    with open(src, "wb") as f:
        for i in range(0, size, MiB):
            f.write(seeded_bytes(1000 + i // MiB, min(MiB, size - i)))
    aws_cli("s3", "cp", str(src), "s3://%s/cli/big.bin" % bucket, timeout=300)
    h = s3.head_object(Bucket=bucket, Key="cli/big.bin")
    assert h["ContentLength"] == size
    assert "-" in h["ETag"]  # it went multipart
    dst = tmp_path / "cli.out"
    aws_cli("s3", "cp", "s3://%s/cli/big.bin" % bucket, str(dst), timeout=300)
    assert os.path.getsize(dst) == size
    with open(src, "rb") as a, open(dst, "rb") as b:
        while True:
            x, y = a.read(MiB), b.read(MiB)
            assert x == y
            if not x:
                break


# --------------------------------------------------------------------------------------
# listing


def test_list_parts_pagination(s3, raw, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="lp")["UploadId"]
    for pn in range(1, 13):
        s3.upload_part(Bucket=bucket, Key="lp", UploadId=uid, PartNumber=pn * 2,
                       Body=b"x" * pn)
    r = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid, MaxParts=5)
    assert [p["PartNumber"] for p in r["Parts"]] == [2, 4, 6, 8, 10]
    assert r["IsTruncated"] and r["NextPartNumberMarker"] == 10 and r["MaxParts"] == 5
    r = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid, MaxParts=5, PartNumberMarker=10)
    assert [p["PartNumber"] for p in r["Parts"]] == [12, 14, 16, 18, 20]
    r = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid, MaxParts=5, PartNumberMarker=20)
    assert [p["PartNumber"] for p in r["Parts"]] == [22, 24] and not r["IsTruncated"]
    sizes = [p["Size"] for page in s3.get_paginator("list_parts").paginate(
        Bucket=bucket, Key="lp", UploadId=uid, PaginationConfig={"PageSize": 3})
        for p in page["Parts"]]
    assert sizes == list(range(1, 13))
    r = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid)
    assert r["StorageClass"] == "STANDARD" and r["Owner"]["ID"] and r["Initiator"]["ID"]
    for q in ([("max-parts", "x")], [("part-number-marker", "-3")]):
        r = raw.request("GET", "/%s/lp" % bucket, query=[("uploadId", uid)] + q)
        assert (r.status, r.error_code) == (400, "InvalidArgument"), q


def test_list_multipart_uploads(s3, bucket):
    keys = ["a/1", "a/2", "a/2", "b/x/y", "b/z", "c", "c", "c", "d/e"]
    ids = {}
    for k in keys:
        ids.setdefault(k, []).append(s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"])
    r = s3.list_multipart_uploads(Bucket=bucket)
    got = [(u["Key"], u["UploadId"]) for u in r["Uploads"]]
    want = [(k, i) for k in sorted(ids) for i in ids[k]]  # by key, then initiation order
    assert got == want
    assert not r["IsTruncated"]
    u = r["Uploads"][0]
    assert u["StorageClass"] == "STANDARD" and u["Initiated"] and u["Owner"]["ID"]
    # prefix and delimiter
    r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "b/", "d/"]
    assert [u["Key"] for u in r["Uploads"]] == ["c", "c", "c"]
    r = s3.list_multipart_uploads(Bucket=bucket, Prefix="b/", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["b/x/"]
    assert [u["Key"] for u in r["Uploads"]] == ["b/z"]
    # pagination by max-uploads and the markers, with and without a delimiter
    for delim in (None, "/"):
        seen, kw = [], {}
        for _ in range(20):
            args = dict(Bucket=bucket, MaxUploads=2, **kw)
            if delim:
                args["Delimiter"] = delim
            r = s3.list_multipart_uploads(**args)
            seen += [("U", u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]
            seen += [("P", p["Prefix"]) for p in r.get("CommonPrefixes", [])]
            if not r["IsTruncated"]:
                break
            kw = {"KeyMarker": r["NextKeyMarker"], "UploadIdMarker": r.get("NextUploadIdMarker", "")}
        full = s3.list_multipart_uploads(**({"Bucket": bucket, "Delimiter": delim} if delim
                                            else {"Bucket": bucket}))
        want = [("U", u["Key"], u["UploadId"]) for u in full.get("Uploads", [])]
        want += [("P", p["Prefix"]) for p in full.get("CommonPrefixes", [])]
        assert sorted(seen) == sorted(want) and len(seen) == len(want)
    # key-marker alone: keys after it; with upload-id-marker: later uploads of that key too
    r = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="c")
    assert [u["Key"] for u in r["Uploads"]] == ["d/e"]
    r = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="c", UploadIdMarker=ids["c"][0])
    assert [u["UploadId"] for u in r["Uploads"]] == ids["c"][1:] + ids["d/e"]
    # the paginator
    n = sum(len(p.get("Uploads", [])) for p in s3.get_paginator("list_multipart_uploads")
            .paginate(Bucket=bucket, PaginationConfig={"PageSize": 4}))
    assert n == len(keys)


# --------------------------------------------------------------------------------------
# UploadPartCopy


def test_upload_part_copy(s3, raw, bucket):
    src = seeded_bytes(80, 12 * MiB + 3)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    srcetag = s3.head_object(Bucket=bucket, Key="src")["ETag"]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    r1 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "src"},
                             CopySourceRange="bytes=0-%d" % (6 * MiB - 1))
    r2 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2,
                             CopySource="%s/src" % bucket,
                             CopySourceRange="bytes=%d-%d" % (6 * MiB, len(src) - 1),
                             CopySourceIfMatch=srcetag)
    e1, e2 = r1["CopyPartResult"]["ETag"], r2["CopyPartResult"]["ETag"]
    assert e1 == '"%s"' % hashlib.md5(src[:6 * MiB]).hexdigest()
    # a third part: the whole (small) object, no range
    s3.put_object(Bucket=bucket, Key="small", Body=b"tail!")
    r3 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=3,
                             CopySource={"Bucket": bucket, "Key": "small"})
    e3 = r3["CopyPartResult"]["ETag"]
    complete(s3, bucket, "dst", uid, [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2},
                                      {"PartNumber": 3, "ETag": e3}])
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == src + b"tail!"

    # a multipart object as the copy source, across its part boundary
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst2")["UploadId"]
    r = s3.upload_part_copy(Bucket=bucket, Key="dst2", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "dst"},
                            CopySourceRange="bytes=%d-%d" % (6 * MiB - 10, 6 * MiB + 9))
    complete(s3, bucket, "dst2", uid, [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}])
    assert s3.get_object(Bucket=bucket, Key="dst2")["Body"].read() == src[6 * MiB - 10:6 * MiB + 10]

    # errors
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst3")["UploadId"]

    def copy(headers, pn="1", upload=uid):
        h = {"x-amz-copy-source": "/%s/src" % bucket}
        h.update(headers)
        return raw.request("PUT", "/%s/dst3" % bucket,
                           query=[("partNumber", pn), ("uploadId", upload)], headers=h)
    r = copy({"x-amz-copy-source-if-match": '"nope"'})
    assert (r.status, r.error_code) == (412, "PreconditionFailed")
    r = copy({"x-amz-copy-source-if-none-match": srcetag})
    assert (r.status, r.error_code) == (412, "PreconditionFailed")
    for bad in ("bytes=5-2", "bytes=0-", "0-10", "bytes=a-b", "bytes=%d-%d" % (0, len(src))):
        r = copy({"x-amz-copy-source-range": bad})
        assert (r.status, r.error_code) == (400, "InvalidArgument"), bad
    r = copy({}, pn="0")
    assert (r.status, r.error_code) == (400, "InvalidArgument")
    r = copy({}, upload="f" * 32)
    assert (r.status, r.error_code) == (404, "NoSuchUpload")
    r = copy({"x-amz-copy-source": "/%s/missing" % bucket})
    assert (r.status, r.error_code) == (404, "NoSuchKey")
    assert part_numbers(s3, bucket, "dst3", uid) == []


# --------------------------------------------------------------------------------------
# payload modes and checksums for UploadPart


def test_upload_part_payload_modes(s3, raw, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="modes")["UploadId"]
    path = "/%s/modes" % bucket
    datas = {}

    def q(pn):
        return [("partNumber", str(pn)), ("uploadId", uid)]
    # signed payload with Content-MD5
    d = seeded_bytes(90, 5 * MiB)
    r = raw.request("PUT", path, query=q(1), body=d, headers={"Content-MD5": s3sig.md5_b64(d)})
    assert r.status == 200, r
    datas[1] = d
    # unsigned payload
    d = seeded_bytes(91, 5 * MiB)
    r = raw.request("PUT", path, query=q(2), body=d, payload=s3sig.UNSIGNED)
    assert r.status == 200, r
    datas[2] = d
    # aws-chunked, signed chunks
    d = seeded_bytes(92, 5 * MiB + 11)
    amz_date = s3sig.amz_now()
    hdrs = [("Host", raw.hostport), ("x-amz-content-sha256", s3sig.STREAMING_SIGNED),
            ("x-amz-decoded-content-length", str(len(d))), ("Content-Encoding", "aws-chunked")]
    body_len_probe = len(s3sig.aws_chunked_body(d, 64 * 1024, b"k" * 32, "0" * 64, amz_date, "s"))
    hdrs.append(("Content-Length", str(body_len_probe)))
    wpath = s3sig.uri_encode(path)
    sig, key, scope = s3sig.sign_headers("PUT", wpath, q(3), hdrs, s3sig.STREAMING_SIGNED,
                                         raw.access_key, raw.secret, amz_date)
    body = s3sig.aws_chunked_body(d, 64 * 1024, key, sig, amz_date, scope)
    assert len(body) == body_len_probe
    c = raw.connect()
    c.putrequest("PUT", wpath + "?" + s3sig.wire_query(q(3)), skip_host=True,
                 skip_accept_encoding=True)
    for n, v in hdrs:
        c.putheader(n, v)
    c.endheaders()
    c.send(body)
    resp = c.getresponse()
    assert resp.status == 200, resp.read()
    resp.read()
    c.close()
    datas[3] = d
    # unsigned trailer with a CRC32 checksum (the last part)
    d = seeded_bytes(93, 3000)
    body = s3sig.unsigned_trailer_body(d, 1000)
    r = raw.request("PUT", path, query=q(4), body=body,
                    payload=s3sig.STREAMING_UNSIGNED_TRAILER,
                    headers={"Content-Encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32",
                             "x-amz-decoded-content-length": str(len(d))})
    assert r.status == 200, r
    assert r.header("x-amz-checksum-crc32") == s3sig.crc32_b64(d)
    datas[4] = d
    # bad ones leave nothing
    d = seeded_bytes(94, 1000)
    r = raw.request("PUT", path, query=q(5), body=d, headers={"Content-MD5": s3sig.md5_b64(b"x")})
    assert (r.status, r.error_code) == (400, "BadDigest")
    r = raw.request("PUT", path, query=q(5), body=d,
                    headers={"x-amz-checksum-crc32": s3sig.crc32_b64(b"other")})
    assert r.status == 400 and r.error_code in ("BadDigest", "InvalidRequest"), r
    r = raw.request("PUT", path, query=q(5), body=d, payload="0" * 64)
    assert (r.status, r.error_code) == (400, "XAmzContentSHA256Mismatch")
    body = s3sig.aws_chunked_body(d, 256, b"k" * 32, "0" * 64, amz_date, "s")
    r = raw.request("PUT", path, query=q(5), body=body, payload=s3sig.STREAMING_SIGNED,
                    headers={"x-amz-decoded-content-length": str(len(d))})
    assert r.status == 403 and r.error_code == "SignatureDoesNotMatch", r
    assert part_numbers(s3, bucket, "modes", uid) == [1, 2, 3, 4]
    parts = s3.list_parts(Bucket=bucket, Key="modes", UploadId=uid)["Parts"]
    assert parts[3]["ChecksumCRC32"] == s3sig.crc32_b64(datas[4])
    r = complete(s3, bucket, "modes", uid, [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]}
                                            for p in parts])
    assert s3.get_object(Bucket=bucket, Key="modes")["Body"].read() == b"".join(
        datas[i] for i in (1, 2, 3, 4))


def test_checksum_algorithm_composite(s3, bucket):
    parts = [seeded_bytes(100, 5 * MiB), seeded_bytes(101, 1234)]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="ck", ChecksumAlgorithm="SHA256")[
        "UploadId"]
    done, raws = [], []
    for i, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key="ck", UploadId=uid, PartNumber=i, Body=p,
                           ChecksumAlgorithm="SHA256")
        want = base64.b64encode(hashlib.sha256(p).digest()).decode()
        assert r["ChecksumSHA256"] == want
        raws.append(hashlib.sha256(p).digest())
        done.append({"PartNumber": i, "ETag": r["ETag"], "ChecksumSHA256": want})
    lp = s3.list_parts(Bucket=bucket, Key="ck", UploadId=uid)
    assert lp["ChecksumAlgorithm"] == "SHA256"
    assert [p["ChecksumSHA256"] for p in lp["Parts"]] == [d["ChecksumSHA256"] for d in done]
    # a wrong part checksum in Complete is InvalidPart
    bad = [dict(done[0]), done[1]]
    bad[0]["ChecksumSHA256"] = done[1]["ChecksumSHA256"]
    with pytest.raises(ClientError) as e:
        complete(s3, bucket, "ck", uid, bad)
    assert client_error(e) == (400, "InvalidPart")
    comp = base64.b64encode(hashlib.sha256(b"".join(raws)).digest()).decode() + "-2"
    # the object's checksum stated on Complete (x-amz-checksum-sha256) must match
    wrong = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="ck", UploadId=uid,
                                     MultipartUpload={"Parts": done}, ChecksumSHA256=wrong)
    assert client_error(e) == (400, "BadDigest")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="ck", UploadId=uid,
                                     MultipartUpload={"Parts": done},
                                     ChecksumCRC32="AAAAAA==")
    assert client_error(e) == (400, "InvalidRequest")
    r = s3.complete_multipart_upload(Bucket=bucket, Key="ck", UploadId=uid,
                                     MultipartUpload={"Parts": done},
                                     ChecksumSHA256=comp.split("-")[0])
    assert r["ChecksumSHA256"] == comp
    h = s3.head_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
    assert h["ChecksumSHA256"] == comp
    assert s3.get_object(Bucket=bucket, Key="ck")["Body"].read() == b"".join(parts)
    # an unknown algorithm at create
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="ck2", ChecksumAlgorithm="MD4")
    assert client_error(e)[0] == 400


def _checksum_type_kwargs(s3, op, value):
    """ChecksumType=value when this botocore knows the parameter (Debian 12's 1.29 does not:
    it came with S3's full-object checksums); else the x-amz-checksum-type header is added
    to the request by an event hook, which is what the newer parameter sends."""
    shape = s3.meta.service_model.operation_model(op).input_shape
    if "ChecksumType" in shape.members:
        return {"ChecksumType": value}, None

    def add(request, **_):
        request.headers["x-amz-checksum-type"] = value
    s3.meta.events.register_first("before-sign.s3.%s" % op, add)
    return {}, lambda: s3.meta.events.unregister("before-sign.s3.%s" % op, add)


def test_boto3_full_object_checksum_type(s3, bucket):
    """CRC32 with x-amz-checksum-type FULL_OBJECT through boto3: the object's CRC32 is that of
    the whole object (no -N), and botocore's own response check on GET passes."""
    parts = [seeded_bytes(110, 5 * MiB), seeded_bytes(111, 4321)]
    whole = b"".join(parts)
    crc = base64.b64encode((zlib.crc32(whole) & 0xFFFFFFFF).to_bytes(4, "big")).decode()
    kw, undo = _checksum_type_kwargs(s3, "CreateMultipartUpload", "FULL_OBJECT")
    try:
        r = s3.create_multipart_upload(Bucket=bucket, Key="full", ChecksumAlgorithm="CRC32", **kw)
    finally:
        if undo:
            undo()
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"
    uid = r["UploadId"]
    done = []
    for i, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key="full", UploadId=uid, PartNumber=i, Body=p,
                           ChecksumAlgorithm="CRC32")
        done.append({"PartNumber": i, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    lp = s3.list_parts(Bucket=bucket, Key="full", UploadId=uid)
    assert lp["ChecksumAlgorithm"] == "CRC32"
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="full", UploadId=uid,
                                     MultipartUpload={"Parts": done}, ChecksumCRC32="AAAAAA==")
    assert client_error(e) == (400, "BadDigest")
    r = s3.complete_multipart_upload(Bucket=bucket, Key="full", UploadId=uid,
                                     MultipartUpload={"Parts": done}, ChecksumCRC32=crc)
    assert r["ChecksumCRC32"] == crc
    g = s3.get_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")
    assert g["ChecksumCRC32"] == crc
    assert g["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"
    assert g["Body"].read() == whole  # botocore checks the CRC32 of what it read
    a = s3.get_object_attributes(Bucket=bucket, Key="full",
                                 ObjectAttributes=["Checksum", "ObjectParts"])
    assert a["Checksum"]["ChecksumCRC32"] == crc
    assert a["ObjectParts"] == {"TotalPartsCount": 2}  # no part list for FULL_OBJECT
    # SHA256 cannot be FULL_OBJECT
    kw, undo = _checksum_type_kwargs(s3, "CreateMultipartUpload", "FULL_OBJECT")
    try:
        with pytest.raises(ClientError) as e:
            s3.create_multipart_upload(Bucket=bucket, Key="x", ChecksumAlgorithm="SHA256", **kw)
    finally:
        if undo:
            undo()
    assert client_error(e) == (400, "InvalidRequest")


# --------------------------------------------------------------------------------------
# errors: nothing half-written visible


def complete_xml(raw, bucket, key, uid, body):
    return raw.request("POST", "/%s/%s" % (bucket, key), query=[("uploadId", uid)],
                       body=body.encode() if isinstance(body, str) else body)


def test_complete_errors(s3, raw, bucket):
    s3.put_object(Bucket=bucket, Key="ce", Body=b"previous")
    parts = [seeded_bytes(110, 5 * MiB), seeded_bytes(111, 100), seeded_bytes(112, 5 * MiB)]
    uid, done = upload(s3, bucket, "ce", parts)

    def expect(plist, status, code):
        with pytest.raises(ClientError) as e:
            complete(s3, bucket, "ce", uid, plist)
        assert client_error(e) == (status, code), plist
    expect([done[1], done[0]], 400, "InvalidPartOrder")
    expect([done[0], done[0]], 400, "InvalidPartOrder")
    expect([done[0], {"PartNumber": 7, "ETag": done[1]["ETag"]}], 400, "InvalidPart")
    expect([{"PartNumber": 1, "ETag": done[2]["ETag"]}], 400, "InvalidPart")
    expect([{"PartNumber": 1, "ETag": '"0123456789abcdef0123456789abcdef"'}], 400, "InvalidPart")
    expect([done[0], done[1], done[2]], 400, "EntityTooSmall")
    # malformed and odd XML
    for body in ("", "<CompleteMultipartUpload>", "not xml",
                 "<CompleteMultipartUpload></CompleteMultipartUpload>",
                 "<Other><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Other>",
                 "<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>",
                 "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>x</ETag></Part>"
                 "</CompleteMultipartUpload>"):
        r = complete_xml(raw, bucket, "ce", uid, body)
        assert (r.status, r.error_code) == (400, "MalformedXML"), body
    for pn in ("0", "10001"):
        r = complete_xml(raw, bucket, "ce", uid,
                         "<CompleteMultipartUpload><Part><PartNumber>%s</PartNumber><ETag>x</ETag>"
                         "</Part></CompleteMultipartUpload>" % pn)
        assert (r.status, r.error_code) == (400, "InvalidArgument"), pn
    r = complete_xml(raw, bucket, "ce", "nope", "<CompleteMultipartUpload/>")
    assert (r.status, r.error_code) == (404, "NoSuchUpload")
    r = complete_xml(raw, bucket, "other-key", uid, "<CompleteMultipartUpload/>")
    assert (r.status, r.error_code) == (404, "NoSuchUpload")
    # a failed precondition
    r = raw.request("POST", "/%s/ce" % bucket, query=[("uploadId", uid)],
                    headers={"If-None-Match": "*"},
                    body=("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag>"
                          "</Part></CompleteMultipartUpload>" % done[0]["ETag"]).encode())
    assert (r.status, r.error_code) == (412, "PreconditionFailed")
    # through all of that: the old object, the upload intact
    assert s3.get_object(Bucket=bucket, Key="ce")["Body"].read() == b"previous"
    assert part_numbers(s3, bucket, "ce", uid) == [1, 2, 3]
    # quoted, unquoted and &quot; ETags all work
    body = ("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>&quot;%s&quot;</ETag></Part>"
            "</CompleteMultipartUpload>" % (done[0]["ETag"].strip('"'),
                                            done[1]["ETag"].strip('"')))
    r = complete_xml(raw, bucket, "ce", uid, body)
    assert r.status == 200, r
    assert r.xml.findtext("{http://s3.amazonaws.com/doc/2006-03-01/}ETag") == md5_etag(parts[:2])
    assert s3.get_object(Bucket=bucket, Key="ce")["Body"].read() == parts[0] + parts[1]


def test_upload_part_errors(s3, raw, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="pe")["UploadId"]
    path = "/%s/pe" % bucket
    for pn in ("0", "10001", "abc", "-1", ""):
        r = raw.request("PUT", path, query=[("partNumber", pn), ("uploadId", uid)], body=b"x")
        assert (r.status, r.error_code) == (400, "InvalidArgument"), pn
    r = raw.request("PUT", path, query=[("partNumber", "10000"), ("uploadId", uid)], body=b"x")
    assert r.status == 200
    for bogus in ("", "nope", "0" * 32, uid[:-1] + ("0" if uid[-1] != "0" else "1"), uid + "00"):
        r = raw.request("PUT", path, query=[("partNumber", "1"), ("uploadId", bogus)], body=b"x")
        assert (r.status, r.error_code) == (404, "NoSuchUpload"), bogus
        r = raw.request("GET", path, query=[("uploadId", bogus)])
        assert (r.status, r.error_code) == (404, "NoSuchUpload"), bogus
        r = raw.request("DELETE", path, query=[("uploadId", bogus)])
        assert (r.status, r.error_code) == (404, "NoSuchUpload"), bogus
    # an upload id of another key
    r = raw.request("PUT", "/%s/other" % bucket, query=[("partNumber", "1"), ("uploadId", uid)],
                    body=b"x")
    assert (r.status, r.error_code) == (404, "NoSuchUpload")
    # a part over 5 GiB is refused from its Content-Length, before any byte
    head, *_ = raw.signed_head_bytes("PUT", path, [("Content-Length", str(5 * GiB + 1))],
                                     s3sig.UNSIGNED, query=[("partNumber", "2"), ("uploadId", uid)])
    resp = s3sig.parse_raw_response(s3sig.raw_exchange(raw.host, raw.port, head, timeout=10))
    assert resp is not None and (resp.status, resp.error_code) == (400, "EntityTooLarge"), resp
    # exactly 5 GiB is allowed to start (not sent here)
    # a truncated part (connection closed mid-body) leaves nothing
    head, *_ = raw.signed_head_bytes("PUT", path, [("Content-Length", "100000")], s3sig.UNSIGNED,
                                     query=[("partNumber", "3"), ("uploadId", uid)])
    with socket.create_connection((raw.host, raw.port), timeout=10) as sock:
        sock.sendall(head + b"z" * 50000)
        sock.shutdown(socket.SHUT_WR)
        try:
            sock.recv(1000)
        except OSError:
            pass
    # an aws-chunked part whose decoded length is short
    d = seeded_bytes(120, 1000)
    body = s3sig.unsigned_trailer_body(d, 500)
    r = raw.request("PUT", path, query=[("partNumber", "4"), ("uploadId", uid)], body=body,
                    payload=s3sig.STREAMING_UNSIGNED_TRAILER,
                    headers={"Content-Encoding": "aws-chunked",
                             "x-amz-trailer": "x-amz-checksum-crc32",
                             "x-amz-decoded-content-length": "1001"})
    assert r.status == 400, r
    time.sleep(0.2)
    assert part_numbers(s3, bucket, "pe", uid) == [10000]
    # missing Content-Length
    r = raw.request("PUT", path, query=[("partNumber", "5"), ("uploadId", uid)], body=b"",
                    content_length=False)
    assert r.status in (411, 400), r
    assert_absent(s3, bucket, "pe")


def test_bad_list_arguments(raw, bucket):
    r = raw.request("GET", "/%s" % bucket, query=[("uploads", None), ("max-uploads", "x")])
    assert (r.status, r.error_code) == (400, "InvalidArgument")
    r = raw.request("GET", "/%s" % bucket, query=[("uploads", None), ("encoding-type", "zip")])
    assert (r.status, r.error_code) == (400, "InvalidArgument")
    r = raw.request("GET", "/nosuchbucket-%s" % unique_name(), query=[("uploads", None)])
    assert (r.status, r.error_code) == (404, "NoSuchBucket")
    r = raw.request("POST", "/nosuchbucket-%s/k" % unique_name(), query=[("uploads", None)])
    assert (r.status, r.error_code) == (404, "NoSuchBucket")


def test_other_account_denied(s3, bucket, second_account):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mine")["UploadId"]
    for call in (lambda: second_account.s3.upload_part(Bucket=bucket, Key="mine", UploadId=uid,
                                                       PartNumber=1, Body=b"x"),
                 lambda: second_account.s3.list_parts(Bucket=bucket, Key="mine", UploadId=uid),
                 lambda: second_account.s3.list_multipart_uploads(Bucket=bucket),
                 lambda: second_account.s3.abort_multipart_upload(Bucket=bucket, Key="mine",
                                                                  UploadId=uid)):
        with pytest.raises(ClientError) as e:
            call()
        assert client_error(e) == (403, "AccessDenied")


# --------------------------------------------------------------------------------------
# big objects: streamed through with bounded server memory


class RssSampler:
    """Samples VmRSS of a process from /proc/<pid>/status every `interval` seconds."""

    def __init__(self, pid, interval=0.1):
        self.pid, self.interval = pid, interval
        self.max_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        self.max_kib = max(self.max_kib, int(line.split()[1]))
                        self.samples += 1
                        return
        except OSError:
            pass

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._sample()
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self._sample()


BLOCK = seeded_bytes(4242, MiB)


def gen_part(pn, size):
    """Deterministic bytes of part pn, generated in 1 MiB pieces (a rotation of one random
    block, different per piece and part), so no big buffer or file is ever needed."""
    off = 0
    i = 0
    while off < size:
        r = (pn * 7919 + i * 104729) % len(BLOCK)
        piece = BLOCK[r:] + BLOCK[:r]
        n = min(len(piece), size - off)
        yield piece[:n] if n < len(piece) else piece
        off += n
        i += 1


def stream_put_part(raw, bucket, key, uid, pn, size, hasher):
    path = s3sig.uri_encode("/%s/%s" % (bucket, key))
    query = [("partNumber", str(pn)), ("uploadId", uid)]
    hdrs = [("Host", raw.hostport), ("x-amz-content-sha256", s3sig.UNSIGNED),
            ("Content-Length", str(size))]
    s3sig.sign_headers("PUT", path, query, hdrs, s3sig.UNSIGNED, raw.access_key, raw.secret,
                       s3sig.amz_now())
    c = http.client.HTTPConnection(raw.host, raw.port, timeout=300)
    try:
        c.putrequest("PUT", path + "?" + s3sig.wire_query(query), skip_host=True,
                     skip_accept_encoding=True)
        for n, v in hdrs:
            c.putheader(n, v)
        c.endheaders()
        md5 = hashlib.md5()
        for piece in gen_part(pn, size):
            hasher.update(piece)
            md5.update(piece)
            c.send(piece)
        r = c.getresponse()
        body = r.read()
        assert r.status == 200, body
        etag = r.getheader("ETag")
        assert etag == '"%s"' % md5.hexdigest()
        return etag, md5.digest()
    finally:
        c.close()


def stream_get(raw, bucket, key, hasher):
    path = s3sig.uri_encode("/%s/%s" % (bucket, key))
    hdrs = [("Host", raw.hostport), ("x-amz-content-sha256", s3sig.EMPTY_SHA256)]
    s3sig.sign_headers("GET", path, [], hdrs, s3sig.EMPTY_SHA256, raw.access_key, raw.secret,
                       s3sig.amz_now())
    c = http.client.HTTPConnection(raw.host, raw.port, timeout=300)
    try:
        c.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        for n, v in hdrs:
            c.putheader(n, v)
        c.endheaders()
        r = c.getresponse()
        assert r.status == 200
        n = 0
        while True:
            b = r.read(4 * MiB)
            if not b:
                break
            hasher.update(b)
            n += len(b)
        return n, r.getheader("ETag")
    finally:
        c.close()


def big_roundtrip(server, s3, raw, bucket, total, part_size, report=None):
    """Streams `total` bytes through a multipart upload and back, checking a running SHA-256 and
    the ETag, while sampling the server's RSS. Returns (max RSS KiB, seconds)."""
    key = "big/%d" % total
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    up_hash, down_hash = hashlib.sha256(), hashlib.sha256()
    t0 = time.monotonic()
    with RssSampler(server.proc.pid) as rss:
        parts, md5s = [], []
        pn, off = 1, 0
        while off < total:
            size = min(part_size, total - off)
            etag, d = stream_put_part(raw, bucket, key, uid, pn, size, up_hash)
            parts.append({"PartNumber": pn, "ETag": etag})
            md5s.append(d)
            off += size
            pn += 1
        t_up = time.monotonic()
        r = complete(s3, bucket, key, uid, parts)
        want_etag = '"%s-%d"' % (hashlib.md5(b"".join(md5s)).hexdigest(), len(parts))
        assert r["ETag"] == want_etag
        t_done = time.monotonic()
        n, etag = stream_get(raw, bucket, key, down_hash)
        t_down = time.monotonic()
    assert n == total
    assert etag == want_etag
    assert down_hash.hexdigest() == up_hash.hexdigest()
    # a range read deep inside, across a part boundary
    if len(parts) > 1:
        first = part_size - 5
        r = raw.get(bucket, key, headers={"Range": "bytes=%d-%d" % (first, first + 9)})
        for last_piece in gen_part(1, part_size):
            pass
        want = last_piece[-5:] + next(gen_part(2, part_size))[:5]
        assert r.status == 206 and r.body == want
    if total > 5 * GiB:
        # the copy-source limits: CopyObject copies at most 5 GiB, UploadPartCopy a 5 GiB range
        r = raw.request("PUT", "/%s/copy-of-big" % bucket,
                        headers={"x-amz-copy-source": "/%s/%s" % (bucket, key)})
        assert (r.status, r.error_code) == (400, "InvalidRequest"), r
        uid2 = s3.create_multipart_upload(Bucket=bucket, Key="copy-of-big")["UploadId"]
        r = raw.request("PUT", "/%s/copy-of-big" % bucket,
                        query=[("partNumber", "1"), ("uploadId", uid2)],
                        headers={"x-amz-copy-source": "/%s/%s" % (bucket, key)})
        assert (r.status, r.error_code) == (400, "InvalidRequest"), r
        s3.abort_multipart_upload(Bucket=bucket, Key="copy-of-big", UploadId=uid2)
        assert_absent(s3, bucket, "copy-of-big")
    s3.delete_object(Bucket=bucket, Key=key)
    secs = t_down - t0
    line = ("big multipart roundtrip: %.1f GiB in %d parts of %d MiB: upload %.1fs, complete "
            "%.2fs, download %.1fs, total %.1fs; server max RSS %.1f MiB (%d samples)"
            % (total / GiB, len(parts), part_size // MiB, t_up - t0, t_done - t_up,
               t_down - t_done, secs, rss.max_kib / 1024, rss.samples))
    print(line)
    if report:
        with open(report, "a") as f:
            f.write(line + "\n")
    return rss.max_kib, secs


def sanitized():
    return "asan" in os.environ.get("STRATA_BIN", "") or "ASAN_OPTIONS" in os.environ


def test_big_object_1gib_bounded_memory(server, s3, raw, bucket):
    max_kib, _ = big_roundtrip(server, s3, raw, bucket, GiB + 12345, 64 * MiB)
    if not sanitized():  # ASan's shadow memory and quarantine are not the server's own
        assert max_kib < 100 * 1024, "server RSS reached %.1f MiB" % (max_kib / 1024)


@pytest.mark.skipif(os.environ.get("STRATA_BIG") != "1",
                    reason="streams >= 20 GiB: run with `make test-big` (STRATA_BIG=1)")
def test_big_object_20gib_bounded_memory(server, s3, raw, bucket):
    size = int(float(os.environ.get("STRATA_BIG_GIB", "20")) * GiB) + 7
    max_kib, _ = big_roundtrip(server, s3, raw, bucket, size, 256 * MiB,
                               report=os.environ.get("STRATA_BIG_REPORT"))
    assert max_kib < 100 * 1024, "server RSS reached %.1f MiB" % (max_kib / 1024)
