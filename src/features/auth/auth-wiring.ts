/** Builds the auth feature (tokens, roles) and its routes. */
import type { Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/log.js';
import type { SqlDatabase } from '../../platform/sql/sql-db.js';
import type { AuditService } from '../audit/audit-service.js';
import { authMigrations } from './auth-migrations.js';
import { authRoutes } from './auth-routes.js';
import { createAuthService } from './auth-service.js';

export { authMigrations };

export function wireAuth(deps: { sql: SqlDatabase; clock: Clock; log: Logger; audit: AuditService; failuresPerMinute: number }) {
  const service = createAuthService({ db: deps.sql.db, clock: deps.clock, log: deps.log, audit: deps.audit, failuresPerMinute: deps.failuresPerMinute });
  return { service, routes: authRoutes(service) };
}
