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
