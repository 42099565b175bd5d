/**
 * A streamed generation: the upstream's SSE events as parsed chunks (an async iterator) and,
 * folded from the same chunks, the whole answer with its timing (`result()`). What a stream
 * owes its reader: `[DONE]` ends the answer (what follows is read and ignored, so the connection
 * is reused); an error event mid-stream is a transient OpenAIError; an event that is not JSON is
 * a final one; a stream that ends without `[DONE]` is accepted when it carried content and is a
 * transient error when it carried none.
 */
import { OpenAIError, protocolError, snippet, upstreamMessageOf } from './openai-errors.js';
import type { Fold, Generation } from './openai-generation.js';
import type { EventSourceMessage } from './openai-sse.js';
import type { GenerationResult } from './openai-types.js';

export interface GenerationStream<C, R> extends AsyncIterable<C> {
  /** Reads what is left of the stream; resolves to the whole answer, or rejects with an OpenAIError. */
  result(): Promise<R>;
  /** Stops reading and releases the connection (breaking out of a for-await loop does the same). */
  cancel(): Promise<void>;
}

export function resultOf<C, A>(gen: Generation<C, A>, answer: A, latencyMs: number, ttftMs: number | null, contentChunks: number): GenerationResult<A> {
  const usage = (answer as { usage?: GenerationResult<A>['usage'] }).usage ?? null;
  return { completion: answer, text: gen.text(answer), logprobs: gen.logprobs(answer), usage, latencyMs, ttftMs, contentChunks };
}

function streamError(message: string, upstreamMessage: string | null = null): OpenAIError {
  return new OpenAIError(message, { kind: 'stream', transient: true, upstreamMessage });
}

function parseChunk<C>(ev: EventSourceMessage, origin: string): C {
  if (ev.event === 'error') {
    const msg = upstreamMessageOf(ev.data);
    throw streamError(`${origin} reported an error mid-stream: ${msg}`, msg);
  }
  let j: unknown;
  try {
    j = JSON.parse(ev.data);
  } catch {
    throw protocolError(`${origin} streamed an event that is not JSON: ${JSON.stringify(snippet(ev.data))}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw protocolError(`${origin} streamed an event that is not a JSON object: ${JSON.stringify(snippet(ev.data))}`);
  const o = j as { error?: unknown; choices?: unknown };
  if (o.error !== undefined && o.error !== null) {
    const msg = upstreamMessageOf(ev.data);
    throw streamError(`${origin} reported an error mid-stream: ${msg}`, msg);
  }
  // A usage-only chunk may leave `choices` out; readers can rely on the array.
  if (!Array.isArray(o.choices)) o.choices = [];
  return j as C;
}

/**
 * `batches` are the events of each network read; they must already translate transport failures
 * and release the request when they end. `abort` cuts the request (a cancel before the first read).
 * `result()` alone folds each read's events in one synchronous pass; iterating pays one async step
 * per chunk.
 */
export function createGenerationStream<C, A>(opts: { batches: AsyncIterable<EventSourceMessage[]>; gen: Generation<C, A>; origin: string; t0: number; abort: () => void }): GenerationStream<C, GenerationResult<A>> {
  const { gen, origin, t0 } = opts;
  const fold: Fold<C, A> = gen.fold();
  let done = false;
  let contentChunks = 0;
  let ttftMs: number | null = null;
  let final: GenerationResult<A> | null = null;
  let failure: unknown = null;

  /** The chunk an event carries, folded; undefined for `[DONE]`, empty events and what follows `[DONE]`. */
  function take(ev: EventSourceMessage): C | undefined {
    if (done || ev.data === '') return undefined;
    if (ev.data === '[DONE]') {
      done = true;
      return undefined;
    }
    const chunk = parseChunk<C>(ev, origin);
    if (fold.add(chunk)) {
      contentChunks++;
      ttftMs ??= performance.now() - t0;
    }
    return chunk;
  }
  function finish(): void {
    if (!done && contentChunks === 0) throw streamError(`${origin} closed the stream before sending any content`);
    final = resultOf(gen, fold.answer(), performance.now() - t0, ttftMs, contentChunks);
  }

  async function* iterate(): AsyncGenerator<C, void, undefined> {
    try {
      for await (const batch of opts.batches) {
        for (const ev of batch) {
          const chunk = take(ev);
          if (chunk !== undefined) yield chunk;
        }
      }
      finish();
    } catch (err) {
      failure = err;
      throw err;
    }
  }
  async function consume(): Promise<void> {
    try {
      for await (const batch of opts.batches) for (const ev of batch) take(ev);
      finish();
    } catch (err) {
      failure = err;
      throw err;
    }
  }

  let it: AsyncGenerator<C, void, undefined> | null = null;
  let consuming: Promise<void> | null = null;
  return {
    [Symbol.asyncIterator]: () => (it ??= consuming ? (async function* () {})() : iterate()),
    async result() {
      if (it) while (!(await it.next()).done);
      else await (consuming ??= consume());
      if (failure) throw failure;
      if (!final) throw streamError(`the stream from ${origin} was cancelled before its end`);
      return final;
    },
    async cancel() {
      opts.abort();
      await it?.return(undefined);
    },
  };
}

/** An upstream that answered a stream request with plain JSON: its answer as a one-chunk stream. */
export function answeredStream<C, A>(gen: Generation<C, A>, result: GenerationResult<A>): GenerationStream<C, GenerationResult<A>> {
  async function* one(): AsyncGenerator<C, void, undefined> {
    yield gen.chunkOf(result.completion);
  }
  const it = one();
  return {
    [Symbol.asyncIterator]: () => it,
    result: async () => result,
    async cancel() {
      await it.return(undefined);
    },
  };
}
