/**
 * The audit module: the hash-chained event log every mutation records into, its routes, and
 * the background work that anchors its head in signed checkpoints outside the database.
 */
import path from 'node:path';
import { defineModule } from '../../platform/module.js';
import { loadCheckpointKey, openCheckpointStore } from './audit-checkpoint-store.js';
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
  async setup({ sql, clock, config, log }) {
    // A key given by the operator must exist; the default one is created on first start.
    const key = loadCheckpointKey(config.auditCheckpointKeyFile ?? path.join(config.dataDir, 'audit-checkpoint.key'), { create: !config.auditCheckpointKeyFile });
    const store = await openCheckpointStore(config.auditCheckpoints);
    const service = createAuditService({ db: sql.db, dialect: sql.dialect, clock, checkpoints: { store, key, log } });
    const checkpoint = () => service.checkpoint().catch((err: unknown) => log.error({ err, location: store.location }, 'audit checkpoint failed'));
    let timer: NodeJS.Timeout | undefined;
    return {
      provides: service,
      routes: () => auditRoutes(service),
      start() {
        log.info({ location: store.location, keyId: key.keyId }, 'audit checkpoints');
        // Not awaited: the first one checks every event since the last checkpoint.
        void checkpoint();
        timer = setInterval(() => void checkpoint(), config.auditCheckpointIntervalSeconds * 1000);
        timer.unref();
      },
      async stop() {
        clearInterval(timer);
        // Set up first, so stopped last: what other modules recorded while stopping is covered.
        await checkpoint();
        store.close();
      },
    };
  },
});
