/** Suites, models and runs for the evaluation tests: small, made here, pushed over HTTP. */
import { expect } from 'vitest';
import { AssetResponse, CreateVersionResponse, VersionResponse } from '../../src/contracts/assets.js';
import { RunResponse, type EvalSuiteSpecInput } from '../../src/contracts/evals.js';
import { blob, expectBody, manifest, putBlob, pushVersion, createModel, type Api, type TestBlob } from './test-api.js';

export const datasetPath = (name: string) => `/api/v1/datasets/${encodeURIComponent(name)}`;

export function jsonl(rows: readonly unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** Creates the dataset if needed and pushes a ready suite version holding `cases` (text) and `spec`. */
export async function pushSuite(api: Api, name: string, version: string, cases: string, spec: EvalSuiteSpecInput, extraFiles: Record<string, TestBlob> = {}) {
  const created = await api.post('/api/v1/datasets', { name });
  if (created.status !== 409) expectBody(created, 201, AssetResponse);
  const files = { 'cases.jsonl': blob(cases), ...extraFiles };
  const v = expectBody(await api.post(`${datasetPath(name)}/versions`, { version, files: manifest(files), metadata: { evalSuite: spec } }), 201, CreateVersionResponse);
  const byHash = new Map(Object.values(files).map((b) => [b.sha256, b]));
  for (const sha of v.missing) await putBlob(api, byHash.get(sha)!);
  return expectBody(await api.post(`${datasetPath(name)}/versions/${version}/finalize`), 200, VersionResponse);
}

export async function pushModel(api: Api, name: string, version: string) {
  const m = await api.get(`/api/v1/models/${encodeURIComponent(name)}`);
  if (m.status === 404) await createModel(api, name);
  return pushVersion(api, name, version, { 'config.json': blob(`{"name":"${name}","version":"${version}"}`) });
}

export async function startRun(api: Api, body: Record<string, unknown>): Promise<RunResponse> {
  return expectBody(await api.post('/api/v1/evals/runs', body), 201, RunResponse);
}

/** Polls a run until `until` holds (default: a final state), failing after `timeoutMs`. */
export async function waitRun(api: Api, id: string, until: (r: RunResponse) => boolean = (r) => ['succeeded', 'failed', 'cancelled', 'interrupted'].includes(r.state), timeoutMs = 30_000): Promise<RunResponse> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = expectBody(await api.get(`/api/v1/evals/runs/${id}`), 200, RunResponse);
    if (until(r)) return r;
    expect(Date.now(), `run ${id} stuck in ${r.state} at ${r.done}/${r.total}`).toBeLessThan(end);
    await new Promise((res) => setTimeout(res, 50));
  }
}
