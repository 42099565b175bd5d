/** The sign-in page: an API token (from `steward token create` or `admin.token`), kept for the tab or remembered. */
import { useState } from 'react';
import { signIn, type Identity } from './session.js';

export function SignIn({ onSignedIn }: { onSignedIn(token: string, me: Identity): void }) {
  const [token, setToken] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  return (
    <main className="signin">
      <form
        className="signin-card"
        onSubmit={async (e) => {
          e.preventDefault();
          setPending(true);
          setError(null);
          try {
            const t = token.trim();
            onSignedIn(t, await signIn(t, remember));
          } catch (err) {
            setError((err as Error).message);
          } finally {
            setPending(false);
          }
        }}
      >
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true">
            S
          </span>
          Steward
        </div>
        <h1>Sign in</h1>
        <p className="muted">Paste an API token. An admin creates one with <code>steward token create --name you --role viewer</code>; the first admin token is in <code>.steward/admin.token</code>.</p>
        <label className="field">
          <span>API token</span>
          <input type="password" autoComplete="off" spellCheck={false} value={token} onChange={(e) => setToken(e.target.value)} placeholder="stw_…" required autoFocus name="token" />
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
          <span>Remember me on this browser</span>
        </label>
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button className="btn btn-primary btn-block" type="submit" disabled={pending || !token.trim()}>
          {pending ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
