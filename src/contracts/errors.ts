/**
 * Error codes and the API error envelope: the stable part of every failure the API returns.
 * The gateway's OpenAI-shaped envelope lives with the gateway contracts.
 */
import { z } from 'zod';

export const ERROR_CODES = [
  'not_found',
  'conflict',
  'invalid_argument',
  'unauthenticated',
  'permission_denied',
  'failed_precondition',
  'too_large',
  'range_not_satisfiable',
  'unprocessable',
  'rate_limited',
  'unavailable',
  'store_unavailable',
  'internal',
] as const;

export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** HTTP status for each code; one table, read by the server's error handler and the docs test. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  conflict: 409,
  failed_precondition: 412,
  too_large: 413,
  range_not_satisfiable: 416,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  store_unavailable: 503,
};

export const ErrorEnvelope = z
  .object({
    error: z
      .object({
        code: ErrorCode,
        message: z.string(),
        details: z.record(z.string(), z.unknown()).optional(),
        requestId: z.string().optional(),
      })
      .strict(),
  })
  .strict();
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;
