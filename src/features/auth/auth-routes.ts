/** Token routes: create (the secret is in this one response only), list, revoke, and whoami. */
import { z } from 'zod';
import { CreatedTokenResponse, CreateTokenBody, TokenList, TokenResponse, WhoAmI } from '../../contracts/auth.js';
import { defineRoute, type RouteDef } from '../../platform/http/http-route.js';
import type { AuthService } from './auth-service.js';

export function authRoutes(svc: AuthService): RouteDef[] {
  const tags = ['tokens'];
  return [
    defineRoute({
      method: 'POST', url: '/api/v1/tokens', summary: 'Create an API token; the secret is returned once', tags, permission: 'token:admin',
      body: CreateTokenBody, responses: { 201: CreatedTokenResponse },
      handler: async ({ body, actor, reply }) => {
        reply.code(201);
        return svc.createToken(body, actor);
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/tokens', summary: 'List tokens (never their secrets)', tags, permission: 'token:admin',
      responses: { 200: TokenList },
      handler: async () => svc.listTokens(),
    }),
    defineRoute({
      method: 'DELETE', url: '/api/v1/tokens/:id', summary: 'Revoke a token', tags, permission: 'token:admin',
      params: z.object({ id: z.string().min(1).max(64) }).strict(), responses: { 200: TokenResponse },
      handler: async ({ params, actor }) => svc.revokeToken(params.id, actor),
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/whoami', summary: 'The caller\'s identity and role', tags, permission: 'authenticated', scope: 'any',
      responses: { 200: WhoAmI },
      handler: async ({ actor }) => ({ name: actor.name, role: actor.role, namespaces: actor.namespaces, tokenId: actor.tokenId }),
    }),
  ];
}
