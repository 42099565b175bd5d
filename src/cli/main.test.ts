import { describe, expect, it } from 'vitest';
import { buildProgram } from './main.js';

const names = async (...args: string[]) => (await buildProgram(['node', 'steward', ...args])).commands.map((c) => c.name());

describe('the CLI program', () => {
  it('loads the command groups with heavier dependencies only when the command line names them', async () => {
    const push = await names('push', './model', '--model', 'm', '--version', '1.0.0');
    expect(push).toEqual(expect.arrayContaining(['push', 'pull', 'ls', 'show', 'alias', 'audit', 'lineage']));
    expect(push.filter((n) => ['prompt', 'dataset', 'eval'].includes(n))).toEqual([]);
    expect(await names('--url', 'http://x', 'eval', 'run', 'suite')).toContain('eval');
    expect((await names('eval', 'run')).filter((n) => ['prompt', 'dataset'].includes(n))).toEqual([]);
  });

  it('registers every command for the full help and for a command it does not know', async () => {
    for (const args of [[], ['--help'], ['nonsense']]) expect(await names(...args)).toEqual(expect.arrayContaining(['push', 'prompt', 'dataset', 'eval', 'lineage']));
  });
});
