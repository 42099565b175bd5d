/** Every error code the API can return is documented, with its status, in docs/errors.md. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_STATUS } from '../src/contracts/errors.js';

describe('docs/errors.md', () => {
  const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../docs/errors.md'), 'utf8');
  it.each(ERROR_CODES)('documents %s with its status', (code) => {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    expect(row, `docs/errors.md has no row for ${code}`).toBeDefined();
    expect(row).toContain(`| ${ERROR_STATUS[code]} |`);
  });
});
