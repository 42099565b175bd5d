/**
 * The registry benchmark's synthetic catalogue and request mix, shared by the seeding side
 * (bench/registry.ts) and the load generator (bench/registry-load.ts): both derive names,
 * versions and metadata from the same indices, so every generated request targets a row that
 * exists and a 404 can only mean a bug.
 */

export interface Catalogue {
  models: number;
  versions: number;
}

export const ARCHITECTURES = ['llama', 'mistral', 'qwen2', 'gemma', 'phi3', 'falcon', 'gpt-neox', 'mixtral'] as const;
export const FRAMEWORKS = ['pytorch', 'safetensors', 'gguf', 'onnx'] as const;
export const TEAMS = ['nlp', 'vision', 'search', 'ads', 'speech'] as const;
export const PARAMETERS = [1e9, 3e9, 7e9, 8e9, 13e9, 70e9] as const;

/** Half the models live in a namespace (`org3/model-42`), the other half have a bare name. */
export function modelName(i: number): string {
  return i % 2 === 0 ? `org${(i >> 1) % 10}/model-${i}` : `model-${i}`;
}

/** The j-th version of every model: 0.0.0 … 3.4.4 for 100 versions, distinct for any j. */
export function versionOf(j: number): string {
  return `${Math.floor(j / 25)}.${Math.floor(j / 5) % 5}.${j % 5}`;
}

export const architectureOf = (i: number) => ARCHITECTURES[i % ARCHITECTURES.length]!;
export const frameworkOf = (i: number) => FRAMEWORKS[(i >> 3) % FRAMEWORKS.length]!;
export const parametersOf = (i: number) => PARAMETERS[i % PARAMETERS.length]!;
export const teamOf = (i: number) => TEAMS[i % TEAMS.length]!;
/** Every tenth version is in prod, the one before it in staging; the rest carry only a team. */
export const stageOf = (j: number) => (j % 10 === 9 ? 'prod' : j % 10 === 8 ? 'staging' : null);

export type Scenario = 'get' | 'search' | 'list-models' | 'list-versions' | 'floor';

export const SCENARIOS: { id: Exclude<Scenario, 'floor'>; title: string; example: string; targetP99Ms: number }[] = [
  { id: 'get', title: 'GET version', example: 'GET /api/v1/models/{name}/versions/{version}', targetP99Ms: 10 },
  { id: 'search', title: 'search versions', example: 'GET /api/v1/models/-/versions?architecture=…&minAccuracy=…&label=…&sort=accuracy&limit=50', targetP99Ms: 25 },
  { id: 'list-models', title: 'list models', example: 'GET /api/v1/models?q=<substring>&limit=50', targetP99Ms: 25 },
  { id: 'list-versions', title: 'list versions', example: 'GET /api/v1/models/{name}/versions?limit=20', targetP99Ms: 25 },
];

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const below = (n: number) => Math.floor(Math.random() * n);

/** A function answering a fresh random request path of the scenario on each call. */
export function pathGenerator(scenario: Scenario, c: Catalogue): () => string {
  const enc = encodeURIComponent;
  switch (scenario) {
    case 'floor':
      return () => '/';
    case 'get':
      return () => `/api/v1/models/${enc(modelName(below(c.models)))}/versions/${versionOf(below(c.versions))}`;
    case 'list-versions':
      return () => `/api/v1/models/${enc(modelName(below(c.models)))}/versions?limit=20`;
    case 'list-models':
      // Substrings from broad ("model-4": ~1 in 9 names) through a namespace ("org3/") to one name ("model-523").
      return () => {
        const r = Math.random();
        const q = r < 0.4 ? `model-${1 + below(9)}` : r < 0.7 ? `org${below(10)}/` : `model-${c.models > 100 ? 100 + below(c.models - 100) : below(c.models)}`;
        return `/api/v1/models?q=${enc(q)}&limit=50`;
      };
    case 'search':
      return () => {
        const p = new URLSearchParams();
        if (Math.random() < 0.75) p.set('architecture', pick(ARCHITECTURES));
        if (Math.random() < 0.6) p.set('minAccuracy', pick(['0.5', '0.8', '0.9', '0.95']));
        if (Math.random() < 0.4) p.append('label', `team=${pick(TEAMS)}`);
        if (Math.random() < 0.5) p.set('sort', 'accuracy');
        p.set('limit', '50');
        return `/api/v1/models/-/versions?${p.toString()}`;
      };
  }
}

/** Messages between bench/registry.ts and its load-generator child. */
export interface LoadRequest {
  id: number;
  url: string;
  token: string;
  scenario: Scenario;
  catalogue: Catalogue;
  connections: number;
  warmupSeconds: number;
  seconds: number;
}

/** Sent by the load generator when its warm-up is over and the measured run begins. */
export interface LoadStarted {
  id: number;
  started: true;
}

export interface LoadResult {
  id: number;
  error?: string;
  requests: number;
  ok: number;
  non2xx: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  seconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /**
   * CPU time of the server process per measured request (user + system), filled in by
   * bench/registry.ts: steadier than req/s on a shared machine. The server's process only:
   * PostgreSQL's own backends are not in it.
   */
  cpuPerRequestMs?: number;
}

/** The answer when a run could not be measured: no figures, just why. */
export function failedResult(id: number, error: string): LoadResult {
  return { id, error, requests: 0, ok: 0, non2xx: 0, statuses: {}, errors: 0, timeouts: 0, seconds: 0, rps: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN };
}
