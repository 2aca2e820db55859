"""Hand-made AWS Signature Version 4 and a raw HTTP client, stdlib only.

The tests use this to craft exact requests (headers, payload modes, aws-chunked bodies, bad
signatures, skewed dates) that boto3 would never send. Written from the AWS SigV4 and S3
"Authenticating Requests" documentation, not from Strata's code. Also imported by
tests/crash/crash_test.py.
"""
import base64
import datetime as _dt
import hashlib
import hmac
import http.client
import socket
import urllib.parse
import xml.etree.ElementTree as ET
import zlib

ALGO = "AWS4-HMAC-SHA256"
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def crc32_b64(data):
    return base64.b64encode((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


def amz_now(offset_seconds=0):
    t = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=offset_seconds)
    return t.strftime("%Y%m%dT%H%M%SZ")


def uri_encode(s, safe="/"):
    """AWS URI encoding: everything but unreserved (A-Za-z0-9-._~) is %XX (uppercase)."""
    if isinstance(s, str):
        s = s.encode("utf-8")
    return urllib.parse.quote(s, safe=safe + "~")


def signing_key(secret, date, region, service):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def hmac_hex(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()


def canonical_query(pairs):
    """pairs: list of (name, value-or-None) already decoded."""
    enc = [(uri_encode(k, safe=""), uri_encode("" if v is None else v, safe="")) for k, v in pairs]
    enc.sort()
    return "&".join("%s=%s" % kv for kv in enc)


def wire_query(pairs):
    out = []
    for k, v in pairs:
        if v is None:
            out.append(uri_encode(k, safe=""))
        else:
            out.append("%s=%s" % (uri_encode(k, safe=""), uri_encode(v, safe="")))
    return "&".join(out)


def _norm_value(v):
    return " ".join(str(v).strip().split())


def sign_headers(method, path, query_pairs, headers, payload_hash, access_key, secret,
                 amz_date, region="us-east-1", service="s3", signed=None, scope_date=None):
    """Adds x-amz-date and Authorization to `headers` (a list of (name, value)).

    path: the encoded path exactly as it goes on the wire. signed: header names to sign
    (default: host, content-type, content-md5 and every x-amz-* present). Returns the
    signature (hex) and the signing key (for aws-chunked)."""
    names = {n.lower() for n, _ in headers}
    if "x-amz-date" not in names:
        headers.append(("x-amz-date", amz_date))
    if signed is None:
        signed = sorted({n.lower() for n, _ in headers
                         if n.lower() in ("host", "content-type", "content-md5")
                         or n.lower().startswith("x-amz-")})
    else:
        signed = sorted(s.lower() for s in signed)
    canon_headers = ""
    for s in signed:
        vals = [_norm_value(v) for n, v in headers if n.lower() == s]
        canon_headers += "%s:%s\n" % (s, ",".join(vals))
    signed_str = ";".join(signed)
    creq = "\n".join([method, path, canonical_query(query_pairs), canon_headers, signed_str,
                      payload_hash])
    sdate = scope_date or amz_date[:8]
    scope = "%s/%s/%s/aws4_request" % (sdate, region, service)
    sts = "\n".join([ALGO, amz_date, scope, sha256_hex(creq.encode())])
    key = signing_key(secret, sdate, region, service)
    sig = hmac_hex(key, sts)
    headers.append(("Authorization", "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s"
                    % (ALGO, access_key, scope, signed_str, sig)))
    return sig, key, scope


def presign_url(endpoint, method, path, access_key, secret, expires=300, amz_date=None,
                extra_query=None, region="us-east-1", service="s3"):
    """A presigned URL (query auth, UNSIGNED-PAYLOAD, only host signed)."""
    amz_date = amz_date or amz_now()
    host = urllib.parse.urlsplit(endpoint).netloc
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    q = list(extra_query or []) + [
        ("X-Amz-Algorithm", ALGO),
        ("X-Amz-Credential", "%s/%s" % (access_key, scope)),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    creq = "\n".join([method, path, canonical_query(q), "host:%s\n" % host, "host", UNSIGNED])
    sts = "\n".join([ALGO, amz_date, scope, sha256_hex(creq.encode())])
    sig = hmac_hex(signing_key(secret, amz_date[:8], region, service), sts)
    q.append(("X-Amz-Signature", sig))
    return "%s%s?%s" % (endpoint, path, wire_query(q))


def aws_chunked_body(data, chunk_size, signing_key_, seed_sig, amz_date, scope, corrupt=None):
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD body. corrupt: index of a chunk whose signature is
    replaced by a wrong one."""
    out = []
    prev = seed_sig
    pieces = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    for i, piece in enumerate(pieces):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, EMPTY_SHA256,
                         sha256_hex(piece)])
        sig = hmac_hex(signing_key_, sts)
        prev = sig
        if corrupt is not None and i == corrupt:
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        out.append(b"%x;chunk-signature=%s\r\n" % (len(piece), sig.encode()))
        out.append(piece + b"\r\n")
    return b"".join(out)


def unsigned_trailer_body(data, chunk_size, trailer_name="x-amz-checksum-crc32",
                          trailer_value=None):
    out = []
    for i in range(0, len(data), chunk_size):
        piece = data[i:i + chunk_size]
        out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
    if trailer_value is None:
        trailer_value = crc32_b64(data)
    out.append(b"0\r\n%s:%s\r\n\r\n" % (trailer_name.encode(), trailer_value.encode()))
    return b"".join(out)


def http_chunked(data, piece=8192):
    """HTTP/1.1 Transfer-Encoding: chunked framing of data."""
    out = []
    for i in range(0, len(data), piece):
        p = data[i:i + piece]
        out.append(b"%x\r\n%s\r\n" % (len(p), p))
    out.append(b"0\r\n\r\n")
    return b"".join(out)


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name, default=None):
        name = name.lower()
        for n, v in self.headers:
            if n.lower() == name:
                return v
        return default

    def header_all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    @property
    def xml(self):
        return ET.fromstring(self.body)

    @property
    def error_code(self):
        try:
            root = ET.fromstring(self.body)
        except ET.ParseError:
            return None
        if root.tag != "Error":
            return None
        return root.findtext("Code")

    def __repr__(self):
        return "<Response %s %s %r>" % (self.status, self.reason, self.body[:300])


class Client:
    """Signs and sends one request per call; keeps an optional persistent connection."""

    def __init__(self, endpoint, access_key, secret, region="us-east-1", timeout=30):
        u = urllib.parse.urlsplit(endpoint)
        self.endpoint = endpoint.rstrip("/")
        self.host = u.hostname
        self.port = u.port
        self.hostport = u.netloc
        self.access_key = access_key
        self.secret = secret
        self.region = region
        self.timeout = timeout

    def connect(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method, path, query=None, headers=None, body=b"", payload=None,
                sign=True, access_key=None, secret=None, amz_date=None, signed=None,
                scope_date=None, region=None, service="s3", conn=None, chunked=False,
                raw_path=False, auth_override=None, content_length=True):
        """path: decoded path ("/bucket/key") unless raw_path. query: list of (k, v) or dict.
        payload: None = sha256 of body; "UNSIGNED-PAYLOAD"/streaming names/any string as is.
        chunked: send body with Transfer-Encoding: chunked (body already framed if bytes
        given via chunked='raw')."""
        if isinstance(query, dict):
            query = list(query.items())
        query = query or []
        wpath = path if raw_path else uri_encode(path)
        target = wpath + ("?" + wire_query(query) if query else "")
        hdrs = [("Host", self.hostport)]
        for n, v in (headers.items() if isinstance(headers, dict) else (headers or [])):
            if n.lower() == "host":
                hdrs[0] = ("Host", v)
            else:
                hdrs.append((n, v))
        names = {n.lower() for n, _ in hdrs}
        if payload is None:
            payload = sha256_hex(body)
        if payload is not False and "x-amz-content-sha256" not in names:
            hdrs.append(("x-amz-content-sha256", payload))
        if chunked:
            if "transfer-encoding" not in names:
                hdrs.append(("Transfer-Encoding", "chunked"))
        elif content_length and "content-length" not in names and (
                body or method in ("PUT", "POST")):
            hdrs.append(("Content-Length", str(len(body))))
        if sign:
            sign_headers(method, wpath, query, hdrs, payload if payload else EMPTY_SHA256,
                         access_key or self.access_key, secret or self.secret,
                         amz_date or amz_now(), region or self.region, service,
                         signed=signed, scope_date=scope_date)
        if auth_override is not None:
            hdrs = [(n, v) for n, v in hdrs if n.lower() != "authorization"]
            if auth_override is not False:
                hdrs.append(("Authorization", auth_override))
        own = conn is None
        c = conn or self.connect()
        try:
            c.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for n, v in hdrs:
                c.putheader(n, v)
            c.endheaders()
            if chunked == "raw":
                c.send(body)
            elif chunked:
                c.send(http_chunked(body))
            elif body:
                c.send(body)
            r = c.getresponse()
            data = r.read()
            return Response(r.status, r.reason, r.getheaders(), data)
        finally:
            if own:
                c.close()

    # Convenience wrappers -------------------------------------------------------------
    def put(self, bucket, key, body=b"", headers=None, **kw):
        return self.request("PUT", "/%s/%s" % (bucket, key), headers=headers, body=body, **kw)

    def get(self, bucket, key, headers=None, **kw):
        return self.request("GET", "/%s/%s" % (bucket, key), headers=headers, **kw)

    def head(self, bucket, key, headers=None, **kw):
        return self.request("HEAD", "/%s/%s" % (bucket, key), headers=headers, **kw)

    def delete(self, bucket, key, **kw):
        return self.request("DELETE", "/%s/%s" % (bucket, key), **kw)

    def create_bucket(self, bucket, **kw):
        return self.request("PUT", "/%s" % bucket, **kw)

    def signed_head_bytes(self, method, path, headers, payload, amz_date=None, query=None):
        """Request line + headers (with auth) as bytes, for socket-level tests; returns
        (bytes, signature, signing key, scope, amz_date)."""
        amz_date = amz_date or amz_now()
        query = query or []
        wpath = uri_encode(path)
        hdrs = [("Host", self.hostport)] + list(headers)
        hdrs.append(("x-amz-content-sha256", payload))
        sig, key, scope = sign_headers(method, wpath, query, hdrs, payload, self.access_key,
                                       self.secret, amz_date, self.region)
        target = wpath + ("?" + wire_query(query) if query else "")
        head = "%s %s HTTP/1.1\r\n" % (method, target)
        head += "".join("%s: %s\r\n" % (n, v) for n, v in hdrs) + "\r\n"
        return head.encode(), sig, key, scope, amz_date


def raw_exchange(host, port, data, timeout=15, shutdown_write=False):
    """Sends raw bytes (from a helper thread, so an early answer is read while the body is
    still going out) and returns what the server sends until it closes, goes quiet for
    `timeout`, or a complete response has arrived."""
    import threading
    s = socket.create_connection((host, port), timeout=timeout)
    send_error = []

    def sender():
        try:
            s.sendall(data)
            if shutdown_write:
                s.shutdown(socket.SHUT_WR)
        except OSError as e:  # the server may answer early and close
            send_error.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    chunks = []
    try:
        while True:
            try:
                b = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not b:
                break
            chunks.append(b)
            if _complete_response(b"".join(chunks)):
                break
        return b"".join(chunks)
    finally:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()
        t.join(5)


def _complete_response(buf):
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = buf[:end].decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < 200:
        return _complete_response(buf[end + 4:]) if len(buf) > end + 4 else False
    for line in lines[1:]:
        n, _, v = line.partition(":")
        if n.strip().lower() == "content-length":
            try:
                return len(buf) - end - 4 >= int(v.strip())
            except ValueError:
                return False
    return False


def parse_raw_response(buf):
    """First final (non-1xx) response in buf -> Response, or None."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = buf[:end].decode("latin-1").split("\r\n")
        status_line = head[0].split(" ", 2)
        status = int(status_line[1])
        reason = status_line[2] if len(status_line) > 2 else ""
        headers = []
        for line in head[1:]:
            n, _, v = line.partition(":")
            headers.append((n.strip(), v.strip()))
        rest = buf[end + 4:]
        if status < 200:
            buf = rest
            continue
        clen = None
        for n, v in headers:
            if n.lower() == "content-length":
                clen = int(v)
        body = rest[:clen] if clen is not None else rest
        return Response(status, reason, headers, body)
