// The AWS SDK for JavaScript v3 (as pinned in package.json) driving Strata the way an
// application does, with the SDK's defaults: since 3.729 it sends a CRC32 checksum with every
// upload (a header for a buffer, an aws-chunked trailer for a stream), validates checksums on
// download, and sends DeleteObjects with a checksum instead of Content-MD5.
//
// Usage: EP=http://127.0.0.1:PORT AK=... SK=... BUCKET=... node sdk_v3.mjs
// Prints one JSON line per step: {"step": NAME, "ok": true, "value": ...} or
// {"step": NAME, "ok": false, "error": NAME, "status": HTTP status, "message": ...}.
// The caller (tests/integration/test_client_jssdk.py) checks the values against the bytes it
// reads back itself; this script only reports what the SDK saw.
import {
  S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
  CopyObjectCommand, DeleteObjectsCommand, GetObjectAttributesCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { Readable } from "node:stream";
import crypto from "node:crypto";

const { EP, AK, SK, BUCKET: B } = process.env;
const s3 = new S3Client({
  endpoint: EP, region: "us-east-1", forcePathStyle: true, maxAttempts: 1,
  credentials: { accessKeyId: AK, secretAccessKey: SK },
});

// Deterministic bytes (xorshift32), so a failure reproduces.
function bytes(seed, n) {
  const out = Buffer.alloc(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
const sha256 = (b) => crypto.createHash("sha256").update(b).digest("hex");

async function step(name, fn) {
  try {
    console.log(JSON.stringify({ step: name, ok: true, value: await fn() }));
  } catch (e) {
    console.log(JSON.stringify({ step: name, ok: false, error: e.name,
      status: e.$metadata ? e.$metadata.httpStatusCode : null, message: String(e.message) }));
  }
}
const cks = (r) => ({ CRC32: r.ChecksumCRC32, CRC32C: r.ChecksumCRC32C, CRC64NVME: r.ChecksumCRC64NVME,
  SHA1: r.ChecksumSHA1, SHA256: r.ChecksumSHA256, type: r.ChecksumType });

await step("put_string", async () => {
  const r = await s3.send(new PutObjectCommand({ Bucket: B, Key: "str.txt", Body: "hello world",
    ContentType: "text/plain" }));
  return { etag: r.ETag, ...cks(r) };
});

const streamed = Buffer.concat([bytes(1, 70000), bytes(2, 70001)]);
await step("put_stream_trailer", async () => {
  const r = await s3.send(new PutObjectCommand({ Bucket: B, Key: "stream.bin",
    Body: Readable.from([streamed.subarray(0, 70000), streamed.subarray(70000)]),
    ContentLength: streamed.length }));
  return { etag: r.ETag, sha256: sha256(streamed), ...cks(r) };
});

for (const algo of ["CRC32C", "CRC64NVME", "SHA1", "SHA256"]) {
  await step("put_" + algo, async () => {
    const r = await s3.send(new PutObjectCommand({ Bucket: B, Key: "algo-" + algo,
      Body: bytes(3, 100000), ChecksumAlgorithm: algo }));
    return { etag: r.ETag, ...cks(r) };
  });
}

await step("get_validated", async () => {
  const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: "stream.bin", ChecksumMode: "ENABLED" }));
  const body = Buffer.from(await r.Body.transformToByteArray());
  return { sha256: sha256(body), contentLength: r.ContentLength, ...cks(r) };
});

await step("get_range", async () => {
  const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: "str.txt", Range: "bytes=6-" }));
  return { body: await r.Body.transformToString(), contentRange: r.ContentRange, contentType: r.ContentType };
});

await step("head_crc64", async () => {
  const r = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "algo-CRC64NVME", ChecksumMode: "ENABLED" }));
  return { size: r.ContentLength, ...cks(r) };
});

const big = Buffer.concat(Array.from({ length: 12 }, (_, i) => bytes(10 + i, 1 << 20)));
await step("upload_multipart_stream", async () => {
  const up = new Upload({ client: s3, partSize: 5 * 1024 * 1024,
    params: { Bucket: B, Key: "big-stream.bin",
      Body: Readable.from((function* () { for (let i = 0; i < 12; i++) yield big.subarray(i << 20, (i + 1) << 20); })()) } });
  const r = await up.done();
  return { etag: r.ETag, sha256: sha256(big), ...cks(r) };
});

const big2 = bytes(40, 11 * 1024 * 1024 + 5);
await step("upload_multipart_crc64", async () => {
  const up = new Upload({ client: s3, partSize: 5 * 1024 * 1024,
    params: { Bucket: B, Key: "big-crc64.bin", Body: big2, ChecksumAlgorithm: "CRC64NVME" } });
  const r = await up.done();
  return { etag: r.ETag, sha256: sha256(big2), ...cks(r) };
});

await step("get_multipart_validated", async () => {
  const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: "big-crc64.bin", ChecksumMode: "ENABLED" }));
  const body = Buffer.from(await r.Body.transformToByteArray());
  return { sha256: sha256(body), ...cks(r) };
});

await step("copy_crc32c", async () => {
  const r = await s3.send(new CopyObjectCommand({ Bucket: B, Key: "copy.txt", CopySource: `${B}/str.txt`,
    ChecksumAlgorithm: "CRC32C" }));
  return { etag: r.CopyObjectResult.ETag, ...cks(r.CopyObjectResult) };
});

await step("list_v2", async () => {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: B }));
  return r.Contents.map((c) => ({ key: c.Key, size: c.Size, etag: c.ETag,
    algorithm: c.ChecksumAlgorithm ?? null, type: c.ChecksumType ?? null }));
});

await step("attributes", async () => {
  const r = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: "big-stream.bin",
    ObjectAttributes: ["ETag", "Checksum", "ObjectParts", "ObjectSize"] }));
  return { etag: r.ETag, size: r.ObjectSize, checksum: r.Checksum ?? null,
    parts: r.ObjectParts ? r.ObjectParts.TotalPartsCount : null };
});

await step("presigned_get", async () => {
  const u = await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: "str.txt" }), { expiresIn: 300 });
  const r = await fetch(u);
  return { status: r.status, body: await r.text() };
});

await step("presigned_put", async () => {
  const u = await getSignedUrl(s3, new PutObjectCommand({ Bucket: B, Key: "presigned.txt" }), { expiresIn: 300 });
  const r = await fetch(u, { method: "PUT", body: "sent through a presigned URL" });
  return { status: r.status };
});

await step("get_missing", () => s3.send(new GetObjectCommand({ Bucket: B, Key: "no-such-key" })));
await step("head_missing", () => s3.send(new HeadObjectCommand({ Bucket: B, Key: "no-such-key" })));

await step("delete_objects", async () => {
  const r = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [
    { Key: "copy.txt" }, { Key: "presigned.txt" }, { Key: "never-existed" }] } }));
  return { deleted: (r.Deleted ?? []).map((d) => d.Key).sort(), errors: (r.Errors ?? []).length };
});
