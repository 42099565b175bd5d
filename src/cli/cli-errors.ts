/** CLI-side errors: bad usage (exit 2) as distinct from a failed operation (exit 1). */
import { parseAssetRef } from '../contracts/asset-names.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseLabels(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0) throw new UsageError(`label ${JSON.stringify(item)} must look like key=value`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/** Splits `NAME:REF` (the name may contain one "/"; REF is a version or an alias). */
export function parseRef(s: string, defaultRef?: string): { name: string; ref: string } {
  const r = parseAssetRef(s, defaultRef ? { defaultRef } : { requireRef: true });
  if (typeof r === 'string') throw new UsageError(r);
  return { name: r.name, ref: r.ref! };
}
