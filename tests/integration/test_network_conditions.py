"""Network conditions in bucket policies: an HTTPS listener (--listen-tls, aws:SecureTransport),
aws:SourceIp from a configured trusted proxy's X-Forwarded-For, and aws:SourceVpce from a
listener's label (api/authz.c, http/server.c, main.c)."""
import json
import os
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest

import s3sig
from conftest import (Server, free_port, make_boto3, random_access_key, random_secret_key,
                      unique_name)


def doc(*st):
    return json.dumps({"Version": "2012-10-17", "Statement": list(st)})


@pytest.fixture(scope="module")
def certs(tmp_root):
    d = os.path.join(tmp_root, unique_name("tls"))
    os.makedirs(d)
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        pytest.skip("openssl cannot make a test certificate: %s" % p.stderr)
    return cert, key


@pytest.fixture(scope="module")
def nsrv(tmp_root, certs):
    """A server with a plain listener, an HTTPS one, and 127.0.0.1 as trusted proxy."""
    d = os.path.join(tmp_root, unique_name("net"))
    os.makedirs(os.path.join(d, "data"))
    srv = Server(os.path.join(d, "data"), os.path.join(d, "server.log"), random_access_key(),
                 random_secret_key(),
                 extra_env={"STRATA_TRUSTED_PROXIES": "127.0.0.1",
                            "STRATA_TLS_CERT": certs[0], "STRATA_TLS_KEY": certs[1]})
    tls_port = free_port()
    srv.tls_endpoint = "https://127.0.0.1:%d" % tls_port
    srv.extra_env["STRATA_LISTEN_TLS"] = "127.0.0.1:%d" % tls_port
    srv.start()
    try:
        srv.wait_ready()
        yield srv
    finally:
        rc, hung = srv.stop()
        assert not hung
        text = srv.log_text()
        assert "ERROR: AddressSanitizer" not in text and "runtime error:" not in text


def test_https_listener_serves_s3(nsrv, certs):
    import boto3
    from botocore.config import Config
    c = boto3.session.Session().client(
        "s3", endpoint_url=nsrv.tls_endpoint, aws_access_key_id=nsrv.access_key,
        aws_secret_access_key=nsrv.secret_key, verify=certs[0],
        config=Config(region_name="us-east-1", s3={"addressing_style": "path"},
                      retries={"total_max_attempts": 1, "mode": "standard"}))
    b = unique_name("tls")
    c.create_bucket(Bucket=b)
    c.put_object(Bucket=b, Key="k", Body=b"over tls")
    assert c.get_object(Bucket=b, Key="k")["Body"].read() == b"over tls"
    # the log names the listener as https
    assert "https://127.0.0.1:" in nsrv.log_text()


def test_secure_transport(nsrv, certs):
    import boto3
    from botocore.config import Config
    cfg = Config(region_name="us-east-1", s3={"addressing_style": "path"},
                 retries={"total_max_attempts": 1, "mode": "standard"})
    tls = boto3.session.Session().client(
        "s3", endpoint_url=nsrv.tls_endpoint, aws_access_key_id=nsrv.access_key,
        aws_secret_access_key=nsrv.secret_key, verify=certs[0], config=cfg)
    plain = make_boto3(nsrv.endpoint, nsrv.access_key, nsrv.secret_key)
    b = unique_name("st")
    plain.create_bucket(Bucket=b)
    plain.put_object(Bucket=b, Key="k", Body=b"v")
    plain.put_bucket_policy(Bucket=b, Policy=doc(
        {"Sid": "HttpsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as e:
        plain.get_object(Bucket=b, Key="k")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert tls.get_object(Bucket=b, Key="k")["Body"].read() == b"v"
    # anonymous public read over TLS only
    tls.put_bucket_policy(Bucket=b, Policy=doc(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/*" % b,
         "Condition": {"Bool": {"aws:SecureTransport": "true"}}}))
    ctx = ssl.create_default_context(cafile=certs[0])
    with urllib.request.urlopen("%s/%s/k" % (nsrv.tls_endpoint, b), context=ctx) as r:
        assert r.read() == b"v"
    anon = s3sig.Client(nsrv.endpoint, nsrv.access_key, nsrv.secret_key)
    assert anon.request("GET", "/%s/k" % b, sign=False).status == 403


def test_tls_version(nsrv, certs):
    """s3:TlsVersion is the negotiated TLS version as a number ("1.2", "1.3"), absent on plain
    HTTP: a public read that demands TLS 1.3 (NumericGreaterThanEquals 1.3)."""
    plain = make_boto3(nsrv.endpoint, nsrv.access_key, nsrv.secret_key)
    b = unique_name("tlsv")
    plain.create_bucket(Bucket=b)
    plain.put_object(Bucket=b, Key="k", Body=b"v")
    plain.put_bucket_policy(Bucket=b, Policy=doc(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/*" % b,
         "Condition": {"NumericGreaterThanEquals": {"s3:TlsVersion": "1.3"}}}))

    def get(version):
        ctx = ssl.create_default_context(cafile=certs[0])
        ctx.minimum_version = ctx.maximum_version = version
        try:
            with urllib.request.urlopen("%s/%s/k" % (nsrv.tls_endpoint, b), context=ctx) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
    assert get(ssl.TLSVersion.TLSv1_3) == 200
    assert get(ssl.TLSVersion.TLSv1_2) == 403
    anon = s3sig.Client(nsrv.endpoint, nsrv.access_key, nsrv.secret_key)
    assert anon.request("GET", "/%s/k" % b, sign=False).status == 403  # no TLS, no key
    # the usual "deny anything older than TLS 1.3" (NumericLessThan) for everyone
    plain.put_bucket_policy(Bucket=b, Policy=doc(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/*" % b},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/*" % b,
         "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.3}}}))
    assert get(ssl.TLSVersion.TLSv1_3) == 200
    assert get(ssl.TLSVersion.TLSv1_2) == 403


def test_plain_http_to_tls_port_fails_cleanly(nsrv):
    host, port = nsrv.tls_endpoint[len("https://"):].split(":")
    r = s3sig.raw_exchange(host, int(port), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
    assert b"HTTP/1.1 200" not in (r or b"")
    assert nsrv.alive()


def test_source_ip_via_trusted_proxy(nsrv):
    """127.0.0.1 is a configured trusted proxy here: X-Forwarded-For names the client."""
    s3 = make_boto3(nsrv.endpoint, nsrv.access_key, nsrv.secret_key)
    b = unique_name("xff")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=b"v")
    s3.put_bucket_policy(Bucket=b, Policy=doc(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/*" % b,
         "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}))
    anon = s3sig.Client(nsrv.endpoint, nsrv.access_key, nsrv.secret_key)
    assert anon.request("GET", "/%s/k" % b, sign=False).status == 403
    r = anon.request("GET", "/%s/k" % b, sign=False,
                     headers={"X-Forwarded-For": "203.0.113.7"})
    assert r.status == 200, r
    r = anon.request("GET", "/%s/k" % b, sign=False,
                     headers={"X-Forwarded-For": "203.0.113.7, 198.51.100.1"})
    assert r.status == 403, r  # the right-most hop is the one the proxy saw
