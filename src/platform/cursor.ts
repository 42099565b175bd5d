/** Opaque keyset cursors: the sort key of the last row of a page, as base64url JSON. */
import { AppError } from './errors.js';

export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): (string | number)[] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === arity && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v;
  } catch {
    // fall through to the error below
  }
  throw new AppError('invalid_argument', 'invalid cursor: pass the nextCursor of the previous page unchanged');
}
