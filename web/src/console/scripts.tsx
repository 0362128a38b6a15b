// The hosted script editor: versions, activation, dry run, logs.
// Branch `scripts` is adding /pages/:id/scripts…; it was not on main when this was written, so these calls
// follow the routes the issue names and are unverified. When the routes are missing the section says so.
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { ErrorText, useAsync } from './util';

interface Version {
  version: number;
  source?: string;
  created_at?: string;
  active?: boolean;
}
interface ScriptList {
  data: Version[];
  active_version?: number | null;
}
interface LogLine {
  time?: string;
  level?: string;
  message?: string;
  [k: string]: unknown;
}

export function routeMissing(err: unknown): boolean {
  // Nest answers an unknown route with a plain 404 ("Cannot GET …"), not one of the API's error codes.
  return (
    err instanceof ApiError &&
    err.status === 404 &&
    /cannot (get|post)|not found/i.test(err.message) &&
    !err.body?.error?.code?.startsWith?.('PAGE')
  );
}

export function Scripts({ token, pageId }: { token: string; pageId: string }) {
  const base = `/pages/${pageId}/scripts`;
  const list = useAsync(() => api<ScriptList>('GET', base, undefined, { token }), [pageId]);
  const logs = useAsync(() => api<{ data: LogLine[] }>('GET', `${base}/logs`, undefined, { token }), [pageId]);
  const [source, setSource] = useState<string | null>(null);
  const [event, setEvent] = useState('{"message":{"text":"hi"}}');
  const [dry, setDry] = useState<unknown>(null);
  const [error, setError] = useState<unknown>(null);
  if (list.error && routeMissing(list.error))
    return (
      <section class="section gap" aria-label="Hosted scripts">
        Hosted scripts: this server has no /pages/:id/scripts routes yet (branch <code>scripts</code> is adding them). The editor
        appears here once they are merged.
      </section>
    );
  const versions = list.value?.data ?? [];
  const active = list.value?.active_version ?? versions.find((v) => v.active)?.version ?? null;
  const shown =
    source ??
    versions[0]?.source ??
    'export default async function onMessage(event, send) {\n  await send({ text: "Hello" });\n}\n';
  const run = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      return await f();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="section" aria-labelledby="scripts-h">
      <h3 id="scripts-h">Hosted script</h3>
      <ErrorText error={list.error || error} />
      <label>
        Source
        <textarea
          class="code"
          value={shown}
          onInput={(e) => setSource((e.target as HTMLTextAreaElement).value)}
          spellcheck={false}
        />
      </label>
      <div class="row">
        <button
          type="button"
          class="primary"
          onClick={() => run(async () => (await api('POST', base, { source: shown }, { token }), list.reload()))}
        >
          Save new version
        </button>
        <label>
          Dry-run event (JSON)
          <input value={event} onInput={(e) => setEvent((e.target as HTMLInputElement).value)} />
        </label>
        <button
          type="button"
          class="secondary"
          onClick={() =>
            run(async () => setDry(await api('POST', `${base}/dry-run`, { source: shown, event: JSON.parse(event) }, { token })))
          }
        >
          Dry run
        </button>
      </div>
      {dry !== null && (
        <pre class="code" aria-label="Dry-run result">
          {JSON.stringify(dry, null, 2)}
        </pre>
      )}
      <h3>Versions</h3>
      <table>
        <thead>
          <tr>
            <th>Version</th>
            <th>Saved</th>
            <th>
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version}>
              <td>
                v{v.version} {v.version === active && <span class="pill good">active</span>}
              </td>
              <td>{v.created_at ? new Date(v.created_at).toLocaleString() : ''}</td>
              <td>
                <button type="button" class="link" onClick={() => setSource(v.source ?? '')}>
                  Edit
                </button>
                {v.version !== active && (
                  <button
                    type="button"
                    class="secondary"
                    onClick={() =>
                      run(async () => (await api('POST', `${base}/${v.version}/activate`, undefined, { token }), list.reload()))
                    }
                  >
                    Activate
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Logs</h3>
      <pre class="code" aria-label="Script logs">
        {(logs.value?.data ?? []).map((l) => `${l.time ?? ''} ${l.level ?? ''} ${l.message ?? JSON.stringify(l)}`).join('\n') ||
          'No logs.'}
      </pre>
    </section>
  );
}
