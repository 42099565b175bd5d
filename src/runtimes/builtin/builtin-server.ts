// The built-in runtime: an OpenAI-compatible HTTP server over one GGUF model on the CPU through
// node-llama-cpp. It runs as a child process of whatever starts it (main.ts), so a GGUF that makes
// llama.cpp abort takes down only this process. /health answers 503 while the model loads and 200
// once it serves; a model that fails to load ends the process with exit code 1 and the reason on
// stderr. Requests are served one at a time on one context sequence (a replica is one CPU slot).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { z } from 'zod';
import type { Llama, LlamaContext, LlamaEmbeddingContext, LlamaModel } from 'node-llama-cpp';

export interface BuiltinOptions {
  modelPath: string;
  port: number;
  host: string;
  threads: number;
  contextSize: number;
  /** The id under which /v1/models lists the model; the file name without .gguf by default. */
  modelName?: string;
  /** Generation cap when a request gives no max_tokens. */
  defaultMaxTokens?: number;
  /**
   * Share of completion requests (chat and text) answered 500 with an OpenAI error body instead of
   * being served: a fault injected on purpose, for drills and `steward demo` (a canary that fails).
   * 0 (the default) serves everything.
   */
  faultRate?: number;
  log?: (line: string) => void;
}

const MAX_BODY = 8 * 1024 * 1024;

const contentSchema = z.union([z.string(), z.array(z.object({ type: z.string(), text: z.string().optional() }).passthrough()), z.null()]);
const samplingSchema = {
  model: z.string().optional(),
  max_tokens: z.number().int().positive().optional(),
  max_completion_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
  /** OpenAI's token id → bias added to its logit; -100 bans the token. */
  logit_bias: z.record(z.string().regex(/^\d+$/), z.number().min(-100).max(100)).nullable().optional(),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullable().optional(),
};
const chatSchema = z.object({
  ...samplingSchema,
  messages: z.array(z.object({ role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']), content: contentSchema.optional() }).passthrough()).min(1),
}).passthrough();
const completionSchema = z.object({ ...samplingSchema, prompt: z.union([z.string(), z.array(z.string()).length(1)]) }).passthrough();
const embeddingSchema = z.object({ model: z.string().optional(), input: z.union([z.string(), z.array(z.string()).min(1)]) }).passthrough();

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly type = 'invalid_request_error') {
    super(message);
  }
}

type FinishReason = 'stop' | 'length';
interface Usage { prompt_tokens: number; completion_tokens: number; total_tokens: number }

export interface BuiltinServer {
  server: Server;
  /** Resolves when the model is loaded; rejects with the load error. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export async function startBuiltinServer(opts: BuiltinOptions): Promise<BuiltinServer> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const modelId = opts.modelName ?? basename(opts.modelPath).replace(/\.gguf$/i, '');
  const defaultMaxTokens = opts.defaultMaxTokens ?? 256;
  let state: 'loading' | 'ready' | 'failed' = 'loading';
  let loadError = '';
  let llama: Llama | undefined;
  let model: LlamaModel | undefined;
  let context: LlamaContext | undefined;
  let embedding: LlamaEmbeddingContext | undefined;
  const faults = faultInjector(opts.faultRate ?? 0);
  // One request at a time: the context has one sequence.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const load = async (): Promise<void> => {
    const t0 = Date.now();
    // Imported here so /health answers while the native library loads.
    const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
    // gpu: false and build: 'never': the CPU binary from the npm package, never a download or build.
    llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.warn, logger: (level, message) => log(`[llama.cpp ${level}] ${message.trimEnd()}`) });
    model = await llama.loadModel({ modelPath: opts.modelPath });
    context = await model.createContext({ contextSize: opts.contextSize, threads: opts.threads, sequences: 1 });
    embedding = await model.createEmbeddingContext({ contextSize: opts.contextSize, threads: opts.threads });
    state = 'ready';
    log(`builtin runtime: ${modelId} ready in ${Date.now() - t0} ms (ctx ${opts.contextSize}, ${opts.threads} thread(s))`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = err instanceof HttpError ? err : new HttpError(500, err instanceof Error ? err.message : String(err), 'server_error');
      if (!res.headersSent) sendJson(res, e.status, { error: { message: e.message, type: e.type, param: null, code: null } });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /health') {
      if (state === 'ready') return sendJson(res, 200, { status: 'ok', model: modelId });
      return sendJson(res, 503, { status: state, ...(loadError ? { error: loadError } : {}) });
    }
    if (route === 'GET /v1/models') {
      return sendJson(res, 200, { object: 'list', data: [{ id: modelId, object: 'model', created: 0, owned_by: 'steward-builtin' }] });
    }
    if (!['POST /v1/chat/completions', 'POST /v1/completions', 'POST /v1/embeddings'].includes(route)) {
      throw new HttpError(404, `no route ${route}: this runtime serves /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models and /health`);
    }
    if (state !== 'ready') throw new HttpError(503, `model ${modelId} is ${state}; wait for /health to answer 200`, 'server_error');
    const body = await readJson(req);
    if (route !== 'POST /v1/embeddings' && faults()) {
      throw new HttpError(500, `injected fault: this runtime was started with --fault-rate ${opts.faultRate} and fails that share of completion requests on purpose (drills, steward demo)`, 'server_error');
    }
    if (route === 'POST /v1/embeddings') return embeddings(parse(embeddingSchema, body), res);
    if (route === 'POST /v1/completions') return generate('completion', parse(completionSchema, body), req, res);
    return generate('chat', parse(chatSchema, body), req, res);
  }

  async function embeddings(body: z.infer<typeof embeddingSchema>, res: ServerResponse): Promise<void> {
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    const { data, tokens } = await serial(async () => {
      const data: { object: 'embedding'; index: number; embedding: number[] }[] = [];
      let tokens = 0;
      for (const [index, text] of inputs.entries()) {
        tokens += model!.tokenize(text).length;
        const e = await embedding!.getEmbeddingFor(text);
        data.push({ object: 'embedding', index, embedding: [...e.vector] });
      }
      return { data, tokens };
    });
    sendJson(res, 200, { object: 'list', data, model: modelId, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }

  async function logitBias(bias: Record<string, number>): Promise<import('node-llama-cpp').TokenBias> {
    const { TokenBias } = await import('node-llama-cpp');
    const tb = new TokenBias(model!.tokenizer);
    const vocab = model!.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? Infinity;
    for (const [id, value] of Object.entries(bias)) {
      const token = Number(id);
      if (token >= vocab) throw new HttpError(400, `logit_bias: token ${id} is not in the model's vocabulary of ${vocab} tokens`);
      const logit = value <= -100 ? -Infinity : value;
      if (model!.isEogToken(token as import('node-llama-cpp').Token)) {
        // TokenBias.set skips end-of-generation tokens (node-llama-cpp 3.21 documents it), which
        // would ignore the most common use of logit_bias (banning EOS) without a word; its bias
        // map is what the sampler reads, so those go in there directly.
        const biases = (tb as unknown as { _biases?: Map<number, number> })._biases;
        if (!(biases instanceof Map)) throw new HttpError(400, `logit_bias: token ${id} ends generation and this runtime cannot bias it`);
        biases.set(token, logit);
      } else tb.set(token as import('node-llama-cpp').Token, { logit });
    }
    return tb;
  }

  async function generate(kind: 'chat', body: z.infer<typeof chatSchema>, req: IncomingMessage, res: ServerResponse): Promise<void>;
  async function generate(kind: 'completion', body: z.infer<typeof completionSchema>, req: IncomingMessage, res: ServerResponse): Promise<void>;
  async function generate(kind: 'chat' | 'completion', body: z.infer<typeof chatSchema> | z.infer<typeof completionSchema>, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = (kind === 'chat' ? 'chatcmpl-' : 'cmpl-') + randomUUID();
    const created = Math.floor(Date.now() / 1000);
    const object = kind === 'chat' ? 'chat.completion' : 'text_completion';
    const stream = body.stream === true;
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const sse = (payload: unknown): void => {
      res.write(`data: ${JSON.stringify(payload)}\n\n`);
    };
    const chunk = (text: string | null, finish: FinishReason | null, first = false): unknown =>
      kind === 'chat'
        ? { id, object: 'chat.completion.chunk', created, model: modelId, choices: [{ index: 0, delta: first ? { role: 'assistant', content: '' } : text === null ? {} : { content: text }, finish_reason: finish, logprobs: null }] }
        : { id, object: 'text_completion', created, model: modelId, choices: [{ index: 0, text: text ?? '', finish_reason: finish, logprobs: null }] };
    const onTextChunk = stream ? (text: string) => { if (text) sse(chunk(text, null)); } : undefined;

    const tokenBias = body.logit_bias ? await logitBias(body.logit_bias) : undefined;
    const sampling = {
      maxTokens: body.max_tokens ?? body.max_completion_tokens ?? defaultMaxTokens,
      temperature: body.temperature ?? 1,
      ...(body.top_p !== undefined ? { topP: body.top_p } : {}),
      ...(body.seed !== undefined ? { seed: body.seed } : {}),
      signal: abort.signal,
      stopOnAbortSignal: true,
    };
    const withBias = tokenBias ? { ...sampling, tokenBias } : sampling;
    if (kind === 'chat') chatPrompt((body as z.infer<typeof chatSchema>).messages); // validate before streaming starts

    const result = await serial(async () => {
      if (stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        if (kind === 'chat') sse(chunk(null, null, true));
      }
      const sequence = context!.getSequence();
      try {
        const { LlamaChatSession, LlamaCompletion } = await import('node-llama-cpp');
        let text: string;
        let stopReason: string;
        if (kind === 'chat') {
          const { history, prompt } = chatPrompt((body as z.infer<typeof chatSchema>).messages);
          const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false });
          session.setChatHistory(history);
          const r = await session.promptWithMeta(prompt, { ...withBias, ...(onTextChunk ? { onTextChunk } : {}) });
          text = r.responseText;
          stopReason = r.stopReason;
          session.dispose();
        } else {
          const p = (body as z.infer<typeof completionSchema>).prompt;
          const completion = new LlamaCompletion({ contextSequence: sequence });
          const r = await completion.generateCompletionWithMeta(typeof p === 'string' ? p : p[0]!, { ...withBias, ...(onTextChunk ? { onTextChunk } : {}) });
          text = r.response;
          stopReason = r.metadata.stopReason;
          completion.dispose();
        }
        // The sequence's meter counts what was evaluated (prompt) and sampled (completion), including
        // tokens that ended in an incomplete UTF-8 sequence and so produced no text; it can count one
        // token past maxTokens (sampled, then dropped), hence the cap.
        const meter = sequence.tokenMeter.getState();
        const promptTokens = meter.usedInputTokens;
        const completionTokens = Math.min(meter.usedOutputTokens, sampling.maxTokens);
        const usage: Usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
        if (stopReason === 'abort') log(`builtin runtime: ${id} stopped after ${completionTokens} token(s): the client went away`);
        return { text, finish: (stopReason === 'maxTokens' ? 'length' : 'stop') as FinishReason, usage };
      } finally {
        await sequence.dispose();
      }
    });

    if (stream) {
      sse(chunk(null, result.finish));
      if (body.stream_options?.include_usage) sse({ id, object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', created, model: modelId, choices: [], usage: result.usage });
      res.end('data: [DONE]\n\n');
      return;
    }
    const choice = kind === 'chat'
      ? { index: 0, message: { role: 'assistant', content: result.text }, finish_reason: result.finish, logprobs: null }
      : { index: 0, text: result.text, finish_reason: result.finish, logprobs: null };
    sendJson(res, 200, { id, object, created, model: modelId, choices: [choice], usage: result.usage });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const ready = load().catch((err: unknown) => {
    state = 'failed';
    loadError = err instanceof Error ? err.message : String(err);
    throw err;
  });
  return {
    server,
    ready,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await llama?.dispose();
    },
  };
}

type ChatHistoryItem = import('node-llama-cpp').ChatHistoryItem;

function textOf(content: z.infer<typeof contentSchema> | undefined): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => (p.type === 'text' ? p.text ?? '' : '')).join('');
}

/** OpenAI messages → node-llama-cpp chat history plus the last user message as the prompt. */
export function chatPrompt(messages: z.infer<typeof chatSchema>['messages']): { history: ChatHistoryItem[]; prompt: string } {
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'user') throw new HttpError(400, 'the last message must have role "user"');
  const history: ChatHistoryItem[] = messages.slice(0, -1).map((m): ChatHistoryItem => {
    if (m.role === 'system' || m.role === 'developer') return { type: 'system', text: textOf(m.content) };
    if (m.role === 'assistant') return { type: 'model', response: [textOf(m.content)] };
    return { type: 'user', text: textOf(m.content) };
  });
  return { history, prompt: textOf(last.content) };
}

function parse<T extends z.ZodTypeAny>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new HttpError(400, `invalid request body${issue ? `: ${issue.path.join('.') || '(body)'}: ${issue.message}` : ''}`);
  }
  return r.data;
}

/**
 * Whether the next request fails: exactly `rate` of requests, spread evenly (request n fails when
 * floor(n·rate) steps up), so a drill's error rate is what was asked for, not a dice roll's.
 */
export function faultInjector(rate: number): () => boolean {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`fault rate must be between 0 and 1 (got ${rate})`);
  let n = 0;
  return () => {
    n++;
    return Math.floor(n * rate) > Math.floor((n - 1) * rate);
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}
