/** Opens the blob store a configuration names. */
import type { BlobConfig } from '../config.js';
import type { FileModes, OnTightened } from '../data-dir.js';
import type { Logger } from '../log.js';
import { createFsBlobStore } from './blob-fs.js';
import type { BlobStore } from './blob-store.js';

export async function openBlobStore(cfg: BlobConfig, log: Logger, files: { modes: FileModes; onTightened?: OnTightened }): Promise<BlobStore> {
  if (cfg.kind === 'fs') return createFsBlobStore({ root: cfg.root, ...files });
  // The AWS SDK is loaded only when S3 is configured: it costs ~30 MB and 150 ms at start-up.
  const { createS3BlobStore } = await import('./blob-s3.js');
  const store = createS3BlobStore(cfg, { onCleanupError: (err: unknown, what: string) => log.warn({ err, what }, 's3 cleanup failed; a bucket lifecycle rule will remove the leftover') });
  // A bucket that is missing, refuses the credentials or cannot be reached stops the start with
  // the reason (store_unavailable names the bucket), rather than failing every upload later.
  try {
    await store.ping();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
