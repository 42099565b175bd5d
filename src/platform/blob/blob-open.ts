/** Opens the blob store a configuration names. */
import type { BlobConfig } from '../config.js';
import type { Logger } from '../log.js';
import { createFsBlobStore } from './blob-fs.js';
import { createS3BlobStore } from './blob-s3.js';
import type { BlobStore } from './blob-store.js';

export function openBlobStore(cfg: BlobConfig, log: Logger): BlobStore {
  if (cfg.kind === 'fs') return createFsBlobStore({ root: cfg.root });
  return createS3BlobStore(cfg, { onCleanupError: (err: unknown, what: string) => log.warn({ err, what }, 's3 cleanup failed; a bucket lifecycle rule will remove the leftover') });
}
