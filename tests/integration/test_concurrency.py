"""Concurrent clients: readers of an object that is being overwritten always get one whole
version (never a mix, never a short body), concurrent writers of distinct keys all land, and
a listing taken during writes only shows complete objects. Bounded in requests, not time."""
import hashlib
import threading

from conftest import seeded_bytes

VERSIONS = 6
SIZE = 300_000   # several 64 KiB segments


def version(i):
    return seeded_bytes("v%d" % i, SIZE + i)   # sizes differ too


def test_readers_see_whole_versions_during_overwrites(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="hot", Body=version(0))
    known = {version(i): i for i in range(VERSIONS)}
    errors = []
    done = threading.Event()

    def writer():
        c = server.client()
        try:
            for round_ in range(4):
                for i in range(1, VERSIONS):
                    r = c.put(bucket, "hot", version(i))
                    if r.status != 200:
                        errors.append("PUT v%d: %r" % (i, r))
        finally:
            done.set()

    def reader():
        c = server.client()
        conn = c.connect()
        n = 0
        try:
            while n < 200 and (not done.is_set() or n < 5):
                n += 1
                r = c.get(bucket, "hot", conn=conn)
                if r.status != 200:
                    errors.append("GET: %r" % r)
                    return
                if r.body not in known:
                    errors.append("GET returned %d bytes matching no version" % len(r.body))
                    return
                if r.header("ETag") != '"%s"' % hashlib.md5(r.body).hexdigest():
                    errors.append("GET: ETag does not match the body it came with")
                    return
                rr = c.get(bucket, "hot", headers={"Range": "bytes=65530-131080"}, conn=conn)
                if rr.status != 206 or not any(rr.body == v[65530:131081] for v in known):
                    errors.append("ranged GET matches no version: %r" % rr)
                    return
        finally:
            conn.close()

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader)
                                                   for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a client thread hung"
    assert not errors, errors[:5]
    assert s3.get_object(Bucket=bucket, Key="hot")["Body"].read() == version(VERSIONS - 1)


def test_parallel_writers_distinct_keys(server, s3, bucket):
    errors = []

    def worker(w):
        c = server.client()
        conn = c.connect()
        try:
            for i in range(15):
                data = seeded_bytes("%d/%d" % (w, i), (i * 7919) % 150_000)
                r = c.put(bucket, "w%d/k%02d" % (w, i), data, conn=conn)
                if r.status != 200:
                    errors.append(r)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    keys = []
    kw = {}
    while True:
        r = s3.list_objects_v2(Bucket=bucket, **kw)
        keys += [(o["Key"], o["Size"]) for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        kw = {"ContinuationToken": r["NextContinuationToken"]}
    assert len(keys) == 6 * 15
    for w in range(6):
        for i in range(15):
            key = "w%d/k%02d" % (w, i)
            data = seeded_bytes("%d/%d" % (w, i), (i * 7919) % 150_000)
            assert (key, len(data)) in keys
    sample = s3.get_object(Bucket=bucket, Key="w3/k07")["Body"].read()
    assert sample == seeded_bytes("3/7", (7 * 7919) % 150_000)


def test_listing_during_writes_shows_complete_objects(server, s3, bucket):
    stop = threading.Event()
    errors = []

    def writer():
        c = server.client()
        try:
            for i in range(40):
                r = c.put(bucket, "live/%02d" % i, seeded_bytes(i, 70_000 + i))
                if r.status != 200:
                    errors.append(r)
        finally:
            stop.set()

    t = threading.Thread(target=writer)
    t.start()
    c = server.client()
    rounds = 0
    while (not stop.is_set() or rounds == 0) and rounds < 100:
        rounds += 1
        r = s3.list_objects_v2(Bucket=bucket, Prefix="live/")
        for o in r.get("Contents", []):
            i = int(o["Key"].split("/")[1])
            if o["Size"] != 70_000 + i:
                errors.append("listed %s with size %d" % (o["Key"], o["Size"]))
            g = c.get(bucket, o["Key"])
            if g.status != 200 or g.body != seeded_bytes(i, 70_000 + i):
                errors.append("listed %s but read %r" % (o["Key"], g))
    t.join(120)
    assert not errors, errors[:5]


def test_parallel_deletes_on_kept_alive_connections(server, s3, bucket):
    """DELETE commits on an end() worker with its connection suspended (like PUT): each answer
    comes back in order on its own kept-alive connection, and every delete is durable."""
    for w in range(6):
        for i in range(10):
            s3.put_object(Bucket=bucket, Key="d%d/k%02d" % (w, i), Body=b"x" * (i * 100))
    errors = []

    def worker(w):
        c = server.client()
        conn = c.connect()
        try:
            for i in range(10):
                r = c.delete(bucket, "d%d/k%02d" % (w, i), conn=conn)
                if r.status != 204:
                    errors.append(r)
                r = c.get(bucket, "d%d/k%02d" % (w, i), conn=conn)  # same connection, after
                if r.status != 404:
                    errors.append(r)
            r = c.delete(bucket, "d%d/never-there" % w, conn=conn)  # idempotent
            if r.status != 204:
                errors.append(r)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a client thread hung"
    assert not errors, errors[:3]
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_delete_with_a_body(server, raw, bucket):
    """A body on a DELETE is read and ignored; a signed payload hash that does not match it is
    refused, as for every signed request."""
    raw.put(bucket, "k", b"data")
    r = raw.request("DELETE", "/%s/k" % bucket, body=b"ignored")
    assert r.status == 204, r
    raw.put(bucket, "k", b"data")
    r = raw.request("DELETE", "/%s/k" % bucket, body=b"ignored", payload="0" * 64)
    assert r.status == 400 and r.error_code == "XAmzContentSHA256Mismatch", r
    assert raw.get(bucket, "k").status == 200
