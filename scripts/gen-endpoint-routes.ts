/**
 * Writes src/contracts/endpoint-routes.ts: the method, path and permission of every declared endpoint
 * (contracts/endpoints.ts) as plain data, so the SDK fills URLs without loading zod and every
 * contract at start-up (a quarter of a second per CLI command). `npm run gen:endpoints`; a test
 * fails while the file and the declarations differ.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENDPOINTS } from '../src/contracts/endpoints.js';

export function endpointRoutesSource(): string {
  const groups = Object.entries(ENDPOINTS).map(([group, eps]) => {
    const lines = Object.entries(eps).map(([key, e]) => `    ${key}: { method: '${e.method}', url: '${e.url}', permission: '${e.permission}' },`);
    return `  ${group}: {\n${lines.join('\n')}\n  },`;
  });
  return `/**
 * Generated from contracts/endpoints.ts by \`npm run gen:endpoints\`; do not edit. The method,
 * path and permission of every endpoint as plain data, for the SDK and the web UI (no zod needed
 * to build a URL or to know which actions a token may take).
 */
export const ENDPOINT_ROUTES = {
${groups.join('\n')}
} as const;
`;
}

const target = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'contracts', 'endpoint-routes.ts');
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  fs.writeFileSync(target, endpointRoutesSource());
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
}
