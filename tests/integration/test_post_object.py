"""POST Object (browser-based uploads, api/s3_post.c): forms made by boto3's
generate_presigned_post (SigV2 by default in Debian's botocore, SigV4 with s3v4), the policy's
conditions, the success answers (204, 200, 201 with XML, 303 redirect), ${filename}, object
headers from fields, anonymous forms, and every refusal."""
import base64
import datetime
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request

import boto3
import pytest
from botocore.config import Config
from urllib3.filepost import encode_multipart_formdata



def client(server, signature_version):
    return boto3.session.Session().client(
        "s3", endpoint_url=server.endpoint, aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=Config(region_name="us-east-1", signature_version=signature_version,
                      s3={"addressing_style": "path"}))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def post(url, fields, file_body=b"data", filename="f.txt", file_type=None, extra=None):
    """fields: list of (name, value) in order; the file goes last unless file_body is None."""
    parts = list(fields)
    if file_body is not None:
        parts.append(("file", (filename, file_body, file_type) if file_type else
                      (filename, file_body)))
    parts += extra or []
    body, ctype = encode_multipart_formdata(parts)
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": ctype})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


@pytest.mark.parametrize("sigver", ["s3", "s3v4"])
def test_presigned_post_roundtrip(server, s3, bucket, sigver):
    c = client(server, sigver)
    pp = c.generate_presigned_post(
        bucket, "uploads/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-origin": "form",
                "success_action_status": "201"},
        Conditions=[{"Content-Type": "text/plain"}, {"x-amz-meta-origin": "form"},
                    {"success_action_status": "201"}, ["starts-with", "$key", "uploads/"],
                    ["content-length-range", 1, 1000]],
        ExpiresIn=300)
    if sigver == "s3v4":
        assert "x-amz-signature" in pp["fields"]
    else:
        assert "signature" in pp["fields"]
    status, body, headers = post(pp["url"], pp["fields"].items(), b"hello form",
                                 filename="notes v1.txt")
    assert status == 201, body
    assert b"<PostResponse>" in body and b"<Key>uploads/notes v1.txt</Key>" in body, body
    etag = '"%s"' % hashlib.md5(b"hello form").hexdigest()
    assert headers["ETag"] == etag
    assert headers["Location"].endswith("/%s/uploads/notes%%20v1.txt" % bucket)
    got = s3.get_object(Bucket=bucket, Key="uploads/notes v1.txt")
    assert got["Body"].read() == b"hello form"
    assert got["ContentType"] == "text/plain" and got["Metadata"] == {"origin": "form"}

    # the size range is enforced after the file streamed
    status, body, _ = post(pp["url"], pp["fields"].items(), b"x" * 1001)
    assert status == 400 and b"EntityTooLarge" in body, body
    status, body, _ = post(pp["url"], pp["fields"].items(), b"")
    assert status == 400 and b"EntityTooSmall" in body, body


def test_success_answers_and_redirect(server, s3, bucket):
    c = client(server, "s3v4")
    pp = c.generate_presigned_post(bucket, "k1", ExpiresIn=300)
    status, body, headers = post(pp["url"], pp["fields"].items(), b"one")
    assert status == 204 and body == b"", body  # the default
    assert s3.get_object(Bucket=bucket, Key="k1")["Body"].read() == b"one"

    pp = c.generate_presigned_post(bucket, "k2", Fields={"success_action_status": "200"},
                                   Conditions=[{"success_action_status": "200"}])
    status, body, _ = post(pp["url"], pp["fields"].items(), b"two")
    assert status == 200, body

    pp = c.generate_presigned_post(
        bucket, "k3", Fields={"success_action_redirect": "http://example.com/done?x=1"},
        Conditions=[{"success_action_redirect": "http://example.com/done?x=1"}])
    status, body, headers = post(pp["url"], pp["fields"].items(), b"three")
    assert status == 303, body
    loc = urllib.parse.urlparse(headers["Location"])
    q = urllib.parse.parse_qs(loc.query)
    assert loc.netloc == "example.com" and q["x"] == ["1"] and q["bucket"] == [bucket]
    assert q["key"] == ["k3"] and q["etag"] == ['"%s"' % hashlib.md5(b"three").hexdigest()]


def test_policy_refusals(server, s3, bucket):
    c = client(server, "s3v4")
    pp = c.generate_presigned_post(bucket, "a/b", Conditions=[["starts-with", "$key", "a/"]],
                                   ExpiresIn=300)
    f = dict(pp["fields"])

    def attempt(fields, **kw):
        return post(pp["url"], list(fields.items()), **kw)

    # a field the policy does not name
    status, body, _ = attempt(dict(f, **{"x-amz-meta-extra": "1"}))
    assert status == 403 and b"Extra input fields: x-amz-meta-extra" in body, body
    # a condition that fails
    status, body, _ = attempt(dict(f, key="zzz"))
    assert status == 403 and b"Policy Condition failed" in body, body
    # a tampered policy or signature
    status, body, _ = attempt(dict(f, policy=f["policy"][:-4] + "AAA="))
    assert status in (400, 403), body
    sig = f["x-amz-signature"]
    status, body, _ = attempt(dict(f, **{"x-amz-signature": ("0" if sig[0] != "0" else "1") +
                                         sig[1:]}))
    assert status == 403 and b"SignatureDoesNotMatch" in body, body
    # expired
    old = c.generate_presigned_post(bucket, "a/b", ExpiresIn=-10)
    status, body, _ = post(old["url"], old["fields"].items())
    assert status == 403 and b"Policy expired" in body, body
    # no file, no key, not a form, garbage form
    status, body, _ = attempt(f, file_body=None)
    assert status == 400 and b"IncorrectNumberOfFilesInPostRequest" in body, body
    nokey = {k: v for k, v in f.items() if k != "key"}
    status, body, _ = attempt(nokey)
    assert status == 400 and b"InvalidArgument" in body, body
    req = urllib.request.Request(pp["url"], data=b"key=x", method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 412
    req = urllib.request.Request(pp["url"], data=b"--zz\r\nnot a header\r\n\r\nx\r\n--zz--",
                                 method="POST",
                                 headers={"Content-Type": "multipart/form-data; boundary=zz"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400 and b"MalformedPOSTRequest" in e.value.read()
    # nothing was stored by any of these
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0

    # fields after the file are ignored, x-ignore-* need no condition
    status, body, _ = attempt(dict(f, **{"x-ignore-me": "1"}), extra=[("trailing", "ignored")])
    assert status == 204, body
    assert s3.get_object(Bucket=bucket, Key="a/b")["Body"].read() == b"data"


def test_hand_made_v4_form_with_acl_and_tagging(server, s3, bucket):
    """A form as a web page would build it (SigV4 by hand), with acl, tagging and storage
    class fields; field names in any case."""
    now = datetime.datetime.now(datetime.timezone.utc)
    date = now.strftime("%Y%m%d")
    cred = "%s/%s/us-east-1/s3/aws4_request" % (server.access_key, date)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    exp = (now + datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    tagging = "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"
    policy = {"expiration": exp, "conditions": [
        {"bucket": bucket}, ["starts-with", "$key", "web/"], {"acl": "private"},
        {"tagging": tagging}, {"x-amz-storage-class": "STANDARD_IA"},
        {"x-amz-algorithm": "AWS4-HMAC-SHA256"}, {"x-amz-credential": cred},
        {"x-amz-date": amz_date}, ["starts-with", "$Content-Type", "image/"]]}
    b64 = base64.b64encode(json.dumps(policy).encode()).decode()

    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    k = h(h(h(h(("AWS4" + server.secret_key).encode(), date), "us-east-1"), "s3"),
          "aws4_request")
    sig = hmac.new(k, b64.encode(), hashlib.sha256).hexdigest()
    fields = [("Key", "web/${filename}"), ("ACL", "private"), ("Tagging", tagging),
              ("X-Amz-Storage-Class", "STANDARD_IA"), ("Content-Type", "image/png"),
              ("bucket", bucket), ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
              ("X-Amz-Credential", cred), ("X-Amz-Date", amz_date), ("Policy", b64),
              ("X-Amz-Signature", sig)]
    status, body, _ = post("%s/%s" % (server.endpoint, bucket), fields, b"\x89PNG...",
                           filename="pic.png")
    assert status == 204, body
    head = s3.head_object(Bucket=bucket, Key="web/pic.png")
    assert head["ContentType"] == "image/png" and head["StorageClass"] == "STANDARD_IA"
    assert s3.get_object_tagging(Bucket=bucket, Key="web/pic.png")["TagSet"] == [
        {"Key": "k", "Value": "v"}]


def test_anonymous_form_needs_public_write(server, s3, bucket):
    fields = [("key", "anon.txt")]
    status, body, _ = post("%s/%s" % (server.endpoint, bucket), fields, b"anon")
    assert status == 403 and b"AccessDenied" in body, body
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::%s/public/*" % bucket}]}))
    status, body, _ = post("%s/%s" % (server.endpoint, bucket), fields, b"anon")
    assert status == 403, body  # outside the granted prefix
    status, body, _ = post("%s/%s" % (server.endpoint, bucket), [("key", "public/anon.txt")],
                           b"anon")
    assert status == 204, body
    assert s3.get_object(Bucket=bucket, Key="public/anon.txt")["Body"].read() == b"anon"


def test_large_file_streams(server, s3, bucket):
    c = client(server, "s3v4")
    pp = c.generate_presigned_post(bucket, "big.bin", ExpiresIn=300)
    data = bytes(range(256)) * (24 * 1024)  # 6 MiB, with CR and LF bytes throughout
    status, body, _ = post(pp["url"], pp["fields"].items(), data)
    assert status == 204, body
    got = s3.get_object(Bucket=bucket, Key="big.bin")
    assert got["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    assert got["Body"].read() == data


def test_policy_checks_key_after_filename_and_ops_any_case(server, s3, bucket):
    # The policy judges the key the object will get, ${filename} replaced; condition
    # operators are case-insensitive (ceph s3-tests test_post_object_set_key_from_filename,
    # test_post_object_case_insensitive_condition_fields)
    c = client(server, "s3v4")
    pp = c.generate_presigned_post(
        bucket, "${filename}",
        Conditions=[["StArTs-WiTh", "$KeY", "rep"], ["Content-Length-Range", 0, 100]],
        ExpiresIn=300)
    status, body, _ = post(pp["url"], pp["fields"].items(), b"quarterly", filename="report.txt")
    assert status == 204, body
    assert s3.get_object(Bucket=bucket, Key="report.txt")["Body"].read() == b"quarterly"
    status, body, _ = post(pp["url"], pp["fields"].items(), b"nope", filename="other.txt")
    assert status == 403 and b"AccessDenied" in body, body
