/** The auth module: API tokens, roles and namespace limits; the HTTP app authenticates through it. */
import { defineModule } from '../../platform/module.js';
import { authMigrations } from './auth-migrations.js';
import { authRoutes } from './auth-routes.js';
import { createAuthService, type AuthService } from './auth-service.js';

declare module '../../platform/module.js' {
  interface Provided {
    auth: AuthService;
  }
}

export const authModule = defineModule({
  name: 'auth',
  needs: ['audit'],
  migrations: authMigrations,
  setup({ sql, clock, log, config, need }) {
    const service = createAuthService({ db: sql.db, dialect: sql.dialect, clock, log, audit: need('audit'), failuresPerMinute: config.authFailuresPerMinute });
    return { provides: service, routes: () => authRoutes(service) };
  },
});
