// The hosted script editor: versions, activation, dry run, logs (src/sandbox/scripts.controller.ts).
// A server without those routes gets a labelled gap instead of the editor.
import { useState } from 'preact/hooks';
import { api } from '../api';
import type { HandoverRole } from '../api';
import { roleFromSelect, ROLE_OPTIONS } from './handover';
import { ErrorText, routeMissing, useAsync } from './util';

// ScriptVersionDto, ScriptListDto, ScriptLogDto, DryRunDto (src/sandbox/dto/upload-script.dto.ts).
interface ScriptVersion {
  version: number;
  subscribed_fields: string[];
  allowed_hosts: string[];
  limits: Record<string, number>;
  active: boolean;
  created_at: string;
}
interface ScriptSource extends ScriptVersion {
  source: string;
}
interface ScriptList {
  // The Page's hosted-script app and its handover role (null before the first activation / no role).
  app_id: string | null;
  handover_role: HandoverRole | null;
  active_version: number | null;
  paused: boolean;
  paused_at: string | null;
  paused_reason: string | null;
  consecutive_failures: number;
  data: ScriptVersion[];
}
interface ScriptLog { id: string; level: string; source: 'script' | 'platform'; message: string; delivery_id: string | null; created_at: string }
interface DryRun {
  outcome: 'ok' | 'error' | 'limit';
  handler: string | null;
  handled: boolean;
  limit?: string;
  error?: { code: string; message: string };
  sends: { message: unknown; result: unknown; error: string | null }[];
  logs: { level: string; message: string }[];
  logs_truncated: boolean;
  cpu_ms: number;
  wall_ms: number;
}

const EXAMPLE = `export default {
  async onMessage(event, ctx) {
    if (!event.message.text) return;
    console.log('echoing', event.message.text);
    await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { text: event.message.text } });
  },
};
`;
const EXAMPLE_EVENT = '{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":0,"message":{"mid":"m_1","text":"hi"}}';

// onRoleChange: the script's handover role changed, and with it maybe another app's (one primary per Page).
export function Scripts({ token, pageId, onRoleChange }: { token: string; pageId: string; onRoleChange?: () => void }) {
  const base = `/pages/${pageId}/scripts`;
  const list = useAsync(() => api<ScriptList>('GET', base, undefined, { token }), [pageId]);
  const [source, setSource] = useState(EXAMPLE);
  // What the editor was last loaded from or saved as: leaving unsaved edits asks first.
  const [baseline, setBaseline] = useState<{ source: string; version: number | null }>({ source: EXAMPLE, version: null });
  const [selected, setSelected] = useState<number | null>(null);
  const [event, setEvent] = useState(EXAMPLE_EVENT);
  const [dry, setDry] = useState<DryRun | null>(null);
  const [error, setError] = useState<unknown>(null);
  const versions = list.value?.data ?? [];
  const shownVersion = selected ?? list.value?.active_version ?? versions[0]?.version ?? null;
  const logs = useAsync(
    () => (shownVersion === null ? Promise.resolve({ data: [] as ScriptLog[] }) : api<{ data: ScriptLog[] }>('GET', `${base}/${shownVersion}/logs`, undefined, { token, query: { limit: 50 } })),
    [pageId, shownVersion],
  );
  if (list.error && routeMissing(list.error))
    return (
      <section class="section gap" aria-label="Hosted scripts">
        Hosted scripts: this server has no <code>/pages/:id/scripts</code> routes (an older build). The
        editor appears here once they are merged.
      </section>
    );
  const run = async (f: () => Promise<void>) => {
    setError(null);
    try {
      await f();
    } catch (err) {
      setError(err);
    }
  };
  const upload = () =>
    run(async () => {
      const v = await api<ScriptVersion>('POST', base, { source }, { token });
      setBaseline({ source, version: v.version });
      setSelected(v.version);
      list.reload();
    });
  const activate = (v: number) =>
    run(async () => {
      await api('POST', `${base}/${v}/activate`, undefined, { token });
      list.reload();
    });
  // The page's bot stops: waiting events are dropped (the server says how many).
  const deactivate = () =>
    run(async () => {
      if (!confirm('Deactivate the hosted script? Events waiting for it are dropped; new ones reach no script.')) return;
      await api('POST', `${base}/deactivate`, undefined, { token });
      list.reload();
    });
  // GET /pages/:id/scripts/:version: an older version's source, to start the next version from.
  const load = (v: number) =>
    run(async () => {
      if (source !== baseline.source && !confirm(`Replace the editor's unsaved changes with the source of v${v}?`)) return;
      const got = await api<ScriptSource>('GET', `${base}/${v}`, undefined, { token });
      setSource(got.source);
      setBaseline({ source: got.source, version: got.version });
      setSelected(got.version);
    });
  const test = () =>
    run(async () => {
      if (shownVersion === null) throw new Error('Save a version first');
      setDry(await api<DryRun>('POST', `${base}/${shownVersion}/test`, { event: JSON.parse(event) }, { token }));
    });
  const l = list.value;
  return (
    <section class="section" aria-labelledby="scripts-h">
      <h3 id="scripts-h">
        Hosted script{' '}
        {l && (
          <span class={`pill ${l.paused ? 'bad' : l.active_version ? 'good' : ''}`}>
            {l.paused ? 'paused' : l.active_version ? `v${l.active_version} active` : 'none active'}
          </span>
        )}
      </h3>
      {l?.active_version && (
        <button type="button" class="secondary" onClick={deactivate}>
          Deactivate v{l.active_version}
        </button>
      )}
      {l?.active_version && l.app_id && (
        <label>
          Handover role{' '}
          <select
            class="role-select"
            aria-label="Handover role of the hosted script"
            value={l.handover_role ?? ''}
            onChange={(e) => {
              const role = roleFromSelect((e.target as HTMLSelectElement).value);
              // Shown at once: a render before the server answers would otherwise put the old role back in the select.
              list.set({ ...l, handover_role: role });
              void run(async () => {
                try {
                  await api('PUT', `/pages/${pageId}/apps/${l.app_id}/handover-role`, { role }, { token });
                } finally {
                  // The server's word either way (a refusal puts the old role back).
                  list.reload();
                }
                onRoleChange?.();
              });
            }}
          >
            {ROLE_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
      )}
      {l?.paused && (
        <p class="error" role="alert">
          Paused after {l.consecutive_failures} failures: {l.paused_reason}. Activating a version resumes it.
        </p>
      )}
      <ErrorText error={list.error || error} />
      {baseline.version !== null && (
        <p class="muted" role="status" data-testid="editor-base">
          {source === baseline.source ? `The editor holds the source of v${baseline.version}.` : `Edited from v${baseline.version}.`}
        </p>
      )}
      <label>
        Source (a new version)
        <textarea class="code" value={source} onInput={(e) => setSource((e.target as HTMLTextAreaElement).value)} spellcheck={false} />
      </label>
      <button type="button" class="primary" onClick={upload}>
        Save new version
      </button>
      <h3>Versions</h3>
      <div class="table-wrap">
        <table aria-label="Script versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>Saved</th>
              <th>Fields</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version} aria-current={v.version === shownVersion ? 'true' : undefined}>
                <td>
                  v{v.version} {v.active && <span class="pill good">active</span>}
                </td>
                <td>{new Date(v.created_at).toLocaleString()}</td>
                <td>{v.subscribed_fields.join(', ')}</td>
                <td>
                  <button type="button" class="link" onClick={() => setSelected(v.version)}>
                    Logs and dry run
                  </button>
                  <button type="button" class="link" aria-label={`Load the source of v${v.version} into the editor`} onClick={() => load(v.version)}>
                    Load into editor
                  </button>
                  {!v.active && (
                    <button type="button" class="secondary" onClick={() => activate(v.version)}>
                      Activate
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shownVersion !== null && (
        <>
          <h3>Dry run of v{shownVersion}</h3>
          <label>
            Event (a messaging item, JSON)
            <textarea class="code" style="min-height:70px" value={event} onInput={(e) => setEvent((e.target as HTMLTextAreaElement).value)} />
          </label>
          <button type="button" class="secondary" onClick={test}>
            Dry run
          </button>
          {dry && (
            <div aria-label="Dry-run result">
              <p>
                <span class={`pill ${dry.outcome === 'ok' ? 'good' : 'bad'}`}>{dry.outcome}</span> {dry.handler ?? 'no handler'} ·{' '}
                {dry.cpu_ms.toFixed(1)} ms CPU · {dry.wall_ms.toFixed(1)} ms wall {dry.limit ? `· hit the ${dry.limit} limit` : ''}
              </p>
              {dry.error && <p class="error">{dry.error.message}</p>}
              {dry.sends.map((s, i) => (
                <pre class="code" key={i}>
                  {JSON.stringify(s.message, null, 2)}
                  {s.error ? `\n→ ${s.error}` : ''}
                </pre>
              ))}
              {dry.logs.length > 0 && <pre class="code">{dry.logs.map((x) => `${x.level} ${x.message}`).join('\n')}</pre>}
            </div>
          )}
          <h3>Logs of v{shownVersion}</h3>
          <pre class="code" aria-label="Script logs">
            {(logs.value?.data ?? [])
              // The platform's own lines are marked by the api, not by their text, which a script can imitate.
              // One line per entry: a script's own line breaks are shown as \n, so it can't fake a line of ours.
              .map((x) => `${new Date(x.created_at).toLocaleTimeString()} ${x.source === 'platform' ? 'PLATFORM ' : ''}${x.level} ${x.message.replace(/\r?\n/g, '\\n')}`)
              .join('\n') ||
              'No logs.'}
          </pre>
        </>
      )}
    </section>
  );
}
