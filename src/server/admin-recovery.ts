/**
 * Offline recovery of administration (`steward admin reset-token`): with access to the data dir
 * or the database, and no server or token, create a new admin token. It goes through the auth
 * service like any token (audited as `token.recover`, naming the operating-system user), so it
 * needs only the database: the blob store and the HTTP server are not opened.
 */
import fs from 'node:fs';
import os from 'node:os';
import { createAuditService } from '../features/audit/audit-service.js';
import { createAuthService } from '../features/auth/auth-service.js';
import { systemClock } from '../platform/clock.js';
import type { Config } from '../platform/config.js';
import type { Actor } from '../platform/http/http-route.js';
import { createLogger } from '../platform/log.js';
import { openDatabase } from '../platform/sql/sql-db.js';
import { migrate } from '../platform/sql/sql-migrations.js';
import { MIGRATIONS } from './main.js';

/** Creates an admin token in the configured database; writes it over `DATA/admin.token` when `writeFile`. */
export async function resetAdminToken(config: Config, opts: { writeFile: boolean }) {
  if (config.database.kind === 'sqlite' && !fs.existsSync(config.database.path)) {
    throw new Error(`no Steward database at ${config.database.path}: pass the --data directory the server uses, or --database-url`);
  }
  const sql = await openDatabase(config.database);
  try {
    await migrate(sql, MIGRATIONS);
    const audit = createAuditService({ db: sql.db, dialect: sql.dialect, clock: systemClock });
    const auth = createAuthService({ db: sql.db, dialect: sql.dialect, clock: systemClock, log: createLogger({ level: 'silent' }), audit, failuresPerMinute: config.authFailuresPerMinute });
    const actor: Actor = { tokenId: null, name: `reset-token:${localUser()}`, role: 'system', namespaces: null, clientAddress: os.hostname(), requestId: '' };
    return await auth.recoverAdmin(actor, opts.writeFile ? config.dataDir : null);
  } finally {
    await sql.close();
  }
}

/** Who ran the recovery, for the audit trail (the OS user; some containers have no passwd entry). */
function localUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}
