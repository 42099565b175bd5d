/**
 * The export module: Prometheus alert rules and a Grafana dashboard for a registered model,
 * generated from the gateway's metric names (export-fns.ts). Reads only: nothing to audit.
 */
import { defineModule } from '../../platform/module.js';
import { exportRoutes } from './export-routes.js';

declare module '../../platform/module.js' {
  interface Provided {
    export: Record<string, never>;
  }
}

export const exportModule = defineModule({
  name: 'export',
  needs: ['assets'],
  setup({ need }) {
    const assets = need('assets');
    return { provides: {}, routes: () => exportRoutes(assets) };
  },
});
