/**
 * The deterministic fake upstream of the gateway benchmark: an OpenAI-compatible server on
 * node:http that answers from bytes prepared at start, so it costs as little per request as a
 * Node server can and every variant meets the same upstream.
 *
 * - `POST /v1/chat/completions`: a fixed small JSON completion with `usage`; with `"stream": true`
 *   in the body, SSE: a role chunk, `chunks` content chunks, a usage chunk, `data: [DONE]`.
 * - `POST /v1/embeddings`: a fixed 8-dimension embedding with `usage`.
 * - `GET /v1/models`: one model.
 * No artificial delay unless `chunkDelayMs` (used by the smoke test to see a chunk arrive before
 * the stream ends). Paths are also answered without the `/v1` prefix.
 */
import http from 'node:http';

export interface FakeUpstreamOptions {
  /** Content chunks per streamed answer (default 20). */
  chunks?: number;
  /** Pause between SSE chunks, in ms (default 0: written back to back). */
  chunkDelayMs?: number;
}

const MODEL = 'bench-upstream';
const CREATED = 1_700_000_000;

function completionBody(): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: CREATED,
      model: MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 },
    }),
  );
}

/** The SSE events of one streamed answer, each a complete `data: ...\n\n` frame. */
export function sseFrames(chunks: number): Buffer[] {
  const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: CREATED, model: MODEL };
  const frame = (o: unknown) => Buffer.from(`data: ${JSON.stringify(o)}\n\n`);
  const frames = [frame({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })];
  for (let i = 0; i < chunks; i++) frames.push(frame({ ...base, choices: [{ index: 0, delta: { content: ` tok${i}` }, finish_reason: null }] }));
  frames.push(frame({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
  frames.push(frame({ ...base, choices: [], usage: { prompt_tokens: 12, completion_tokens: chunks, total_tokens: 12 + chunks } }));
  frames.push(Buffer.from('data: [DONE]\n\n'));
  return frames;
}

function embeddingBody(): Buffer {
  return Buffer.from(
    JSON.stringify({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8] }],
      model: MODEL,
      usage: { prompt_tokens: 5, total_tokens: 5 },
    }),
  );
}

const MODELS = Buffer.from(JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', created: CREATED, owned_by: 'bench' }] }));
const STREAM_FLAG = /"stream"\s*:\s*true/;

export function createFakeUpstream(opts: FakeUpstreamOptions = {}): http.Server {
  const completion = completionBody();
  const frames = sseFrames(opts.chunks ?? 20);
  const embedding = embeddingBody();
  const delay = opts.chunkDelayMs ?? 0;

  const json = (res: http.ServerResponse, status: number, body: Buffer) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  };
  const stream = (res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (delay === 0) {
      for (let i = 0; i < frames.length - 1; i++) res.write(frames[i]);
      res.end(frames[frames.length - 1]);
      return;
    }
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      if (i === frames.length - 1) return void res.end(frames[i]);
      res.write(frames[i++]);
      setTimeout(next, delay);
    };
    next();
  };

  return http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const url = req.url ?? '/';
    const path = url.startsWith('/v1/') ? url.slice(3) : url;
    if (req.method === 'GET' && path === '/models') return json(res, 200, MODELS);
    if (req.method !== 'POST' || (path !== '/chat/completions' && path !== '/embeddings')) {
      req.resume();
      return json(res, 404, Buffer.from(JSON.stringify({ error: { message: `no route ${req.method} ${url}`, type: 'invalid_request_error', param: null, code: null } })));
    }
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      if (path === '/embeddings') return json(res, 200, embedding);
      const body = parts.length === 1 ? parts[0]!.toString('latin1') : Buffer.concat(parts).toString('latin1');
      if (STREAM_FLAG.test(body)) stream(res);
      else json(res, 200, completion);
    });
  });
}
