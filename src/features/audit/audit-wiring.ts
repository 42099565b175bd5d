/** The audit module: the hash-chained event log every mutation records into, and its routes. */
import { defineModule } from '../../platform/module.js';
import { auditMigrations } from './audit-migrations.js';
import { auditRoutes } from './audit-routes.js';
import { createAuditService, type AuditService } from './audit-service.js';

declare module '../../platform/module.js' {
  interface Provided {
    audit: AuditService;
  }
}

export const auditModule = defineModule({
  name: 'audit',
  needs: [],
  migrations: auditMigrations,
  setup({ sql, clock }) {
    const service = createAuditService({ db: sql.db, dialect: sql.dialect, clock });
    return { provides: service, routes: () => auditRoutes(service) };
  },
});
