/** Handlers of the blob and upload-session endpoints (contracts/uploads-endpoints.ts). */
import { uploadsEndpoints as E } from '../../contracts/uploads-endpoints.js';
import { AppError } from '../../platform/errors.js';
import { parseRange } from '../../platform/http/http-range.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import type { UploadsService } from './uploads-service.js';

function contentLength(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const n = Number(header);
  if (!Number.isSafeInteger(n) || n < 0) throw new AppError('invalid_argument', `invalid Content-Length ${JSON.stringify(header)}`);
  return n;
}

export function uploadRoutes(svc: UploadsService): RouteDef[] {
  return [
    route(E.putBlob, async ({ params, req, reply, actor }) => {
      const res = await svc.putBlob(params.sha256, req.raw, contentLength(req.headers['content-length']), actor);
      reply.code(res.created ? 201 : 200);
      return res;
    }),
    route(E.getBlob, async ({ params, req, reply }) => {
      const stat = await svc.statBlob(params.sha256);
      if (!stat) throw new AppError('not_found', `blob ${params.sha256} not found`, { sha256: params.sha256 });
      const range = parseRange(req.headers.range, stat.size);
      reply.header('etag', `"${params.sha256}"`).header('accept-ranges', 'bytes').header('content-type', 'application/octet-stream');
      if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${stat.size}`).header('content-length', range.end - range.start + 1);
      else reply.header('content-length', stat.size);
      if (req.method === 'HEAD') return reply.send();
      return reply.send(await svc.readBlob(params.sha256, range ?? undefined));
    }),
    route(E.createUpload, async ({ params, body, actor, reply }) => {
      const { session, created } = await svc.createSession(params.sha256, body.size, actor);
      reply.code(created ? 201 : 200);
      return session;
    }),
    route(E.createUndeclaredUpload, async ({ body, actor }) => svc.createUndeclaredSession(body.size, actor)),
    route(E.getUpload, async ({ params, reply, actor }) => {
      const s = await svc.getSession(params.id, actor);
      reply.header('upload-offset', String(s.offset));
      return s;
    }),
    route(E.appendUpload, async ({ params, req, reply, actor }) => {
      const header = req.headers['upload-offset'];
      const offset = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : NaN;
      if (!Number.isSafeInteger(offset)) throw new AppError('invalid_argument', "send the chunk's position as the Upload-Offset header");
      const s = await svc.appendChunk(params.id, offset, req.raw, actor);
      reply.header('upload-offset', String(s.offset));
      return s;
    }),
    route(E.completeUpload, async ({ params, body, actor }) => svc.completeSession(params.id, actor, body.sha256)),
    route(E.abortUpload, async ({ params, reply, actor }) => {
      await svc.abortSession(params.id, actor);
      return reply.code(204).send();
    }),
    route(E.collectGarbage, async ({ body, actor }) => svc.collectGarbage(body.dryRun, actor)),
  ];
}
