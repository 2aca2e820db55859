"""Versioning: bucket state, version ids, delete markers, GET/HEAD/DELETE by version,
ListObjectVersions (pagination, prefixes), the null version, DeleteObjects and copies."""
import json
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

import s3sig
from conftest import client_error

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def enable(s3, bucket, status="Enabled"):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def all_versions(s3, bucket, page=1000, **kw):
    """Every version and marker via paginated list_object_versions: [(key, vid, kind, latest)]."""
    out, args = [], dict(kw)
    while True:
        r = s3.list_object_versions(Bucket=bucket, MaxKeys=page, **args)
        ents = [(v["Key"], v["VersionId"], "v", v["IsLatest"]) for v in r.get("Versions", [])]
        ents += [(d["Key"], d["VersionId"], "dm", d["IsLatest"])
                 for d in r.get("DeleteMarkers", [])]
        assert len(ents) + len(r.get("CommonPrefixes", [])) <= page
        out += ents
        if not r["IsTruncated"]:
            return out
        args["KeyMarker"] = r["NextKeyMarker"]
        if r.get("NextVersionIdMarker"):
            args["VersionIdMarker"] = r["NextVersionIdMarker"]
        else:
            args.pop("VersionIdMarker", None)


def test_get_put_bucket_versioning(s3, bucket):
    r = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in r
    enable(s3, bucket)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    enable(s3, bucket, "Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_put_bucket_versioning_bad_input(raw, s3, bucket):
    def put(body):
        return raw.request("PUT", "/" + bucket, query=[("versioning", None)], body=body,
                           headers={"Content-MD5": s3sig.md5_b64(body)})
    r = put(b"<VersioningConfiguration><Status>On</Status></VersioningConfiguration>")
    assert r.status == 400 and b"IllegalVersioningConfigurationException" in r.body, r
    r = put(b"<NotVersioning/>")
    assert r.status == 400 and b"MalformedXML" in r.body, r
    r = put(b"<VersioningConfiguration><Status>Enabled")
    assert r.status == 400 and b"MalformedXML" in r.body, r
    r = put(b"<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete>"
            b"</VersioningConfiguration>")
    assert r.status == 501 and b"MFA Delete is not supported" in r.body, r
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)


def test_versions_delete_markers_and_listing(s3, bucket):
    enable(s3, bucket)
    vids = []
    for i in range(3):
        r = s3.put_object(Bucket=bucket, Key="doc", Body=b"v%d" % i)
        vids.append(r["VersionId"])
    assert len(set(vids)) == 3 and "null" not in vids
    s3.put_object(Bucket=bucket, Key="other", Body=b"o")
    # newest first; paginated with MaxKeys=1 and 2 gives the same as one page
    full = all_versions(s3, bucket)
    assert [(k, v) for k, v, _, _ in full if k == "doc"] == [("doc", v) for v in reversed(vids)]
    assert [e[3] for e in full if e[0] == "doc"] == [True, False, False]
    assert all_versions(s3, bucket, page=1) == full
    assert all_versions(s3, bucket, page=2) == full
    for i, v in enumerate(vids):
        r = s3.get_object(Bucket=bucket, Key="doc", VersionId=v)
        assert r["Body"].read() == b"v%d" % i and r["VersionId"] == v
        h = s3.head_object(Bucket=bucket, Key="doc", VersionId=v)
        assert h["VersionId"] == v and h["ContentLength"] == 2
    assert s3.get_object(Bucket=bucket, Key="doc")["VersionId"] == vids[2]

    # delete -> marker; GET 404 with x-amz-delete-marker
    r = s3.delete_object(Bucket=bucket, Key="doc")
    assert r["DeleteMarker"] is True
    marker = r["VersionId"]
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="doc")
    assert client_error(ei) == (404, "NoSuchKey")
    hdrs = ei.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert hdrs.get("x-amz-delete-marker") == "true"
    assert hdrs.get("x-amz-version-id") == marker
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="doc", VersionId=marker)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
    assert "doc" not in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    r = s3.list_object_versions(Bucket=bucket, Prefix="doc")
    assert [(d["VersionId"], d["IsLatest"]) for d in r["DeleteMarkers"]] == [(marker, True)]
    assert all(not v["IsLatest"] for v in r["Versions"])

    # removing the marker restores the latest version
    r = s3.delete_object(Bucket=bucket, Key="doc", VersionId=marker)
    assert r["DeleteMarker"] is True and r["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"v2"
    # removing the latest version for good makes the previous one current
    s3.delete_object(Bucket=bucket, Key="doc", VersionId=vids[2])
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"v1"
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="doc", VersionId=vids[2])
    assert client_error(ei) == (404, "NoSuchVersion")
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="doc", VersionId="not-a-version")
    assert client_error(ei) == (400, "InvalidArgument")

    # the bucket cannot go while any version is left
    for k, v, _, _ in all_versions(s3, bucket):
        if k != "doc" or v != vids[0]:
            s3.delete_object(Bucket=bucket, Key=k, VersionId=v)
    with pytest.raises(ClientError) as ei:
        s3.delete_bucket(Bucket=bucket)
    assert client_error(ei) == (409, "BucketNotEmpty")
    s3.delete_object(Bucket=bucket, Key="doc", VersionId=vids[0])
    s3.delete_bucket(Bucket=bucket)


def test_null_version_unversioned_then_suspended(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")  # unversioned: the null version
    r = s3.list_object_versions(Bucket=bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in r["Versions"]] == [("null", True)]
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"enabled")["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"before"
    enable(s3, bucket, "Suspended")
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"s1")
    # the write made the null version; AWS documents no x-amz-version-id for it, and ceph
    # s3-tests (test_versioning_bucket_*_return_version_id) expect none, as for unversioned
    assert "VersionId" not in r
    s3.put_object(Bucket=bucket, Key="k", Body=b"s2")  # replaces the null version
    vers = all_versions(s3, bucket)
    assert [(v, latest) for _, v, _, latest in vers] == [("null", True), (v1, False)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"s2"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"s2"
    # a suspended delete makes a null marker in place of the null version
    r = s3.delete_object(Bucket=bucket, Key="k")
    assert r["DeleteMarker"] is True and r["VersionId"] == "null"
    vers = all_versions(s3, bucket)  # (boto3 splits versions and markers into two lists)
    assert sorted((v, kind, latest) for _, v, kind, latest in vers) == sorted(
        [("null", "dm", True), (v1, "v", False)])
    s3.delete_object(Bucket=bucket, Key="k", VersionId="null")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"enabled"


def test_delete_objects_with_versions(s3, bucket):
    enable(s3, bucket)
    a1 = s3.put_object(Bucket=bucket, Key="a", Body=b"1")["VersionId"]
    a2 = s3.put_object(Bucket=bucket, Key="a", Body=b"2")["VersionId"]
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "a", "VersionId": a2}, {"Key": "b"}]})
    got = {d["Key"]: d for d in r["Deleted"]}
    assert got["a"]["VersionId"] == a2 and not got["a"].get("DeleteMarker")
    assert got["b"]["DeleteMarker"] is True and got["b"]["DeleteMarkerVersionId"]
    bm = got["b"]["DeleteMarkerVersionId"]
    assert s3.get_object(Bucket=bucket, Key="a")["VersionId"] == a1
    # deleting the marker by version through DeleteObjects reports it as a marker
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b", "VersionId": bm}]})
    d = r["Deleted"][0]
    assert d["VersionId"] == bm and d["DeleteMarker"] is True
    assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == b"b"
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a", "VersionId": "bogus"}]})
    assert r["Errors"][0]["Code"] == "InvalidArgument"


def test_copy_from_old_version(s3, bucket):
    enable(s3, bucket)
    old = s3.put_object(Bucket=bucket, Key="src", Body=b"old bytes")["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"new bytes")
    r = s3.copy_object(Bucket=bucket, Key="dst",
                       CopySource={"Bucket": bucket, "Key": "src", "VersionId": old})
    assert r["CopySourceVersionId"] == old
    assert r["VersionId"] and r["VersionId"] != old
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"old bytes"
    # restoring an old version in place: copy it onto its own key
    r = s3.copy_object(Bucket=bucket, Key="src",
                       CopySource={"Bucket": bucket, "Key": "src", "VersionId": old})
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == b"old bytes"
    assert len([v for k, v, _, _ in all_versions(s3, bucket) if k == "src"]) == 3


def test_list_versions_prefix_delimiter_encoding(s3, bucket):
    enable(s3, bucket)
    for k in ["p/a", "p/b", "p/c/d", "q", "p/sp ace"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
        s3.put_object(Bucket=bucket, Key=k, Body=b"2")
    r = s3.list_object_versions(Bucket=bucket, Prefix="p/", Delimiter="/")
    assert [c["Prefix"] for c in r["CommonPrefixes"]] == ["p/c/"]
    assert sorted({v["Key"] for v in r["Versions"]}) == ["p/a", "p/b", "p/sp ace"]
    # paginate with prefixes in the mix
    seen, args = [], {}
    while True:
        r = s3.list_object_versions(Bucket=bucket, Delimiter="/", MaxKeys=1, **args)
        seen += [("v", v["Key"]) for v in r.get("Versions", [])]
        seen += [("p", c["Prefix"]) for c in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            break
        args = {"KeyMarker": r["NextKeyMarker"]}
        if r.get("NextVersionIdMarker"):
            args["VersionIdMarker"] = r["NextVersionIdMarker"]
    assert seen == [("p", "p/"), ("v", "q"), ("v", "q")]
    r = s3.list_object_versions(Bucket=bucket, Prefix="p/sp", EncodingType="url")
    # botocore leaves keys encoded when the caller asked for the encoding itself
    assert {v["Key"] for v in r["Versions"]} == {"p/sp%20ace"}


def test_version_id_marker_without_key_marker(raw, bucket):
    r = raw.request("GET", "/" + bucket, query=[("versions", None),
                                                 ("version-id-marker", "null")])
    assert r.status == 400 and b"InvalidArgument" in r.body, r
    r = raw.request("GET", "/" + bucket, query=[("versions", None), ("key-marker", "a"),
                                                 ("version-id-marker", "x")])
    assert r.status == 400 and b"InvalidArgument" in r.body, r


def test_list_object_versions_raw_xml(raw, s3, bucket):
    enable(s3, bucket)
    v = s3.put_object(Bucket=bucket, Key="x", Body=b"1")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="x")
    r = raw.request("GET", "/" + bucket, query=[("versions", None)])
    assert r.status == 200, r
    root = ET.fromstring(r.body)
    assert root.tag == NS + "ListVersionsResult"
    ver = root.find(NS + "Version")
    dm = root.find(NS + "DeleteMarker")
    assert ver.find(NS + "VersionId").text == v
    assert ver.find(NS + "IsLatest").text == "false"
    assert dm.find(NS + "IsLatest").text == "true"
    assert dm.find(NS + "Owner/" + NS + "ID") is not None


def test_aws_cli_list_object_versions(aws_cli, s3, bucket):
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="cli", Body=b"1")
    s3.put_object(Bucket=bucket, Key="cli", Body=b"2")
    s3.delete_object(Bucket=bucket, Key="cli")
    p = aws_cli("s3api", "list-object-versions", "--bucket", bucket, "--output", "json")
    out = json.loads(p.stdout)
    assert len(out["Versions"]) == 2 and len(out["DeleteMarkers"]) == 1
    p = aws_cli("s3api", "get-bucket-versioning", "--bucket", bucket, "--output", "json")
    assert json.loads(p.stdout)["Status"] == "Enabled"
