#!/usr/bin/python3
"""GET 4 KiB objects with an IAM user's key (a user with 2 inline policies, 1 attached managed
policy and 1 group policy), two strata binaries side by side, runs alternating (A B, B A, ...)
so that the machine's drift hits both alike. Each run: a fresh server and data directory,
100 objects, then s3bench GET for DURATION seconds at concurrency 16.

usage: bench/iam_get.py S3BENCH STRATA_A STRATA_B [DURATION [ROUNDS]]
e.g.   bench/iam_get.py build/iam/bench/s3bench /tmp/old/build/strata build/iam/strata 10 4
Prints one `A|B RESULT ...` line (s3bench's) per run."""
import json, os, random, re, signal, string, subprocess, sys, tempfile, time
import boto3
from botocore.config import Config
S3BENCH = sys.argv[1]
BINS = {"A": sys.argv[2], "B": sys.argv[3]}
def port():
    return int(subprocess.check_output([S3BENCH, "--free-port"]).strip())
def pol(*st): return json.dumps({"Version": "2012-10-17", "Statement": list(st)})
def run(label, dur):
    d = tempfile.mkdtemp(prefix="iam-bench-")
    ak = "AKIA" + "".join(random.choices(string.ascii_uppercase, k=16)); sk = "s" * 40
    p = port(); ep = "http://127.0.0.1:%d" % p
    env = dict(os.environ, STRATA_ROOT_ACCESS_KEY=ak, STRATA_ROOT_SECRET_KEY=sk)
    log = open(os.path.join(d, "log"), "w")
    srv = subprocess.Popen([BINS[label], "server", "--data", d + "/data", "--listen", "127.0.0.1:%d" % p],
                           env=env, stdout=log, stderr=log)
    try:
        cfg = Config(region_name="us-east-1", retries={"total_max_attempts": 3})
        for _ in range(100):
            try:
                iam = boto3.client("iam", endpoint_url=ep, aws_access_key_id=ak, aws_secret_access_key=sk, config=cfg)
                iam.list_users(); break
            except Exception: time.sleep(0.1)
        iam.create_user(UserName="bench")
        iam.put_user_policy(UserName="bench", PolicyName="read", PolicyDocument=pol(
            {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": ["arn:aws:s3:::bench", "arn:aws:s3:::bench/*"]},
            {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::bench/secret/*"}))
        iam.put_user_policy(UserName="bench", PolicyName="net", PolicyDocument=pol(
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"NotIpAddress": {"aws:SourceIp": ["127.0.0.0/8", "10.0.0.0/8"]}}}))
        m = iam.create_policy(PolicyName="mp", PolicyDocument=pol(
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObjectTagging"], "Resource": "arn:aws:s3:::bench/*",
             "Condition": {"StringEquals": {"s3:x-amz-server-side-encryption": "AES256"}}}))["Policy"]
        iam.attach_user_policy(UserName="bench", PolicyArn=m["Arn"])
        iam.create_group(GroupName="g")
        iam.put_group_policy(GroupName="g", PolicyName="gp", PolicyDocument=pol(
            {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}))
        iam.add_user_to_group(GroupName="g", UserName="bench")
        k = iam.create_access_key(UserName="bench")["AccessKey"]
        base = [S3BENCH, "--endpoint", ep, "--bucket", "bench", "--quiet"]
        subprocess.check_call(base + ["--op", "mkbucket", "--access-key", ak, "--secret-key", sk], stdout=subprocess.DEVNULL)
        subprocess.check_call(base + ["--op", "put", "--count", "100", "--size", "4k", "--concurrency", "1",
                               "--access-key", ak, "--secret-key", sk], stdout=subprocess.DEVNULL)
        out = subprocess.run(base + ["--op", "get", "--keys", "100", "--size", "4k", "--concurrency", "16",
                              "--duration", str(dur), "--warmup", "1", "--access-key", k["AccessKeyId"],
                              "--secret-key", k["SecretAccessKey"]], capture_output=True, text=True)
        line = [l for l in out.stdout.splitlines() if l.startswith("RESULT")]
        return line[-1] if line else "failed: " + out.stdout[-500:] + out.stderr[-500:]
    finally:
        srv.send_signal(signal.SIGTERM); srv.wait(30); log.close()
        subprocess.run(["rm", "-rf", d])
dur = float(sys.argv[4]) if len(sys.argv) > 4 else 8
for rnd in range(int(sys.argv[5]) if len(sys.argv) > 5 else 2):
    for label in ("A", "B") if rnd % 2 == 0 else ("B", "A"):
        r = run(label, dur)
        print(label, r, flush=True)
