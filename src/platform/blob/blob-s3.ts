/**
 * S3-compatible blob store: content-addressed objects under `<prefix>/blobs/sha256/ab/<hex>`.
 *
 * A blob appears under its final key only once verified: bytes are hashed as they stream in,
 * and the object is committed (PutObject for one part, CompleteMultipartUpload for more) only
 * after the sha256 and size match; multipart objects are invisible until Complete, and a
 * failed or mismatched upload is aborted. Memory per write is bounded: 16 MiB parts, at most
 * four in flight plus one filling (~80 MiB), buffers reused from part to part.
 *
 * Upload sessions store each appended chunk as its own object
 * `<prefix>/uploads/<id>/<offset, 16 digits>`, written the same way, so a session durably holds
 * whole chunks only; its offset is the end of the contiguous run of chunks from 0. Nothing lives
 * in memory but an in-process "append in progress" flag, so a session survives a restart.
 * Completion re-reads the chunks through `put` (a hash cannot be carried across chunks without
 * re-reading), then deletes them.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobConfig } from '../config.js';
import { AppError } from '../errors.js';
import { assertSessionId, HashingCounter, mismatchError } from './blob-fns.js';
import type { BlobStore, ByteRange, PutResult } from './blob-store.js';
import { SHA256_RE } from './blob-store.js';

/** 16 MiB: 10,000 parts (the S3 maximum) then cover 156 GiB, and each part is well above the 5 MiB floor. */
const PART_BYTES = 16 * 1024 * 1024;
/** Four uploads in flight keep a fast link busy while a write holds at most ~80 MiB. */
const MAX_PARTS_IN_FLIGHT = 4;
/** Parallel deletes when a session ends: enough to clear hundreds of chunks in a few round trips. */
const DELETE_CONCURRENCY = 8;

export interface S3BlobStoreOptions {
  /**
   * Told about failures while cleaning up after another outcome (aborting a failed multipart
   * upload, deleting a completed session's chunks): the outcome stands, the leftovers are
   * invisible garbage for a bucket lifecycle rule. Defaults to a process warning.
   */
  onCleanupError?: (err: unknown, key: string) => void;
}

/** Errors of the connection itself (no answer from S3 at all). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const CREDENTIAL_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'ExpiredToken', 'InvalidToken']);

/**
 * What an S3 failure says about the whole store, as a 503 `store_unavailable` naming the bucket
 * and why (no such bucket, credentials refused, S3 unreachable, S3 failing); null for a failure
 * of one request (a missing object, a bad part), which the caller handles. `headBucket`: the
 * failure of a HeadBucket, whose 404 (no body to name it) means the bucket is missing.
 */
export function storeUnavailable(err: unknown, where: { bucket: string; endpoint?: string | undefined }, headBucket = false): AppError | null {
  if (err instanceof AppError) return null;
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  const at = `s3 bucket ${JSON.stringify(where.bucket)}${where.endpoint ? ` at ${where.endpoint}` : ''}`;
  const fail = (why: string, todo: string) => new AppError('store_unavailable', `blob store unavailable: ${at} ${why}; ${todo}`, { bucket: where.bucket, ...(where.endpoint ? { endpoint: where.endpoint } : {}), reason: why }, { cause: err });
  if (e?.name === 'NoSuchBucket' || (headBucket && status === 404)) return fail('does not exist', 'create the bucket, or point STEWARD_BLOB_URL at one that exists');
  if (CREDENTIAL_ERRORS.has(e?.name ?? '') || status === 403) return fail(`refused the credentials (${e?.name === 'Unknown' || !e?.name ? 'HTTP 403' : e.name})`, 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy');
  if (status === 301 || e?.name === 'PermanentRedirect') return fail('is in another region', 'set AWS_REGION to the bucket\'s region');
  if ((e?.code && NETWORK_CODES.has(e.code)) || e?.name === 'TimeoutError') return fail(`cannot be reached (${e.code ?? e.name})`, 'check that the store is running and STEWARD_S3_ENDPOINT');
  if (status !== undefined && status >= 500) return fail(`answered HTTP ${status} (${e?.name ?? 'error'})`, 'the store is failing; check its health and retry');
  return null;
}

export function createS3BlobStore(cfg: Extract<BlobConfig, { kind: 's3' }>, opts: S3BlobStoreOptions = {}): BlobStore {
  // The SDK warns at every client's creation that its releases from 2027 need Node 22: a notice
  // for whoever upgrades the SDK, not for Steward's users on Node 20 (the SDK's own switch; an
  // operator who set it keeps their value).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = new S3Client({
    region: cfg.region,
    endpoint: cfg.endpoint,
    forcePathStyle: cfg.forcePathStyle,
    // Without keys in the config, the SDK's default chain (env, profile, instance role) applies.
    credentials: cfg.accessKeyId && cfg.secretAccessKey
      ? { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey }
      : undefined,
    // Recent SDKs add CRC32 checksums to every upload; s3rver and many S3-compatible stores reject them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = cfg.bucket;
  const where = { bucket: cfg.bucket, endpoint: cfg.endpoint };
  /** Every call goes through here: a failure of the store itself becomes `store_unavailable`. */
  const client = {
    send: (async (command: Parameters<typeof sdk.send>[0]) => {
      try {
        return await sdk.send(command);
      } catch (err) {
        throw storeUnavailable(err, where, command instanceof HeadBucketCommand) ?? err;
      }
    }) as typeof sdk.send,
  };
  const trimmed = cfg.prefix.replace(/^\/+|\/+$/g, '');
  const base = trimmed ? `${trimmed}/` : '';
  const appending = new Set<string>();
  const onCleanupError =
    opts.onCleanupError ??
    ((err: unknown, key: string) => process.emitWarning(`s3 blob store: cleanup of ${key} failed: ${String(err)}`));

  const blobKey = (sha: string) => {
    if (!SHA256_RE.test(sha)) throw new AppError('invalid_argument', `invalid sha256 ${JSON.stringify(sha)}`);
    return `${base}blobs/sha256/${sha.slice(0, 2)}/${sha}`;
  };
  const sessionPrefix = (id: string) => {
    assertSessionId(id);
    return `${base}uploads/${id}/`;
  };

  const isMissing = (err: unknown) =>
    err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound');

  /**
   * Streams `source` through `counter` into object `key`, calling `verify` (which throws to
   * refuse) after the last byte and before anything becomes visible under `key`.
   */
  async function upload(key: string, source: Readable, counter: HashingCounter, verify: () => void): Promise<void> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let uploadId: string | undefined;
    const etags: string[] = [];
    const inFlight = new Set<Promise<void>>();
    // Part buffers whose upload succeeded, refilled for the next part: a write allocates at most
    // MAX_PARTS_IN_FLIGHT + 1 of them and leaves no garbage for the GC to catch up with.
    const spare: Buffer[] = [];
    let failed: { err: unknown } | undefined;

    const sendPart = async (body: Buffer) => {
      uploadId ??= (await client.send(new CreateMultipartUploadCommand({ Bucket, Key: key }))).UploadId;
      while (inFlight.size >= MAX_PARTS_IN_FLIGHT) await Promise.race(inFlight);
      if (failed) throw failed.err;
      const partNumber = etags.length + 1;
      etags.push('');
      // Settles without rejecting: a part's failure is recorded and rethrown at the next step,
      // so it never surfaces as an unhandled rejection while the source is still being read.
      const task: Promise<void> = client
        .send(new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body }))
        .then(
          (res) => {
            etags[partNumber - 1] = res.ETag ?? '';
            if (body.length === PART_BYTES) spare.push(body);
          },
          (err: unknown) => { failed ??= { err }; },
        )
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    };

    try {
      await pipeline(source, counter, async (chunks: AsyncIterable<Buffer>) => {
        for await (let chunk of chunks) {
          while (pendingBytes + chunk.length >= PART_BYTES) {
            const head = chunk.subarray(0, PART_BYTES - pendingBytes);
            chunk = chunk.subarray(head.length);
            const body = spare.pop() ?? Buffer.allocUnsafe(PART_BYTES);
            let at = 0;
            for (const c of [...pending, head]) at += c.copy(body, at);
            // Dropped before waiting for a free slot, so the bytes are held once, not twice.
            pending = [];
            pendingBytes = 0;
            await sendPart(body);
          }
          if (chunk.length > 0) {
            pending.push(chunk);
            pendingBytes += chunk.length;
          }
        }
      });
      if (uploadId === undefined) {
        verify();
        await client.send(new PutObjectCommand({ Bucket, Key: key, Body: Buffer.concat(pending, pendingBytes) }));
        return;
      }
      if (pendingBytes > 0) await sendPart(Buffer.concat(pending, pendingBytes));
      await Promise.all(inFlight);
      if (failed) throw failed.err;
      verify();
      const Parts: CompletedPart[] = etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 }));
      await client.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts } }));
    } catch (err) {
      await Promise.all(inFlight);
      if (uploadId !== undefined) {
        await client
          .send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId }))
          .catch((abortErr: unknown) => onCleanupError(abortErr, key));
      }
      throw err;
    }
  }

  /** GetObject answers 404 before any byte, so a missing object rejects here, not mid-stream. */
  async function getBody(key: string, range: ByteRange | undefined, notFound: () => AppError): Promise<Readable> {
    try {
      const Range = range ? `bytes=${range.start}-${range.end ?? ''}` : undefined;
      const res = await client.send(new GetObjectCommand({ Bucket, Key: key, Range }));
      if (!(res.Body instanceof Readable)) throw new AppError('internal', `object ${key} has no readable body`);
      return res.Body;
    } catch (err) {
      if (isMissing(err)) throw notFound();
      throw err;
    }
  }

  async function stat(sha: string): Promise<{ size: number } | null> {
    try {
      const res = await client.send(new HeadObjectCommand({ Bucket, Key: blobKey(sha) }));
      return { size: res.ContentLength ?? 0 };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async function put(sha: string, source: Readable, o: { size?: number | undefined } = {}): Promise<PutResult> {
    const key = blobKey(sha);
    const counter = new HashingCounter(o.size ?? Number.MAX_SAFE_INTEGER);
    const verify = () => {
      const actual = counter.hash.copy().digest('hex');
      if (actual !== sha || (o.size !== undefined && counter.bytes !== o.size)) {
        throw mismatchError(sha, actual, counter.bytes, o.size);
      }
    };
    if ((await stat(sha)) !== null) {
      // Already held: the caller still learns whether the bytes it sent were the right ones.
      await pipeline(source, counter, async (chunks: AsyncIterable<Buffer>) => {
        for await (const _ of chunks);
      });
      verify();
      return { size: counter.bytes, created: false };
    }
    await upload(key, source, counter, verify);
    return { size: counter.bytes, created: true };
  }

  async function get(sha: string, range?: ByteRange): Promise<Readable> {
    return getBody(blobKey(sha), range, () => new AppError('not_found', `blob ${sha} not found`, { sha256: sha }));
  }

  async function remove(sha: string): Promise<void> {
    await client.send(new DeleteObjectCommand({ Bucket, Key: blobKey(sha) }));
  }

  /** Every chunk object of a session, and the contiguous run of them from offset 0. */
  async function listChunks(id: string) {
    const prefix = sessionPrefix(id);
    const all: { key: string; offset: number; size: number }[] = [];
    let token: string | undefined;
    do {
      const res = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of res.Contents ?? []) {
        if (o.Key === undefined) continue;
        all.push({ key: o.Key, offset: Number(o.Key.slice(prefix.length)), size: o.Size ?? 0 });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    all.sort((a, b) => a.offset - b.offset);
    const run: typeof all = [];
    let end = 0;
    for (const c of all) {
      if (c.offset !== end) continue;
      run.push(c);
      end += c.size;
    }
    return { all, run, end };
  }

  async function deleteKeys(keys: string[], onError = (err: unknown, _key: string): void => { throw err; }): Promise<void> {
    const queue = [...keys];
    const worker = async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        await client.send(new DeleteObjectCommand({ Bucket, Key: key })).catch((err: unknown) => onError(err, key));
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, queue.length) }, worker));
  }

  async function sessionOffset(id: string): Promise<number> {
    return (await listChunks(id)).end;
  }

  async function sessionAppend(id: string, offset: number, source: Readable, o: { maxBytes: number }): Promise<number> {
    const prefix = sessionPrefix(id);
    const actual = await sessionOffset(id);
    // Tested and claimed with no await in between, so two appends in this process cannot both pass.
    const busy = appending.has(id);
    if (busy || offset !== actual) {
      source.resume();
      const why = busy ? 'is receiving another chunk' : `holds ${actual} bytes, not ${offset}`;
      throw new AppError('conflict', `upload session ${id} ${why}`, { offset: actual });
    }
    appending.add(id);
    try {
      const counter = new HashingCounter(o.maxBytes, undefined, (l) =>
        new AppError('too_large', `a chunk may carry at most ${l} bytes`, { maxBytes: l }),
      );
      await upload(`${prefix}${String(offset).padStart(16, '0')}`, source, counter, () => {});
      return offset + counter.bytes;
    } finally {
      appending.delete(id);
    }
  }

  async function sessionComplete(id: string, sha: string, size: number): Promise<PutResult> {
    blobKey(sha);
    if (appending.has(id)) {
      throw new AppError('conflict', `upload session ${id} is still receiving a chunk`, { offset: await sessionOffset(id) });
    }
    const { all, run } = await listChunks(id);
    const bytes = Readable.from(
      (async function* () {
        for (const c of run) {
          yield* await getBody(c.key, undefined, () => new AppError('conflict', `upload session ${id} lost a chunk`));
        }
      })(),
      { objectMode: false },
    );
    let result: PutResult;
    try {
      result = await put(sha, bytes, { size });
    } catch (err) {
      // A mismatch ends the session; any other failure (the store unreachable) leaves it to retry.
      if (err instanceof AppError && err.code === 'unprocessable') await deleteKeys(all.map((c) => c.key));
      throw err;
    }
    // The blob is in place: a chunk left behind is garbage, not a reason to report failure.
    await deleteKeys(all.map((c) => c.key), onCleanupError);
    return result;
  }

  async function sessionAbort(id: string): Promise<void> {
    const { all } = await listChunks(id);
    await deleteKeys(all.map((c) => c.key));
  }

  async function ping(): Promise<void> {
    await client.send(new HeadBucketCommand({ Bucket }));
  }

  const close = async () => sdk.destroy();
  return { kind: 's3', stat, put, get, delete: remove, sessionOffset, sessionAppend, sessionComplete, sessionAbort, ping, close };
}
