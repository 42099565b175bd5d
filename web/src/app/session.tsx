/**
 * The signed-in session: the bearer token (sessionStorage, or localStorage when the user asked to
 * be remembered), the typed API client built on it, and the token's identity and permissions
 * from `GET /api/v1/whoami`, which the UI reads to show only the actions the token may take.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { endpointPermission, StewardClient } from '../../../src/sdk/client.js';
import type { Endpoint, Permission } from '../../../src/contracts/endpoint.js';
import type { EndpointTable } from '../../../src/contracts/endpoints.js';

const KEY = 'steward.token';

export interface Identity {
  name: string;
  role: string;
  namespaces: string[] | null;
  permissions: string[];
}

export interface Session {
  client: StewardClient;
  me: Identity;
  /** Whether the token may call an endpoint (`can((t) => t.promotions.approvePromotion)`) or holds a permission. */
  can(target: Permission | ((t: EndpointTable) => Endpoint)): boolean;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

export function storedToken(): string | null {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
}

export function clientFor(token: string): StewardClient {
  return new StewardClient({ url: window.location.origin, token });
}

/** Checks a token against the API and keeps it; throws the API's error when it is refused. */
export async function signIn(token: string, remember: boolean): Promise<Identity> {
  const me = await clientFor(token).whoami();
  (remember ? localStorage : sessionStorage).setItem(KEY, token);
  (remember ? sessionStorage : localStorage).removeItem(KEY);
  return me;
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

export function SessionProvider({ token, me, onSignOut, children }: { token: string; me: Identity; onSignOut: () => void; children: ReactNode }) {
  const signOut = useCallback(() => {
    forgetToken();
    onSignOut();
  }, [onSignOut]);
  const value = useMemo<Session>(() => {
    const perms = new Set(me.permissions);
    return { client: clientFor(token), me, can: (target) => {
        const p = typeof target === 'function' ? endpointPermission(target) : target;
        return p === 'public' || perms.has(p);
      },
      signOut,
    };
  }, [token, me, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** Restores a stored token on load: `undefined` while checking, null when there is none (or it was refused). */
export function useRestoredIdentity(): { token: string | null; me: Identity | null | undefined; set(token: string, me: Identity): void; clear(): void } {
  const [state, setState] = useState<{ token: string | null; me: Identity | null | undefined }>(() => ({ token: storedToken(), me: storedToken() ? undefined : null }));
  useEffect(() => {
    if (state.me !== undefined || !state.token) return;
    let live = true;
    clientFor(state.token)
      .whoami()
      .then((me) => live && setState({ token: state.token, me }))
      .catch(() => {
        forgetToken();
        if (live) setState({ token: null, me: null });
      });
    return () => {
      live = false;
    };
  }, [state]);
  const set = useCallback((token: string, me: Identity) => setState({ token, me }), []);
  const clear = useCallback(() => setState({ token: null, me: null }), []);
  return { ...state, set, clear };
}
