/**
 * The Node transport for byte uploads (the SDK's `UploadTransport`): node:http(s) with one
 * keep-alive agent. A `FileRange` body is read into a few buffers that are reused, each only
 * after the socket reported it written, and kept for the next request, so pushing gigabytes
 * allocates a few MiB in all: no buffer per chunk or per file, no copy into a web stream (what
 * fetch does), and next to no GC.
 * The transport stops sending as soon as the server answers early (a 409 offset conflict, a
 * 422), and never retries: the push logic above decides what to do with each answer.
 */
import fsp from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { BodyBytes, UploadRequest, UploadResponse, UploadTransport } from '../client.js';
import type { HashStream } from './hash-worker.js';

/** Bytes per read and per socket write: large enough that syscalls vanish, small enough to stay in cache. */
const CHUNK_BYTES = 1 << 20;
/** Buffers per request: one being read while up to three sit in the socket's queue. */
const BUFFERS = 4;
/**
 * Free buffers a transport keeps for its next requests: a push of many small files otherwise
 * left a buffer of garbage per file, and the CLI's resident memory grew past 200 MB before a
 * collection freed them. A dozen requests in flight use at most this many.
 */
const POOLED_BUFFERS = 48;

/**
 * `length` bytes of a file from `start`, reported to `onBytes` as they are handed to the socket.
 * With `hash`, every byte sent is also fed to it, in order, by the time the send resolves: the
 * file is read once for both. It is also an async iterable of fresh chunks, so a client
 * without this transport can send it.
 */
export class FileRange implements AsyncIterable<Uint8Array> {
  constructor(
    readonly file: string,
    readonly start: number,
    readonly length: number,
    readonly onBytes: (n: number) => void = () => undefined,
    readonly hash?: HashStream,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const fh = await fsp.open(this.file, 'r');
    try {
      for (let pos = this.start, end = this.start + this.length; pos < end; ) {
        const buf = Buffer.allocUnsafeSlow(Math.min(CHUNK_BYTES, end - pos));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) throw new Error(`${this.file} is shorter than expected: it changed during the push`);
        pos += bytesRead;
        this.onBytes(bytesRead);
        // The consumer keeps what it is given: the hash gets its own copy.
        if (this.hash) await this.hash.update(Buffer.from(buf.subarray(0, bytesRead)), bytesRead);
        yield buf.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
  }
}

export interface NodeUploadTransport {
  send: UploadTransport;
  close(): void;
}

export function createUploadTransport(): NodeUploadTransport {
  // Enough sockets for every concurrent upload of a push (small files and large-file sessions).
  const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 32 }), https: new https.Agent({ keepAlive: true, maxSockets: 32 }) };
  const pool: Buffer[] = [];
  return {
    send: (r) => (r.url.startsWith('https:') ? sendOne(r, https.request, agents.https, pool) : sendOne(r, http.request, agents.http, pool)),
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

function sendOne(r: UploadRequest, request: typeof http.request, agent: http.Agent, pool: Buffer[]): Promise<UploadResponse> {
  return new Promise<UploadResponse>((resolve, reject) => {
    let answered = false;
    const sent: BodyState = { queued: false, unflushed: 0 };
    const req = request(r.url, { method: r.method, headers: r.headers, agent });
    // Settles (never rejects) once the body writer is done with its buffers, and its hash has them all.
    const bodySettled = writeBody(req, r.body, () => answered, sent, pool).then(
      () => undefined,
      (err: unknown) => {
        if (!answered) req.destroy(err instanceof Error ? err : new Error(String(err)));
      },
    );
    req.once('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.once('end', () => {
        // An early answer leaves the body half sent: that socket cannot carry another request.
        if (!sent.queued || sent.unflushed > 0) req.destroy();
        void bodySettled.then(() => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text }));
      });
      res.once('error', (err) => reject(err));
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
  });
}

/** How far a body got: every byte handed to the socket (`queued`), and writes the socket still holds. */
interface BodyState {
  queued: boolean;
  unflushed: number;
}

async function writeBody(req: http.ClientRequest, body: BodyBytes, answered: () => boolean, sent: BodyState, pool: Buffer[]): Promise<void> {
  if (body instanceof FileRange) await writeFileRange(req, body, answered, sent, pool);
  else if (body instanceof Uint8Array) {
    req.write(body);
    sent.queued = true;
  } else {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      if (answered()) return;
      if (!req.write(chunk)) await new Promise<void>((r) => req.once('drain', () => r()));
    }
    sent.queued = true;
  }
  if (!answered() && !req.destroyed) req.end();
}

/** Sends a file range through `count` buffers taken from `pool` (and given back, those the socket no longer holds). */
async function writeFileRange(req: http.ClientRequest, body: FileRange, answered: () => boolean, sent: BodyState, pool: Buffer[]): Promise<void> {
  const size = CHUNK_BYTES;
  const count = Math.min(BUFFERS, Math.ceil(body.length / size));
  const free: Buffer[] = Array.from({ length: count }, () => pool.pop() ?? Buffer.allocUnsafeSlow(size));
  const waiting: ((b: Buffer | null) => void)[] = [];
  const allBack: (() => void)[] = [];
  const release = (b: Buffer) => {
    const w = waiting.shift();
    if (w) return w(b);
    free.push(b);
    if (free.length === count) for (const r of allBack.splice(0)) r();
  };
  // A destroyed request may never call back for what it held: stop waiting for those buffers.
  let closed = false;
  req.once('close', () => {
    closed = true;
    for (const w of waiting.splice(0)) w(null);
    for (const r of allBack.splice(0)) r();
  });
  const take = () => free.pop() ?? (closed ? null : new Promise<Buffer | null>((r) => waiting.push(r)));
  const { hash } = body;
  const fh = await fsp.open(body.file, 'r');
  try {
    let pos = body.start;
    for (const end = body.start + body.length; pos < end && !answered(); ) {
      const buf = await take();
      if (!buf) return;
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
      if (bytesRead === 0) throw new Error(`${body.file} is shorter than expected: it changed during the push`);
      pos += bytesRead;
      // The socket holds on to the buffer until this callback: only then may it be read into
      // again, or move to the hashing thread (which hands it back once hashed).
      sent.unflushed++;
      req.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), () => {
        sent.unflushed--;
        body.onBytes(bytesRead);
        if (!hash) return release(buf);
        // A failed hash fails the digest later; meanwhile a fresh buffer keeps the body going.
        hash.update(buf, bytesRead).then(release, () => release(Buffer.allocUnsafeSlow(size)));
      });
    }
    if (pos < body.start + body.length) return;
    sent.queued = true;
    // With a hash, done means hashed: the caller asks for the digest next.
    if (hash && free.length < count && !closed) await new Promise<void>((r) => allBack.push(r));
  } finally {
    // What the socket still holds when this ends is left to the collector.
    pool.push(...free.splice(0, POOLED_BUFFERS - pool.length));
    await fh.close();
  }
}
