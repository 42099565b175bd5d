/** Handlers of the token endpoints (contracts/auth-endpoints.ts). */
import { authEndpoints as E } from '../../contracts/auth-endpoints.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import { ROLE_PERMISSIONS } from './auth-fns.js';
import type { AuthService } from './auth-service.js';

export function authRoutes(svc: AuthService): RouteDef[] {
  return [
    route(E.createToken, async ({ body, actor }) => svc.createToken(body, actor)),
    route(E.listTokens, async () => svc.listTokens()),
    route(E.revokeToken, async ({ params, actor }) => svc.revokeToken(params.id, actor)),
    route(E.whoami, async ({ actor }) => ({
      name: actor.name,
      role: actor.role,
      namespaces: actor.namespaces,
      tokenId: actor.tokenId,
      permissions: [...(ROLE_PERMISSIONS[actor.role as keyof typeof ROLE_PERMISSIONS] ?? [])],
    })),
  ];
}
