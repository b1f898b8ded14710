// One S3 round trip against the objectnode with a plain S3 client (SigV4, path-style, bucket =
// vol): PUT two objects (a small text and a 200 KiB binary, as in the spec's run), GET them back
// byte for byte, LIST (plain and with a delimiter), DELETE them, and LIST again (empty).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Credentials, Say } from './stack.js';

export function s3Client(endpoint: string, creds: Credentials): S3Client {
  return new S3Client({
    endpoint,
    // Any region signs; the objectnode answers with the cluster name as the bucket region.
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: creds.accessKey, secretAccessKey: creds.secretKey },
    maxAttempts: 1,
  });
}

export interface RoundTripResult {
  readonly keys: string[];
  readonly ms: number;
}

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

/** The bucket answers HeadBucket within `timeoutMs` (the objectnode loads the vol on first use). */
export async function waitBucket(client: S3Client, bucket: string, timeoutMs: number, say: Say): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
      say(`HeadBucket ${bucket}: 200 (attempt ${attempts})`);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`HeadBucket ${bucket} still failing after ${timeoutMs} ms and ${attempts} attempts: ${describe(error)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export function describe(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return `${e.name ?? 'Error'} (HTTP ${e.$metadata?.httpStatusCode ?? '?'}): ${e.message ?? String(error)}`;
}

export async function roundTrip(client: S3Client, bucket: string, label: string, say: Say): Promise<RoundTripResult> {
  const started = Date.now();
  const text = Buffer.from(`hello from cubemaster, ${label}, ${new Date().toISOString()}\n`);
  const binary = randomBytes(200 * 1024);
  const objects = [
    { key: `${label}/hello.txt`, body: text, type: 'text/plain' },
    { key: `${label}/bin/200k.bin`, body: binary, type: 'application/octet-stream' },
  ];
  for (const o of objects) {
    const t = Date.now();
    const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: o.key, Body: o.body, ContentType: o.type }));
    // The objectnode's ETag is the MD5 of the body.
    assert.equal(put.ETag?.replace(/"/g, ''), md5(o.body), `ETag of ${o.key}`);
    say(`PUT ${o.key} (${o.body.length} B): ETag ${put.ETag} in ${Date.now() - t} ms`);
  }
  for (const o of objects) {
    const t = Date.now();
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    assert.equal(bytes.length, o.body.length, `GET ${o.key}: length`);
    assert.ok(bytes.equals(o.body), `GET ${o.key}: the bytes differ from what was PUT`);
    say(`GET ${o.key}: ${bytes.length} B, same bytes (md5 ${md5(bytes)}) in ${Date.now() - t} ms`);
  }
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${label}/` }));
  const keys = (listed.Contents ?? []).map((c) => `${c.Key} (${c.Size})`).sort();
  assert.deepEqual(keys, objects.map((o) => `${o.key} (${o.body.length})`).sort(), 'LIST after PUT');
  say(`LIST ${label}/: ${keys.join(', ')}`);
  const delimited = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${label}/`, Delimiter: '/' }));
  const prefixes = (delimited.CommonPrefixes ?? []).map((p) => p.Prefix);
  assert.deepEqual(prefixes, [`${label}/bin/`], 'LIST with delimiter: common prefixes');
  assert.deepEqual((delimited.Contents ?? []).map((c) => c.Key), [`${label}/hello.txt`], 'LIST with delimiter: keys');
  say(`LIST ${label}/ delimiter "/": prefixes ${prefixes.join(', ')}, keys ${label}/hello.txt`);
  for (const o of objects) {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.key }));
    say(`DELETE ${o.key}`);
  }
  const after = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${label}/` }));
  assert.deepEqual((after.Contents ?? []).map((c) => c.Key), [], 'LIST after DELETE');
  await assert.rejects(client.send(new GetObjectCommand({ Bucket: bucket, Key: objects[0].key })), (e: unknown) => (e as { name?: string }).name === 'NoSuchKey', 'GET after DELETE');
  say(`LIST ${label}/ after DELETE: empty; GET ${objects[0].key}: NoSuchKey`);
  return { keys: objects.map((o) => o.key), ms: Date.now() - started };
}
