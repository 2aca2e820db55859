"""The AWS CLI v2 (/usr/bin/aws) against Strata: the flow from the Foundation issue."""
import filecmp
import os

from conftest import seeded_bytes, unique_name


def test_issue_flow(aws_cli, tmp_path, s3):
    # `lake` is the issue's name; the session's data dir is fresh, so it is free.
    csv = tmp_path / "data.csv"
    csv.write_text("id,value\n" + "".join("%d,%d\n" % (i, i * i) for i in range(2000)))

    p = aws_cli("s3", "mb", "s3://lake")
    assert "make_bucket: lake" in p.stdout

    p = aws_cli("s3", "cp", str(csv), "s3://lake/year=2026/month=11/data.csv")
    assert "upload:" in p.stdout

    p = aws_cli("s3", "ls", "s3://lake/year=2026/")
    lines = [l.strip() for l in p.stdout.splitlines()]
    assert "PRE month=11/" in lines, p.stdout

    p = aws_cli("s3", "ls", "s3://lake/year=2026/month=11/")
    assert "data.csv" in p.stdout and str(csv.stat().st_size) in p.stdout, p.stdout

    p = aws_cli("s3", "ls")
    assert any(l.split()[-1] == "lake" for l in p.stdout.splitlines() if l.strip()), p.stdout

    down = tmp_path / "down.csv"
    aws_cli("s3", "cp", "s3://lake/year=2026/month=11/data.csv", str(down))
    assert filecmp.cmp(str(csv), str(down), shallow=False)

    p = aws_cli("s3", "rm", "s3://lake/year=2026/month=11/data.csv")
    assert "delete:" in p.stdout
    p = aws_cli("s3", "ls", "s3://lake/", check=False)
    assert p.stdout.strip() == ""

    p = aws_cli("s3", "rb", "s3://lake")
    assert "remove_bucket: lake" in p.stdout
    p = aws_cli("s3", "ls")
    assert "lake" not in [l.split()[-1] for l in p.stdout.splitlines() if l.strip()]


def test_cli_recursive_and_s3api(aws_cli, tmp_path):
    bucket = unique_name("cli")
    src = tmp_path / "src"
    for rel, size in [("a.bin", 0), ("dir/b.bin", 70_000), ("dir/sub/c.bin", 1234),
                      ("space name.txt", 10)]:
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(seeded_bytes(rel, size))
    aws_cli("s3", "mb", "s3://" + bucket)
    aws_cli("s3", "cp", "--recursive", str(src), "s3://%s/up/" % bucket)
    dst = tmp_path / "dst"
    aws_cli("s3", "cp", "--recursive", "s3://%s/up/" % bucket, str(dst))
    cmp = filecmp.dircmp(str(src), str(dst))
    assert not cmp.left_only and not cmp.right_only and not cmp.diff_files
    for sub in ("dir", os.path.join("dir", "sub")):
        c = filecmp.dircmp(str(src / sub), str(dst / sub))
        assert not c.left_only and not c.right_only and not c.diff_files
    p = aws_cli("s3api", "head-object", "--bucket", bucket, "--key", "up/dir/b.bin")
    assert '"ContentLength": 70000' in p.stdout
    p = aws_cli("s3api", "get-bucket-location", "--bucket", bucket)
    assert '"LocationConstraint": null' in p.stdout
    p = aws_cli("s3api", "get-object", "--bucket", bucket, "--key", "missing",
                str(tmp_path / "x"), check=False)
    assert p.returncode != 0 and "NoSuchKey" in p.stderr
    aws_cli("s3", "rm", "--recursive", "s3://%s/" % bucket)
    aws_cli("s3", "rb", "s3://" + bucket)


def test_cli_rb_non_empty_fails(aws_cli, tmp_path):
    bucket = unique_name("clirb")
    f = tmp_path / "f"
    f.write_bytes(b"x")
    aws_cli("s3", "mb", "s3://" + bucket)
    aws_cli("s3", "cp", str(f), "s3://%s/f" % bucket)
    p = aws_cli("s3", "rb", "s3://" + bucket, check=False)
    assert p.returncode != 0 and "BucketNotEmpty" in p.stderr
    aws_cli("s3", "rb", "--force", "s3://" + bucket)
