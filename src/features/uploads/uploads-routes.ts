/**
 * Blob routes: `PUT /blobs/{sha256}` streams one blob in one request; upload sessions
 * (`POST /blobs/{sha256}/uploads`, `PATCH /uploads/{id}` with `Upload-Offset`,
 * `POST /uploads/{id}/complete`) carry large blobs in chunks and resume after any failure.
 */
import { z } from 'zod';
import { Sha256 } from '../../contracts/assets.js';
import { BlobResponse, CompleteUploadBody, CreateUploadBody, GcBody, GcResponse, UploadSessionResponse } from '../../contracts/uploads.js';
import { AppError } from '../../platform/errors.js';
import { defineRoute, type RouteDef } from '../../platform/http/http-route.js';
import { parseRange } from '../../platform/http/http-range.js';
import type { UploadsService } from './uploads-service.js';

const ShaParams = z.object({ sha256: Sha256 }).strict();
const IdParams = z.object({ id: z.string().uuid() }).strict();

function contentLength(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const n = Number(header);
  if (!Number.isSafeInteger(n) || n < 0) throw new AppError('invalid_argument', `invalid Content-Length ${JSON.stringify(header)}`);
  return n;
}

export function uploadRoutes(svc: UploadsService): RouteDef[] {
  const tags = ['blobs'];
  return [
    defineRoute({
      method: 'PUT', url: '/api/v1/blobs/:sha256', summary: 'Upload one blob; its bytes are verified against the sha256 (422 on mismatch, nothing kept)', tags,
      permission: 'asset:write', scope: 'any', params: ShaParams, rawBody: true, responses: { 201: BlobResponse, 200: BlobResponse },
      handler: async ({ params, req, reply, actor }) => {
        const res = await svc.putBlob(params.sha256, req.raw, contentLength(req.headers['content-length']), actor);
        reply.code(res.created ? 201 : 200);
        return res;
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/blobs/:sha256', summary: 'Download a blob (HEAD tells whether it exists)', tags, permission: 'asset:read',
      params: ShaParams, responses: { 200: null, 206: null },
      handler: async ({ params, req, reply }) => {
        const stat = await svc.statBlob(params.sha256);
        if (!stat) throw new AppError('not_found', `blob ${params.sha256} not found`, { sha256: params.sha256 });
        const range = parseRange(req.headers.range, stat.size);
        reply.header('etag', `"${params.sha256}"`).header('accept-ranges', 'bytes').header('content-type', 'application/octet-stream');
        if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${stat.size}`).header('content-length', range.end - range.start + 1);
        else reply.header('content-length', stat.size);
        if (req.method === 'HEAD') return reply.send();
        return reply.send(await svc.readBlob(params.sha256, range ?? undefined));
      },
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/blobs/:sha256/uploads', summary: 'Start a resumable upload session (answers complete=true if the blob exists)', tags,
      permission: 'asset:write', scope: 'any', params: ShaParams, body: CreateUploadBody, responses: { 201: UploadSessionResponse, 200: UploadSessionResponse },
      handler: async ({ params, body, actor, reply }) => {
        const { session, created } = await svc.createSession(params.sha256, body.size, actor);
        reply.code(created ? 201 : 200);
        return session;
      },
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/uploads', summary: 'Start a resumable upload session whose sha256 is declared at completion (409 while a stored blob has this size)', tags,
      permission: 'asset:write', scope: 'any', body: CreateUploadBody, responses: { 201: UploadSessionResponse },
      handler: async ({ body, actor, reply }) => {
        reply.code(201);
        return svc.createUndeclaredSession(body.size, actor);
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/uploads/:id', summary: 'Upload session status: the offset to resume from', tags, permission: 'asset:write', scope: 'any',
      params: IdParams, responses: { 200: UploadSessionResponse },
      handler: async ({ params, reply }) => {
        const s = await svc.getSession(params.id);
        reply.header('upload-offset', String(s.offset));
        return s;
      },
    }),
    defineRoute({
      method: 'PATCH', url: '/api/v1/uploads/:id', summary: 'Append a chunk at Upload-Offset (409 with the real offset when it differs)', tags,
      permission: 'asset:write', scope: 'any', params: IdParams, rawBody: true, responses: { 200: UploadSessionResponse },
      handler: async ({ params, req, reply }) => {
        const header = req.headers['upload-offset'];
        const offset = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : NaN;
        if (!Number.isSafeInteger(offset)) throw new AppError('invalid_argument', 'send the chunk\'s position as the Upload-Offset header');
        const s = await svc.appendChunk(params.id, offset, req.raw);
        reply.header('upload-offset', String(s.offset));
        return s;
      },
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/uploads/:id/complete', summary: 'Verify the session\'s bytes against its sha256 (declared here if the session has none) and store the blob', tags,
      permission: 'asset:write', scope: 'any', params: IdParams, body: CompleteUploadBody, responses: { 201: BlobResponse },
      handler: async ({ params, body, reply, actor }) => {
        reply.code(201);
        return svc.completeSession(params.id, actor, body.sha256);
      },
    }),
    defineRoute({
      method: 'DELETE', url: '/api/v1/uploads/:id', summary: 'Abandon an upload session', tags, permission: 'asset:write', scope: 'any',
      params: IdParams, responses: { 204: null },
      handler: async ({ params, reply, actor }) => {
        await svc.abortSession(params.id, actor);
        return reply.code(204).send();
      },
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/gc', summary: 'Collect unreferenced blobs, expired pending versions and stale uploads (dry run by default)', tags: ['admin'],
      permission: 'asset:admin', body: GcBody, responses: { 200: GcResponse },
      handler: async ({ body, actor }) => svc.collectGarbage(body.dryRun, actor),
    }),
  ];
}
