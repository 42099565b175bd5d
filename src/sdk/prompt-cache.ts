/**
 * An in-memory prompt cache for applications, with the behaviour of Langfuse's SDK: `getPrompt`
 * answers from memory while an entry is fresh (no I/O, an already-settled promise); once its TTL
 * has passed it still answers at once with the stale entry and starts one background refresh;
 * when the server cannot be reached the stale entry keeps being served (retrying every
 * `retryMs`), so a brief outage does not take the application down. A fixed version (`1.2.0`)
 * never changes and never goes stale. Nothing here is global: make one cache per client.
 */
import { PromptSpec, type PromptSpecInput } from '../contracts/prompts.js';
import { StewardApiError, type StewardClient } from './client.js';
import { compileFetched, DEFAULT_PROMPT_LABEL, isFixedVersion, PromptsClient, renderLocally, type PromptVersion, type RenderedPrompt } from './prompts-client.js';

/** A prompt as the cache hands it out: the version, plus local rendering. */
export interface CachedPrompt extends PromptVersion {
  /** True when the server could not be reached and the caller's fallback spec was used. */
  isFallback: boolean;
  /** When it was fetched (ms since the epoch, by the cache's clock). */
  fetchedAt: number;
  /** Renders locally with the server's template engine (throws StewardApiError on bad variables). */
  compile(variables?: Record<string, unknown>): RenderedPrompt;
}

export interface PromptCacheOptions {
  /** Where prompts come from: a client, or any function (tests, custom transports). */
  source: StewardClient | ((name: string, ref: string | undefined) => Promise<PromptVersion>);
  /** How long an entry is fresh. 60 s: a moved label reaches every replica within a minute. */
  ttlMs?: number;
  /** After a failed refresh, how long to serve the stale entry before trying again. */
  retryMs?: number;
  /** Entries kept (name × label); the oldest is dropped beyond it. */
  maxEntries?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Told about background refreshes that failed (the stale entry is still served). */
  onRefreshError?: (err: unknown, name: string, ref: string) => void;
}

export interface GetPromptOptions {
  /** Label to read; default `production` (then the latest version, as on the server). */
  label?: string;
  /** A fixed version instead of a label. */
  version?: string;
  /** Overrides the cache's TTL for this entry. */
  ttlMs?: number;
  /** Used when there is no cached entry and the server cannot answer: the app still starts. */
  fallback?: PromptSpecInput;
}

interface Entry {
  prompt: CachedPrompt;
  /** The same settled promise for every hit: a hit allocates nothing. */
  settled: Promise<CachedPrompt>;
  freshUntil: number;
  retryAt: number;
  refreshing: boolean;
  ttlMs: number;
}

const DEFAULT_KEY = '\u0000default';

export class PromptCache {
  private readonly entries = new Map<string, Map<string, Entry>>();
  /** Insertion order of `name\nref` keys, for eviction beyond maxEntries. */
  private readonly order = new Map<string, [string, string]>();
  private readonly inflight = new Map<string, Promise<CachedPrompt>>();
  private readonly fetchPrompt: (name: string, ref: string | undefined) => Promise<PromptVersion>;
  private readonly ttlMs: number;
  private readonly retryMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly onRefreshError: PromptCacheOptions['onRefreshError'];

  constructor(opts: PromptCacheOptions) {
    if (typeof opts.source === 'function') {
      this.fetchPrompt = opts.source;
    } else {
      const prompts = new PromptsClient(opts.source);
      this.fetchPrompt = (name, ref) => prompts.get(name, ref);
    }
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.retryMs = opts.retryMs ?? 5_000;
    this.maxEntries = opts.maxEntries ?? 1000;
    this.now = opts.now ?? Date.now;
    this.onRefreshError = opts.onRefreshError;
  }

  /** The prompt for a label or version; from memory when cached (stale or not), else from the server. */
  getPrompt(name: string, opts: GetPromptOptions = {}): Promise<CachedPrompt> {
    const key = opts.version ?? opts.label ?? DEFAULT_KEY;
    const e = this.entries.get(name)?.get(key);
    if (e !== undefined) {
      if (!e.refreshing) {
        const now = this.now();
        if (now >= e.freshUntil && now >= e.retryAt) this.refresh(name, key, e);
      }
      return e.settled;
    }
    return this.miss(name, key, opts);
  }

  /** Drops cached entries: one label/version of a prompt, every entry of a prompt, or all. */
  invalidate(name?: string, labelOrVersion?: string): void {
    if (name === undefined) {
      this.entries.clear();
      this.order.clear();
      return;
    }
    const byRef = this.entries.get(name);
    for (const ref of labelOrVersion === undefined ? [...(byRef?.keys() ?? [])] : [labelOrVersion]) {
      byRef?.delete(ref);
      this.order.delete(`${name}\n${ref}`);
    }
    if (byRef?.size === 0) this.entries.delete(name);
  }

  get size(): number {
    return this.order.size;
  }

  private miss(name: string, key: string, opts: GetPromptOptions): Promise<CachedPrompt> {
    const id = `${name}\n${key}`;
    let p = this.inflight.get(id);
    if (!p) {
      const ttl = opts.ttlMs ?? this.ttlMs;
      p = this.fetchPrompt(name, key === DEFAULT_KEY ? undefined : key)
        .then((v) => this.store(name, key, v, ttl).prompt)
        .finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    if (!opts.fallback) return p;
    const fallback = opts.fallback;
    return p.catch((err: unknown) => {
      if (err instanceof StewardApiError && err.code !== 'network' && err.code !== 'unavailable' && err.code !== 'internal') throw err;
      return this.fallbackPrompt(name, key, fallback);
    });
  }

  private refresh(name: string, key: string, e: Entry): void {
    e.refreshing = true;
    this.fetchPrompt(name, key === DEFAULT_KEY ? undefined : key).then(
      (v) => {
        if (this.entries.get(name)?.get(key) === e) this.store(name, key, v, e.ttlMs, e);
      },
      (err: unknown) => {
        e.refreshing = false;
        e.retryAt = this.now() + this.retryMs;
        // A label or prompt that is gone stops being served; anything else (network, 5xx) keeps the stale entry.
        if (err instanceof StewardApiError && err.code === 'not_found') this.invalidate(name, key);
        this.onRefreshError?.(err, name, key);
      },
    );
  }

  private store(name: string, key: string, v: PromptVersion, ttlMs: number, previous?: Entry): Entry {
    const now = this.now();
    const same = previous && previous.prompt.digest === v.digest && previous.prompt.version === v.version;
    // An unchanged prompt keeps its object (and its compiled template); only the clock moves.
    const prompt = same ? previous.prompt : this.wrap(v, false, now);
    const entry: Entry = {
      prompt,
      settled: same ? previous.settled : Promise.resolve(prompt),
      freshUntil: isFixedVersion(key) ? Number.POSITIVE_INFINITY : now + ttlMs,
      retryAt: 0,
      refreshing: false,
      ttlMs,
    };
    let byRef = this.entries.get(name);
    if (!byRef) this.entries.set(name, (byRef = new Map()));
    byRef.set(key, entry);
    const id = `${name}\n${key}`;
    if (!this.order.has(id)) {
      this.order.set(id, [name, key]);
      if (this.order.size > this.maxEntries) {
        const [oldName, oldKey] = this.order.values().next().value as [string, string];
        this.invalidate(oldName, oldKey);
      }
    }
    return entry;
  }

  private fallbackPrompt(name: string, key: string, spec: PromptSpecInput): CachedPrompt {
    const parsed = PromptSpec.safeParse(spec);
    if (!parsed.success) throw new StewardApiError(400, 'invalid_argument', `fallback prompt for ${name} is invalid: ${parsed.error.issues[0]?.message ?? ''}`);
    const label = key === DEFAULT_KEY ? DEFAULT_PROMPT_LABEL : key;
    return this.wrap({ name, version: 'fallback', digest: '', state: 'fallback', labels: [label], spec: parsed.data }, true, this.now());
  }

  private wrap(v: PromptVersion, isFallback: boolean, fetchedAt: number): CachedPrompt {
    let compiled: ReturnType<typeof compileFetched> | undefined;
    const prompt: CachedPrompt = {
      ...v,
      isFallback,
      fetchedAt,
      compile: (variables = {}) => renderLocally(prompt, variables, (compiled ??= compileFetched(prompt))),
    };
    return prompt;
  }
}
