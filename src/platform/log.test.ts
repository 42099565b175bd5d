import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, loggableUrl } from './log.js';

describe('log', () => {
  it('keeps query parameter names but drops their values', () => {
    expect(loggableUrl('/api/v1/models?q=llama&token=stw_secret')).toBe('/api/v1/models?q=…&token=…');
    expect(loggableUrl('/healthz')).toBe('/healthz');
  });
  it('redacts secrets in structured fields', async () => {
    let out = '';
    const sink = new PassThrough();
    sink.on('data', (d: Buffer) => (out += d.toString()));
    const log = createLogger({ level: 'info', destination: sink });
    log.info({ token: 'stw_abc', nested: { secret: 's3cr3t' }, req: { method: 'GET', url: '/x?token=stw_q', headers: { authorization: 'Bearer stw_h' } } }, 'hello');
    await new Promise((r) => setImmediate(r));
    expect(out).toContain('hello');
    for (const s of ['stw_abc', 's3cr3t', 'stw_q', 'stw_h']) expect(out).not.toContain(s);
  });
});
