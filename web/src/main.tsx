/** Entry of the web UI: restores the session (or asks for a token), then the app. */
import { StrictMode, useCallback } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { AppShell } from './app/app-shell.js';
import { AppRoutes } from './app/routes.js';
import { SessionProvider, useRestoredIdentity } from './app/session.js';
import { SignIn } from './app/sign-in.js';
import './ui/styles.css';

function App() {
  const session = useRestoredIdentity();
  const clear = session.clear;
  const onSignOut = useCallback(() => clear(), [clear]);
  if (session.me === undefined) return <div className="boot" aria-busy="true" />;
  if (!session.me || !session.token) return <SignIn onSignedIn={session.set} />;
  return (
    <SessionProvider token={session.token} me={session.me} onSignOut={onSignOut}>
      <AppShell>
        <AppRoutes />
      </AppShell>
    </SessionProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BrowserRouter>
      <App />
    </BrowserRouter>
  </StrictMode>,
);
