/** Endpoints of tokens and identity: create (the secret is in this one response only), list, revoke, whoami. */
import { z } from 'zod';
import { CreatedTokenResponse, CreateTokenBody, TokenList, TokenResponse, WhoAmI } from './auth.js';
import { endpoint } from './endpoint.js';

const tags = ['tokens'];

export const authEndpoints = {
  createToken: endpoint({
    method: 'POST', url: '/api/v1/tokens', summary: 'Create an API token; the secret is returned once', tags, permission: 'token:admin',
    body: CreateTokenBody, responses: { 201: CreatedTokenResponse },
  }),
  listTokens: endpoint({
    method: 'GET', url: '/api/v1/tokens', summary: 'List tokens (never their secrets)', tags, permission: 'token:admin',
    responses: { 200: TokenList },
  }),
  revokeToken: endpoint({
    method: 'DELETE', url: '/api/v1/tokens/:id', summary: 'Revoke a token', tags, permission: 'token:admin',
    params: z.object({ id: z.string().min(1).max(64) }).strict(), responses: { 200: TokenResponse },
  }),
  whoami: endpoint({
    method: 'GET', url: '/api/v1/whoami', summary: "The caller's identity and role", tags, permission: 'authenticated', scope: 'any',
    responses: { 200: WhoAmI },
  }),
};
