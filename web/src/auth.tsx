// Sign up and log in, shared by the chat app and the console (each keeps its own token).
import { useState } from 'preact/hooks';
import { api, LoginResponse, SignupResponse } from './api';

export function Auth({ title, onToken }: { title: string; onToken: (t: string) => void }) {
  const [mode, setMode] = useState<'login' | 'signup'>('login');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const body = Object.fromEntries(f.entries()) as Record<string, string>;
    setBusy(true);
    setError('');
    try {
      const res =
        mode === 'signup'
          ? await api<SignupResponse>('POST', '/auth/signup', body)
          : await api<LoginResponse>('POST', '/auth/login', { username: body.username, password: body.password });
      onToken(res.access_token);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="auth">
      <h1>{title}</h1>
      <div class="tabs" role="tablist" aria-label="Account">
        <button type="button" role="tab" aria-selected={mode === 'login'} onClick={() => setMode('login')}>
          Log in
        </button>
        <button type="button" role="tab" aria-selected={mode === 'signup'} onClick={() => setMode('signup')}>
          Sign up
        </button>
      </div>
      <form onSubmit={submit} aria-label={mode === 'login' ? 'Log in' : 'Sign up'}>
        <label>
          Username
          <input name="username" autoComplete="username" required minLength={3} />
        </label>
        {mode === 'signup' && (
          <label>
            Your name
            <input name="name" autoComplete="name" required />
          </label>
        )}
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
            required
            minLength={8}
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {mode === 'login' ? 'Log in' : 'Create account'}
        </button>
      </form>
    </main>
  );
}
