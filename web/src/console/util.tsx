import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api';

export function useAsync<T>(load: () => Promise<T>, deps: unknown[]) {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    load()
      .then((v) => live && setValue(v))
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [...deps, n]);
  // set: a value the caller already has (fetched after a change), shown without loading again.
  return { value, error, reload: () => setN((x) => x + 1), set: setValue };
}

export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {(error as Error).message}
    </p>
  );
}

// A route this server does not have (a feature from a branch not merged yet): Nest's bare 404 "Cannot GET …",
// code NOT_FOUND; the API's own 404s carry a specific code (PAGE.NOT_FOUND, WEBHOOK.DELIVERY_NOT_FOUND…).
export function routeMissing(err: unknown): boolean {
  if (!(err instanceof ApiError) || err.status !== 404) return false;
  const code = err.body?.code ?? err.body?.error?.code;
  return (!code || code === 'NOT_FOUND') && /^Cannot (GET|POST)/.test(err.message);
}
