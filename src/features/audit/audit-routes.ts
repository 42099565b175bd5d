/** Handlers of the audit endpoints (contracts/audit-endpoints.ts). */
import { auditEndpoints as E } from '../../contracts/audit-endpoints.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import type { AuditService } from './audit-service.js';

export function auditRoutes(svc: AuditService): RouteDef[] {
  return [route(E.listAudit, async ({ query }) => svc.list(query)), route(E.verifyAudit, async () => svc.verify())];
}
