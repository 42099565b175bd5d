/** Audit routes: list events with filters, verify the chain. */
import { AuditPage, AuditVerifyResponse, ListAuditQuery } from '../../contracts/audit.js';
import { defineRoute, type RouteDef } from '../../platform/http/http-route.js';
import type { AuditService } from './audit-service.js';

export function auditRoutes(svc: AuditService): RouteDef[] {
  const tags = ['audit'];
  return [
    defineRoute({
      method: 'GET', url: '/api/v1/audit', summary: 'List audit events (filters: actor, action, target, since, until)', tags, permission: 'audit:read',
      query: ListAuditQuery, responses: { 200: AuditPage },
      handler: async ({ query }) => svc.list(query),
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/audit/verify', summary: 'Recompute the hash chain and name the first event that breaks it', tags, permission: 'audit:read',
      responses: { 200: AuditVerifyResponse },
      handler: async () => svc.verify(),
    }),
  ];
}
