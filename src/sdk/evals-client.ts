/**
 * Evaluation calls of the Steward API: start a run, follow it to the end, read results,
 * compare two runs, evaluate gates, list the metrics library. Browser-safe: fetch only.
 */
import type { z } from 'zod';
import type {
  CaseResultPage,
  CompareRunsResponse,
  CreateRunBody,
  EvaluateGatesBody,
  GateEvaluation,
  ListRunsQuery,
  MetricList,
  ResumeRunBody,
  RunPage,
  RunResponse,
} from '../contracts/evals.js';
import { FINISHED_STATES } from '../contracts/evals.js';
import type { StewardClient } from './client.js';

type Query = Record<string, string | number | boolean | string[] | undefined>;
const enc = encodeURIComponent;
const base = '/api/v1/evals';

export class EvalsClient {
  constructor(readonly client: StewardClient) {}

  private async json<T>(method: string, path: string, init: { query?: Query; json?: unknown } = {}): Promise<T> {
    const res = await this.client.raw(method, path, init);
    return (await res.json()) as T;
  }

  metrics = () => this.json<z.output<typeof MetricList>>('GET', `${base}/metrics`);
  startRun = (body: CreateRunBody) => this.json<RunResponse>('POST', `${base}/runs`, { json: body });
  getRun = (id: string) => this.json<RunResponse>('GET', `${base}/runs/${enc(id)}`);
  listRuns = (query: Partial<z.input<typeof ListRunsQuery>> = {}) => this.json<z.output<typeof RunPage>>('GET', `${base}/runs`, { query: query as Query });
  results = (id: string, query: { failed?: boolean; limit?: number; cursor?: string } = {}) =>
    this.json<z.output<typeof CaseResultPage>>('GET', `${base}/runs/${enc(id)}/results`, {
      query: { ...(query.failed ? { failed: 'true' } : {}), ...(query.limit ? { limit: query.limit } : {}), ...(query.cursor ? { cursor: query.cursor } : {}) },
    });
  cancelRun = (id: string) => this.json<RunResponse>('POST', `${base}/runs/${enc(id)}/cancel`);
  resumeRun = (id: string, body: z.input<typeof ResumeRunBody> = {}) => this.json<RunResponse>('POST', `${base}/runs/${enc(id)}/resume`, { json: body });
  /** Deletes a run that is not queued or running, with its results; answers the run as it was. */
  deleteRun = (id: string) => this.json<RunResponse>('DELETE', `${base}/runs/${enc(id)}`);
  compare = (a: string, b: string) => this.json<CompareRunsResponse>('GET', `${base}/compare`, { query: { a, b } });
  evaluateGates = (body: z.input<typeof EvaluateGatesBody>) => this.json<GateEvaluation>('POST', `${base}/gates/evaluate`, { json: body });

  /**
   * Polls a run until it reaches a final state (or `interrupted`), calling `onProgress` with each
   * reading. Resolves with the last reading.
   */
  async wait(id: string, opts: { intervalMs?: number; onProgress?: (run: RunResponse) => void; signal?: AbortSignal } = {}): Promise<RunResponse> {
    const interval = opts.intervalMs ?? 250;
    for (;;) {
      const run = await this.getRun(id);
      opts.onProgress?.(run);
      if ((FINISHED_STATES as readonly string[]).includes(run.state) || run.state === 'interrupted') return run;
      if (opts.signal?.aborted) return run;
      await new Promise((r) => setTimeout(r, interval));
    }
  }

  /** Every per-case result of a run, page by page. */
  async *allResults(id: string, opts: { failed?: boolean } = {}) {
    let cursor: string | undefined;
    do {
      const page = await this.results(id, { ...opts, limit: 1000, ...(cursor ? { cursor } : {}) });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
}
