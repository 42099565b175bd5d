/** Endpoints of the audit trail: list events with filters, verify the chain. */
import { AuditPage, AuditVerifyResponse, ListAuditQuery } from './audit.js';
import { endpoint } from './endpoint.js';

const tags = ['audit'];

export const auditEndpoints = {
  listAudit: endpoint({
    method: 'GET', url: '/api/v1/audit', summary: 'List audit events (filters: actor, action, target, since, until)', tags, permission: 'audit:read',
    query: ListAuditQuery, responses: { 200: AuditPage },
  }),
  verifyAudit: endpoint({
    method: 'POST', url: '/api/v1/audit/verify', summary: 'Recompute the hash chain and name the first event that breaks it', tags, permission: 'audit:read',
    responses: { 200: AuditVerifyResponse },
  }),
};
