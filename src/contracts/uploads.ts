/** Contracts of the uploads feature: blob existence, resumable upload sessions, GC. */
import { z } from 'zod';
import { Sha256 } from './assets.js';
import { Timestamp } from './common.js';

export const BlobResponse = z.object({ sha256: Sha256, size: z.number().int(), created: z.boolean() }).strict();
export type BlobResponse = z.infer<typeof BlobResponse>;

export const CreateUploadBody = z.object({ size: z.number().int().nonnegative() }).strict();
/** Completing a session: the sha256 is required when the session was started without one. */
export const CompleteUploadBody = z.object({ sha256: Sha256.optional() }).strict();
export const UploadSessionResponse = z
  .object({
    id: z.string(),
    sha256: Sha256.nullable().describe('null for a session started without it (POST /uploads): declared at completion'),
    size: z.number().int(),
    offset: z.number().int().describe('bytes the server holds; send the next chunk from here'),
    maxChunkBytes: z.number().int(),
    complete: z.boolean().describe('true when the blob already exists: nothing to upload'),
    createdAt: Timestamp,
    expiresAt: Timestamp,
  })
  .strict();
export type UploadSessionResponse = z.infer<typeof UploadSessionResponse>;

export const GcBody = z.object({ dryRun: z.boolean().default(true) }).strict();
export const GcResponse = z
  .object({
    dryRun: z.boolean(),
    blobs: z.number().int().describe('unreferenced blobs found (removed unless dry run)'),
    bytes: z.number().int(),
    expiredVersions: z.number().int(),
    expiredUploads: z.number().int(),
    sample: z.array(Sha256).describe('up to 100 of the blobs'),
  })
  .strict();
export type GcResponse = z.infer<typeof GcResponse>;
