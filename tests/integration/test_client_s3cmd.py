"""s3cmd (Debian's /usr/bin/s3cmd) against Strata: put/get/ls/la/del/info/cp/mv/modify,
multipart, sync.

Each test writes its own config file (path-style host, plain HTTP, SigV4 or SigV2, our
region) into its temp dir and runs s3cmd with a private HOME. The flows are listed in
docs/compatibility.md."""
import filecmp
import hashlib
import os
import shutil
import urllib.error
import urllib.request

import pytest

from conftest import client_env, run_client, seeded_bytes, unique_name

S3CMD = shutil.which("s3cmd") or "/usr/bin/s3cmd"
MiB = 1024 * 1024


@pytest.fixture
def s3cmd(server, tmp_path):
    """s3cmd(*args, check=True) -> CompletedProcess, with a config generated for this test."""
    return s3cmd_runner(server, tmp_path, sigv2=False)


@pytest.fixture
def s3cmd_v2(server, tmp_path):
    """The same with `signature_v2 = True` (s3cmd signs every request with SigV2)."""
    return s3cmd_runner(server, tmp_path, sigv2=True)


def s3cmd_runner(server, tmp_path, sigv2):
    if not os.access(S3CMD, os.X_OK):
        pytest.fail("%s missing: apt-get install s3cmd (scripts/deps.sh does)" % S3CMD)
    home = tmp_path / "home"
    cfg = tmp_path / "s3cfg"
    host = "127.0.0.1:%d" % server.port
    cfg.write_text("\n".join([
        "[default]",
        "access_key = " + server.access_key,
        "secret_key = " + server.secret_key,
        "host_base = " + host,
        "host_bucket = " + host,       # no %(bucket)s: path-style requests
        "use_https = False",
        "signature_v2 = %s" % sigv2,
        "bucket_location = us-east-1",
        "progress_meter = False",
        ""]))
    os.chmod(cfg, 0o600)
    env = client_env(home)

    def run(*args, check=True, timeout=90):
        return run_client([S3CMD, "-c", cfg] + list(args), env, timeout=timeout, check=check)
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


def test_put_get_ls_la_info_del(s3cmd, s3, tmp_path):
    bucket = unique_name("s3cmd")
    p = s3cmd("mb", "s3://" + bucket)
    assert "Bucket 's3://%s/' created" % bucket in p.stdout, p.stdout
    s3.head_bucket(Bucket=bucket)

    f = tmp_path / "data.csv"
    f.write_bytes(seeded_bytes("s3cmd-small", 70_000))
    p = s3cmd("put", f, "s3://%s/year=2026/month=11/data.csv" % bucket)
    assert "upload:" in p.stdout, p.stdout
    s3cmd("put", f, "s3://%s/top.csv" % bucket)

    p = s3cmd("ls", "s3://%s" % bucket)
    lines = [l.split() for l in p.stdout.splitlines() if l.strip()]
    assert ["DIR", "s3://%s/year=2026/" % bucket] in lines, p.stdout
    assert any(l[-1] == "s3://%s/top.csv" % bucket and l[-2] == "70000" for l in lines), p.stdout

    p = s3cmd("ls", "--recursive", "s3://%s" % bucket)
    assert "s3://%s/year=2026/month=11/data.csv" % bucket in p.stdout, p.stdout

    p = s3cmd("ls")                                        # the buckets
    assert "s3://%s" % bucket in p.stdout.split(), p.stdout
    p = s3cmd("la")                                        # everything in every bucket
    assert "s3://%s/top.csv" % bucket in p.stdout, p.stdout

    got = tmp_path / "got.csv"
    p = s3cmd("get", "s3://%s/year=2026/month=11/data.csv" % bucket, got)
    assert "download:" in p.stdout
    assert filecmp.cmp(str(f), str(got), shallow=False)

    p = s3cmd("info", "s3://%s/top.csv" % bucket)
    assert "File size: 70000" in p.stdout, p.stdout
    md5 = hashlib.md5(f.read_bytes()).hexdigest()
    assert "MD5 sum:   %s" % md5 in p.stdout, p.stdout
    p = s3cmd("info", "s3://%s" % bucket)
    assert "Location:  us-east-1" in p.stdout, p.stdout

    # server-side copy and move; metadata change in place (a copy onto itself, REPLACE)
    p = s3cmd("cp", "s3://%s/top.csv" % bucket, "s3://%s/copy.csv" % bucket)
    assert "remote copy:" in p.stdout, p.stdout
    p = s3cmd("mv", "s3://%s/copy.csv" % bucket, "s3://%s/moved.csv" % bucket)
    assert "move:" in p.stdout, p.stdout
    assert s3.get_object(Bucket=bucket, Key="moved.csv")["Body"].read() == f.read_bytes()
    s3cmd("modify", "--add-header=Cache-Control: max-age=5", "s3://%s/moved.csv" % bucket)
    head = s3.head_object(Bucket=bucket, Key="moved.csv")
    assert head["CacheControl"] == "max-age=5" and head["ContentLength"] == 70000, head
    s3cmd("del", "s3://%s/moved.csv" % bucket)

    # `signurl` makes a SigV2 query-string URL (auth/sigv2.c)
    p = s3cmd("signurl", "s3://%s/top.csv" % bucket, "+300")
    url = p.stdout.strip()
    assert "Signature=" in url and "AWSAccessKeyId=" in url, url
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.read() == f.read_bytes()

    p = s3cmd("del", "s3://%s/top.csv" % bucket)
    assert "delete: 's3://%s/top.csv'" % bucket in p.stdout, p.stdout
    assert keys(s3, bucket) == ["year=2026/month=11/data.csv"]

    p = s3cmd("rb", "s3://" + bucket, check=False)
    assert p.returncode != 0 and "BucketNotEmpty" in p.stderr, (p.stdout, p.stderr)
    p = s3cmd("del", "--recursive", "--force", "s3://%s/" % bucket)
    assert keys(s3, bucket) == []
    p = s3cmd("rb", "s3://" + bucket)
    assert "Bucket 's3://%s/' removed" % bucket in p.stdout, p.stdout


def test_multipart_put_get(s3cmd, s3, tmp_path):
    bucket = unique_name("s3cmdmp")
    s3cmd("mb", "s3://" + bucket)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * MiB))
    s3cmd("put", "--multipart-chunk-size-mb=5", big, "s3://%s/big/big.bin" % bucket)
    head = s3.head_object(Bucket=bucket, Key="big/big.bin")
    assert head["ContentLength"] == 20 * MiB
    assert head["ETag"].endswith('-4"'), head["ETag"]     # 4 parts of 5 MiB

    got = tmp_path / "got.bin"
    s3cmd("get", "s3://%s/big/big.bin" % bucket, got)
    assert sha256_file(got) == sha256_file(big)

    # s3cmd keeps the whole file's MD5 in its attrs header and `info` shows it
    p = s3cmd("info", "s3://%s/big/big.bin" % bucket)
    assert "File size: %d" % (20 * MiB) in p.stdout, p.stdout
    assert hashlib.md5(big.read_bytes()).hexdigest() in p.stdout, p.stdout

    # an unfinished upload shows in `multipart`, and `abortmp` removes it
    up = s3.create_multipart_upload(Bucket=bucket, Key="half.bin")["UploadId"]
    p = s3cmd("multipart", "s3://" + bucket)
    assert up in p.stdout and "half.bin" in p.stdout, p.stdout
    s3cmd("abortmp", "s3://%s/half.bin" % bucket, up)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    s3cmd("del", "--recursive", "--force", "s3://%s/" % bucket)
    s3cmd("rb", "s3://" + bucket)


def test_sync_partitioned_tree(s3cmd, s3, tmp_path):
    bucket = unique_name("s3cmdsync")
    s3cmd("mb", "s3://" + bucket)
    src = tmp_path / "src"
    rels = ["year=2026/month=%02d/day=%02d/part-%d.csv" % (m, d, n)
            for m in (10, 11) for d in (1, 2) for n in range(3)] + ["_SUCCESS"] + \
        ["odd names/with space+plus%41 é?&=.csv", "odd names/tilde~(1)[2]'q,@$!.csv"]
    for r in rels:
        p = src / r
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(seeded_bytes(r, 1000 + len(r)))

    p = s3cmd("sync", str(src) + "/", "s3://%s/lake/" % bucket)
    assert keys(s3, bucket) == sorted("lake/" + r for r in rels)

    # change one file, add one, remove one; --delete-removed mirrors the removal
    (src / rels[0]).write_bytes(b"changed")
    (src / "year=2026/month=12/day=01").mkdir(parents=True)
    (src / "year=2026/month=12/day=01/part-0.csv").write_bytes(b"new")
    (src / rels[1]).unlink()
    p = s3cmd("sync", "--delete-removed", str(src) + "/", "s3://%s/lake/" % bucket)
    ups = [l for l in p.stdout.splitlines() if l.startswith("upload:")]
    dels = [l for l in p.stdout.splitlines() if l.startswith("delete:")]
    assert len(ups) == 2 and len(dels) == 1, p.stdout
    now = sorted(set(rels) - {rels[1]} | {"year=2026/month=12/day=01/part-0.csv"})
    assert keys(s3, bucket) == ["lake/" + r for r in now]
    assert s3.get_object(Bucket=bucket, Key="lake/" + rels[0])["Body"].read() == b"changed"

    # and back down into an empty directory: the same tree
    dst = tmp_path / "dst"
    s3cmd("sync", "s3://%s/lake/" % bucket, str(dst) + "/")
    for r in now:
        assert filecmp.cmp(str(src / r), str(dst / r), shallow=False), r
    assert sorted(str(p.relative_to(dst)) for p in dst.rglob("*") if p.is_file()) == now

    # a second sync transfers nothing
    p = s3cmd("sync", "--delete-removed", str(src) + "/", "s3://%s/lake/" % bucket)
    assert "upload:" not in p.stdout and "delete:" not in p.stdout, p.stdout
    s3cmd("del", "--recursive", "--force", "s3://%s/" % bucket)
    s3cmd("rb", "s3://" + bucket)


def test_sigv2_mode(s3cmd_v2, s3, tmp_path):
    """signature_v2 = True: every request SigV2-signed (x-amz-date with a +0000 zone, empty
    Date line), including multipart and keys that need encoding."""
    s3cmd = s3cmd_v2
    bucket = unique_name("s3cmdv2")
    s3cmd("mb", "s3://" + bucket)
    small = tmp_path / "odd name+plus é.txt"
    small.write_bytes(b"v2 body")
    s3cmd("put", small, "s3://%s/dir/" % bucket)
    assert keys(s3, bucket) == ["dir/odd name+plus é.txt"]
    p = s3cmd("ls", "s3://%s/dir/" % bucket)
    assert "odd name+plus é.txt" in p.stdout, p.stdout
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * MiB))
    s3cmd("put", "--multipart-chunk-size-mb=5", big, "s3://%s/big.bin" % bucket)
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ETag"].endswith('-3"')
    got = tmp_path / "got.bin"
    s3cmd("get", "s3://%s/big.bin" % bucket, got)
    assert sha256_file(got) == sha256_file(big)
    p = s3cmd("info", "s3://%s/big.bin" % bucket)
    assert "File size: %d" % (12 * MiB) in p.stdout, p.stdout
    s3cmd("del", "--recursive", "--force", "s3://%s/" % bucket)
    s3cmd("rb", "s3://" + bucket)
