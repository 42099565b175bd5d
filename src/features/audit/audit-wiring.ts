/** Builds the audit feature (hash-chained event log) and its routes. */
import type { Clock } from '../../platform/clock.js';
import type { SqlDatabase } from '../../platform/sql/sql-db.js';
import { auditMigrations } from './audit-migrations.js';
import { auditRoutes } from './audit-routes.js';
import { createAuditService } from './audit-service.js';

export { auditMigrations };

export function wireAudit(deps: { sql: SqlDatabase; clock: Clock }) {
  const service = createAuditService({ db: deps.sql.db, dialect: deps.sql.dialect, clock: deps.clock });
  return { service, routes: auditRoutes(service) };
}
