"""Integration fixtures: one real `strata server` per test session, driven by real clients.

The server binary is $STRATA_BIN (default build/strata). It listens on a free loopback port
with a temporary data directory and random root keys from the environment. Its stdout and
stderr go to a log file whose tail is attached to every failing test. A server that dies
during a test fails that test and is restarted on the same data directory; a sanitizer report
or a hang at shutdown (no exit 20 s after SIGTERM) fails the session.

Always run with /usr/bin/python3 (Debian's boto3/pytest); the AWS CLI used is /usr/bin/aws.
"""
import os
import random
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import s3sig  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AWS_CLI = "/usr/bin/aws"
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "ERROR: ThreadSanitizer", "WARNING: ThreadSanitizer")
START_TIMEOUT = float(os.environ.get("STRATA_START_TIMEOUT", "30"))
STOP_TIMEOUT = 20


def strata_bin():
    b = os.environ.get("STRATA_BIN", os.path.join(REPO, "build", "strata"))
    return os.path.abspath(b)


def random_access_key():
    return "AKIA" + "".join(random.choices(string.ascii_uppercase + string.digits, k=16))


def random_secret_key():
    return "".join(random.choices(string.ascii_letters + string.digits, k=40))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, n=60):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError as e:
        return "(no log: %s)" % e


def sanitizer_report(text):
    return next((m for m in SANITIZER_MARKERS if m in text), None)


class Server:
    """A `strata server` process. Start/stop/kill; `ready()` polls until ListBuckets works."""

    def __init__(self, data_dir, log_path, access_key=None, secret_key=None, listens=None,
                 extra_env=None):
        self.data_dir = data_dir
        self.log_path = log_path
        self.access_key = access_key
        self.secret_key = secret_key
        self.port = free_port()
        self.listens = listens or ["127.0.0.1:%d" % self.port]
        self.endpoint = "http://%s" % self.listens[0]
        self.extra_env = extra_env or {}
        self.proc = None
        self.log_file = None
        self.crashes = []

    def env(self):
        env = dict(os.environ)
        for k in ("STRATA_ROOT_ACCESS_KEY", "STRATA_ROOT_SECRET_KEY"):
            env.pop(k, None)
        if self.access_key:
            env["STRATA_ROOT_ACCESS_KEY"] = self.access_key
            env["STRATA_ROOT_SECRET_KEY"] = self.secret_key
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        env.update(self.extra_env)
        return env

    def start(self):
        binary = strata_bin()
        if not os.access(binary, os.X_OK):
            pytest.exit("STRATA_BIN %s is not an executable; build it with `make`" % binary,
                        returncode=3)
        args = [binary, "server", "--data", self.data_dir]
        for l in self.listens:
            args += ["--listen", l]
        self.log_file = open(self.log_path, "ab")
        self.log_file.write(("\n=== start %s ===\n" % " ".join(args)).encode())
        self.log_file.flush()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, env=self.env(), cwd=REPO)
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("strata server exited with %s during start-up:\n%s"
                                   % (self.proc.returncode, tail(self.log_path)))
            try:
                if self.access_key:
                    r = self.client().request("GET", "/")
                    if r.status == 200:
                        return self
                    last = r
                else:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        return self
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise RuntimeError("strata server not ready after %ss (last: %r):\n%s"
                           % (timeout, last, tail(self.log_path)))

    def client(self, access_key=None, secret_key=None):
        return s3sig.Client(self.endpoint, access_key or self.access_key,
                            secret_key or self.secret_key)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, wait up to 20 s, SIGKILL. Returns (returncode, hung)."""
        if self.proc is None:
            return None, False
        hung = False
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                hung = True
                self.proc.kill()
                self.proc.wait(10)
        rc = self.proc.returncode
        if self.log_file:
            self.log_file.close()
            self.log_file = None
        return rc, hung

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.log_file:
            self.log_file.close()
            self.log_file = None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


# --------------------------------------------------------------------------------------
# session server

_SESSION = {}


@pytest.fixture(scope="session")
def tmp_root():
    d = tempfile.mkdtemp(prefix="strata-it-")
    yield d
    if not _SESSION.get("keep"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def server(tmp_root):
    log = os.path.join(tmp_root, "server.log")
    data = os.path.join(tmp_root, "data")
    os.makedirs(data)
    srv = Server(data, log, random_access_key(), random_secret_key())
    _SESSION["server"] = srv
    srv.start()
    try:
        srv.wait_ready()
    except RuntimeError as e:
        srv.kill()
        pytest.exit(str(e), returncode=3)
    yield srv
    rc, hung = srv.stop()
    text = srv.log_text()
    problems = []
    if hung:
        problems.append("server did not exit within %ss of SIGTERM (killed)" % STOP_TIMEOUT)
    elif rc not in (0, -signal.SIGTERM):
        problems.append("server exited with status %s after SIGTERM" % rc)
    marker = sanitizer_report(text)
    if marker:
        problems.append("sanitizer report in server log (%r)" % marker)
    if srv.crashes:
        problems.append("server died during: %s" % ", ".join(srv.crashes))
    if problems:
        _SESSION["keep"] = True
        raise AssertionError("; ".join(problems) + "\n--- server log (tail) ---\n"
                             + tail(log, 120) + "\n(log kept at %s)" % log)


@pytest.fixture(autouse=True)
def _server_watch(request, server):
    """Fails a test during which the server died or printed a sanitizer report; restarts it."""
    if not server.alive():
        server.kill()
        server.start()
        server.wait_ready()
    before = len(server.log_text())
    yield
    text = server.log_text()[before:]
    marker = sanitizer_report(text)
    died = not server.alive()
    if died:
        server.crashes.append(request.node.nodeid)
        rc = server.proc.returncode
        server.kill()
        server.start()
        server.wait_ready()
        pytest.fail("strata server died during this test (exit status %s):\n%s"
                    % (rc, text[-6000:]), pytrace=False)
    if marker:
        pytest.fail("sanitizer report in server log during this test:\n%s" % text[-6000:],
                    pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    srv = _SESSION.get("server")
    if rep.failed and srv is not None:
        rep.sections.append(("strata server log (tail)", tail(srv.log_path, 40)))


# --------------------------------------------------------------------------------------
# clients


@pytest.fixture(scope="session")
def endpoint(server):
    return server.endpoint


@pytest.fixture(scope="session")
def root_keys(server):
    return server.access_key, server.secret_key


def make_boto3(endpoint, access_key, secret_key, **cfg):
    import boto3
    from botocore.config import Config

    config = Config(region_name="us-east-1", signature_version="s3v4",
                    s3={"addressing_style": "path"},
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=10, read_timeout=60, **cfg)
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access_key,
        aws_secret_access_key=secret_key, config=config)


@pytest.fixture(scope="session")
def s3(server):
    """boto3 S3 client for the root account."""
    return make_boto3(server.endpoint, server.access_key, server.secret_key)


@pytest.fixture(scope="session")
def raw(server):
    """Hand-signing raw client (s3sig.Client) for the root account."""
    return server.client()


def unique_name(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:16])


@pytest.fixture
def bucket_name():
    """A function returning a fresh unique, valid bucket name."""
    return unique_name


@pytest.fixture
def bucket(s3):
    """A fresh bucket owned by the root account."""
    name = unique_name("b")
    s3.create_bucket(Bucket=name)
    return name


def run_admin(server, *args, access_key=None, secret_key=None, timeout=60):
    env = dict(os.environ)
    env["STRATA_ROOT_ACCESS_KEY"] = access_key or server.access_key
    env["STRATA_ROOT_SECRET_KEY"] = secret_key or server.secret_key
    cmd = [strata_bin(), "admin", "--endpoint", server.endpoint] + list(args)
    return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout, text=True)


@pytest.fixture(scope="session")
def admin(server):
    """admin(*args) -> CompletedProcess of `strata admin --endpoint URL *args`."""
    def run(*args, **kw):
        return run_admin(server, *args, **kw)
    return run


class Account:
    def __init__(self, name, access_key, secret_key, server):
        self.name = name
        self.access_key = access_key
        self.secret_key = secret_key
        self.s3 = make_boto3(server.endpoint, access_key, secret_key)
        self.raw = server.client(access_key, secret_key)


def create_account(server, name=None, **opts):
    name = name or unique_name("acct")
    ak, sk = random_access_key(), random_secret_key()
    args = ["account", "create", name, "--access-key", ak, "--secret-key", sk]
    for k, v in opts.items():
        args += ["--" + k.replace("_", "-"), v]
    p = run_admin(server, *args)
    assert p.returncode == 0, "admin account create failed (%s):\n%s\n%s" % (
        p.returncode, p.stdout, p.stderr)
    return Account(name, ak, sk, server)


@pytest.fixture(scope="session")
def second_account(server):
    """Another account, created with `strata admin account create`."""
    return create_account(server, unique_name("alice"))


# --------------------------------------------------------------------------------------
# AWS CLI


@pytest.fixture(scope="session")
def aws_cli(server, tmp_root):
    """aws(*args) runs the Debian AWS CLI v2 (/usr/bin/aws) against the server."""
    if not os.access(AWS_CLI, os.X_OK):
        pytest.fail("%s missing: apt-get install awscli (scripts/deps.sh does)" % AWS_CLI)
    cfg = os.path.join(tmp_root, "aws-config")
    with open(cfg, "w") as f:
        f.write("[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": cfg,
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp_root, "aws-credentials-none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "AWS_MAX_ATTEMPTS": "1",
        "HOME": tmp_root,
    })

    def run(*args, cwd=None, check=True, timeout=90):
        cmd = [AWS_CLI, "--endpoint-url", server.endpoint, "--no-cli-pager"] + list(args)
        p = subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        if check:
            assert p.returncode == 0, "%s failed (%s):\nstdout: %s\nstderr: %s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr)
        return p
    return run


# --------------------------------------------------------------------------------------
# helpers shared by the test modules


def client_error(excinfo):
    """(HTTP status, S3 error code) of a botocore ClientError."""
    e = excinfo.value
    return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])


def object_bytes(s3, bucket, key):
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def seeded_bytes(seed, n):
    return random.Random(seed).randbytes(n)


@pytest.fixture
def util():
    class U:
        error = staticmethod(client_error)
        body = staticmethod(object_bytes)
        data = staticmethod(seeded_bytes)
        md5 = staticmethod(s3sig.md5_hex)
    return U


# --------------------------------------------------------------------------------------
# other clients (test_client_*.py): s3cmd, rclone, s3fs, the AWS CLI with a private HOME

_CLIENT_ENV_DROP = ("AWS_", "RCLONE_", "S3CMD_", "BOTO_")
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def client_env(home, **extra):
    """Environment for an external client: HOME is `home` (so config, caches and credentials
    stay per test), nothing inherited that points a client elsewhere (AWS_*, RCLONE_*, proxies;
    an inherited AWS_CA_BUNDLE makes rclone refuse to start on plain HTTP), plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(_CLIENT_ENV_DROP) and k.lower() not in _PROXY_VARS}
    os.makedirs(str(home), exist_ok=True)
    env.update({"HOME": str(home), "XDG_CONFIG_HOME": os.path.join(str(home), ".config"),
                "XDG_CACHE_HOME": os.path.join(str(home), ".cache"), "LC_ALL": "C.UTF-8"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_client(cmd, env, timeout=120, cwd=None, check=True):
    """Runs a client command line with a time limit; with `check`, a non-zero exit fails the
    test showing the command, its stdout and its stderr."""
    try:
        p = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail("%s: no exit after %ss\nstdout: %s\nstderr: %s" % (
            " ".join(map(str, cmd)), timeout, e.stdout, e.stderr), pytrace=False)
    if check:
        assert p.returncode == 0, "%s failed (%s):\nstdout: %s\nstderr: %s" % (
            " ".join(map(str, cmd)), p.returncode, p.stdout[-4000:], p.stderr[-4000:])
    return p
