#!/usr/bin/python3
"""Crash test: nothing acknowledged may be lost when the server is killed mid-write.

Several client threads PUT objects of mixed sizes (0 B .. 3 MiB, many above the 64 KiB
segment size) whose bytes derive from (key, generation), so nothing needs to be kept in
memory. Each thread owns its keys and overwrites them in sequence, so for every key we know
the last acknowledged generation (200 + the right ETag) and the generation in flight when the
server was SIGKILLed. After a restart on the same data directory:
  - every key with an acknowledged generation reads back byte-exact as that generation or as
    a later one that was in flight (never older, never a mix, never missing);
  - a key never acknowledged is absent or holds one of its in-flight generations;
  - every listed key is readable, matches its listed size and ETag, and every key that reads
    back is listed.
Three kill/restart cycles, then a clean SIGTERM shutdown. Prints "crash: N passed, N failed"
and exits non-zero on any failure. Usage: STRATA_BIN=build/strata crash_test.py
"""
import hashlib
import os
import random
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import s3sig  # noqa: E402

THREADS = 4
KEYS_PER_THREAD = 8
CYCLES = 3
RUN_MIN, RUN_MAX = 2.0, 4.5      # seconds of writing before each kill
START_TIMEOUT = 30
TOTAL_BUDGET = 55                # seconds; the test stops starting new work past this
BUCKET = "crash-test"
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def content(key, gen):
    """Deterministic bytes of generation `gen` of `key` (size derives from the seed too)."""
    h = hashlib.sha256(("%s:%d" % (key, gen)).encode()).digest()
    r = random.Random(h)
    b = h[0]
    if b < 12:
        size = 0
    elif b < 100:
        size = r.randint(1, 4096)
    elif b < 200:
        size = r.randint(64 * 1024 + 1, 300 * 1024)
    else:
        size = r.randint(300 * 1024, 3 * 1024 * 1024)
    return r.randbytes(size)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, data, log, ak, sk):
        self.binary, self.data, self.log, self.ak, self.sk = binary, data, log, ak, sk
        self.proc = None
        self.port = None

    def start(self):
        self.port = free_port()
        env = dict(os.environ)
        env["STRATA_ROOT_ACCESS_KEY"] = self.ak
        env["STRATA_ROOT_SECRET_KEY"] = self.sk
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        with open(self.log, "ab") as f:
            f.write(b"\n=== start ===\n")
            self.proc = subprocess.Popen(
                [self.binary, "server", "--data", self.data, "--listen",
                 "127.0.0.1:%d" % self.port],
                stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s at start" % self.proc.returncode)
            try:
                if self.client().request("GET", "/").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server not ready after %ss" % START_TIMEOUT)

    def client(self):
        return s3sig.Client("http://127.0.0.1:%d" % self.port, self.ak, self.sk, timeout=30)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait(10)

    def stop(self):
        """SIGTERM; returns (exit status, hung)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
            return self.proc.returncode, False
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            return self.proc.returncode, True

    def log_tail(self, n=40):
        try:
            with open(self.log, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except OSError:
            return ""


class KeyState:
    __slots__ = ("acked", "pending", "attempted")

    def __init__(self):
        self.acked = None      # last acknowledged generation
        self.pending = set()   # generations started after the last ack, outcome unknown
        self.attempted = set()


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.lock = threading.Lock()

    def ok(self):
        with self.lock:
            self.passed += 1

    def fail(self, msg):
        with self.lock:
            self.failed += 1
        print("FAIL: " + msg, flush=True)


def writer(client, keys, states, next_gen, stop, results, rng):
    conn = client.connect()
    try:
        while not stop.is_set():
            key = rng.choice(keys)
            st = states[key]
            gen = next_gen[key] = next_gen[key] + 1
            data = content(key, gen)
            st.attempted.add(gen)
            st.pending.add(gen)
            try:
                r = client.request("PUT", "/%s/%s" % (BUCKET, key), body=data,
                                   payload=s3sig.UNSIGNED, conn=conn)
            except Exception:  # noqa: BLE001 - the kill: outcome unknown, stays pending
                return
            if r.status == 200:
                if r.header("ETag") != '"%s"' % s3sig.md5_hex(data):
                    results.fail("PUT %s gen %d: ETag %s, expected md5 %s"
                                 % (key, gen, r.header("ETag"), s3sig.md5_hex(data)))
                st.acked = gen
                st.pending = set()
            elif r.status == 503:
                continue       # SlowDown is allowed; the generation stays possible
            else:
                results.fail("PUT %s gen %d: HTTP %d %s" % (key, gen, r.status, r.body[:200]))
    finally:
        conn.close()


def list_all(client):
    out = {}
    token = None
    for _ in range(1000):
        q = [("list-type", "2")]
        if token:
            q.append(("continuation-token", token))
        r = client.request("GET", "/" + BUCKET, query=q)
        if r.status != 200:
            raise RuntimeError("ListObjectsV2: %d %r" % (r.status, r.body[:300]))
        root = ET.fromstring(r.body)
        ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        for c in root.findall(ns + "Contents"):
            out[c.findtext(ns + "Key")] = (int(c.findtext(ns + "Size")),
                                           c.findtext(ns + "ETag"))
        if root.findtext(ns + "IsTruncated") != "true":
            return out
        token = root.findtext(ns + "NextContinuationToken")
    raise RuntimeError("listing does not end")


def verify(client, states, results, cycle):
    readable = {}
    for key, st in sorted(states.items()):
        try:
            r = client.request("GET", "/%s/%s" % (BUCKET, key))
        except OSError as e:
            results.fail("cycle %d: GET %s: %s" % (cycle, key, e))
            continue
        allowed = ([st.acked] if st.acked is not None else []) + sorted(st.pending)
        if r.status == 404:
            if st.acked is not None:
                results.fail("cycle %d: %s lost: acknowledged generation %d is gone"
                             % (cycle, key, st.acked))
            else:
                results.ok()
                st.pending = set()  # none of them survived; none may appear later
            continue
        if r.status != 200:
            results.fail("cycle %d: GET %s: HTTP %d %r" % (cycle, key, r.status, r.body[:200]))
            continue
        readable[key] = r.body
        match = next((g for g in allowed if content(key, g) == r.body), None)
        if match is None:
            older = next((g for g in sorted(st.attempted, reverse=True)
                          if content(key, g) == r.body), None)
            what = ("an older generation %d" % older) if older is not None else \
                "bytes matching no generation written (%d bytes)" % len(r.body)
            results.fail("cycle %d: %s holds %s; allowed %s" % (cycle, key, what, allowed))
            continue
        results.ok()
        # what survived is now the state to build on
        st.acked = match
        st.pending = set()
    try:
        listed = list_all(client)
    except (RuntimeError, OSError, ET.ParseError) as e:
        results.fail("cycle %d: listing failed: %s" % (cycle, e))
        return
    for key, (size, etag) in sorted(listed.items()):
        if key not in states:
            results.fail("cycle %d: listed key %r was never written" % (cycle, key))
            continue
        body = readable.get(key)
        if body is None:
            results.fail("cycle %d: listed key %s is not readable" % (cycle, key))
            continue
        if size != len(body) or etag != '"%s"' % s3sig.md5_hex(body):
            results.fail("cycle %d: listing of %s says size %d etag %s; object has %d bytes, "
                         "md5 %s" % (cycle, key, size, etag, len(body), s3sig.md5_hex(body)))
            continue
        results.ok()
    for key in readable:
        if key not in listed:
            results.fail("cycle %d: %s is readable but not listed" % (cycle, key))


def main():
    binary = os.path.abspath(os.environ.get("STRATA_BIN", os.path.join(REPO, "build", "strata")))
    if not os.access(binary, os.X_OK):
        print("crash: STRATA_BIN %s is not executable" % binary)
        print("crash: 0 passed, 1 failed")
        return 1
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="strata-crash-")
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    log = os.path.join(tmp, "server.log")
    ak = "AKIA" + "".join(random.choices(string.ascii_uppercase + string.digits, k=16))
    sk = "".join(random.choices(string.ascii_letters + string.digits, k=40))
    srv = Server(binary, data, log, ak, sk)
    results = Results()
    seed = int(os.environ.get("CRASH_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    print("crash: seed %d, data dir %s" % (seed, data), flush=True)
    keep = False
    try:
        srv.start()
        r = srv.client().request("PUT", "/" + BUCKET)
        if r.status != 200:
            results.fail("CreateBucket: HTTP %d %r" % (r.status, r.body[:200]))
            raise RuntimeError("cannot create the bucket")
        keys = ["t%d/k%02d" % (t, k) for t in range(THREADS) for k in range(KEYS_PER_THREAD)]
        keys += ["t0/dir/with space/ünï-%d" % i for i in range(2)]
        states = {k: KeyState() for k in keys}
        next_gen = {k: 0 for k in keys}
        for cycle in range(1, CYCLES + 1):
            if time.monotonic() - t0 > TOTAL_BUDGET - 10:
                print("crash: time budget reached before cycle %d" % cycle)
                break
            stop = threading.Event()
            client = srv.client()
            threads = []
            for t in range(THREADS):
                own = [k for k in keys if k.startswith("t%d/" % t)]
                th = threading.Thread(target=writer, daemon=True,
                                      args=(client, own, states, next_gen, stop, results,
                                            random.Random(rng.random())))
                th.start()
                threads.append(th)
            time.sleep(rng.uniform(RUN_MIN, RUN_MAX))
            acked_before = sum(1 for s in states.values() if s.acked is not None)
            srv.kill()
            stop.set()
            for th in threads:
                th.join(30)
                if th.is_alive():
                    results.fail("cycle %d: a writer hung after the kill" % cycle)
            print("crash: cycle %d: killed with %d keys acknowledged, %d writes in flight"
                  % (cycle, acked_before, sum(len(s.pending) for s in states.values())),
                  flush=True)
            srv.start()
            verify(srv.client(), states, results, cycle)
            r = srv.client().request("HEAD", "/" + BUCKET)
            if r.status != 200:
                results.fail("cycle %d: bucket lost after restart (HEAD %d)" % (cycle, r.status))
        rc, hung = srv.stop()
        if hung:
            results.fail("server did not exit within 20 s of SIGTERM")
        elif rc not in (0, -signal.SIGTERM):
            results.fail("server exited with status %s after SIGTERM" % rc)
    except Exception as e:  # noqa: BLE001 - report and count, never hang
        results.fail("aborted: %r" % (e,))
        srv.kill()
    with open(log, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    marker = next((m for m in SANITIZER_MARKERS if m in text), None)
    if marker:
        results.fail("sanitizer report in the server log (%r)" % marker)
    if results.failed:
        keep = True
        print("--- server log (tail), kept at %s ---\n%s" % (log, srv.log_tail()))
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)
    print("crash: %d passed, %d failed" % (results.passed, results.failed))
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
