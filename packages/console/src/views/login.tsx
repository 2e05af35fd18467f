import { useState } from 'preact/hooks';

/** The admin token or an API key, kept in this tab's sessionStorage until it closes. */
export function LoginView({
  error,
  onToken,
}: {
  error: string | undefined;
  onToken: (token: string) => void;
}) {
  const [token, setToken] = useState('');
  return (
    <main class="login">
      <h1>Fuze console</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) onToken(token.trim());
        }}
      >
        <label class="field">
          <span>Admin token or API key</span>
          <input
            type="password"
            name="token"
            autocomplete="current-password"
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
            autofocus
          />
        </label>
        <button type="submit">Sign in</button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <p class="hint">
          The token is kept for this browser tab only (sessionStorage) and sent as a bearer token.
        </p>
      </form>
    </main>
  );
}
