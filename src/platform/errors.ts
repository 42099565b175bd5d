/**
 * AppError: the one error type the application throws on purpose. It carries a stable code
 * from the contract, the HTTP status that goes with it, and details safe to show a client.
 * The server's single error handler reads `code`/`status`; nothing branches on subclasses.
 */
import { ERROR_STATUS, type ErrorCode } from '../contracts/errors.js';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  /** False for internal errors: the client then sees a generic message, the log sees the cause. */
  readonly expose: boolean;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = details;
    this.expose = code !== 'internal';
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Small constructors so call sites read as sentences: `throw notFound('model', name)`. */
export const errors = {
  notFound: (what: string, id: string, details?: Record<string, unknown>) =>
    new AppError('not_found', `${what} ${JSON.stringify(id)} not found`, { ...details, [what.replace(/\s+/g, '_')]: id }),
  conflict: (message: string, details?: Record<string, unknown>) => new AppError('conflict', message, details),
  invalid: (message: string, details?: Record<string, unknown>) => new AppError('invalid_argument', message, details),
  precondition: (message: string, details?: Record<string, unknown>) =>
    new AppError('failed_precondition', message, details),
  tooLarge: (message: string, details?: Record<string, unknown>) => new AppError('too_large', message, details),
  unprocessable: (message: string, details?: Record<string, unknown>) => new AppError('unprocessable', message, details),
  unauthenticated: (message: string) => new AppError('unauthenticated', message),
  forbidden: (message: string) => new AppError('permission_denied', message),
  internal: (message: string, cause?: unknown) => new AppError('internal', message, undefined, { cause }),
};
