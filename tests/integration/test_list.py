"""ListObjects (V1) and ListObjectsV2 basics: prefix, delimiter '/', max-keys, continuation."""
import pytest
from botocore.exceptions import ClientError

from conftest import client_error

KEYS = sorted(
    ["top%02d" % i for i in range(5)]
    + ["year=2026/month=%02d/data.csv" % m for m in range(1, 13)]
    + ["year=2025/month=12/data.csv", "year=2026/readme.txt", "z/last"]
)


@pytest.fixture(scope="module")
def listing_bucket(s3):
    from conftest import unique_name
    name = unique_name("list")
    s3.create_bucket(Bucket=name)
    for k in KEYS:
        s3.put_object(Bucket=name, Key=k, Body=k.encode())
    return name


def v2_all(s3, bucket, **kw):
    keys, prefixes, pages = [], [], 0
    while True:
        r = s3.list_objects_v2(Bucket=bucket, **kw)
        pages += 1
        keys += [o["Key"] for o in r.get("Contents", [])]
        prefixes += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        assert r["KeyCount"] == len(r.get("Contents", [])) + len(r.get("CommonPrefixes", []))
        if not r["IsTruncated"]:
            assert "NextContinuationToken" not in r
            break
        kw["ContinuationToken"] = r["NextContinuationToken"]
        assert pages < 100
    return keys, prefixes, pages


def test_v2_all_sorted(s3, listing_bucket):
    r = s3.list_objects_v2(Bucket=listing_bucket)
    assert [o["Key"] for o in r["Contents"]] == KEYS
    assert r["IsTruncated"] is False
    assert r["KeyCount"] == len(KEYS)
    assert r["MaxKeys"] == 1000
    assert r["Name"] == listing_bucket
    o = r["Contents"][0]
    assert o["Size"] == len(KEYS[0])
    assert o["ETag"].startswith('"') and len(o["ETag"]) == 34
    assert o["LastModified"] is not None
    assert o["StorageClass"] == "STANDARD"


def test_v2_prefix(s3, listing_bucket):
    r = s3.list_objects_v2(Bucket=listing_bucket, Prefix="year=2026/")
    assert [o["Key"] for o in r["Contents"]] == [k for k in KEYS if k.startswith("year=2026/")]
    assert r["Prefix"] == "year=2026/"
    r = s3.list_objects_v2(Bucket=listing_bucket, Prefix="nothing-here/")
    assert r.get("Contents", []) == [] and r["KeyCount"] == 0


def test_v2_delimiter(s3, listing_bucket):
    r = s3.list_objects_v2(Bucket=listing_bucket, Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["top%02d" % i for i in range(5)]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["year=2025/", "year=2026/", "z/"]
    r = s3.list_objects_v2(Bucket=listing_bucket, Delimiter="/", Prefix="year=2026/")
    assert [o["Key"] for o in r["Contents"]] == ["year=2026/readme.txt"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == [
        "year=2026/month=%02d/" % m for m in range(1, 13)]
    assert r["Delimiter"] == "/"


def test_v2_pagination(s3, listing_bucket):
    keys, prefixes, pages = v2_all(s3, listing_bucket, MaxKeys=4)
    assert keys == KEYS and prefixes == []
    assert pages == (len(KEYS) + 3) // 4
    r = s3.list_objects_v2(Bucket=listing_bucket, MaxKeys=4)
    assert r["MaxKeys"] == 4 and r["IsTruncated"] is True and r["KeyCount"] == 4


def test_v2_pagination_with_delimiter(s3, listing_bucket):
    keys, prefixes, _ = v2_all(s3, listing_bucket, MaxKeys=2, Delimiter="/",
                               Prefix="year=2026/")
    assert keys == ["year=2026/readme.txt"]
    assert prefixes == ["year=2026/month=%02d/" % m for m in range(1, 13)]


def test_v2_start_after(s3, listing_bucket):
    r = s3.list_objects_v2(Bucket=listing_bucket, StartAfter="top04")
    assert [o["Key"] for o in r["Contents"]] == [k for k in KEYS if k > "top04"]


def test_v2_fetch_owner(s3, listing_bucket):
    r = s3.list_objects_v2(Bucket=listing_bucket, MaxKeys=1, FetchOwner=True)
    assert r["Contents"][0]["Owner"]["ID"]
    r = s3.list_objects_v2(Bucket=listing_bucket, MaxKeys=1)
    assert "Owner" not in r["Contents"][0]


def test_v1_basics(s3, listing_bucket):
    r = s3.list_objects(Bucket=listing_bucket)
    assert [o["Key"] for o in r["Contents"]] == KEYS
    assert r["IsTruncated"] is False
    r = s3.list_objects(Bucket=listing_bucket, Delimiter="/", Prefix="year=2026/")
    assert [o["Key"] for o in r["Contents"]] == ["year=2026/readme.txt"]
    assert len(r["CommonPrefixes"]) == 12


def test_v1_marker_pagination(s3, listing_bucket):
    keys, marker = [], None
    for _ in range(100):
        kw = {"Marker": marker} if marker else {}
        r = s3.list_objects(Bucket=listing_bucket, MaxKeys=5, **kw)
        page = [o["Key"] for o in r.get("Contents", [])]
        keys += page
        if not r["IsTruncated"]:
            break
        marker = r.get("NextMarker") or page[-1]
    assert keys == KEYS


def test_v1_next_marker_with_delimiter(s3, listing_bucket):
    r = s3.list_objects(Bucket=listing_bucket, MaxKeys=3, Delimiter="/", Prefix="year=2026/")
    assert r["IsTruncated"] is True
    assert r["NextMarker"]


def test_empty_bucket_listing(s3, bucket):
    r = s3.list_objects_v2(Bucket=bucket)
    assert r["KeyCount"] == 0 and r["IsTruncated"] is False and "Contents" not in r
    r = s3.list_objects(Bucket=bucket)
    assert "Contents" not in r


def test_raw_v2_xml(raw, listing_bucket):
    r = raw.request("GET", "/" + listing_bucket,
                    query=[("list-type", "2"), ("prefix", "z/"), ("delimiter", "/")])
    assert r.status == 200, r
    assert r.header("Content-Type", "").startswith("application/xml")
    root = r.xml
    assert root.tag.endswith("ListBucketResult")
    keys = [el.text for el in root.iter() if el.tag.endswith("}Key") or el.tag == "Key"]
    assert keys == ["z/last"]


def test_list_invalid_max_keys(raw, listing_bucket):
    for v in ("blah", "-1"):
        r = raw.request("GET", "/" + listing_bucket, query=[("list-type", "2"), ("max-keys", v)])
        assert (r.status, r.error_code) == (400, "InvalidArgument"), (v, r)


def test_list_invalid_continuation_token(s3, listing_bucket):
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=listing_bucket, ContinuationToken="!!not-a-token!!")
    assert client_error(e) == (400, "InvalidArgument")


def test_list_v2_empty_continuation_token(s3, raw, listing_bucket):
    # an empty continuation-token lists from the start and is echoed back (ceph s3-tests
    # test_bucket_listv2_continuationtoken_empty); only a non-empty bad token is refused
    r = s3.list_objects_v2(Bucket=listing_bucket, ContinuationToken="", MaxKeys=3)
    assert r["ContinuationToken"] == ""
    assert [o["Key"] for o in r["Contents"]] == KEYS[:3]
    r = raw.request("GET", "/" + listing_bucket,
                    query=[("list-type", "2"), ("continuation-token", ""), ("start-after", "z")])
    assert r.status == 200, r
    keys = [el.text for el in r.xml.iter() if el.tag.endswith("}Key")]
    assert keys == ["z/last"]


def test_list_encoding_url_prefix_element(s3, raw, listing_bucket):
    # With encoding-type=url, V2 encodes its Prefix element; V1 returns Prefix as sent (as S3
    # does: botocore decodes V1's Marker/Delimiter/keys but not V1's Prefix)
    for lt, want in ((None, "top\n"), ("2", "top%0A")):
        q = [("prefix", "top\n"), ("encoding-type", "url")]
        if lt:
            q.append(("list-type", lt))
        r = raw.request("GET", "/" + listing_bucket, query=q)
        assert r.status == 200, r
        prefix = [el.text for el in r.xml if el.tag.endswith("}Prefix")]
        assert prefix == [want], (lt, prefix)
    assert s3.list_objects(Bucket=listing_bucket, Prefix="\n")["Prefix"] == "\n"
    assert s3.list_objects_v2(Bucket=listing_bucket, Prefix="\n")["Prefix"] == "\n"
