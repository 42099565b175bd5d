/**
 * Endpoints of blobs: `PUT /blobs/{sha256}` streams one blob in one request; upload sessions
 * (`POST /blobs/{sha256}/uploads`, `PATCH /uploads/{id}` with `Upload-Offset`,
 * `POST /uploads/{id}/complete`) carry large blobs in chunks and resume after any failure.
 * Blobs are content-addressed, so uploads are tied to no namespace (`any`); reading a blob by
 * hash needs an unrestricted token (it would otherwise reach any team's bytes). A session
 * answers only the token that started it (404 to any other, as if it did not exist).
 */
import { z } from 'zod';
import { Sha256 } from './assets.js';
import { endpoint } from './endpoint.js';
import { BlobResponse, CompleteUploadBody, CreateUploadBody, GcBody, GcResponse, UploadSessionResponse } from './uploads.js';

const ShaParams = z.object({ sha256: Sha256 }).strict();
const IdParams = z.object({ id: z.string().uuid() }).strict();
const tags = ['blobs'];

export const uploadsEndpoints = {
  putBlob: endpoint({
    method: 'PUT', url: '/api/v1/blobs/:sha256', summary: 'Upload one blob; its bytes are verified against the sha256 (422 on mismatch, nothing kept)', tags,
    permission: 'asset:write', scope: 'any', params: ShaParams, rawBody: true, responses: { 201: BlobResponse, 200: BlobResponse },
  }),
  getBlob: endpoint({
    method: 'GET', url: '/api/v1/blobs/:sha256', summary: 'Download a blob (HEAD tells whether it exists)', tags, permission: 'asset:read',
    params: ShaParams, responses: { 200: null, 206: null },
  }),
  createUpload: endpoint({
    method: 'POST', url: '/api/v1/blobs/:sha256/uploads', summary: 'Start a resumable upload session (answers complete=true if the blob exists)', tags,
    permission: 'asset:write', scope: 'any', params: ShaParams, body: CreateUploadBody, responses: { 201: UploadSessionResponse, 200: UploadSessionResponse },
  }),
  createUndeclaredUpload: endpoint({
    method: 'POST', url: '/api/v1/uploads', summary: 'Start a resumable upload session whose sha256 is declared at completion (409 while a stored blob has this size)', tags,
    permission: 'asset:write', scope: 'any', body: CreateUploadBody, responses: { 201: UploadSessionResponse },
  }),
  getUpload: endpoint({
    method: 'GET', url: '/api/v1/uploads/:id', summary: 'Upload session status: the offset to resume from', tags, permission: 'asset:write', scope: 'any',
    params: IdParams, responses: { 200: UploadSessionResponse },
  }),
  appendUpload: endpoint({
    method: 'PATCH', url: '/api/v1/uploads/:id', summary: 'Append a chunk at Upload-Offset (409 with the real offset when it differs)', tags,
    permission: 'asset:write', scope: 'any', params: IdParams, rawBody: true, responses: { 200: UploadSessionResponse },
  }),
  completeUpload: endpoint({
    method: 'POST', url: '/api/v1/uploads/:id/complete', summary: "Verify the session's bytes against its sha256 (declared here if the session has none) and store the blob", tags,
    permission: 'asset:write', scope: 'any', params: IdParams, body: CompleteUploadBody, responses: { 201: BlobResponse },
  }),
  abortUpload: endpoint({
    method: 'DELETE', url: '/api/v1/uploads/:id', summary: 'Abandon an upload session', tags, permission: 'asset:write', scope: 'any',
    params: IdParams, responses: { 204: null },
  }),
  collectGarbage: endpoint({
    method: 'POST', url: '/api/v1/gc', summary: 'Collect unreferenced blobs, expired pending versions and stale uploads (dry run by default)', tags: ['admin'],
    permission: 'asset:admin', body: GcBody, responses: { 200: GcResponse },
  }),
};
