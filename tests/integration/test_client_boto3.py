"""boto3 (Debian's python3-boto3) against Strata, the way applications use it: managed transfers
(upload_file/download_file/upload_fileobj/download_fileobj with a multipart TransferConfig),
paginators, resource collections, versions. The flows are listed in docs/compatibility.md."""
import base64
import hashlib
import io
import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import make_boto3, unique_name

MiB = 1024 * 1024
TC = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture(scope="module")
def s3t(server):
    """A client with a connection pool large enough for max_concurrency=4 and parallel puts."""
    return make_boto3(server.endpoint, server.access_key, server.secret_key,
                      max_pool_connections=16)


def test_upload_download_file_multipart(s3t, bucket, tmp_path):
    src = tmp_path / "big.bin"
    size = 50 * MiB + 12345
    with open(src, "wb") as f:
        for _ in range(50):
            f.write(os.urandom(MiB))
        f.write(os.urandom(12345))
    s3t.upload_file(str(src), bucket, "big/big.bin", Config=TC,
                    ExtraArgs={"Metadata": {"origin": "boto3"},
                               "ContentType": "application/x-test"})
    head = s3t.head_object(Bucket=bucket, Key="big/big.bin")
    assert head["ContentLength"] == size
    assert head["ETag"].endswith('-7"'), head["ETag"]         # ceil(50 MiB / 8 MiB)
    assert head["Metadata"] == {"origin": "boto3"} and head["ContentType"] == "application/x-test"
    # the multipart ETag: MD5 of the parts' MD5s, "-" the part count
    with open(src, "rb") as f:
        md5s = b"".join(hashlib.md5(c).digest() for c in iter(lambda: f.read(8 * MiB), b""))
    assert head["ETag"] == '"%s-7"' % hashlib.md5(md5s).hexdigest()

    dst = tmp_path / "down.bin"
    s3t.download_file(bucket, "big/big.bin", str(dst), Config=TC)   # ranged GETs in parallel
    assert dst.stat().st_size == size and sha256_file(dst) == sha256_file(src)
    assert s3t.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    # managed copy: multipart UploadPartCopy above the threshold
    s3t.copy({"Bucket": bucket, "Key": "big/big.bin"}, bucket, "big/copy.bin", Config=TC)
    h2 = s3t.head_object(Bucket=bucket, Key="big/copy.bin")
    assert h2["ContentLength"] == size and h2["ETag"].endswith('-7"'), h2
    r = s3t.get_object(Bucket=bucket, Key="big/copy.bin",
                       Range="bytes=%d-%d" % (size - 100, size - 1))
    with open(src, "rb") as f:
        f.seek(size - 100)
        assert r["Body"].read() == f.read()


def test_upload_download_fileobj(s3t, bucket):
    data = os.urandom(20 * MiB + 7)
    s3t.upload_fileobj(io.BytesIO(data), bucket, "obj/stream.bin", Config=TC)
    assert s3t.head_object(Bucket=bucket, Key="obj/stream.bin")["ETag"].endswith('-3"')
    out = io.BytesIO()
    s3t.download_fileobj(bucket, "obj/stream.bin", out, Config=TC)
    assert out.getvalue() == data
    # below the threshold: a single PutObject with a plain MD5 ETag
    small = b"small payload\n" * 100
    s3t.upload_fileobj(io.BytesIO(small), bucket, "obj/small.txt", Config=TC)
    head = s3t.head_object(Bucket=bucket, Key="obj/small.txt")
    assert head["ETag"] == '"%s"' % hashlib.md5(small).hexdigest()
    out = io.BytesIO()
    s3t.download_fileobj(bucket, "obj/small.txt", out, Config=TC)
    assert out.getvalue() == small
    # an empty object
    s3t.upload_fileobj(io.BytesIO(b""), bucket, "obj/empty", Config=TC)
    out = io.BytesIO()
    s3t.download_fileobj(bucket, "obj/empty", out)
    assert out.getvalue() == b""


def test_transfers_with_checksums(s3t, bucket):
    """upload_fileobj with ChecksumAlgorithm: every part carries the checksum, and the object
    gets S3's composite value: base64(ALGO(part values concatenated)) + "-N"."""
    data = os.urandom(17 * MiB)
    parts = [data[i:i + 8 * MiB] for i in range(0, len(data), 8 * MiB)]
    want = {
        "CRC32": base64.b64encode(struct.pack(">I", zlib.crc32(b"".join(
            struct.pack(">I", zlib.crc32(p)) for p in parts)))).decode() + "-3",
        "SHA256": base64.b64encode(hashlib.sha256(b"".join(
            hashlib.sha256(p).digest() for p in parts)).digest()).decode() + "-3",
    }
    for algo, value in want.items():
        key = "ck/" + algo
        s3t.upload_fileobj(io.BytesIO(data), bucket, key, Config=TC,
                           ExtraArgs={"ChecksumAlgorithm": algo})
        head = s3t.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert head.get("Checksum" + algo) == value, head
        attrs = s3t.get_object_attributes(Bucket=bucket, Key=key,
                                          ObjectAttributes=["Checksum", "ObjectParts"])
        # S3 gives the composite value here without its "-N", and lists the parts
        assert attrs["Checksum"]["Checksum" + algo] == value.split("-")[0], attrs
        assert attrs["ObjectParts"]["TotalPartsCount"] == 3, attrs
        assert [p["Size"] for p in attrs["ObjectParts"]["Parts"]] == [len(p) for p in parts]
        assert all(p.get("Checksum" + algo) for p in attrs["ObjectParts"]["Parts"]), attrs
        out = io.BytesIO()
        s3t.download_fileobj(bucket, key, out, Config=TC)
        assert out.getvalue() == data
    # a single PUT below the threshold: the plain value, verified by botocore on GET
    small = b"checksummed" * 100
    s3t.upload_fileobj(io.BytesIO(small), bucket, "ck/small", Config=TC,
                       ExtraArgs={"ChecksumAlgorithm": "SHA256"})
    r = s3t.get_object(Bucket=bucket, Key="ck/small", ChecksumMode="ENABLED")
    assert r["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(small).digest()).decode()
    assert r["Body"].read() == small


N_KEYS = 2500


@pytest.fixture(scope="module")
def many(s3t):
    """A bucket with 2,500 partition-style keys: year=2026/month=MM/day=DD/part-N.csv."""
    name = unique_name("pages")
    s3t.create_bucket(Bucket=name)
    ks = ["year=2026/month=%02d/day=%02d/part-%03d.csv" % (1 + i % 12, 1 + (i // 12) % 28, i)
          for i in range(N_KEYS)]
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda k: s3t.put_object(Bucket=name, Key=k, Body=k.encode()), ks))
    return name, sorted(ks)


def test_paginator_list_objects_v2(s3t, many):
    name, ks = many
    pages = list(s3t.get_paginator("list_objects_v2").paginate(
        Bucket=name, PaginationConfig={"PageSize": 1000}))
    assert [p["KeyCount"] for p in pages] == [1000, 1000, 500]
    assert [o["Key"] for p in pages for o in p["Contents"]] == ks
    assert [p["IsTruncated"] for p in pages] == [True, True, False]

    # the high-level search and MaxItems/StartingToken resume
    it = s3t.get_paginator("list_objects_v2").paginate(
        Bucket=name, Prefix="year=2026/month=03/", PaginationConfig={"PageSize": 70})
    got = list(it.search("Contents[].Key"))
    assert got == [k for k in ks if k.startswith("year=2026/month=03/")]
    first = s3t.get_paginator("list_objects_v2").paginate(
        Bucket=name, PaginationConfig={"PageSize": 300, "MaxItems": 450}).build_full_result()
    assert [o["Key"] for o in first["Contents"]] == ks[:450]
    rest = s3t.get_paginator("list_objects_v2").paginate(
        Bucket=name, PaginationConfig={"PageSize": 1000, "StartingToken": first["NextToken"]}
    ).build_full_result()
    assert [o["Key"] for o in rest["Contents"]] == ks[450:]

    # StartAfter
    r = s3t.get_paginator("list_objects_v2").paginate(
        Bucket=name, StartAfter=ks[2400]).build_full_result()
    assert [o["Key"] for o in r["Contents"]] == ks[2401:]


def test_paginator_delimiter(s3t, many):
    name, ks = many
    pages = list(s3t.get_paginator("list_objects_v2").paginate(
        Bucket=name, Prefix="year=2026/", Delimiter="/", PaginationConfig={"PageSize": 5}))
    prefixes = [cp["Prefix"] for p in pages for cp in p.get("CommonPrefixes", [])]
    assert prefixes == ["year=2026/month=%02d/" % m for m in range(1, 13)]
    assert len(pages) == 3 and not any(p.get("Contents") for p in pages)

    # one level further down: days as prefixes, each once across pages
    pages = list(s3t.get_paginator("list_objects_v2").paginate(
        Bucket=name, Prefix="year=2026/month=05/", Delimiter="/",
        PaginationConfig={"PageSize": 10}))
    days = [cp["Prefix"] for p in pages for cp in p.get("CommonPrefixes", [])]
    want = sorted({k[:len("year=2026/month=05/day=DD/")] for k in ks
                   if k.startswith("year=2026/month=05/")})
    assert days == want

    # ListObjects (V1) paginator with Marker/NextMarker under the hood
    v1 = list(s3t.get_paginator("list_objects").paginate(
        Bucket=name, Prefix="year=2026/month=1", PaginationConfig={"PageSize": 100}))
    got = [o["Key"] for p in v1 for o in p.get("Contents", [])]
    assert got == [k for k in ks if k.startswith("year=2026/month=1")]
    assert len(v1) == -(-len(got) // 100)
    v1 = list(s3t.get_paginator("list_objects").paginate(
        Bucket=name, Prefix="year=2026/", Delimiter="/", PaginationConfig={"PageSize": 5}))
    assert [cp["Prefix"] for p in v1 for cp in p.get("CommonPrefixes", [])] == \
        ["year=2026/month=%02d/" % m for m in range(1, 13)]


def test_resource_collections(server, s3t, many):
    import boto3
    from botocore.config import Config
    res = boto3.session.Session().resource(
        "s3", endpoint_url=server.endpoint, aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=Config(region_name="us-east-1", s3={"addressing_style": "path"},
                      retries={"total_max_attempts": 1}))
    name, ks = many
    b = res.Bucket(name)
    assert sum(1 for _ in b.objects.page_size(1000)) == N_KEYS
    assert [o.key for o in b.objects.filter(Prefix="year=2026/month=12/day=01/")] == \
        [k for k in ks if k.startswith("year=2026/month=12/day=01/")]
    # batch delete through the collection: DeleteObjects, up to 1000 keys a request
    gone = [k for k in ks if k.startswith("year=2026/month=12/")]
    b.objects.filter(Prefix="year=2026/month=12/").delete()
    left = [o.key for o in b.objects.all()]
    assert left == [k for k in ks if k not in set(gone)]
    assert res.Object(name, left[0]).get()["Body"].read() == left[0].encode()


def test_paginators_multipart(s3t, bucket):
    ups = [s3t.create_multipart_upload(Bucket=bucket, Key="mp/%d" % i)["UploadId"]
           for i in range(5)]
    pages = list(s3t.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}))
    got = [(u["Key"], u["UploadId"]) for p in pages for u in p.get("Uploads", [])]
    assert sorted(got) == sorted(("mp/%d" % i, u) for i, u in enumerate(ups))
    assert len(pages) == 3

    part = b"p" * (5 * MiB)
    for n in range(1, 5):
        s3t.upload_part(Bucket=bucket, Key="mp/0", UploadId=ups[0], PartNumber=n,
                        Body=part if n < 4 else b"tail")
    pages = list(s3t.get_paginator("list_parts").paginate(
        Bucket=bucket, Key="mp/0", UploadId=ups[0], PaginationConfig={"PageSize": 3}))
    assert [pt["PartNumber"] for p in pages for pt in p["Parts"]] == [1, 2, 3, 4]
    assert len(pages) == 2
    for i, u in enumerate(ups):
        s3t.abort_multipart_upload(Bucket=bucket, Key="mp/%d" % i, UploadId=u)
    assert s3t.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def versioning_or_skip(s3t, bucket):
    try:
        s3t.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    except ClientError as e:
        if e.response["Error"]["Code"] == "NotImplemented":
            pytest.skip("versioning not implemented by this server yet: %s"
                        % e.response["Error"].get("Message"))
        raise


def test_versions(s3t, bucket, tmp_path):
    versioning_or_skip(s3t, bucket)
    vids = {}
    for k, n in (("a.txt", 3), ("b.txt", 2), ("c.txt", 1)):
        vids[k] = [s3t.put_object(Bucket=bucket, Key=k, Body=("%s v%d" % (k, i)).encode())
                   ["VersionId"] for i in range(n)]
    marker = s3t.delete_object(Bucket=bucket, Key="c.txt")
    assert marker.get("DeleteMarker") is True
    # a multipart upload makes a version too
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * MiB))
    s3t.upload_file(str(big), bucket, "a.txt", Config=TC)

    pages = list(s3t.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}))
    vers = [(v["Key"], v["VersionId"], v["IsLatest"]) for p in pages for v in p.get("Versions", [])]
    dms = [(d["Key"], d["VersionId"], d["IsLatest"]) for p in pages
           for d in p.get("DeleteMarkers", [])]
    assert len(pages) >= 4
    assert len(vers) == 3 + 1 + 2 + 1 and dms == [("c.txt", marker["VersionId"], True)]
    by_key = {}
    for k, v, latest in vers:
        by_key.setdefault(k, []).append((v, latest))
    assert [v for v, _ in by_key["a.txt"]][1:] == vids["a.txt"][::-1]     # newest first
    assert [l for _, l in by_key["a.txt"]] == [True, False, False, False]
    assert [v for v, _ in by_key["b.txt"]] == vids["b.txt"][::-1]
    assert by_key["c.txt"] == [(vids["c.txt"][0], False)]

    # an old version through the managed download, by VersionId
    out = io.BytesIO()
    s3t.download_fileobj(bucket, "a.txt", out, ExtraArgs={"VersionId": vids["a.txt"][1]})
    assert out.getvalue() == b"a.txt v1"
    dst = tmp_path / "latest.bin"
    s3t.download_file(bucket, "a.txt", str(dst), Config=TC)
    assert sha256_file(dst) == sha256_file(big)
