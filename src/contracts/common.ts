/** Shapes shared by every feature's contract: pagination, labels, timestamps. */
import { z } from 'zod';

export const Timestamp = z.string().describe('RFC 3339 UTC timestamp');

const LABEL_KEY_RE = /^[a-z0-9]([a-z0-9._/-]{0,62}[a-z0-9])?$/;
export const LabelKey = z
  .string()
  .regex(LABEL_KEY_RE, 'label keys are 1-64 lowercase letters, digits, ".", "_", "-" or "/", starting and ending with a letter or digit');
export const LabelValue = z.string().max(256, 'label values are at most 256 characters');
export const Labels = z
  .record(LabelKey, LabelValue)
  .refine((l) => Object.keys(l).length <= 64, 'at most 64 labels')
  .describe('free key/value labels');
export type Labels = z.infer<typeof Labels>;

export const Limit = z.coerce.number().int().min(1).max(1000).default(50);
export const Cursor = z.string().max(512).optional().describe('opaque cursor from a previous page');

export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() }).strict();
}

/** `k=v` strings (query parameters, CLI flags) into a label filter. */
export const LabelSelector = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v, ctx) => {
    const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
    const out: Record<string, string> = {};
    for (const item of list) {
      const eq = item.indexOf('=');
      if (eq <= 0) {
        ctx.addIssue({ code: 'custom', message: `label filter ${JSON.stringify(item)} must look like key=value` });
        return z.NEVER;
      }
      out[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return out;
  });

/**
 * How deeply arrays and objects may nest in any JSON the API accepts (request bodies, stored
 * values such as metadata, eval case lines). No contract needs more than a handful of levels
 * and free-form metadata rarely a dozen; unbounded nesting exhausts the stack of whatever walks
 * the value later (JSON.stringify, a database's JSON functions) and breaks reads for everyone.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether JSON text nests arrays and objects deeper than `max`: one pass over the text, before
 * it is parsed, so a hostile document never reaches a recursive walker. Invalid JSON is left to
 * the parser to refuse.
 */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip a string: the next quote not escaped by an odd run of backslashes.
      for (;;) {
        const end = text.indexOf('"', i + 1);
        if (end === -1) return false;
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
        i = end;
        if (slashes % 2 === 0) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
