import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { fileSnapshotSource } from './gateway-sources.js';

describe('fileSnapshotSource', () => {
  it('waits for a newer snapshot without piling listeners on the stop signal', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-src-'));
    const file = path.join(dir, 'snapshot.json');
    const snap = (version: number) => JSON.stringify({ version, compiledAt: new Date().toISOString(), models: [], deployments: [], traffic: [], keys: [] });
    fs.writeFileSync(file, snap(1));
    const source = fileSnapshotSource(file, 5);
    const stop = new AbortController();
    expect((await source.next(null, stop.signal))?.version).toBe(1);
    const waiting = source.next(1, stop.signal);
    // Many polls of an unchanged file: at most the current wait listens.
    await new Promise((r) => setTimeout(r, 120));
    expect(getEventListeners(stop.signal, 'abort').length).toBeLessThanOrEqual(1);
    fs.writeFileSync(file, snap(2));
    expect((await waiting)?.version).toBe(2);
    const idle = source.next(2, stop.signal);
    stop.abort();
    expect(await idle).toBeNull();
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
