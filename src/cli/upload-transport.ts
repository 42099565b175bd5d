/**
 * The CLI's transport for byte uploads (the SDK's `UploadTransport`): node:http(s) with one
 * keep-alive agent. A `FileRange` body is read into a few buffers that are reused, each only
 * after the socket reported it written, so pushing gigabytes allocates a few MiB in all: no
 * buffer per chunk, no copy into a web stream (what fetch does), and next to no GC.
 * The transport stops sending as soon as the server answers early (a 409 offset conflict, a
 * 422), and never retries: the push logic above decides what to do with each answer.
 */
import fsp from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { BodyBytes, UploadRequest, UploadResponse, UploadTransport } from '../sdk/client.js';

/** Bytes per read and per socket write: large enough that syscalls vanish, small enough to stay in cache. */
const CHUNK_BYTES = 1 << 20;
/** Buffers per request: one being read while up to three sit in the socket's queue. */
const BUFFERS = 4;

/**
 * `length` bytes of a file from `start`, reported to `onBytes` as they are handed to the socket.
 * It is also an async iterable of fresh chunks, so a client without this transport can send it.
 */
export class FileRange implements AsyncIterable<Uint8Array> {
  constructor(
    readonly file: string,
    readonly start: number,
    readonly length: number,
    readonly onBytes: (n: number) => void = () => undefined,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const fh = await fsp.open(this.file, 'r');
    try {
      for (let pos = this.start, end = this.start + this.length; pos < end; ) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, end - pos));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) throw new Error(`${this.file} is shorter than expected: it changed during the push`);
        pos += bytesRead;
        this.onBytes(bytesRead);
        yield buf.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
  }
}

export interface CliUploadTransport {
  send: UploadTransport;
  close(): void;
}

export function createUploadTransport(): CliUploadTransport {
  // Enough sockets for every concurrent upload of a push (small files and large-file sessions).
  const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 32 }), https: new https.Agent({ keepAlive: true, maxSockets: 32 }) };
  const send: UploadTransport = (r) => sendOne(r, r.url.startsWith('https:') ? https.request : http.request, r.url.startsWith('https:') ? agents.https : agents.http);
  return {
    send,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

function sendOne(r: UploadRequest, request: typeof http.request, agent: http.Agent): Promise<UploadResponse> {
  return new Promise<UploadResponse>((resolve, reject) => {
    let answered = false;
    let bodyDone = false;
    const req = request(r.url, { method: r.method, headers: r.headers, agent });
    req.once('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.once('end', () => {
        // An early answer leaves the body half sent: that socket cannot carry another request.
        if (!bodyDone) req.destroy();
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text });
      });
      res.once('error', (err) => reject(err));
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    writeBody(req, r.body, () => answered).then(
      () => {
        bodyDone = true;
      },
      (err: unknown) => {
        if (!answered) req.destroy(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

async function writeBody(req: http.ClientRequest, body: BodyBytes, answered: () => boolean): Promise<void> {
  if (body instanceof FileRange) await writeFileRange(req, body, answered);
  else if (body instanceof Uint8Array) req.write(body);
  else {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      if (answered()) return;
      if (!req.write(chunk)) await new Promise<void>((r) => req.once('drain', () => r()));
    }
  }
  if (!answered() && !req.destroyed) req.end();
}

async function writeFileRange(req: http.ClientRequest, body: FileRange, answered: () => boolean): Promise<void> {
  const size = Math.min(CHUNK_BYTES, Math.max(body.length, 1));
  const free: Buffer[] = Array.from({ length: Math.min(BUFFERS, Math.ceil(body.length / size)) }, () => Buffer.allocUnsafeSlow(size));
  const waiting: ((b: Buffer | null) => void)[] = [];
  const release = (b: Buffer) => {
    const w = waiting.shift();
    if (w) w(b);
    else free.push(b);
  };
  // A destroyed request may never call back for what it held: stop waiting for those buffers.
  let closed = false;
  req.once('close', () => {
    closed = true;
    for (const w of waiting.splice(0)) w(null);
  });
  const take = () => free.pop() ?? (closed ? null : new Promise<Buffer | null>((r) => waiting.push(r)));
  const fh = await fsp.open(body.file, 'r');
  try {
    for (let pos = body.start, end = body.start + body.length; pos < end && !answered(); ) {
      const buf = await take();
      if (!buf) return;
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
      if (bytesRead === 0) throw new Error(`${body.file} is shorter than expected: it changed during the push`);
      pos += bytesRead;
      // The socket holds on to the buffer until this callback: only then may it be read into again.
      req.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), () => {
        body.onBytes(bytesRead);
        release(buf);
      });
    }
  } finally {
    await fh.close();
  }
}
