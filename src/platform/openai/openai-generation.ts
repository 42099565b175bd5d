/**
 * The two generation endpoints (chat completions, text completions) as data for one client:
 * where each lives, how its answer is checked, how a stream's chunks fold back into the
 * non-streamed answer, and where its text and token log-probabilities are. The client and the
 * stream code never branch on which endpoint they serve.
 *
 * Folding keeps every choice (by `index`); `text` and `logprobs` of a result are the first
 * choice's. Upstream JSON is read defensively: a missing or odd field is skipped, not thrown on.
 */
import { protocolError, snippet } from './openai-errors.js';
import type { ChatCompletion, ChatCompletionChunk, Completion, ContentPart, TokenLogprob, Usage } from './openai-types.js';

export interface Fold<C, A> {
  /** Adds a chunk; true when it carried content (text of any choice). */
  add(chunk: C): boolean;
  /** The answer folded so far, in the non-streamed shape. */
  answer(): A;
}

export interface Generation<C, A> {
  /** Path under the base URL. */
  path: string;
  /** The checked answer of a non-streamed call. */
  answer(json: unknown, origin: string): A;
  /** The answer as a single chunk, for an upstream that answered a stream request with JSON. */
  chunkOf(answer: A): C;
  fold(): Fold<C, A>;
  text(answer: A): string;
  logprobs(answer: A): number[] | null;
}

type Loose = Record<string, unknown>;
const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const numberOr = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const stringOr = (v: unknown, d: string): string => (typeof v === 'string' ? v : d);

/** Text of a message content that may be a string or an array of parts. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const p of content as ContentPart[]) if (isObject(p) && typeof p.text === 'string') out += p.text;
  return out;
}

export function usageOf(u: unknown): Usage | null {
  if (!isObject(u) || typeof u.prompt_tokens !== 'number' || typeof u.completion_tokens !== 'number') return null;
  return { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, ...(typeof u.total_tokens === 'number' ? { total_tokens: u.total_tokens } : {}) };
}

function checkedAnswer(json: unknown, origin: string): Loose & { choices: unknown[] } {
  if (!isObject(json) || !Array.isArray(json.choices) || json.choices.length === 0) {
    throw protocolError(`${origin} returned JSON without choices: ${JSON.stringify(snippet(JSON.stringify(json) ?? String(json)))}`);
  }
  return json as Loose & { choices: unknown[] };
}

function firstChoice(answer: { choices: unknown[] }): Loose | undefined {
  const c = answer.choices[0];
  return isObject(c) ? c : undefined;
}

const finite = (values: unknown[]): number[] => values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));

/** What every fold keeps beside its choices: the envelope of the first chunk and the usage chunk. */
function envelope() {
  let head: { id: string; created: number; model: string } | null = null;
  let usage: Usage | null = null;
  return {
    see(chunk: Loose) {
      head ??= { id: stringOr(chunk.id, ''), created: numberOr(chunk.created, 0), model: stringOr(chunk.model, '') };
      const u = usageOf(chunk.usage);
      if (u) usage = u;
    },
    head: () => head ?? { id: '', created: 0, model: '' },
    usage: () => usage,
  };
}

function byIndex<S>(make: () => S) {
  const map = new Map<number, S>();
  return {
    at: (c: Loose) => {
      const i = numberOr(c.index, 0);
      let s = map.get(i);
      if (!s) map.set(i, (s = make()));
      return s;
    },
    entries: () => [...map.entries()].sort((a, b) => a[0] - b[0]),
  };
}

export const chatGeneration: Generation<ChatCompletionChunk, ChatCompletion> = {
  path: '/chat/completions',
  answer: (json, origin) => checkedAnswer(json, origin) as unknown as ChatCompletion,
  chunkOf: (a) => ({
    id: a.id,
    object: 'chat.completion.chunk',
    created: a.created,
    model: a.model,
    choices: a.choices.map((c) => ({ index: c.index, delta: isObject(c.message) ? c.message : {}, finish_reason: c.finish_reason, logprobs: c.logprobs ?? null })),
    usage: a.usage ?? null,
  }),
  fold() {
    const env = envelope();
    const choices = byIndex(() => ({ role: 'assistant', text: '', finish: null as string | null, logprobs: [] as TokenLogprob[] }));
    return {
      add(chunk) {
        env.see(chunk as unknown as Loose);
        let content = false;
        for (const c of chunk.choices as unknown[]) {
          if (!isObject(c)) continue;
          const s = choices.at(c);
          const delta = isObject(c.delta) ? c.delta : undefined;
          if (typeof delta?.role === 'string') s.role = delta.role;
          // Some servers put a chat piece in `text`, as text completions do.
          const piece = delta ? contentText(delta.content) : stringOr(c.text, '');
          if (piece) {
            s.text += piece;
            content = true;
          }
          if (typeof c.finish_reason === 'string') s.finish = c.finish_reason;
          const lp = isObject(c.logprobs) && Array.isArray(c.logprobs.content) ? (c.logprobs.content as unknown[]) : [];
          for (const t of lp) if (isObject(t) && typeof t.logprob === 'number') s.logprobs.push(t as unknown as TokenLogprob);
        }
        return content;
      },
      answer() {
        const choiceList = choices.entries().map(([index, s]) => ({
          index,
          message: { role: s.role, content: s.text },
          finish_reason: s.finish,
          logprobs: s.logprobs.length ? { content: s.logprobs } : null,
        }));
        return { ...env.head(), object: 'chat.completion', choices: choiceList, usage: env.usage() };
      },
    };
  },
  text(a) {
    const c = firstChoice(a);
    if (!c) return '';
    return isObject(c.message) ? contentText(c.message.content) : stringOr(c.text, '');
  },
  logprobs(a) {
    const lp = firstChoice(a)?.logprobs;
    const values = isObject(lp) && Array.isArray(lp.content) ? finite((lp.content as unknown[]).map((t) => (isObject(t) ? t.logprob : undefined))) : [];
    return values.length ? values : null;
  },
};

export const completionGeneration: Generation<Completion, Completion> = {
  path: '/completions',
  answer: (json, origin) => checkedAnswer(json, origin) as unknown as Completion,
  chunkOf: (a) => a,
  fold() {
    const env = envelope();
    const choices = byIndex(() => ({ text: '', finish: null as string | null, tokens: [] as string[], logprobs: [] as (number | null)[] }));
    return {
      add(chunk) {
        env.see(chunk as unknown as Loose);
        let content = false;
        for (const c of chunk.choices as unknown[]) {
          if (!isObject(c)) continue;
          const s = choices.at(c);
          const piece = stringOr(c.text, '');
          if (piece) {
            s.text += piece;
            content = true;
          }
          if (typeof c.finish_reason === 'string') s.finish = c.finish_reason;
          if (isObject(c.logprobs) && Array.isArray(c.logprobs.token_logprobs)) {
            const tokens = Array.isArray(c.logprobs.tokens) ? (c.logprobs.tokens as unknown[]) : [];
            (c.logprobs.token_logprobs as unknown[]).forEach((v, k) => {
              s.tokens.push(stringOr(tokens[k], ''));
              s.logprobs.push(typeof v === 'number' ? v : null);
            });
          }
        }
        return content;
      },
      answer() {
        const choiceList = choices.entries().map(([index, s]) => ({
          index,
          text: s.text,
          finish_reason: s.finish,
          logprobs: s.logprobs.length ? { tokens: s.tokens, token_logprobs: s.logprobs } : null,
        }));
        return { ...env.head(), object: 'text_completion', choices: choiceList, usage: env.usage() };
      },
    };
  },
  text: (a) => stringOr(firstChoice(a)?.text, ''),
  logprobs(a) {
    const lp = firstChoice(a)?.logprobs;
    const values = isObject(lp) && Array.isArray(lp.token_logprobs) ? finite(lp.token_logprobs as unknown[]) : [];
    return values.length ? values : null;
  },
};
