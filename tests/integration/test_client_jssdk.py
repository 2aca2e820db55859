"""The AWS SDK for JavaScript v3 (tests/clients/js, versions pinned in its package-lock.json)
against Strata, with the SDK's defaults: a CRC32 checksum on every upload (header or aws-chunked
trailer), checksum validation on download, DeleteObjects with a checksum instead of
Content-MD5, lib-storage multipart uploads, presigned URLs.

tests/clients/js/sdk_v3.mjs runs the steps and prints what the SDK saw, one JSON line each;
the tests here check those values against the bytes boto3 reads back and checksums computed
here. The SDK is installed with `npm ci` from the npm registry on first use (node and npm come
with the machine, or from scripts/deps.sh)."""
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from conftest import client_env, make_boto3, run_client, unique_name
from test_checksums import b64

JS_DIR = os.path.join(os.path.dirname(__file__), "..", "clients", "js")
NODE = shutil.which("node") or "/usr/bin/node"
NPM = shutil.which("npm") or "/usr/bin/npm"


def _npm_ci():
    """node_modules matching package-lock.json, installed once: the SHA-256 of the lock file
    that was installed is kept in node_modules/.strata-lock-sha256, so a changed lock installs
    again."""
    lock = os.path.join(JS_DIR, "package-lock.json")
    done = os.path.join(JS_DIR, "node_modules", ".strata-lock-sha256")
    want = hashlib.sha256(open(lock, "rb").read()).hexdigest()
    if os.path.exists(done) and open(done).read() == want:
        return
    if not (os.access(NODE, os.X_OK) and os.access(NPM, os.X_OK)):
        pytest.fail("node/npm missing: scripts/deps.sh installs them")
    p = subprocess.run([NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, "npm ci failed:\n%s\n%s" % (p.stdout[-3000:], p.stderr[-3000:])
    with open(done, "w") as f:
        f.write(want)


@pytest.fixture(scope="module")
def sdk(server, tmp_path_factory):
    """Runs sdk_v3.mjs once against a fresh bucket: (bucket, boto3 client, {step: result})."""
    _npm_ci()
    s3 = make_boto3(server.endpoint, server.access_key, server.secret_key)
    bucket = unique_name("jssdk")
    s3.create_bucket(Bucket=bucket)
    env = client_env(tmp_path_factory.mktemp("jshome"), EP=server.endpoint,
                     AK=server.access_key, SK=server.secret_key, BUCKET=bucket,
                     NODE_NO_WARNINGS="1")
    p = run_client([NODE, os.path.join(JS_DIR, "sdk_v3.mjs")], env, timeout=300, cwd=JS_DIR)
    steps = {}
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            steps[r["step"]] = r
    return bucket, s3, steps


def ok(steps, name):
    r = steps.get(name)
    assert r is not None, "step %s did not run" % name
    assert r["ok"], r
    return r["value"]


def crc32_b64(data):
    return b64("CRC32", data)


def test_put_string_default_crc32(sdk):
    bucket, s3, steps = sdk
    v = ok(steps, "put_string")
    assert v["etag"] == '"%s"' % hashlib.md5(b"hello world").hexdigest()
    assert v["CRC32"] == crc32_b64(b"hello world")  # the SDK sent it; S3 echoes it
    assert v["type"] == "FULL_OBJECT"
    h = s3.head_object(Bucket=bucket, Key="str.txt", ChecksumMode="ENABLED")
    assert h["ChecksumCRC32"] == crc32_b64(b"hello world")
    assert h["ContentType"] == "text/plain"


def test_put_stream_with_trailer(sdk):
    bucket, s3, steps = sdk
    v = ok(steps, "put_stream_trailer")
    body = s3.get_object(Bucket=bucket, Key="stream.bin")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == v["sha256"]
    assert v["etag"] == '"%s"' % hashlib.md5(body).hexdigest()
    assert v["CRC32"] == crc32_b64(body)


@pytest.mark.parametrize("algo", ["CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_put_each_algorithm(sdk, algo):
    bucket, s3, steps = sdk
    v = ok(steps, "put_" + algo)
    body = s3.get_object(Bucket=bucket, Key="algo-" + algo)["Body"].read()
    assert v[algo] == b64(algo, body)
    assert v["etag"] == '"%s"' % hashlib.md5(body).hexdigest()


def test_get_validated_by_sdk(sdk):
    _, _, steps = sdk
    put = ok(steps, "put_stream_trailer")
    v = ok(steps, "get_validated")  # the SDK checks the CRC32 it is sent against the body
    assert v["sha256"] == put["sha256"] and v["CRC32"] == put["CRC32"]
    assert v["contentLength"] == 140001


def test_get_range_and_head(sdk):
    _, _, steps = sdk
    assert ok(steps, "get_range") == {"body": "world", "contentRange": "bytes 6-10/11",
                                      "contentType": "text/plain"}
    v = ok(steps, "head_crc64")
    assert v["size"] == 100000 and v["CRC64NVME"] == ok(steps, "put_CRC64NVME")["CRC64NVME"]


def test_lib_storage_multipart(sdk):
    bucket, s3, steps = sdk
    v = ok(steps, "upload_multipart_stream")
    assert v["etag"].endswith('-3"')
    body = s3.get_object(Bucket=bucket, Key="big-stream.bin")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == v["sha256"]
    parts = [body[i:i + 5 * 1024 * 1024] for i in range(0, len(body), 5 * 1024 * 1024)]
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    assert v["etag"] == '"%s-3"' % hashlib.md5(md5s).hexdigest()
    a = ok(steps, "attributes")
    assert a["parts"] == 3 and a["size"] == len(body) and a["etag"] == v["etag"].strip('"')


def test_lib_storage_full_object_crc64(sdk):
    bucket, s3, steps = sdk
    v = ok(steps, "upload_multipart_crc64")
    assert v["type"] == "FULL_OBJECT" and v["CRC64NVME"]
    # the SDK validated the full-object CRC64NVME of the whole body on this GET
    g = ok(steps, "get_multipart_validated")
    assert g["sha256"] == v["sha256"] and g["CRC64NVME"] == v["CRC64NVME"]
    h = s3.head_object(Bucket=bucket, Key="big-crc64.bin", ChecksumMode="ENABLED")
    assert h["ContentLength"] == 11 * 1024 * 1024 + 5


def test_copy_with_checksum_algorithm(sdk):
    bucket, s3, steps = sdk
    v = ok(steps, "copy_crc32c")
    assert v["CRC32C"] == b64("CRC32C", b"hello world") and v["type"] == "FULL_OBJECT"
    assert v["etag"] == '"%s"' % hashlib.md5(b"hello world").hexdigest()


def test_list_v2_checksum_elements(sdk):
    _, _, steps = sdk
    got = {c["key"]: (c["algorithm"], c["type"]) for c in ok(steps, "list_v2")}
    assert got["str.txt"] == (["CRC32"], "FULL_OBJECT")
    assert got["algo-SHA256"] == (["SHA256"], "FULL_OBJECT")
    assert got["big-crc64.bin"] == (["CRC64NVME"], "FULL_OBJECT")
    assert got["big-stream.bin"][1] in ("COMPOSITE", "FULL_OBJECT")


def test_presigned_urls(sdk):
    bucket, s3, steps = sdk
    assert ok(steps, "presigned_get") == {"status": 200, "body": "hello world"}
    assert ok(steps, "presigned_put")["status"] == 200


def test_missing_key_errors(sdk):
    _, _, steps = sdk
    g, h = steps["get_missing"], steps["head_missing"]
    assert (g["ok"], g["error"], g["status"]) == (False, "NoSuchKey", 404), g
    assert (h["ok"], h["error"], h["status"]) == (False, "NotFound", 404), h


def test_delete_objects_with_checksum(sdk):
    bucket, s3, steps = sdk
    v = ok(steps, "delete_objects")  # sent with x-amz-checksum-crc32, no Content-MD5
    assert v == {"deleted": ["copy.txt", "never-existed", "presigned.txt"], "errors": 0}
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert "copy.txt" not in keys and "presigned.txt" not in keys
