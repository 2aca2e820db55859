"""Signature Version 2 (auth/sigv2.c) through real clients: boto3's default presigned URLs
(Debian's botocore signs them with SigV2), boto3 with signature_version "s3" (the header form),
temporary credentials, expiry and tampering, and s3:signatureversion in a bucket policy.
s3cmd's SigV2 mode is in test_client_s3cmd.py."""
import json
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import client_error


def v2_client(server, access_key=None, secret_key=None, token=None, signature_version="s3"):
    return boto3.session.Session().client(
        "s3", endpoint_url=server.endpoint,
        aws_access_key_id=access_key or server.access_key,
        aws_secret_access_key=secret_key or server.secret_key, aws_session_token=token,
        config=Config(region_name="us-east-1", signature_version=signature_version,
                      s3={"addressing_style": "path"},
                      retries={"total_max_attempts": 1, "mode": "standard"}))


def fetch(url, method="GET", data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def test_default_presigned_urls_are_sigv2_and_work(server, s3, bucket):
    key = "dir/a b+c&d=é.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"hello v2")
    plain = v2_client(server, signature_version=None)  # boto3's default presigner
    url = plain.generate_presigned_url(
        "get_object", ExpiresIn=300,
        Params={"Bucket": bucket, "Key": key, "ResponseContentType": "text/x y",
                "ResponseContentDisposition": 'attachment; filename="x y.txt"'})
    assert "AWSAccessKeyId=" in url and "Signature=" in url, url
    status, body, headers = fetch(url)
    assert status == 200 and body == b"hello v2", (status, body)
    assert headers["Content-Type"] == "text/x y"
    assert headers["Content-Disposition"] == 'attachment; filename="x y.txt"'

    # a presigned PUT (no Content-Type was signed, so none is sent)
    put = plain.generate_presigned_url("put_object", ExpiresIn=300,
                                       Params={"Bucket": bucket, "Key": "up.bin"})
    status, body, _ = fetch(put, "PUT", b"uploaded", {"Content-Type": ""})
    assert status == 200, body
    assert s3.get_object(Bucket=bucket, Key="up.bin")["Body"].read() == b"uploaded"

    # a changed key, signature or method does not verify
    status, body, _ = fetch(url.replace("a%20b", "a%20c"))
    assert status == 403 and b"SignatureDoesNotMatch" in body, body
    sig_at = url.index("Signature=") + len("Signature=")
    bad = url[:sig_at] + ("A" if url[sig_at] != "A" else "B") + url[sig_at + 1:]
    status, body, _ = fetch(bad)
    assert status == 403 and b"SignatureDoesNotMatch" in body, body
    status, body, _ = fetch(url, "DELETE")
    assert status == 403 and b"SignatureDoesNotMatch" in body, body
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 8


def test_expired_and_malformed_query(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    plain = v2_client(server, signature_version=None)
    url = plain.generate_presigned_url("get_object", ExpiresIn=-5,
                                       Params={"Bucket": bucket, "Key": "k"})
    status, body, _ = fetch(url)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body and b"expired" in body, body
    base = "%s/%s/k?AWSAccessKeyId=%s&Signature=abc%%3D" % (server.endpoint, bucket,
                                                           server.access_key)
    status, body, _ = fetch(base)  # no Expires
    assert status == 403 and b"AccessDenied" in body, body
    status, body, _ = fetch(base + "&Expires=4102444800&X-Amz-Signature=00")
    assert status == 400 and b"InvalidArgument" in body, body
    status, body, _ = fetch("%s/%s/k?AWSAccessKeyId=AKIANOSUCHKEY0000000&Signature=abc%%3D"
                            "&Expires=4102444800" % (server.endpoint, bucket))
    assert status == 403 and b"InvalidAccessKeyId" in body, body


def test_header_form_operations(server, bucket):
    c = v2_client(server)
    c.put_object(Bucket=bucket, Key="v2/k", Body=b"y" * 1000, ContentType="text/plain",
                 Metadata={"Reviewed-By": "joe"}, Tagging="a=1")
    got = c.get_object(Bucket=bucket, Key="v2/k")
    assert got["Body"].read() == b"y" * 1000 and got["Metadata"] == {"reviewed-by": "joe"}
    assert [o["Key"] for o in c.list_objects(Bucket=bucket, Prefix="v2/")["Contents"]] == ["v2/k"]
    assert c.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
    assert c.get_object_tagging(Bucket=bucket, Key="v2/k")["TagSet"] == [{"Key": "a", "Value": "1"}]
    c.copy_object(Bucket=bucket, Key="v2/copy", CopySource={"Bucket": bucket, "Key": "v2/k"})
    assert c.head_object(Bucket=bucket, Key="v2/copy")["ContentLength"] == 1000
    c.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert c.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    mp = c.create_multipart_upload(Bucket=bucket, Key="v2/mp")
    part = c.upload_part(Bucket=bucket, Key="v2/mp", UploadId=mp["UploadId"], PartNumber=1,
                         Body=b"z" * 10)
    c.complete_multipart_upload(Bucket=bucket, Key="v2/mp", UploadId=mp["UploadId"],
                                MultipartUpload={"Parts": [{"PartNumber": 1,
                                                            "ETag": part["ETag"]}]})
    assert c.get_object(Bucket=bucket, Key="v2/mp")["Body"].read() == b"z" * 10
    out = c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "v2/copy"}]})
    assert [d["Key"] for d in out["Deleted"]] == ["v2/copy"]

    wrong = v2_client(server, secret_key="not-the-secret-at-all-0000000000000000000")
    with pytest.raises(ClientError) as e:
        wrong.list_objects(Bucket=bucket)
    assert client_error(e) == (403, "SignatureDoesNotMatch")


def test_temporary_credentials(server, bucket, s3):
    sts = boto3.session.Session().client(
        "sts", endpoint_url=server.endpoint, aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key, region_name="us-east-1")
    cr = sts.get_session_token(DurationSeconds=900)["Credentials"]
    s3.put_object(Bucket=bucket, Key="t", Body=b"temp")
    c = v2_client(server, cr["AccessKeyId"], cr["SecretAccessKey"], cr["SessionToken"])
    assert c.get_object(Bucket=bucket, Key="t")["Body"].read() == b"temp"
    plain = v2_client(server, cr["AccessKeyId"], cr["SecretAccessKey"], cr["SessionToken"],
                      signature_version=None)
    url = plain.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "t"})
    assert "x-amz-security-token=" in url
    assert fetch(url)[:2] == (200, b"temp")
    nope = v2_client(server, cr["AccessKeyId"], cr["SecretAccessKey"], None)
    with pytest.raises(ClientError) as e:
        nope.get_object(Bucket=bucket, Key="t")
    assert client_error(e)[0] in (400, 403)


def test_policy_can_refuse_sigv2(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    acct = boto3.session.Session().client(
        "sts", endpoint_url=server.endpoint, aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1").get_caller_identity()["Account"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                       "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket],
                       "Condition": {"StringEquals": {"s3:signatureversion": "AWS"},
                                     "StringNotEquals": {"aws:PrincipalAccount": "0" * 12}}}]}))
    assert acct != "0" * 12
    with pytest.raises(ClientError) as e:
        v2_client(server).get_object(Bucket=bucket, Key="k")
    assert client_error(e) == (403, "AccessDenied")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"  # SigV4 still works
    s3.delete_bucket_policy(Bucket=bucket)
    assert v2_client(server).get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_incomplete_query_auth_is_refused(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    status, body, _ = fetch("%s/%s/k?Signature=&Expires=" % (server.endpoint, bucket))
    assert status == 403 and b"<Code>AccessDenied</Code>" in body, body
    assert b"Query-string authentication requires" in body, body
