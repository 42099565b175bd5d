/**
 * Logging: pino, with secrets redacted at the source. Authorization headers, tokens and
 * S3 credentials never reach a log line, whatever the level.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'secretAccessKey',
  '*.secretAccessKey',
  'password',
  '*.password',
];

export function createLogger(opts: { level: string; destination?: NodeJS.WritableStream | undefined }): Logger {
  return pino(
    { level: opts.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'steward' } },
    opts.destination ?? process.stdout,
  );
}
