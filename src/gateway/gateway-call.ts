/**
 * One request to an upstream over undici's dispatch API: no response stream object, no
 * AbortController and no promise per chunk — the callbacks write straight through. Measured
 * against `pool.request` in the gateway benchmark: it is the part of a proxied request the
 * gateway controls that cost most.
 *
 * `started` settles when the response's status and headers arrive (or the request fails before
 * them). The body is then taken once with `consume`: chunks that arrived in between (a small
 * answer usually comes in the same read as its headers) are queued and handed over first.
 */
import type { Dispatcher } from 'undici';

export interface BodySink {
  data(chunk: Buffer): void;
  end(): void;
  error(err: Error): void;
}

export class UpstreamCall implements Dispatcher.DispatchHandler {
  statusCode = 0;
  headers: Record<string, string | string[] | undefined> = {};
  readonly started: Promise<UpstreamCall>;
  private controller: Dispatcher.DispatchController | null = null;
  private abortReason: Error | null = null;
  private settle: { resolve: (call: UpstreamCall) => void; reject: (err: Error) => void } | null = null;
  private queued: Buffer[] = [];
  private ended = false;
  private failure: Error | null = null;
  private sink: BodySink | null = null;

  constructor() {
    this.started = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx: the answer is still to come
    this.statusCode = statusCode;
    this.headers = headers;
    const s = this.settle;
    this.settle = null;
    s?.resolve(this);
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.sink) this.sink.data(chunk);
    else this.queued.push(chunk);
  }

  onResponseEnd(): void {
    this.ended = true;
    this.sink?.end();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    const s = this.settle;
    if (s) {
      this.settle = null;
      s.reject(err);
      return;
    }
    this.failure = err;
    this.sink?.error(err);
  }

  /** Stops the request (before or after its headers); its pending promise or body sink gets the error. */
  abort(reason: Error): void {
    if (this.controller) this.controller.abort(reason);
    else this.abortReason = reason;
  }

  /** Stops reading the body until `resume` (backpressure from a slow client). */
  pause(): void {
    this.controller?.pause();
  }

  resume(): void {
    this.controller?.resume();
  }

  /** Takes the body; call once, after `started`. */
  consume(sink: BodySink): void {
    this.sink = sink;
    const queued = this.queued;
    this.queued = [];
    for (const c of queued) sink.data(c);
    if (this.failure) sink.error(this.failure);
    else if (this.ended) sink.end();
  }

  /** The whole body. */
  body(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      this.consume({ data: (c) => chunks.push(c), end: () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)), error: reject });
    });
  }
}

/** Sends a request; `call.started` says how it went. */
export function dispatch(pool: Dispatcher, options: Dispatcher.DispatchOptions): UpstreamCall {
  const call = new UpstreamCall();
  pool.dispatch(options, call);
  return call;
}
