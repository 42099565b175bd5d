/**
 * Feature modules and their composition. A feature is one module: its name, the modules it
 * needs, what it provides, its migrations, its routes and its background work. The composer
 * sets modules up in dependency order, so a module only ever sees modules already built: no
 * forward references, no late binding. Features that add to another feature (a version
 * document's extras, blob references for GC, a kind's version checks) register with that
 * feature's service during their own setup; the routes are collected after every setup, so
 * they see every registration.
 *
 * What each module provides is typed by augmenting `Provided` from the feature's wiring file:
 * `declare module '../../platform/module.js' { interface Provided { assets: AssetsService } }`.
 */
import type { Registry } from 'prom-client';
import type { BlobStore } from './blob/blob-store.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { RouteDef } from './http/http-route.js';
import type { Logger } from './log.js';
import type { SqlDatabase } from './sql/sql-db.js';
import type { StewardMigration } from './sql/sql-migrations.js';

/** What every module gets: the adapters of the platform. */
export interface ModuleCore {
  sql: SqlDatabase;
  store: BlobStore;
  clock: Clock;
  config: Config;
  log: Logger;
  metrics: Registry;
}

/** The services modules provide, by module name; each feature augments it. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Provided {}
export type ModuleName = keyof Provided;

export interface ModuleContext extends ModuleCore {
  /** The service of a module named in `needs` (set up before this one). */
  need<K extends ModuleName>(name: K): Provided[K];
}

export interface ModuleInstance<P> {
  provides: P;
  /** Called once every module is set up, so registrations by later modules are seen. */
  routes?: () => RouteDef[];
  /** Background work, started once the server listens, in dependency order. */
  start?: () => void | Promise<void>;
  /** Stopped before the HTTP server closes, in reverse dependency order. */
  stop?: () => void | Promise<void>;
}

export interface FeatureModule<N extends ModuleName = ModuleName> {
  name: N;
  needs: readonly ModuleName[];
  migrations?: readonly StewardMigration[];
  setup(ctx: ModuleContext): ModuleInstance<Provided[N]> | Promise<ModuleInstance<Provided[N]>>;
}

/** Identity, for inference: `defineModule({ name: 'assets', needs: ['audit'], setup })`. */
export function defineModule<N extends ModuleName>(m: FeatureModule<N>): FeatureModule<N> {
  return m;
}

/**
 * Orders modules so each comes after what it needs (keeping the given order otherwise), or
 * throws naming the missing module or the cycle: a composition error is found at start-up.
 */
export function orderModules(modules: readonly FeatureModule[]): FeatureModule[] {
  const byName = new Map<string, FeatureModule>();
  for (const m of modules) {
    if (byName.has(m.name)) throw new Error(`module ${m.name} is composed twice`);
    byName.set(m.name, m);
  }
  const out: FeatureModule[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (m: FeatureModule, path: string[]) => {
    const s = state.get(m.name);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`modules depend on each other in a cycle: ${[...path, m.name].join(' → ')}`);
    state.set(m.name, 'visiting');
    for (const n of m.needs) {
      const dep = byName.get(n);
      if (!dep) throw new Error(`module ${m.name} needs ${n}, which is not composed`);
      visit(dep, [...path, m.name]);
    }
    state.set(m.name, 'done');
    out.push(m);
  };
  for (const m of modules) visit(m, []);
  return out;
}

export interface Composition {
  provided: Partial<Provided>;
  routes: RouteDef[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Sets every module up in dependency order (migrations must have run). */
export async function composeModules(core: ModuleCore, modules: readonly FeatureModule[]): Promise<Composition> {
  const ordered = orderModules(modules);
  const provided: Partial<Record<ModuleName, unknown>> = {};
  const instances: ModuleInstance<unknown>[] = [];
  for (const m of ordered) {
    const needs = new Set<string>(m.needs);
    const ctx: ModuleContext = {
      ...core,
      need: (name) => {
        if (!needs.has(name)) throw new Error(`module ${m.name} uses ${name} without naming it in needs`);
        return provided[name] as Provided[typeof name];
      },
    };
    const inst = await m.setup(ctx);
    provided[m.name] = inst.provides;
    instances.push(inst);
  }
  const routes = instances.flatMap((i) => i.routes?.() ?? []);
  let started = 0;
  return {
    provided: provided as Partial<Provided>,
    routes,
    async start() {
      for (const i of instances) {
        await i.start?.();
        started++;
      }
    },
    async stop() {
      for (let k = started - 1; k >= 0; k--) await instances[k]!.stop?.();
      started = 0;
    },
  };
}

/** Every module's migrations, for `migrate` (names order them across features). */
export function migrationsOf(modules: readonly FeatureModule[]): StewardMigration[] {
  return modules.flatMap((m) => m.migrations ?? []);
}
