"""The AWS CLI (Debian's /usr/bin/aws) against Strata: the `aws s3` commands people type
(cp with a multipart upload over 100 MiB, sync of a partitioned tree, mv, rm, ls) and
`aws s3api` for every S3 operation the server implements. Operations it does not implement
yet are listed in docs/compatibility.md as "not yet" and checked to fail cleanly (501
NotImplemented), not to work.

Every test runs the CLI with a private HOME and config; the CLI starts slowly (about a second
of Python imports), so the flows are grouped to keep the number of invocations down."""
import base64
import filecmp
import hashlib
import json
import os
import re
import subprocess
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from conftest import AWS_CLI, client_env, run_client, seeded_bytes, unique_name

MiB = 1024 * 1024
# keys every client must encode right: space, +, %, non-ASCII, ?, &, =, ~, brackets, quotes
ODD_NAMES = ["odd names/with space+plus%41 é?&=.csv", "odd names/tilde~(1)[2]'q,@$!.csv"]


@pytest.fixture
def aws(server, tmp_path):
    """aws(*args, check=True) -> CompletedProcess; aws.api(*args) -> parsed JSON output."""
    if not os.access(AWS_CLI, os.X_OK):
        pytest.fail("%s missing: apt-get install awscli (scripts/deps.sh does)" % AWS_CLI)
    cfg = tmp_path / "aws-config"
    cfg.write_text("[default]\nregion = us-east-1\noutput = json\ns3 =\n"
                   "  addressing_style = path\n")
    env = client_env(tmp_path / "home",
                     AWS_ACCESS_KEY_ID=server.access_key,
                     AWS_SECRET_ACCESS_KEY=server.secret_key,
                     AWS_DEFAULT_REGION="us-east-1",
                     AWS_CONFIG_FILE=cfg,
                     AWS_SHARED_CREDENTIALS_FILE=tmp_path / "no-credentials",
                     AWS_EC2_METADATA_DISABLED="true",
                     AWS_PAGER="",
                     AWS_MAX_ATTEMPTS="1")

    def run(*args, check=True, timeout=120, cwd=None):
        return run_client([AWS_CLI, "--endpoint-url", server.endpoint, "--no-cli-pager"]
                          + list(args), env, timeout=timeout, cwd=cwd, check=check)

    run.env = env
    run.base = [AWS_CLI, "--endpoint-url", server.endpoint, "--no-cli-pager"]

    def api(*args, **kw):
        p = run("s3api", *args, **kw)
        return json.loads(p.stdout) if p.stdout.strip() else {}
    run.api = api
    return run


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def keys(s3, bucket, prefix=""):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return sorted(out)


def in_parallel(*groups):
    """Runs independent groups of CLI steps two at a time: each `aws` start costs about a
    second of CPU, and the machine has at least two cores. Re-raises the first failure."""
    with ThreadPoolExecutor(2) as ex:
        for f in [ex.submit(g) for g in groups]:
            f.result()


def s3_error(call, **kw):
    """The S3 error code of a boto3 call expected to fail (checks state without a CLI start)."""
    with pytest.raises(ClientError) as ei:
        call(**kw)
    return ei.value.response["Error"]["Code"]


def files_under(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def make_tree(root, rels):
    for r in rels:
        p = root / r
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(seeded_bytes(r, 300 + 11 * len(r)))


# ---- aws s3 ----------------------------------------------------------------------------------


def test_s3_cp_multipart_120mib(aws, s3, tmp_path):
    bucket = unique_name("clibig")
    aws("s3", "mb", "s3://" + bucket)
    src = tmp_path / "big.bin"
    size = 120 * MiB
    h = hashlib.sha256()
    with open(src, "wb") as f:
        for _ in range(size // (4 * MiB)):
            chunk = os.urandom(4 * MiB)
            h.update(chunk)
            f.write(chunk)
    p = aws("s3", "cp", "--no-progress", src, "s3://%s/big/big.bin" % bucket, timeout=300)
    assert "upload:" in p.stdout, p.stdout
    head = s3.head_object(Bucket=bucket, Key="big/big.bin")
    assert head["ContentLength"] == size
    assert head["ETag"].endswith('-15"'), head["ETag"]        # 8 MiB parts (CLI default)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    dst = tmp_path / "down.bin"
    p = aws("s3", "cp", "--no-progress", "s3://%s/big/big.bin" % bucket, dst, timeout=300)
    assert "download:" in p.stdout, p.stdout
    assert dst.stat().st_size == size and sha256_file(dst) == h.hexdigest()
    p = aws("s3", "rb", "--force", "s3://" + bucket)
    assert "remove_bucket: %s" % bucket in p.stdout, p.stdout


def test_s3_sync_partitioned_tree(aws, s3, tmp_path):
    bucket = unique_name("clisync")
    aws("s3", "mb", "s3://" + bucket)
    src = tmp_path / "src"
    rels = ["year=2026/month=%02d/day=%02d/part-%05d.csv" % (m, d, n)
            for m in (10, 11) for d in (1, 2, 3) for n in range(3)]
    rels += ["_SUCCESS", "notes.tmp"] + ODD_NAMES
    make_tree(src, rels)

    p = aws("s3", "sync", "--no-progress", "--exclude", "*.tmp", src, "s3://%s/lake/" % bucket)
    synced = [r for r in rels if not r.endswith(".tmp")]
    assert keys(s3, bucket) == sorted("lake/" + r for r in synced)
    p = aws("s3", "sync", "--no-progress", "--exclude", "*.tmp", src, "s3://%s/lake/" % bucket)
    assert p.stdout.strip() == "", p.stdout                  # nothing changed, nothing sent

    # change (size differs), add, remove; --delete mirrors the removal
    (src / rels[0]).write_bytes(b"rewritten")
    (src / "year=2026/month=12/day=01").mkdir(parents=True)
    (src / "year=2026/month=12/day=01/part-00000.csv").write_bytes(b"new")
    (src / rels[1]).unlink()
    p = aws("s3", "sync", "--no-progress", "--delete", "--exclude", "*.tmp", src,
            "s3://%s/lake/" % bucket)
    lines = p.stdout.splitlines()
    assert sum(l.startswith("upload:") for l in lines) == 2, p.stdout
    assert sum(l.startswith("delete:") for l in lines) == 1, p.stdout
    now = sorted(set(synced) - {rels[1]} | {"year=2026/month=12/day=01/part-00000.csv"})
    assert keys(s3, bucket) == ["lake/" + r for r in now]

    # down into an empty directory, then s3 -> s3 between prefixes
    dst = tmp_path / "dst"
    aws("s3", "sync", "--no-progress", "s3://%s/lake/" % bucket, dst)
    assert files_under(dst) == now
    for r in now:
        assert filecmp.cmp(str(src / r), str(dst / r), shallow=False), r
    aws("s3", "sync", "--no-progress", "s3://%s/lake/year=2026/month=11/" % bucket,
        "s3://%s/copy/month=11/" % bucket)
    assert keys(s3, bucket, "copy/") == sorted(
        "copy/" + r[len("year=2026/"):] for r in now if r.startswith("year=2026/month=11/"))
    aws("s3", "rb", "--force", "s3://" + bucket)


def test_s3_mv_rm_ls(aws, s3, tmp_path):
    bucket = unique_name("climv")
    aws("s3", "mb", "s3://" + bucket)
    f = tmp_path / "one.csv"
    f.write_bytes(seeded_bytes("one", 3000))
    p = aws("s3", "mv", "--no-progress", f, "s3://%s/in/one.csv" % bucket)
    assert "move:" in p.stdout and not f.exists(), p.stdout

    # s3 -> s3 of a 20 MiB object: the CLI copies it with UploadPartCopy in 8 MiB ranges
    big = seeded_bytes("big", 20 * MiB)
    s3.put_object(Bucket=bucket, Key="in/big.bin", Body=big)
    aws("s3", "mv", "--no-progress", "s3://%s/in/big.bin" % bucket, "s3://%s/out/big.bin" % bucket)
    head = s3.head_object(Bucket=bucket, Key="out/big.bin")
    assert head["ContentLength"] == len(big) and head["ETag"].endswith('-3"'), head
    assert "in/big.bin" not in keys(s3, bucket, "in/")
    assert s3.get_object(Bucket=bucket, Key="out/big.bin",
                         Range="bytes=%d-" % (len(big) - 1000))["Body"].read() == big[-1000:]

    back = tmp_path / "back.csv"
    aws("s3", "mv", "--no-progress", "s3://%s/in/one.csv" % bucket, back)
    assert back.read_bytes() == seeded_bytes("one", 3000) and keys(s3, bucket, "in/") == []

    for i in range(3):
        s3.put_object(Bucket=bucket, Key="dir/sub/%d.txt" % i, Body=b"x" * (1500 * (i + 1)))
    aws("s3", "mv", "--no-progress", "--recursive", "s3://%s/dir/" % bucket,
        "s3://%s/moved/" % bucket)
    assert keys(s3, bucket, "dir/") == []
    assert keys(s3, bucket, "moved/") == ["moved/sub/%d.txt" % i for i in range(3)]

    p = aws("s3", "ls", "s3://%s/" % bucket)
    assert sorted(l.split()[-1] for l in p.stdout.splitlines()) == ["moved/", "out/"], p.stdout
    assert all(l.split()[0] == "PRE" for l in p.stdout.splitlines()), p.stdout
    p = aws("s3", "ls", "--recursive", "--human-readable", "--summarize", "s3://%s/" % bucket)
    out = p.stdout
    assert re.search(r"\b20\.0 MiB out/big\.bin$", out, re.M), out
    assert re.search(r"\b1\.5 KiB moved/sub/0\.txt$", out, re.M), out
    assert re.search(r"^\s*Total Objects: 4$", out, re.M), out
    assert re.search(r"^\s*Total Size: 20\.0 MiB$", out, re.M), out
    p = aws("s3", "rm", "s3://%s/out/big.bin" % bucket)
    assert "delete: s3://%s/out/big.bin" % bucket in p.stdout, p.stdout
    p = aws("s3", "rm", "--recursive", "s3://%s/" % bucket)
    assert p.stdout.count("delete:") == 3, p.stdout
    assert keys(s3, bucket) == []
    aws("s3", "rb", "s3://" + bucket)


def test_s3_streams_and_presign(aws, s3, bucket):
    # upload from stdin: unknown length, so the CLI goes multipart (8 MiB reads)
    data = os.urandom(20 * MiB + 3)
    p = subprocess.run(aws.base + ["s3", "cp", "--no-progress", "-",
                                   "s3://%s/stream.bin" % bucket],
                       input=data, env=aws.env, capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    head = s3.head_object(Bucket=bucket, Key="stream.bin")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-3"'), head
    # download to stdout
    p = subprocess.run(aws.base + ["s3", "cp", "--no-progress", "s3://%s/stream.bin" % bucket,
                                   "-"], env=aws.env, capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0 and p.stdout == data, p.stderr

    # a presigned GET URL (SigV4 query string) works without credentials
    s3.put_object(Bucket=bucket, Key="shared/report.csv", Body=b"a,b\n1,2\n")
    url = aws("s3", "presign", "s3://%s/shared/report.csv" % bucket,
              "--expires-in", "300").stdout.strip()
    assert "X-Amz-Signature=" in url, url
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200 and r.read() == b"a,b\n1,2\n"


def test_s3_cp_sse_kms_and_customer_keys_are_refused(aws, s3, bucket, tmp_path):
    """SSE-KMS and SSE-C cannot be honoured yet: they must be refused, never ignored."""
    f = tmp_path / "secret.txt"
    f.write_bytes(b"secret")
    p = aws("s3", "cp", "--no-progress", "--sse", "aws:kms", f, "s3://%s/sse-kms" % bucket,
            check=False)
    assert p.returncode != 0 and "NotImplemented" in p.stderr, (p.stdout, p.stderr)
    with pytest.raises(Exception):
        s3.head_object(Bucket=bucket, Key="sse-kms")
    p = aws("s3", "cp", "--no-progress", "--sse-c", "AES256", "--sse-c-key", "k" * 32, f,
            "s3://%s/ssec" % bucket, check=False)
    assert p.returncode != 0 and re.search(r"NotImplemented|InvalidRequest", p.stderr), \
        "SSE-C upload over HTTP accepted: %s %s" % (p.stdout, p.stderr)


@pytest.mark.xfail(strict=True, reason=(
    "SSE-S3 (AES256) is accepted but not yet applied at rest (encryption is a later issue): "
    "the server does not echo x-amz-server-side-encryption, so HEAD shows none"))
def test_s3_cp_sse_is_not_silently_ignored(aws, s3, bucket, tmp_path):
    f = tmp_path / "secret.txt"
    f.write_bytes(b"secret")
    for algo in ("AES256", "aws:kms"):
        key = "sse-" + algo.replace(":", "-")
        p = aws("s3", "cp", "--no-progress", "--sse", algo, f, "s3://%s/%s" % (bucket, key),
                check=False)
        if p.returncode != 0:                             # refused cleanly: fine
            assert "NotImplemented" in p.stderr, p.stderr
            continue
        head = s3.head_object(Bucket=bucket, Key=key)    # or really encrypted, and said so
        assert head.get("ServerSideEncryption") == algo, \
            "--sse %s accepted but HEAD has no x-amz-server-side-encryption: %r" % (
                algo, {k: v for k, v in head.items() if k != "ResponseMetadata"})
    # SSE-C: S3 refuses customer keys over plain HTTP; not implemented is 501
    p = aws("s3", "cp", "--no-progress", "--sse-c", "AES256", "--sse-c-key", "k" * 32, f,
            "s3://%s/ssec" % bucket, check=False)
    assert p.returncode != 0 and re.search(r"NotImplemented|InvalidRequest", p.stderr), \
        "SSE-C upload over HTTP accepted: %s %s" % (p.stdout, p.stderr)


# ---- aws s3api, one group of operations per test ---------------------------------------------


def test_s3api_buckets_and_objects(aws, s3, tmp_path):
    api = aws.api
    bucket = unique_name("api")
    r = api("create-bucket", "--bucket", bucket)
    assert r.get("Location") == "/" + bucket, r

    def location():
        assert api("get-bucket-location", "--bucket", bucket)["LocationConstraint"] is None

    def listed():
        assert bucket in [b["Name"] for b in api("list-buckets")["Buckets"]]

    in_parallel(lambda: api("head-bucket", "--bucket", bucket), location, listed)

    body = tmp_path / "body.csv"
    body.write_bytes(b"id,v\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(500)))
    md5 = hashlib.md5(body.read_bytes()).hexdigest()
    r = api("put-object", "--bucket", bucket, "--key", "year=2026/data.csv", "--body", body,
            "--content-type", "text/csv", "--cache-control", "max-age=60",
            "--metadata", "source=cli,stage=raw")
    assert r["ETag"] == '"%s"' % md5, r
    s3.put_object(Bucket=bucket, Key="top.txt", Body=b"t")

    def reads():
        r = api("head-object", "--bucket", bucket, "--key", "year=2026/data.csv")
        assert r["ContentLength"] == body.stat().st_size and r["ContentType"] == "text/csv"
        assert r["CacheControl"] == "max-age=60"
        assert r["Metadata"] == {"source": "cli", "stage": "raw"}
        out = tmp_path / "range.out"
        r = api("get-object", "--bucket", bucket, "--key", "year=2026/data.csv", "--range",
                "bytes=0-9", out)
        assert out.read_bytes() == body.read_bytes()[:10]
        assert r["ContentRange"] == "bytes 0-9/%d" % body.stat().st_size, r

    def copy_and_list():
        r = api("copy-object", "--bucket", bucket, "--key", "year=2026/copy.csv",
                "--copy-source", "%s/year=2026/data.csv" % bucket,
                "--metadata-directive", "REPLACE", "--metadata", "stage=copied",
                "--content-type", "text/plain")
        assert r["CopyObjectResult"]["ETag"] == '"%s"' % md5, r
        h = s3.head_object(Bucket=bucket, Key="year=2026/copy.csv")
        assert h["Metadata"] == {"stage": "copied"} and h["ContentType"] == "text/plain"
        r = api("list-objects", "--bucket", bucket, "--prefix", "year=2026/")
        assert [o["Key"] for o in r["Contents"]] == ["year=2026/copy.csv",
                                                     "year=2026/data.csv"]
        r = api("list-objects-v2", "--bucket", bucket, "--delimiter", "/")
        assert [o["Key"] for o in r["Contents"]] == ["top.txt"]
        assert [c["Prefix"] for c in r["CommonPrefixes"]] == ["year=2026/"]

    in_parallel(reads, copy_and_list)

    r = api("delete-objects", "--bucket", bucket, "--delete",
            json.dumps({"Objects": [{"Key": "year=2026/copy.csv"}, {"Key": "top.txt"},
                                    {"Key": "never-existed"}]}))
    assert sorted(d["Key"] for d in r["Deleted"]) == ["never-existed", "top.txt",
                                                       "year=2026/copy.csv"]
    api("delete-object", "--bucket", bucket, "--key", "year=2026/data.csv")
    assert keys(s3, bucket) == []
    api("delete-bucket", "--bucket", bucket)
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_s3api_multipart(aws, s3, bucket, tmp_path):
    api = aws.api
    s3.put_object(Bucket=bucket, Key="src.bin", Body=seeded_bytes("src", 3 * MiB))
    up = api("create-multipart-upload", "--bucket", bucket, "--key", "mp.bin",
             "--content-type", "application/x-parts")["UploadId"]
    part1 = tmp_path / "p1"
    part1.write_bytes(seeded_bytes("p1", 5 * MiB))
    e1 = api("upload-part", "--bucket", bucket, "--key", "mp.bin", "--upload-id", up,
             "--part-number", "1", "--body", part1)["ETag"]
    r = api("upload-part-copy", "--bucket", bucket, "--key", "mp.bin", "--upload-id", up,
            "--part-number", "2", "--copy-source", "%s/src.bin" % bucket,
            "--copy-source-range", "bytes=0-1048575")
    e2 = r["CopyPartResult"]["ETag"]
    r = api("list-parts", "--bucket", bucket, "--key", "mp.bin", "--upload-id", up)
    assert [(p["PartNumber"], p["Size"]) for p in r["Parts"]] == [(1, 5 * MiB), (2, MiB)]
    r = api("list-multipart-uploads", "--bucket", bucket)
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == [("mp.bin", up)]
    parts = tmp_path / "parts.json"
    parts.write_text(json.dumps({"Parts": [{"PartNumber": 1, "ETag": e1},
                                           {"PartNumber": 2, "ETag": e2}]}))
    r = api("complete-multipart-upload", "--bucket", bucket, "--key", "mp.bin",
            "--upload-id", up, "--multipart-upload", "file://%s" % parts)
    assert r["ETag"].endswith('-2"') and r["Key"] == "mp.bin", r
    want = seeded_bytes("p1", 5 * MiB) + seeded_bytes("src", 3 * MiB)[:MiB]
    got = s3.get_object(Bucket=bucket, Key="mp.bin")
    assert got["ContentType"] == "application/x-parts" and got["Body"].read() == want

    out = tmp_path / "part2.out"
    r = api("get-object", "--bucket", bucket, "--key", "mp.bin", "--part-number", "2", out)
    assert r["PartsCount"] == 2 and r["ContentLength"] == MiB and out.read_bytes() == want[5 * MiB:]

    up2 = api("create-multipart-upload", "--bucket", bucket, "--key", "dropped")["UploadId"]
    api("abort-multipart-upload", "--bucket", bucket, "--key", "dropped", "--upload-id", up2)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_s3api_versioning(aws, s3, bucket, tmp_path):
    api = aws.api
    api("put-bucket-versioning", "--bucket", bucket,
        "--versioning-configuration", "Status=Enabled")
    assert api("get-bucket-versioning", "--bucket", bucket)["Status"] == "Enabled"
    f = tmp_path / "v"
    vids = []
    for i in range(2):
        f.write_bytes(b"version %d" % i)
        vids.append(api("put-object", "--bucket", bucket, "--key", "k", "--body", f)["VersionId"])
    r = api("list-object-versions", "--bucket", bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in r["Versions"]] == \
        [(vids[1], True), (vids[0], False)]
    out = tmp_path / "old"
    r = api("get-object", "--bucket", bucket, "--key", "k", "--version-id", vids[0], out)
    assert out.read_bytes() == b"version 0" and r["VersionId"] == vids[0]
    r = api("delete-object", "--bucket", bucket, "--key", "k")
    assert r["DeleteMarker"] is True and r["VersionId"]
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="k")
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    r = api("head-object", "--bucket", bucket, "--key", "k", "--version-id", vids[1])
    assert r["VersionId"] == vids[1]
    r = api("delete-object", "--bucket", bucket, "--key", "k", "--version-id", vids[0])
    assert r["VersionId"] == vids[0]
    r = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in r["Versions"]] == [vids[1]] and len(r["DeleteMarkers"]) == 1
    api("put-bucket-versioning", "--bucket", bucket,
        "--versioning-configuration", "Status=Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_s3api_tagging(aws, s3, bucket, tmp_path):
    api = aws.api
    f = tmp_path / "t"
    f.write_bytes(b"tagged")

    def object_tags():
        api("put-object", "--bucket", bucket, "--key", "t", "--body", f,
            "--tagging", "team=data&tier=raw")
        r = api("get-object-tagging", "--bucket", bucket, "--key", "t")
        assert sorted((t["Key"], t["Value"]) for t in r["TagSet"]) == [("team", "data"),
                                                                       ("tier", "raw")]
        api("put-object-tagging", "--bucket", bucket, "--key", "t",
            "--tagging", "TagSet=[{Key=tier,Value=curated}]")
        r = api("get-object-tagging", "--bucket", bucket, "--key", "t")
        assert r["TagSet"] == [{"Key": "tier", "Value": "curated"}]
        api("delete-object-tagging", "--bucket", bucket, "--key", "t")
        assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []

    def bucket_tags():
        api("put-bucket-tagging", "--bucket", bucket,
            "--tagging", "TagSet=[{Key=cost-center,Value=42},{Key=env,Value=test}]")
        r = api("get-bucket-tagging", "--bucket", bucket)
        assert sorted((t["Key"], t["Value"]) for t in r["TagSet"]) == [("cost-center", "42"),
                                                                       ("env", "test")]
        api("delete-bucket-tagging", "--bucket", bucket)
        assert s3_error(s3.get_bucket_tagging, Bucket=bucket) == "NoSuchTagSet"

    in_parallel(object_tags, bucket_tags)


def test_s3api_attributes_and_checksums(aws, s3, bucket, tmp_path):
    api = aws.api
    f = tmp_path / "c"
    f.write_bytes(seeded_bytes("cks", 100_000))
    r = api("put-object", "--bucket", bucket, "--key", "c", "--body", f,
            "--checksum-algorithm", "SHA256")

    want = base64.b64encode(hashlib.sha256(f.read_bytes()).digest()).decode()
    assert r.get("ChecksumSHA256") == want, r
    r = api("head-object", "--bucket", bucket, "--key", "c", "--checksum-mode", "ENABLED")
    assert r.get("ChecksumSHA256") == want, r
    r = api("get-object-attributes", "--bucket", bucket, "--key", "c",
            "--object-attributes", "ETag", "Checksum", "ObjectSize", "StorageClass")
    assert r["ObjectSize"] == 100_000 and r["Checksum"]["ChecksumSHA256"] == want, r
    assert r["ETag"] == hashlib.md5(f.read_bytes()).hexdigest(), r     # no quotes here
    assert r.get("StorageClass", "STANDARD") == "STANDARD"
    r = api("put-object", "--bucket", bucket, "--key", "c32", "--body", f,
            "--checksum-algorithm", "CRC32")
    assert r.get("ChecksumCRC32"), r


def test_s3api_access_control(aws, s3, bucket):
    # four independent groups; none makes the bucket public, so their order does not matter
    api = aws.api
    s3.put_object(Bucket=bucket, Key="raw/x", Body=b"x")

    def policy():
        doc = {"Version": "2012-10-17", "Statement": [{
            "Sid": "NoDeleteOfRaw", "Effect": "Deny", "Principal": "*",
            "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::%s/raw/*" % bucket}]}
        api("put-bucket-policy", "--bucket", bucket, "--policy", json.dumps(doc))
        r = api("get-bucket-policy", "--bucket", bucket)
        assert json.loads(r["Policy"])["Statement"][0]["Sid"] == "NoDeleteOfRaw"
        r = api("get-bucket-policy-status", "--bucket", bucket)
        assert r["PolicyStatus"]["IsPublic"] is False
        assert s3_error(s3.delete_object, Bucket=bucket, Key="raw/x") == "AccessDenied"
        api("delete-bucket-policy", "--bucket", bucket)
        assert s3_error(s3.get_bucket_policy, Bucket=bucket) == "NoSuchBucketPolicy"

    def public_access_block():
        api("put-public-access-block", "--bucket", bucket,
            "--public-access-block-configuration",
            "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,"
            "RestrictPublicBuckets=false")
        r = api("get-public-access-block", "--bucket", bucket)["PublicAccessBlockConfiguration"]
        assert r == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                     "BlockPublicPolicy": True, "RestrictPublicBuckets": False}, r
        api("delete-public-access-block", "--bucket", bucket)
        assert s3_error(s3.get_public_access_block, Bucket=bucket) == \
            "NoSuchPublicAccessBlockConfiguration"

    def acls():
        r = api("get-bucket-acl", "--bucket", bucket)
        assert [g["Permission"] for g in r["Grants"]] == ["FULL_CONTROL"], r
        owner = r["Owner"]["ID"]
        api("put-bucket-acl", "--bucket", bucket, "--acl", "private")
        r = api("get-object-acl", "--bucket", bucket, "--key", "raw/x")
        assert r["Owner"]["ID"] == owner and r["Grants"][0]["Permission"] == "FULL_CONTROL", r
        api("put-object-acl", "--bucket", bucket, "--key", "raw/x", "--acl", "private")

    def ownership():
        api("put-bucket-ownership-controls", "--bucket", bucket, "--ownership-controls",
            "Rules=[{ObjectOwnership=BucketOwnerPreferred}]")
        r = api("get-bucket-ownership-controls", "--bucket", bucket)
        assert r["OwnershipControls"]["Rules"] == [
            {"ObjectOwnership": "BucketOwnerPreferred"}], r
        api("delete-bucket-ownership-controls", "--bucket", bucket)
        assert s3_error(s3.get_bucket_ownership_controls, Bucket=bucket) == \
            "OwnershipControlsNotFoundError"

    in_parallel(policy, public_access_block, acls, ownership)


# Operations the server routes but does not implement yet: each answers 501 NotImplemented,
# cleanly, and docs/compatibility.md lists its CLI command as "not yet". When one gets
# implemented, this test fails: move its flow to a test above and update the document.
# (Issued through botocore, which the CLI is built on, to spare ~30 CLI start-ups.)
NOT_YET = [
    ("get_bucket_lifecycle_configuration", {}),
    ("put_bucket_lifecycle_configuration", {"LifecycleConfiguration": {"Rules": [
        {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
         "Expiration": {"Days": 1}}]}}),
    ("delete_bucket_lifecycle", {}),
    ("get_bucket_encryption", {}),
    ("put_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}),
    ("delete_bucket_encryption", {}),
    ("get_bucket_cors", {}),
    ("put_bucket_cors", {"CORSConfiguration": {"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}}),
    ("delete_bucket_cors", {}),
    ("get_bucket_logging", {}),
    ("put_bucket_logging", {"BucketLoggingStatus": {}}),
    ("get_bucket_notification_configuration", {}),
    ("put_bucket_notification_configuration", {"NotificationConfiguration": {}}),
    ("get_bucket_website", {}),
    ("put_bucket_website", {"WebsiteConfiguration": {"IndexDocument": {"Suffix": "index.html"}}}),
    ("delete_bucket_website", {}),
    ("get_object_lock_configuration", {}),
    ("put_object_lock_configuration",
     {"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}}),
    ("get_object_retention", {"Key": "k"}),
    ("put_object_retention", {"Key": "k", "Retention": {
        "Mode": "GOVERNANCE", "RetainUntilDate": "2030-01-01T00:00:00Z"}}),
    ("get_object_legal_hold", {"Key": "k"}),
    ("put_object_legal_hold", {"Key": "k", "LegalHold": {"Status": "ON"}}),
    ("get_bucket_request_payment", {}),
    ("put_bucket_request_payment", {"RequestPaymentConfiguration": {"Payer": "BucketOwner"}}),
    ("get_bucket_accelerate_configuration", {}),
    ("put_bucket_accelerate_configuration", {"AccelerateConfiguration": {"Status": "Suspended"}}),
    ("get_bucket_replication", {}),
    ("delete_bucket_replication", {}),
    ("restore_object", {"Key": "k", "RestoreRequest": {"Days": 1}}),
    ("list_bucket_analytics_configurations", {}),
    ("get_bucket_analytics_configuration", {"Id": "a"}),
    ("delete_bucket_analytics_configuration", {"Id": "a"}),
    ("list_bucket_inventory_configurations", {}),
    ("list_bucket_metrics_configurations", {}),
    ("list_bucket_intelligent_tiering_configurations", {}),
    ("select_object_content", {"Key": "k", "Expression": "select * from s3object",
                               "ExpressionType": "SQL", "InputSerialization": {"CSV": {}},
                               "OutputSerialization": {"CSV": {}}}),
]


def test_s3api_not_yet_answer_not_implemented(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"k")
    wrong = []
    for name, kw in NOT_YET:
        try:
            getattr(s3, name)(Bucket=bucket, **kw)
            wrong.append("%s: succeeded (implemented now? update docs/compatibility.md and "
                         "test it as working)" % name)
        except ClientError as e:
            got = (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])
            if got != (501, "NotImplemented"):
                wrong.append("%s: %s %s (expected 501 NotImplemented; implemented now? update "
                             "docs/compatibility.md)" % (name, got[0], got[1]))
    # POST Object (browser-form upload) works now: test_post_object.py; an anonymous form
    # to a private bucket is refused without storing anything
    body = (b"--XX\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nform.txt\r\n"
            b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n"
            b"Content-Type: text/plain\r\n\r\nform data\r\n--XX--\r\n")
    req = urllib.request.Request("%s/%s" % (server.endpoint, bucket), data=body, method="POST",
                                 headers={"Content-Type": "multipart/form-data; boundary=XX"})
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(req, timeout=30)
    assert ei.value.code == 403 and b"AccessDenied" in ei.value.read()
    assert not wrong, "\n".join(wrong)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"k"    # state untouched
