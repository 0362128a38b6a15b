import { useEffect, useState } from 'preact/hooks';
import type { ApiError } from '../api';

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
  return { value, error, reload: () => setN((x) => x + 1) };
}

export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {(error as Error).message}
    </p>
  );
}
