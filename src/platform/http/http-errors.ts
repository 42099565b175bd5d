/**
 * Turns any thrown value into the API's error envelope. AppErrors keep their code; Fastify's
 * own errors (body too large, bad content type, malformed JSON) are mapped to contract codes;
 * anything else is `internal`, logged with its cause and never shown to the client.
 */
import type { FastifyError } from 'fastify';
import type { ZodError } from 'zod';
import { ERROR_STATUS, type ErrorCode, type ErrorEnvelope } from '../../contracts/errors.js';
import { AppError, isAppError } from '../errors.js';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'invalid_argument',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_argument',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_argument',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_argument',
  FST_ERR_VALIDATION: 'invalid_argument',
};

export function zodToAppError(where: string, err: ZodError): AppError {
  const issues = err.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const first = issues[0];
  const message = first ? `invalid ${where}: ${first.path ? `${first.path}: ` : ''}${first.message}` : `invalid ${where}`;
  return new AppError('invalid_argument', message, { issues });
}

export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  const fe = err as FastifyError;
  if (fe && typeof fe.code === 'string' && FASTIFY_CODES[fe.code]) {
    return new AppError(FASTIFY_CODES[fe.code]!, fe.message);
  }
  if (fe instanceof SyntaxError && (fe as FastifyError).statusCode === 400) return new AppError('invalid_argument', fe.message);
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = (Object.entries(ERROR_STATUS).find(([, s]) => s === fe.statusCode)?.[0] ?? 'invalid_argument') as ErrorCode;
    return new AppError(code, fe.message);
  }
  return new AppError('internal', 'internal error', undefined, { cause: err });
}

export function envelope(err: AppError, requestId: string): ErrorEnvelope {
  return {
    error: {
      code: err.code,
      message: err.expose ? err.message : `internal error (request ${requestId}; the server log has the cause)`,
      ...(err.expose && err.details ? { details: err.details } : {}),
      requestId,
    },
  };
}
