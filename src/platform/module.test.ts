import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.js';
import type { Config } from './config.js';
import { createLogger } from './log.js';
import { composeModules, orderModules, type FeatureModule, type ModuleCore } from './module.js';

// Module names are typed by the features' augmentation of `Provided`; tests use their own.
const mod = (name: string, needs: string[], extra: Partial<FeatureModule> = {}) =>
  ({ name, needs, setup: () => ({ provides: { name } }), ...extra }) as unknown as FeatureModule;
const core = { clock: systemClock, config: {} as Config, log: createLogger({ level: 'silent' }), metrics: new Registry() } as unknown as ModuleCore;

describe('feature modules', () => {
  it('orders modules after what they need, keeping the given order otherwise', () => {
    const order = orderModules([mod('evals', ['assets', 'audit']), mod('audit', []), mod('assets', ['audit']), mod('auth', ['audit'])]);
    expect(order.map((m) => m.name)).toEqual(['audit', 'assets', 'evals', 'auth']);
  });

  it('names a missing module and a cycle at composition time', () => {
    expect(() => orderModules([mod('assets', ['uploads'])])).toThrow('module assets needs uploads, which is not composed');
    expect(() => orderModules([mod('a', ['b']), mod('b', ['c']), mod('c', ['a'])])).toThrow('cycle: a → b → c → a');
    expect(() => orderModules([mod('a', []), mod('a', [])])).toThrow('composed twice');
  });

  it('hands a module only the services it names, built before it', async () => {
    const seen: unknown[] = [];
    const user = mod('user', ['base'], {
      setup: ({ need }: { need: (n: string) => unknown }) => {
        seen.push(need('base' as never));
        expect(() => need('other' as never)).toThrow('module user uses other without naming it in needs');
        return { provides: {} };
      },
    } as unknown as Partial<FeatureModule>);
    await composeModules(core, [user, mod('other', []), mod('base', [])]);
    expect(seen).toEqual([{ name: 'base' }]);
  });

  it('collects routes after every setup, starts in dependency order and stops in reverse', async () => {
    const log: string[] = [];
    const registrations: string[] = [];
    const life = (name: string, needs: string[]) =>
      mod(name, needs, {
        setup: () => {
          registrations.push(name);
          return {
            provides: {},
            routes: () => [{ url: `/${name}`, seen: [...registrations] }] as never,
            start: () => void log.push(`start ${name}`),
            stop: () => void log.push(`stop ${name}`),
          };
        },
      } as unknown as Partial<FeatureModule>);
    const c = await composeModules(core, [life('b', ['a']), life('a', [])]);
    // a's routes are built after b registered (with a), so they can reflect b's registrations.
    expect(c.routes).toEqual([
      { url: '/a', seen: ['a', 'b'] },
      { url: '/b', seen: ['a', 'b'] },
    ]);
    await c.start();
    await c.stop();
    expect(log).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });
});
