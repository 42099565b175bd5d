/**
 * The route table: a snapshot compiled once into maps, so a request's key check and route are
 * a few hash lookups. A table is immutable; a new snapshot makes a new table, swapped in whole.
 *
 * Resolution of `model`:
 * - `NAME` → the key's default environment; `NAME:ENV` → that environment. The route is the
 *   operator's traffic split for (model, environment) when there is one, else the environment's
 *   deployments of the model (during a rolling update their replicas serve old and new versions;
 *   both answer), else any deployment serving the version the environment's pointer names.
 * - `NAME@VERSION` → the targets serving that version, in any deployment.
 */
import { createHash } from 'node:crypto';
import type { GatewaySnapshot, Pricing, SnapshotDeployment, SnapshotKey } from '../contracts/gateway.js';

export interface Target {
  /** `deployment/replica`: the key of its health state. */
  id: string;
  baseUrl: string;
  version: string;
}

export interface Arm {
  deployment: SnapshotDeployment;
  weight: number;
  targets: Target[];
}

export interface Route {
  model: string;
  namespace: string | null;
  environment: string | null;
  arms: Arm[];
  totalWeight: number;
  sticky: 'none' | 'key' | { header: string };
  shadow: { arm: Arm; percent: number } | null;
  fallbacks: string[];
  cache: { ttlSeconds: number; maxEntries: number } | null;
}

export interface KeyEntry extends SnapshotKey {
  expiresAtMs: number | null;
  allows: (model: string, namespace: string | null) => boolean;
}

export type Resolution = { route: Route } | { error: 'unknown_model' | 'unknown_environment' | 'no_deployment'; message: string };

export interface RouteTable {
  version: number;
  compiledAt: string;
  key(secret: string): KeyEntry | undefined;
  resolve(model: string, key: KeyEntry | null): Resolution;
  /** What a key may call (`/v1/models`). */
  modelsFor(key: KeyEntry | null): { id: string; owned_by: string }[];
  pricing(deploymentId: string): Pricing | null;
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function patternMatcher(patterns: readonly string[] | null): ((model: string) => boolean) | null {
  if (!patterns) return null;
  const res = patterns.map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`));
  return (model) => res.some((r) => r.test(model));
}

function makeKey(k: SnapshotKey): KeyEntry {
  const match = patternMatcher(k.models);
  return {
    ...k,
    expiresAtMs: k.expiresAt ? Date.parse(k.expiresAt) : null,
    // A key of a namespace uses that namespace's models; a key without one, any model (an admin's).
    allows: (model, namespace) => (k.namespace === null || namespace === k.namespace) && (match === null || match(model)),
  };
}

export function compileTable(s: GatewaySnapshot): RouteTable {
  const keys = new Map<string, KeyEntry>();
  const known = new Map<string, KeyEntry>();
  for (const k of s.keys) keys.set(k.hash, makeKey(k));
  const models = new Map(s.models.map((m) => [m.name, m]));
  const deployments = new Map(s.deployments.map((d) => [d.id, d]));
  const targetsOf = (d: SnapshotDeployment): Target[] => d.targets.map((t) => ({ id: `${d.id}/${t.replica}`, baseUrl: t.baseUrl, version: t.version }));
  const traffic = new Map(s.traffic.map((t) => [`${t.model}\u0000${t.environment}`, t]));
  const routes = new Map<string, Route | null>();

  const base = (model: string, environment: string | null, all: Arm[], extra?: Partial<Route>): Route => {
    const m = models.get(model);
    // An arm with no ready target takes no share while another has one (its deployment is
    // starting, or its replicas are between versions); all empty: the request gets a clear 503.
    const arms = all.some((a) => a.targets.length > 0) ? all.filter((a) => a.targets.length > 0) : all;
    return {
      model,
      namespace: m?.namespace ?? (model.includes('/') ? model.slice(0, model.indexOf('/')) : null),
      environment,
      arms,
      totalWeight: arms.reduce((n, a) => n + a.weight, 0),
      sticky: 'none',
      shadow: null,
      fallbacks: [],
      cache: m?.cache ?? null,
      ...extra,
    };
  };

  function envRoute(model: string, env: string): Route | null {
    const t = traffic.get(`${model}\u0000${env}`);
    if (t) {
      const arms: Arm[] = [];
      for (const a of t.arms) {
        const d = deployments.get(a.deployment);
        if (d && a.weight > 0) arms.push({ deployment: d, weight: a.weight, targets: targetsOf(d) });
      }
      const sd = t.shadow ? deployments.get(t.shadow.deployment) : undefined;
      return base(model, env, arms, {
        sticky: t.sticky === 'none' ? 'none' : t.sticky === 'key' ? 'key' : { header: t.sticky.slice('header:'.length).toLowerCase() },
        shadow: sd && t.shadow ? { arm: { deployment: sd, weight: 0, targets: targetsOf(sd) }, percent: t.shadow.percent } : null,
        fallbacks: t.fallbacks,
      });
    }
    let own = s.deployments.filter((d) => d.model === model && d.environment === env);
    if (!own.length) {
      const version = models.get(model)?.environments[env];
      own = version ? s.deployments.filter((d) => d.model === model && d.targets.some((x) => x.version === version)) : [];
      if (!own.length) return null;
      return base(model, env, own.map((d) => ({ deployment: d, weight: 1, targets: targetsOf(d).filter((x) => x.version === version) })));
    }
    // Weighted by replicas: a deployment with three ready replicas takes three shares.
    return base(model, env, own.map((d) => ({ deployment: d, weight: Math.max(1, d.targets.length), targets: targetsOf(d) })));
  }

  function versionRoute(model: string, version: string): Route | null {
    const own = s.deployments.filter((d) => d.model === model && (d.version === version || d.targets.some((x) => x.version === version)));
    if (!own.length) return null;
    return base(model, null, own.map((d) => ({ deployment: d, weight: 1, targets: targetsOf(d).filter((x) => x.version === version) })));
  }

  function cached(k: string, make: () => Route | null): Route | null {
    let r = routes.get(k);
    if (r === undefined) {
      r = make();
      routes.set(k, r);
    }
    return r;
  }

  return {
    version: s.version,
    compiledAt: s.compiledAt,
    // Valid secrets are remembered (a table lives until the next snapshot): one hash per key, not per request.
    key: (secret) => {
      let k = known.get(secret);
      if (k === undefined) {
        k = keys.get(hashKey(secret));
        if (k && known.size < 100_000) known.set(secret, k);
      }
      return k;
    },
    pricing: (id) => deployments.get(id)?.pricing ?? null,

    resolve(ref, key) {
      const at = ref.lastIndexOf('@');
      const colon = ref.lastIndexOf(':');
      let model = ref;
      let env: string | null = null;
      let version: string | null = null;
      if (at > 0) {
        model = ref.slice(0, at);
        version = ref.slice(at + 1);
      } else if (colon > 0) {
        model = ref.slice(0, colon);
        env = ref.slice(colon + 1);
      } else env = key?.defaultEnvironment ?? 'production';
      const known = models.get(model);
      const namespace = known?.namespace ?? (model.includes('/') ? model.slice(0, model.indexOf('/')) : null);
      // A model the key may not use answers like one that does not exist: a key learns nothing beyond its grant.
      if ((!known && !s.deployments.some((d) => d.model === model)) || (key && !key.allows(model, namespace))) {
        return { error: 'unknown_model', message: `The model \`${ref}\` does not exist or your key may not use it. List the models your key may use with GET /v1/models.` };
      }
      const route = version !== null ? cached(`@${model}@${version}`, () => versionRoute(model, version)) : cached(`:${model}:${env}`, () => envRoute(model, env!));
      if (!route || route.arms.length === 0) {
        if (env !== null && known && !(env in known.environments) && !s.deployments.some((d) => d.model === model && d.environment === env)) {
          return { error: 'unknown_environment', message: `The model \`${model}\` has no version in environment ${env}; promote one there (steward promote ${model}:VERSION --to ${env}) or name a version: ${model}@VERSION.` };
        }
        return { error: 'no_deployment', message: `No deployment serves \`${ref}\`; deploy it with steward deploy ${model}:VERSION --env ${env ?? 'ENV'}.` };
      }
      return { route };
    },

    modelsFor(key) {
      const out: { id: string; owned_by: string }[] = [];
      const names = new Set([...models.keys(), ...s.deployments.map((d) => d.model)]);
      for (const name of [...names].sort()) {
        const m = models.get(name);
        const namespace = m?.namespace ?? (name.includes('/') ? name.slice(0, name.indexOf('/')) : null);
        if (key && !key.allows(name, namespace)) continue;
        out.push({ id: name, owned_by: namespace ?? 'steward' });
        for (const env of Object.keys(m?.environments ?? {}).sort()) out.push({ id: `${name}:${env}`, owned_by: namespace ?? 'steward' });
      }
      return out;
    },
  };
}

/** Picks an arm by weight: `point` in [0, 1) (random, or a sticky hash). */
export function pickArm(route: Route, point: number): Arm | undefined {
  let at = point * route.totalWeight;
  for (const a of route.arms) {
    if (at < a.weight) return a;
    at -= a.weight;
  }
  return route.arms[route.arms.length - 1];
}

/** A stable point in [0, 1) for a sticky identity (FNV-1a): a user stays on one arm while weights stay. */
export function stickyPoint(identity: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < identity.length; i++) {
    h ^= identity.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // murmur3's finaliser: FNV alone leaves similar identities (user-1, user-2) close together.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}
