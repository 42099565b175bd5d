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

/** A URL for the log: the path, and the names of query parameters but never their values (a token may travel there). */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const keys = url
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((kv) => `${kv.split('=')[0]}=…`);
  return `${url.slice(0, q)}?${keys.join('&')}`;
}

interface LoggableRequest {
  method?: string;
  url?: string;
  ip?: string;
  id?: string;
}

export function createLogger(opts: { level: string; destination?: NodeJS.WritableStream | undefined }): Logger {
  return pino(
    {
      level: opts.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'steward' },
      serializers: {
        // Only what an operator needs; headers (Authorization, cookies) are never serialised.
        req: (req: LoggableRequest) => ({ method: req.method, url: loggableUrl(req.url ?? ''), remoteAddress: req.ip }),
        err: pino.stdSerializers.err,
      },
    },
    opts.destination ?? process.stdout,
  );
}
