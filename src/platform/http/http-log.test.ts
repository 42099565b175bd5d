import { describe, expect, it } from 'vitest';
import { requestLogLevel } from './http-log.js';

describe('requestLogLevel', () => {
  const quiet = { all: false, slowMs: 1000 };
  it('logs healthy and refused requests at debug, failed and slow ones at info', () => {
    expect(requestLogLevel(200, 3, quiet)).toBe('debug');
    expect(requestLogLevel(404, 3, quiet)).toBe('debug');
    expect(requestLogLevel(429, 3, quiet)).toBe('debug');
    expect(requestLogLevel(500, 3, quiet)).toBe('info');
    expect(requestLogLevel(503, 3, quiet)).toBe('info');
    expect(requestLogLevel(200, 1000, quiet)).toBe('info');
  });
  it('logs every request at info when asked to', () => {
    expect(requestLogLevel(200, 1, { all: true, slowMs: 1000 })).toBe('info');
  });
});
