"""rclone (Debian's /usr/bin/rclone) against Strata as an S3 remote: copy/sync/check/lsf/lsd/
delete/cat/purge, and a multipart upload.

The remote is configured only through the environment (RCLONE_CONFIG_STRATA_TYPE=s3,
PROVIDER=Other, ENDPOINT, keys, REGION) with an empty config file and a private HOME. The
flows are listed in docs/compatibility.md."""
import hashlib
import json
import os
import shutil

import pytest
from botocore.exceptions import ClientError

from conftest import client_env, run_client, seeded_bytes, unique_name

RCLONE = shutil.which("rclone") or "/usr/bin/rclone"
MiB = 1024 * 1024


@pytest.fixture
def rclone(server, tmp_path):
    """rclone(*args, check=True) -> CompletedProcess, remote `strata:`."""
    if not os.access(RCLONE, os.X_OK):
        pytest.fail("%s missing: apt-get install rclone (scripts/deps.sh does)" % RCLONE)
    conf = tmp_path / "rclone.conf"
    conf.write_text("")
    env = client_env(tmp_path / "home",
                     RCLONE_CONFIG=conf,
                     RCLONE_CONFIG_STRATA_TYPE="s3",
                     RCLONE_CONFIG_STRATA_PROVIDER="Other",
                     RCLONE_CONFIG_STRATA_ENDPOINT=server.endpoint,
                     RCLONE_CONFIG_STRATA_ACCESS_KEY_ID=server.access_key,
                     RCLONE_CONFIG_STRATA_SECRET_ACCESS_KEY=server.secret_key,
                     RCLONE_CONFIG_STRATA_REGION="us-east-1")

    def run(*args, check=True, timeout=90):
        # --retries 1 / --low-level-retries 1: a failure shows at once instead of being retried
        return run_client([RCLONE, "--retries", "1", "--low-level-retries", "1",
                           "--contimeout", "10s", "--timeout", "60s"] + list(args),
                          env, timeout=timeout, check=check)
    return run


def keys(s3, bucket, prefix=""):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return sorted(out)


def make_tree(root, rels):
    for r in rels:
        p = root / r
        p.parent.mkdir(parents=True, exist_ok=True)
        if r.endswith(".txt"):
            p.write_text("partitioned by year, month and day\n" * 3)
        else:
            p.write_bytes(seeded_bytes(r, 500 + 37 * len(r)))


RELS = ["year=2026/month=%02d/day=%02d/part-%d.parquet" % (m, d, n)
        for m in (10, 11) for d in (1, 2) for n in range(2)] + ["README.txt"] + \
    ["odd names/with space+plus%41 é?&=.parquet", "odd names/tilde~(1)[2]'q,@$!.parquet"]


def test_copy_lsf_lsd_check_cat(rclone, s3, tmp_path):
    bucket = unique_name("rclone")
    rclone("mkdir", "strata:" + bucket)
    s3.head_bucket(Bucket=bucket)
    src = tmp_path / "src"
    make_tree(src, RELS)

    rclone("copy", src, "strata:%s/lake" % bucket)
    assert keys(s3, bucket) == sorted("lake/" + r for r in RELS)

    p = rclone("lsf", "-R", "--files-only", "strata:%s/lake" % bucket)
    assert sorted(p.stdout.splitlines()) == sorted(RELS), p.stdout
    p = rclone("lsf", "strata:%s/lake/year=2026" % bucket)
    assert sorted(p.stdout.split()) == ["month=10/", "month=11/"], p.stdout
    p = rclone("lsd", "strata:")                           # buckets
    assert bucket in p.stdout.split(), p.stdout
    p = rclone("lsd", "strata:%s/lake/year=2026/month=11" % bucket)
    assert sorted(l.split()[-1] for l in p.stdout.splitlines()) == ["day=01", "day=02"], p.stdout

    p = rclone("check", src, "strata:%s/lake" % bucket)       # sizes and MD5 (ETag)
    assert "0 differences found" in p.stderr, p.stderr
    p = rclone("check", "--download", src, "strata:%s/lake" % bucket)   # the bytes
    assert "0 differences found" in p.stderr, p.stderr

    p = rclone("cat", "strata:%s/lake/README.txt" % bucket)
    assert p.stdout == (src / "README.txt").read_text(), p.stdout
    p = rclone("md5sum", "strata:%s/lake/year=2026/month=10" % bucket)
    sums = dict(reversed(l.split(None, 1)) for l in p.stdout.splitlines())
    assert sums == {r[len("year=2026/month=10/"):]: hashlib.md5((src / r).read_bytes()).hexdigest()
                    for r in RELS if r.startswith("year=2026/month=10/")}, p.stdout
    p = rclone("size", "--json", "strata:%s/lake" % bucket)
    size = json.loads(p.stdout)
    assert (size["count"], size["bytes"]) == (len(RELS),
                                              sum((src / r).stat().st_size for r in RELS)), size

    # single objects: copyto (server-side copy), moveto (copy + delete)
    rclone("copyto", "strata:%s/lake/README.txt" % bucket, "strata:%s/docs/README.txt" % bucket)
    rclone("moveto", "strata:%s/docs/README.txt" % bucket, "strata:%s/docs/READ.ME" % bucket)
    assert keys(s3, bucket, "docs/") == ["docs/READ.ME"]
    assert s3.get_object(Bucket=bucket, Key="docs/READ.ME")["Body"].read() == \
        (src / "README.txt").read_bytes()

    # a difference is found
    s3.put_object(Bucket=bucket, Key="lake/" + RELS[0], Body=b"tampered")
    p = rclone("check", src, "strata:%s/lake" % bucket, check=False)
    assert p.returncode != 0 and "1 differences found" in p.stderr, p.stderr

    rclone("purge", "strata:" + bucket)                   # objects and the bucket
    p = rclone("lsd", "strata:")
    assert bucket not in p.stdout.split(), p.stdout


def test_sync_delete(rclone, s3, tmp_path):
    bucket = unique_name("rclonesync")
    rclone("mkdir", "strata:" + bucket)
    src = tmp_path / "src"
    make_tree(src, RELS)
    rclone("sync", src, "strata:%s/mirror" % bucket)
    assert keys(s3, bucket) == sorted("mirror/" + r for r in RELS)

    (src / RELS[0]).unlink()
    (src / RELS[1]).write_bytes(b"new content")
    (src / "year=2026/month=12/day=01").mkdir(parents=True)
    (src / "year=2026/month=12/day=01/part-0.parquet").write_bytes(b"added")
    rclone("sync", src, "strata:%s/mirror" % bucket)
    now = sorted(set(RELS) - {RELS[0]} | {"year=2026/month=12/day=01/part-0.parquet"})
    assert keys(s3, bucket) == ["mirror/" + r for r in now]
    assert s3.get_object(Bucket=bucket, Key="mirror/" + RELS[1])["Body"].read() == b"new content"
    rclone("check", src, "strata:%s/mirror" % bucket)

    # back down: sync from the remote into an empty directory
    dst = tmp_path / "dst"
    rclone("sync", "strata:%s/mirror" % bucket, dst)
    rclone("check", src, dst)

    # delete with a filter, then everything
    rclone("delete", "--include", "/year=2026/month=10/**", "strata:%s/mirror" % bucket)
    assert all("month=10/" not in k for k in keys(s3, bucket))
    assert keys(s3, bucket)
    rclone("delete", "strata:" + bucket)
    assert keys(s3, bucket) == []
    rclone("rmdir", "strata:" + bucket)


def test_multipart_upload(rclone, s3, tmp_path):
    bucket = unique_name("rclonemp")
    rclone("mkdir", "strata:" + bucket)
    src = tmp_path / "src"
    src.mkdir()
    big = src / "big.bin"
    big.write_bytes(os.urandom(12 * MiB))
    rclone("copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", src,
           "strata:%s/mp" % bucket)
    head = s3.head_object(Bucket=bucket, Key="mp/big.bin")
    assert head["ContentLength"] == 12 * MiB
    assert head["ETag"].endswith('-3"'), head["ETag"]        # 5 + 5 + 2 MiB
    # rclone keeps the whole file's MD5 in metadata for multipart objects; check uses it
    p = rclone("check", src, "strata:%s/mp" % bucket)
    assert "0 differences found" in p.stderr, p.stderr
    got = s3.get_object(Bucket=bucket, Key="mp/big.bin")["Body"].read()
    assert got == big.read_bytes()
    rclone("purge", "strata:" + bucket)


def test_versions(rclone, s3, bucket, tmp_path):
    try:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    except ClientError as e:
        if e.response["Error"]["Code"] == "NotImplemented":
            pytest.skip("versioning not implemented by this server yet")
        raise
    p = rclone("backend", "versioning", "strata:" + bucket)
    assert p.stdout.strip() == "Enabled", p.stdout
    src = tmp_path / "src"
    src.mkdir()
    for body in (b"first\n", b"second!\n"):
        (src / "v.txt").write_bytes(body)
        rclone("copy", src, "strata:" + bucket)
    rclone("delete", "strata:" + bucket)                  # a delete marker on top
    p = rclone("lsf", "strata:" + bucket)
    assert p.stdout == "", p.stdout
    # old versions show as v-vYYYY-MM-DD-HHMMSS-mmm.txt
    p = rclone("lsf", "--s3-versions", "strata:" + bucket)
    names = sorted(p.stdout.split())
    assert len(names) == 2 and all(n.startswith("v-v") and n.endswith(".txt") for n in names), \
        p.stdout
    got = sorted(rclone("cat", "--s3-versions", "strata:%s/%s" % (bucket, n)).stdout
                 for n in names)
    assert got == ["first\n", "second!\n"], got
    # remove the hidden (non-current) versions
    rclone("backend", "cleanup-hidden", "strata:" + bucket)
    r = s3.list_object_versions(Bucket=bucket)
    assert r.get("Versions", []) == [], r.get("Versions")
