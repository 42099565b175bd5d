/** HTTP byte ranges (RFC 9110 §14): the single-range subset that downloads and resumes need. */
import { AppError } from '../errors.js';

/** Parses `bytes=a-b`, `bytes=a-`, `bytes=-n` against a file size; null when the header asks for the whole file. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) throw new AppError('invalid_argument', `unsupported Range ${JSON.stringify(header)}: use one range, bytes=start-end`);
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) {
    throw new AppError('range_not_satisfiable', `range ${header} is outside the file's ${size} bytes`, { size });
  }
  return { start, end };
}
