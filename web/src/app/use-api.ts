/**
 * Loads data from the API for a page: the latest answer, the error (the API's code and
 * message), whether a load is in flight, and `reload`. A poll interval refreshes it while the
 * page is open (runs in progress, deployments). An answer for stale arguments is dropped.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { StewardApiError } from '../../../src/sdk/client.js';
import { useSession } from './session.js';
import type { StewardClient } from '../../../src/sdk/client.js';

export interface Loaded<T> {
  data: T | undefined;
  error: StewardApiError | null;
  loading: boolean;
  reload(): void;
}

/**
 * `deps` are what the load depends on (compared by value). `keep`: show the previous answer while
 * new arguments load (a list being filtered, results growing with a run), instead of a skeleton.
 */
export function useApi<T>(load: (client: StewardClient) => Promise<T>, deps: readonly unknown[], opts: { pollMs?: number; enabled?: boolean; keep?: boolean } = {}): Loaded<T> {
  const { client, signOut } = useSession();
  const [state, setState] = useState<{ data: T | undefined; error: StewardApiError | null; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const enabled = opts.enabled ?? true;
  // What the data was loaded for: a poll or reload keeps showing it while it refreshes, but new
  // arguments (another model, another filter) must not show the previous one's data meanwhile.
  const argsKey = JSON.stringify(deps);
  const loadedFor = useRef(argsKey);

  useEffect(() => {
    if (!enabled) return;
    let live = true;
    const fresh = loadedFor.current !== argsKey && !opts.keep;
    loadedFor.current = argsKey;
    setState((s) => (fresh ? { data: undefined, error: null, loading: true } : { ...s, loading: true }));
    loadRef
      .current(client)
      .then((data) => live && setState({ data, error: null, loading: false }))
      .catch((err: unknown) => {
        if (!live) return;
        const e = err instanceof StewardApiError ? err : new StewardApiError(0, 'internal', String((err as Error)?.message ?? err));
        if (e.code === 'unauthenticated') signOut();
        setState((s) => ({ data: s.data, error: e, loading: false }));
      });
    return () => {
      live = false;
    };
  }, [client, enabled, tick, argsKey]);

  useEffect(() => {
    if (!opts.pollMs || !enabled) return;
    const t = setInterval(() => setTick((n) => n + 1), opts.pollMs);
    return () => clearInterval(t);
  }, [opts.pollMs, enabled]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

/** Runs a mutation with its pending state and error, for a button. */
export function useAction<A extends unknown[], R>(act: (client: StewardClient, ...args: A) => Promise<R>) {
  const { client } = useSession();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<StewardApiError | null>(null);
  const run = useCallback(
    async (...args: A): Promise<R | undefined> => {
      setPending(true);
      setError(null);
      try {
        return await act(client, ...args);
      } catch (err) {
        setError(err instanceof StewardApiError ? err : new StewardApiError(0, 'internal', String(err)));
        return undefined;
      } finally {
        setPending(false);
      }
    },
    [client],
  );
  return { run, pending, error };
}
