"""Accounts: the admin command, bucket ownership across accounts, root key generation."""
import os
import re
import stat

import pytest
from botocore.exceptions import ClientError

import s3sig
from conftest import (Server, client_error, create_account, random_access_key,
                      random_secret_key, run_admin, tail, unique_name)


@pytest.fixture(scope="module")
def root_bucket(s3):
    name = unique_name("root")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="secret", Body=b"root data")
    return name


def root_data_intact(s3, root_bucket):
    assert s3.get_object(Bucket=root_bucket, Key="secret")["Body"].read() == b"root data"


def test_admin_creates_account_with_given_keys(server, admin):
    ak, sk = random_access_key(), random_secret_key()
    name = unique_name("bob")
    p = admin("account", "create", name, "--access-key", ak, "--secret-key", sk)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert ak in p.stdout + p.stderr, "admin did not print the account's access key"
    r = server.client(ak, sk).request("GET", "/")
    assert r.status == 200, r


def test_admin_generates_keys(server, admin):
    p = admin("account", "create", unique_name("gen"))
    assert p.returncode == 0, (p.stdout, p.stderr)
    pair = find_working_keys(server, p.stdout + "\n" + p.stderr)
    assert pair, "no working access/secret key pair in the admin output:\n" + p.stdout


def test_admin_canonical_id_and_display_name(server):
    cid = os.urandom(32).hex()
    acct = create_account(server, unique_name("carol"), canonical_id=cid,
                          display_name="carol-display", email="carol@example.com")
    acct.s3.create_bucket(Bucket=unique_name("carolb"))
    owner = acct.s3.list_buckets()["Owner"]
    assert owner["ID"] == cid
    assert owner.get("DisplayName") in (None, "carol-display")


def test_admin_rejects_bad_root_credentials(server, admin):
    name = unique_name("mallory")
    ak, sk = random_access_key(), random_secret_key()
    p = run_admin(server, "account", "create", name, "--access-key", ak, "--secret-key", sk,
                  secret_key="W" * 40)
    assert p.returncode != 0, p.stdout
    assert server.client(ak, sk).request("GET", "/").status == 403


def test_admin_not_allowed_for_other_accounts(server, second_account):
    name = unique_name("eve")
    ak, sk = random_access_key(), random_secret_key()
    p = run_admin(server, "account", "create", name, "--access-key", ak, "--secret-key", sk,
                  access_key=second_account.access_key, secret_key=second_account.secret_key)
    assert p.returncode != 0, p.stdout
    assert server.client(ak, sk).request("GET", "/").status == 403


def test_bucket_already_exists_for_other_account(second_account, root_bucket, s3):
    with pytest.raises(ClientError) as e:
        second_account.s3.create_bucket(Bucket=root_bucket)
    assert client_error(e) == (409, "BucketAlreadyExists")
    root_data_intact(s3, root_bucket)


def test_list_buckets_shows_only_own(second_account, root_bucket, s3):
    mine = unique_name("alice")
    second_account.s3.create_bucket(Bucket=mine)
    theirs = [b["Name"] for b in second_account.s3.list_buckets()["Buckets"]]
    assert mine in theirs and root_bucket not in theirs
    roots = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert root_bucket in roots and mine not in roots


def test_other_account_denied_on_objects(second_account, root_bucket, s3):
    c = second_account.s3
    ops = [
        lambda: c.get_object(Bucket=root_bucket, Key="secret"),
        lambda: c.put_object(Bucket=root_bucket, Key="secret", Body=b"overwritten"),
        lambda: c.put_object(Bucket=root_bucket, Key="new", Body=b"planted"),
        lambda: c.delete_object(Bucket=root_bucket, Key="secret"),
        lambda: c.list_objects_v2(Bucket=root_bucket),
        lambda: c.list_objects(Bucket=root_bucket),
        lambda: c.get_bucket_location(Bucket=root_bucket),
        lambda: c.delete_bucket(Bucket=root_bucket),
        lambda: c.copy_object(Bucket=root_bucket, Key="copy",
                              CopySource={"Bucket": root_bucket, "Key": "secret"}),
    ]
    for i, op in enumerate(ops):
        with pytest.raises(ClientError) as e:
            op()
        assert client_error(e) == (403, "AccessDenied"), i
    # DeleteObjects is authorized key by key, as on S3: 200 with an AccessDenied per key
    r = c.delete_objects(Bucket=root_bucket, Delete={"Objects": [{"Key": "secret"}]})
    assert [(x["Key"], x["Code"]) for x in r.get("Errors", [])] == [("secret", "AccessDenied")]
    assert not r.get("Deleted")
    with pytest.raises(ClientError) as e:
        c.head_object(Bucket=root_bucket, Key="secret")
    assert client_error(e)[0] == 403
    with pytest.raises(ClientError) as e:
        c.head_bucket(Bucket=root_bucket)
    assert client_error(e)[0] == 403
    root_data_intact(s3, root_bucket)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=root_bucket, Key="new")
    s3.head_bucket(Bucket=root_bucket)


def test_copy_from_other_accounts_bucket_denied(second_account, root_bucket):
    mine = unique_name("alicecp")
    second_account.s3.create_bucket(Bucket=mine)
    with pytest.raises(ClientError) as e:
        second_account.s3.copy_object(Bucket=mine, Key="stolen",
                                      CopySource={"Bucket": root_bucket, "Key": "secret"})
    assert client_error(e) == (403, "AccessDenied")
    with pytest.raises(ClientError):
        second_account.s3.head_object(Bucket=mine, Key="stolen")


def test_root_denied_on_other_accounts_bucket(second_account, s3):
    theirs = unique_name("alicepriv")
    second_account.s3.create_bucket(Bucket=theirs)
    second_account.s3.put_object(Bucket=theirs, Key="k", Body=b"alice data")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=theirs, Key="k")
    assert client_error(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=theirs)
    assert client_error(e) == (409, "BucketAlreadyExists")
    assert second_account.s3.get_object(Bucket=theirs, Key="k")["Body"].read() == b"alice data"


def test_accounts_isolated_same_key_names(second_account, s3):
    a, b = unique_name("iso"), unique_name("iso")
    s3.create_bucket(Bucket=a)
    second_account.s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=a, Key="same", Body=b"root's")
    second_account.s3.put_object(Bucket=b, Key="same", Body=b"alice's")
    assert s3.get_object(Bucket=a, Key="same")["Body"].read() == b"root's"
    assert second_account.s3.get_object(Bucket=b, Key="same")["Body"].read() == b"alice's"


# --- root keys generated at first start -------------------------------------------------

TOKEN = re.compile(r"[A-Za-z0-9/+]{16,128}={0,2}")


def find_working_keys(server, text, wait=0):
    """The (access, secret) pair, among the tokens printed, that ListBuckets accepts."""
    import time
    deadline = time.monotonic() + wait
    while True:
        if callable(text):
            body = text()
        else:
            body = text
        body = "\n".join(l for l in body.splitlines() if not l.startswith("=== start"))
        tokens = list(dict.fromkeys(TOKEN.findall(body)))[:60]
        aks = [t for t in tokens if t.isalnum() and len(t) <= 64]
        for ak in aks:
            for sk in tokens:
                if sk == ak:
                    continue
                try:
                    r = s3sig.Client(server.endpoint, ak, sk, timeout=5).request("GET", "/")
                except OSError:
                    continue
                if r.status == 200:
                    return ak, sk
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.5)


def test_root_keys_generated_once_and_stored_private(tmp_path):
    data = str(tmp_path / "data")
    os.makedirs(data)
    log = str(tmp_path / "gen.log")
    p1 = free_port_pair()
    srv = Server(data, log, listens=["127.0.0.1:%d" % p1[0], "127.0.0.1:%d" % p1[1]])
    srv.port = p1[0]
    srv.start()
    try:
        srv.wait_ready()
        pair = find_working_keys(srv, srv.log_text, wait=5)
        assert pair, "no working root keys printed at first start:\n" + tail(log)
        ak, sk = pair
        # the second listener serves too
        other = s3sig.Client("http://127.0.0.1:%d" % p1[1], ak, sk)
        assert other.request("GET", "/").status == 200
    finally:
        rc, hung = srv.stop()
    assert not hung
    # stored in the data dir, readable by the owner only
    holders = []
    for root, _, files in os.walk(data):
        for f in files:
            path = os.path.join(root, f)
            try:
                with open(path, "rb") as fh:
                    if sk.encode() in fh.read():
                        holders.append(path)
            except OSError:
                pass
    assert holders, "the generated secret key is not stored (in clear) in the data dir"
    for path in holders:
        # private if the file itself is, or a directory between it and the data dir is
        # (the data dir here was made by the test with the default umask)
        guards = [path]
        d = os.path.dirname(path)
        while len(d) >= len(data):
            guards.append(d)
            d = os.path.dirname(d)
        modes = {g: stat.S_IMODE(os.stat(g).st_mode) for g in guards}
        assert any(m & 0o077 == 0 for m in modes.values()), (
            "the root secret key is readable by other users in %s (modes: %s)"
            % (path, ", ".join("%s %o" % (g[len(data):] or "/", m) for g, m in modes.items())))
    # second start: same keys work, and they are not printed again
    size_before = len(open(log, "rb").read())
    srv2 = Server(data, log, listens=["127.0.0.1:%d" % p1[0]])
    srv2.port = p1[0]
    srv2.start()
    try:
        srv2.wait_ready()
        assert srv2.client(ak, sk).request("GET", "/").status == 200
        second = open(log, "rb").read()[size_before:].decode("utf-8", "replace")
        assert sk not in second, "the root secret was printed again on a later start"
    finally:
        srv2.stop()


def free_port_pair():
    from conftest import free_port
    a = free_port()
    b = free_port()
    while b == a:
        b = free_port()
    return a, b


def test_env_root_keys_take_precedence(tmp_path):
    data = str(tmp_path / "data")
    os.makedirs(data)
    ak, sk = random_access_key(), random_secret_key()
    srv = Server(data, str(tmp_path / "env.log"), ak, sk)
    srv.start()
    try:
        srv.wait_ready()
        assert srv.client().request("GET", "/").status == 200
        assert srv.client(ak, "W" * 40).request("GET", "/").status == 403
    finally:
        rc, hung = srv.stop()
    assert not hung
