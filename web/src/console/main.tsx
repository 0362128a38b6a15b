import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import '../styles.css';
import {
  api,
  ApiError,
  App,
  ConnectAppResponse,
  CreatedApp,
  Delivery,
  HandoverRole,
  DeliveryDetail,
  DeliveryPage,
  List,
  Me,
  Page,
  PageAdmin,
  PageApp,
  Replayed,
  RotatedSecret,
  tokenStore,
  WebhookHealth,
} from '../api';
import { Auth } from '../auth';
import { deliveryQuery, EMPTY_FILTER, filterError, LogFilter, LogState, PAGE_SIZES, statusPill, withPage } from './deliveries';
import { roleChanges, roleFromSelect, ROLE_OPTIONS, withoutStandby } from './handover';
import { Inbox } from './inbox-view';
import { Scripts } from './scripts';
import { ErrorText, routeMissing, useAsync } from './util';

const tokens = tokenStore('switchboard.console');
export const GRAPH = '/v25.0';
// The fields the platform emits. The core five are checked by default; the rest are opt-in, as on Messenger:
// reactions, edits and ref links, and what the handover protocol sends (standby copies, control notices).
const CORE_FIELDS = ['messages', 'messaging_postbacks', 'message_deliveries', 'message_reads', 'message_echoes'];
const FIELDS = [...CORE_FIELDS, 'message_reactions', 'message_edits', 'messaging_referrals', 'standby', 'messaging_handovers'];

// Paths under /console: /console, /console/pages/<id>, /console/apps/<id>. The api answers console.html for all.
type Route = { kind: 'home' } | { kind: 'page'; id: string } | { kind: 'app'; id: string };
function parseRoute(): Route {
  const m = /^\/console\/(pages|apps)\/([^/]+)/.exec(location.pathname);
  if (!m) return { kind: 'home' };
  return m[1] === 'pages' ? { kind: 'page', id: decodeURIComponent(m[2]) } : { kind: 'app', id: decodeURIComponent(m[2]) };
}
function go(path: string) {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

// A secret or token the server shows once: it keeps only a hash.
function ShownOnce({ label, value }: { label: string; value: string }) {
  return (
    <div class="secret" role="status">
      <strong>{label}</strong> — copy it now, it is shown once:
      <br />
      <code data-testid="shown-once">{value}</code>{' '}
      <button type="button" class="link" onClick={() => navigator.clipboard?.writeText(value)}>
        Copy
      </button>
    </div>
  );
}

function Console({ token, onLogout }: { token: string; onLogout: () => void }) {
  const [route, setRoute] = useState(parseRoute());
  const me = useAsync(() => api<Me>('GET', '/me', undefined, { token }), [token]);
  const pages = useAsync(() => api<List<Page>>('GET', '/pages/mine', undefined, { token }), [token]);
  const apps = useAsync(() => api<List<App>>('GET', '/apps', undefined, { token }), [token]);
  useEffect(() => {
    const on = () => setRoute(parseRoute());
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  useEffect(() => {
    if (me.error instanceof ApiError && me.error.status === 401) onLogout();
  }, [me.error]);
  const current = (kind: string, id: string) => (route.kind === kind && (route as { id: string }).id === id ? 'page' : undefined);
  return (
    <div class="console">
      <header class="top">
        <h1>Switchboard console</h1>
        <span>{me.value?.name}</span>
        <button type="button" class="link" onClick={onLogout}>
          Log out
        </button>
      </header>
      <div class="body">
        <nav aria-label="Pages and apps">
          <ul>
            <li>
              <button type="button" aria-current={route.kind === 'home' ? 'page' : undefined} onClick={() => go('/console')}>
                Overview
              </button>
            </li>
          </ul>
          <h2>Pages</h2>
          <ul>
            {pages.value?.data.map((p) => (
              <li key={p.id}>
                <button type="button" aria-current={current('page', p.id)} onClick={() => go(`/console/pages/${p.id}`)}>
                  {p.name}
                </button>
              </li>
            ))}
          </ul>
          <h2>Apps</h2>
          <ul>
            {apps.value?.data.map((a) => (
              <li key={a.id}>
                <button type="button" aria-current={current('app', a.id)} onClick={() => go(`/console/apps/${a.id}`)}>
                  {a.name}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <main class="content">
          {route.kind === 'home' && <Home token={token} onPage={pages.reload} onApp={apps.reload} />}
          {route.kind === 'page' && <PageView key={route.id} token={token} id={route.id} apps={apps.value?.data ?? []} />}
          {route.kind === 'app' && <AppView key={route.id} token={token} id={route.id} />}
        </main>
      </div>
    </div>
  );
}

function Home({ token, onPage, onApp }: { token: string; onPage(): void; onApp(): void }) {
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<CreatedApp | null>(null);
  async function createPage(e: Event) {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    try {
      const p = await api<Page>(
        'POST',
        '/pages',
        { name: f.get('name'), ...(f.get('category') ? { category: f.get('category') } : {}) },
        { token },
      );
      onPage();
      go(`/console/pages/${p.id}`);
    } catch (err) {
      setError(err);
    }
  }
  async function createApp(e: Event) {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    try {
      setCreated(await api<CreatedApp>('POST', '/apps', { name: f.get('name') }, { token }));
      onApp();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <>
      <ErrorText error={error} />
      <section class="section" aria-labelledby="new-page">
        <h2 id="new-page">Create a Page</h2>
        <form class="row" onSubmit={createPage}>
          <label>
            Page name
            <input name="name" required maxLength={100} />
          </label>
          <label>
            Category
            <input name="category" maxLength={100} />
          </label>
          <button type="submit" class="primary">
            Create Page
          </button>
        </form>
      </section>
      <section class="section" aria-labelledby="new-app">
        <h2 id="new-app">Create an app</h2>
        <form class="row" onSubmit={createApp}>
          <label>
            App name
            <input name="name" required maxLength={100} />
          </label>
          <button type="submit" class="primary">
            Create app
          </button>
        </form>
        {created && (
          <>
            <ShownOnce label={`App secret of ${created.name} (app id ${created.id})`} value={created.secret} />
            <button type="button" class="secondary" onClick={() => go(`/console/apps/${created.id}`)}>
              Open {created.name}
            </button>
          </>
        )}
      </section>
    </>
  );
}

function PageView({ token, id, apps }: { token: string; id: string; apps: App[] }) {
  const page = useAsync(() => api<Page>('GET', `/pages/${id}`, undefined, { token }), [id]);
  const connected = useAsync(() => api<List<PageApp>>('GET', `/pages/${id}/apps`, undefined, { token }), [id]);
  const [pageToken, setPageToken] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  async function connect(e: Event) {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    try {
      const res = await api<ConnectAppResponse>(
        'POST',
        `/pages/${id}/apps`,
        { app_id: f.get('app_id'), subscribed_fields: f.getAll('fields') },
        { token },
      );
      setPageToken(res.page_access_token);
      connected.reload();
    } catch (err) {
      setError(err);
    }
  }
  // Handover roles: the server may move another app too (a new primary demotes the old one), so the list is read
  // again after each attempt, and what changed is said. A refusal (not an admin, the app disconnected meanwhile)
  // shows the server's message.
  const [roleSaving, setRoleSaving] = useState<{ appId: string; role: HandoverRole | null } | null>(null);
  const [roleError, setRoleError] = useState<unknown>(null);
  const [roleNote, setRoleNote] = useState<string | null>(null);
  async function setRole(a: PageApp, role: HandoverRole | null) {
    const before = connected.value?.data ?? [];
    setRoleSaving({ appId: a.app_id, role });
    setRoleError(null);
    setRoleNote(null);
    try {
      await api<PageApp>('PUT', `/pages/${id}/apps/${a.app_id}/handover-role`, { role }, { token });
      const after = await api<List<PageApp>>('GET', `/pages/${id}/apps`, undefined, { token });
      connected.set(after);
      setRoleNote(roleChanges(before, after.data, a.app_id));
    } catch (err) {
      setRoleError(err);
      connected.reload();
    } finally {
      setRoleSaving(null);
    }
  }
  const noStandby = withoutStandby(connected.value?.data ?? []);
  // What the page sends a connected app, changed in place: its page token stays as it is.
  async function saveFields(e: Event, a: PageApp) {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setError(null);
    try {
      await api<PageApp>('PUT', `/pages/${id}/apps/${a.app_id}/fields`, { subscribed_fields: f.getAll('fields') }, { token });
      connected.reload();
    } catch (err) {
      setError(err);
    }
  }
  async function disconnect(appId: string) {
    if (!confirm('Disconnect this app? Its page token stops working.')) return;
    try {
      await api('DELETE', `/pages/${id}/apps/${appId}`, undefined, { token });
      connected.reload();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <>
      <h2>{page.value?.name ?? 'Page'}</h2>
      <p class="muted">
        Page id <code>{id}</code> {page.value?.category ? `· ${page.value.category}` : ''}
      </p>
      <ErrorText error={page.error || connected.error || error} />
      <Inbox token={token} pageId={id} appNames={new Map((connected.value?.data ?? []).map((a) => [a.app_id, a.name]))} />
      <section class="section" aria-labelledby="connected">
        <h3 id="connected">Connected apps</h3>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>App</th>
                <th>Fields</th>
                <th>Handover role</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {connected.value?.data.map((a) => (
                <tr key={a.app_id}>
                  <td>
                    <a href={`/console/apps/${a.app_id}`} onClick={(e) => (e.preventDefault(), go(`/console/apps/${a.app_id}`))}>
                      {a.name}
                    </a>
                  </td>
                  <td>
                    <details class="fields-edit">
                      <summary>{a.subscribed_fields.join(', ') || 'none'}</summary>
                      <form onSubmit={(e) => saveFields(e, a)} aria-label={`Webhook fields of ${a.name}`}>
                        {FIELDS.map((f) => (
                          <label key={f}>
                            <input type="checkbox" name="fields" value={f} defaultChecked={a.subscribed_fields.includes(f)} />
                            {f}
                          </label>
                        ))}
                        <button type="submit">Save fields</button>
                      </form>
                    </details>
                  </td>
                  <td>
                    <select
                      class="role-select"
                      aria-label={`Handover role of ${a.name}`}
                      aria-describedby="handover-help"
                      value={(roleSaving?.appId === a.app_id ? roleSaving.role : a.handover_role) ?? ''}
                      disabled={!!roleSaving}
                      onChange={(e) => void setRole(a, roleFromSelect((e.target as HTMLSelectElement).value))}
                    >
                      {ROLE_OPTIONS.map((o) => (
                        <option key={o.value} value={o.value}>
                          {o.label}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <button type="button" class="danger" onClick={() => disconnect(a.app_id)}>
                      Disconnect
                    </button>
                  </td>
                </tr>
              ))}
              {connected.value && !connected.value.data.length && (
                <tr>
                  <td colSpan={4} class="muted">
                    No app is connected.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <p class="muted" id="handover-help">
          Handover roles: with a primary app, each conversation's events go to the app controlling it (the primary unless
          control was passed) and, as <code>standby</code>, to the other apps; without one, every app gets every event.
        </p>
        <ErrorText error={roleError} />
        {roleNote && <p role="status">{roleNote}</p>}
        {noStandby.length > 0 && (
          <p class="muted" data-testid="no-standby">
            Not subscribed to <code>standby</code> on this Page, so getting nothing of the conversations another app
            controls: {noStandby.join(', ')}.
          </p>
        )}
        <form onSubmit={connect}>
          <label>
            App to connect
            <select name="app_id" required>
              {apps.map((a) => (
                <option value={a.id} key={a.id}>
                  {a.name} ({a.id})
                </option>
              ))}
            </select>
          </label>
          <fieldset class="fields">
            <legend>Webhook fields</legend>
            {FIELDS.map((f) => (
              <label key={f}>
                <input type="checkbox" name="fields" value={f} defaultChecked={CORE_FIELDS.includes(f)} />
                {f}
              </label>
            ))}
          </fieldset>
          <button type="submit" class="primary" disabled={!apps.length}>
            Connect app
          </button>
        </form>
        {pageToken && <ShownOnce label="Page access token" value={pageToken} />}
        <p class="muted">
          Connecting again issues a new page token; the previous one stops working. Only your own apps can be connected: to
          use another developer's bot, add them as an admin below and let them connect it.
        </p>
      </section>
      <Admins token={token} pageId={id} />
      <Scripts token={token} pageId={id} onRoleChange={() => connected.reload()} />
    </>
  );
}

// Who may manage the page. The last admin can't be removed (the api refuses it).
function Admins({ token, pageId }: { token: string; pageId: string }) {
  const admins = useAsync(() => api<List<PageAdmin>>('GET', `/pages/${pageId}/admins`, undefined, { token }), [pageId]);
  const [error, setError] = useState<unknown>(null);
  async function add(e: Event) {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    setError(null);
    try {
      await api('POST', `/pages/${pageId}/admins`, { username: new FormData(form).get('username') }, { token });
      form.reset();
      admins.reload();
    } catch (err) {
      setError(err);
    }
  }
  async function remove(a: PageAdmin) {
    if (!confirm(`Remove ${a.username} as an admin of this page?`)) return;
    setError(null);
    try {
      await api('DELETE', `/pages/${pageId}/admins/${a.user_id}`, undefined, { token });
      admins.reload();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <section class="section" aria-labelledby="admins">
      <h3 id="admins">Admins</h3>
      <ErrorText error={admins.error || error} />
      <ul class="plain" aria-label="Page admins">
        {admins.value?.data.map((a) => (
          <li key={a.user_id}>
            {a.name} <span class="muted">@{a.username}</span>{' '}
            <button type="button" class="danger" aria-label={`Remove ${a.username}`} onClick={() => remove(a)}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={add}>
        <label>
          Add an admin by username
          <input name="username" required maxLength={64} autoComplete="off" />
        </label>
        <button type="submit" class="secondary">
          Add admin
        </button>
      </form>
    </section>
  );
}

function fmt(d: string | null | undefined) {
  return d ? new Date(d).toLocaleString() : '—';
}

function AppView({ token, id }: { token: string; id: string }) {
  const app = useAsync(() => api<App>('GET', `/apps/${id}`, undefined, { token }), [id]);
  const [secret, setSecret] = useState<RotatedSecret | null>(null);
  const [error, setError] = useState<unknown>(null);
  async function rotate() {
    if (!confirm('Rotate the app secret? The previous one keeps working for a short grace period.')) return;
    try {
      setSecret(await api<RotatedSecret>('POST', `/apps/${id}/secret/rotate`, undefined, { token }));
    } catch (err) {
      setError(err);
    }
  }
  return (
    <>
      <h2>{app.value?.name ?? 'App'}</h2>
      <p class="muted">
        App id <code>{id}</code>
      </p>
      <ErrorText error={app.error || error} />
      <section class="section" aria-labelledby="secret-h">
        <h3 id="secret-h">App secret</h3>
        <p class="muted">Only a hash is stored: a new secret is shown once.</p>
        <button type="button" class="secondary" onClick={rotate}>
          Rotate app secret
        </button>
        {secret && (
          <>
            <ShownOnce label="New app secret" value={secret.secret} />
            <p class="muted">The previous secret works until {fmt(secret.previous_secret_expires_at)}.</p>
          </>
        )}
      </section>
      <Subscription id={id} />
      <Gateway token={token} id={id} />
    </>
  );
}

// Graph's POST /{app-id}/subscriptions takes the app token `id|secret`; only a hash of the secret is stored,
// so the developer pastes it here. It stays in this form only.
function Subscription({ id }: { id: string }) {
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setResult(null);
    try {
      await api('POST', `${GRAPH}/${id}/subscriptions`, {
        access_token: `${id}|${f.get('secret')}`,
        object: 'page',
        callback_url: f.get('callback_url'),
        verify_token: f.get('verify_token'),
        fields: f.getAll('fields').join(','),
      });
      setResult({ ok: true, text: 'Verified: the callback answered the challenge. Subscription saved.' });
    } catch (err) {
      setResult({ ok: false, text: `Verification failed: ${(err as Error).message}` });
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="section" aria-labelledby="sub-h">
      <h3 id="sub-h">Webhook subscription</h3>
      <form onSubmit={submit}>
        <div class="row">
          <label>
            Callback URL
            <input name="callback_url" type="url" required placeholder="https://bot.example.com/webhook" />
          </label>
          <label>
            Verify token
            <input name="verify_token" required />
          </label>
          <label>
            App secret
            <input name="secret" type="password" required autoComplete="off" />
          </label>
        </div>
        <fieldset class="fields">
          <legend>Fields</legend>
          {FIELDS.map((f) => (
            <label key={f}>
              <input type="checkbox" name="fields" value={f} defaultChecked={CORE_FIELDS.includes(f)} />
              {f}
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Verifying…' : 'Verify and save'}
        </button>
      </form>
      {result && (
        <p class={result.ok ? 'ok' : 'error'} role="status" data-testid="verification">
          {result.text}
        </p>
      )}
    </section>
  );
}

// Endpoint health and the delivery log: GET /apps/:id/webhook, /apps/:id/deliveries[/:id], retry, replay.
function Gateway({ token, id }: { token: string; id: string }) {
  const health = useAsync(() => api<WebhookHealth>('GET', `/apps/${id}/webhook`, undefined, { token }), [id]);
  const [filter, setFilter] = useState<LogFilter>(EMPTY_FILTER);
  const [log, setLog] = useState<LogState | null>(null);
  const [logError, setLogError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [reloads, setReloads] = useState(0);
  // A refresh keeps as many rows as were on screen (up to the API's 500), so a replay on page 3 stays in view.
  const keep = useRef(0);
  useEffect(() => {
    const bad = filterError(filter);
    if (bad) {
      setLogError(new Error(bad));
      return;
    }
    let live = true;
    const limit = Math.min(500, Math.max(filter.limit, keep.current));
    keep.current = 0;
    setLogError(null);
    api<DeliveryPage>('GET', `/apps/${id}/deliveries`, undefined, { token, query: deliveryQuery({ ...filter, limit }) })
      .then((page) => live && setLog(withPage(null, page, false)))
      .catch((err) => live && setLogError(err));
    return () => {
      live = false;
    };
  }, [id, filter, reloads]);
  const setF = (patch: Partial<LogFilter>) => setFilter((f) => ({ ...f, ...patch }));
  async function loadMore() {
    if (!log?.next) return;
    setLoadingMore(true);
    try {
      const page = await api<DeliveryPage>('GET', `/apps/${id}/deliveries`, undefined, { token, query: deliveryQuery(filter, log.next) });
      setLog((s) => withPage(s, page, true));
    } catch (err) {
      setLogError(err);
    } finally {
      setLoadingMore(false);
    }
  }
  const [open, setOpen] = useState<DeliveryDetail | null>(null);
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>(null);
  if (routeMissing(health.error))
    return (
      <section class="section gap" aria-label="Delivery log">
        Endpoint health and the delivery log need the webhook gateway routes (GET /apps/:id/webhook, /apps/:id/deliveries), which
        this server does not have yet.
      </section>
    );
  const refresh = () => {
    health.reload();
    keep.current = log?.rows.length ?? 0;
    setReloads((n) => n + 1);
    if (open) void show(open);
  };
  async function show(d: Delivery) {
    try {
      setOpen(await api<DeliveryDetail>('GET', `/apps/${id}/deliveries/${d.id}`, undefined, { token }));
    } catch (err) {
      setError(err);
    }
  }
  async function retry(d: Delivery) {
    try {
      const res = await api<DeliveryDetail>('POST', `/apps/${id}/deliveries/${d.id}/retry`, undefined, { token });
      setOpen(res);
      setNote(`Delivery ${d.id.slice(0, 8)} queued again.`);
      refresh();
    } catch (err) {
      setError(err);
    }
  }
  async function replay(e: Event) {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const hours = Number(f.get('hours') || 1);
    const status = String(f.get('status') || '');
    try {
      const res = await api<Replayed>(
        'POST',
        `/apps/${id}/replay`,
        {
          since: new Date(Date.now() - hours * 3600_000).toISOString(),
          until: new Date().toISOString(),
          ...(status ? { status } : {}),
        },
        { token },
      );
      setNote(`Replaying ${res.replayed} deliveries.`);
      refresh();
    } catch (err) {
      setError(err);
    }
  }
  async function resume() {
    try {
      await api('POST', `/apps/${id}/webhook/resume`, undefined, { token });
      refresh();
    } catch (err) {
      setError(err);
    }
  }
  const h = health.value;
  return (
    <>
      <section class="section" aria-labelledby="health-h">
        <h3 id="health-h">
          Endpoint health{' '}
          {h && (
            <span class={`pill ${h.state === 'ok' ? 'good' : h.state === 'paused' ? 'bad' : 'warn'}`} data-testid="health-state">
              {h.state}
            </span>
          )}
        </h3>
        <ErrorText error={health.error} />
        {h && (
          <>
            {h.warning && (
              <p class="error" role="alert">
                {h.warning}
              </p>
            )}
            {h.inactive_reason && <p class="error">Subscription inactive: {h.inactive_reason}</p>}
            <dl class="kv">
              <dt>URL</dt>
              <dd>{h.url ?? '— (pull mode)'}</dd>
              <dt>Success rate (1 h)</dt>
              <dd>{h.success_rate_1h === null ? '—' : `${Math.round(h.success_rate_1h * 100)}% of ${h.attempts_1h}`}</dd>
              <dt>Backlog</dt>
              <dd>
                {h.pending_update_count} pending, {h.in_flight_count} in flight
                {h.oldest_pending_age_seconds !== null ? `, oldest ${h.oldest_pending_age_seconds} s` : ''}
              </dd>
              <dt>Last success</dt>
              <dd>{fmt(h.last_success_date)}</dd>
              <dt>Last error</dt>
              <dd>
                {fmt(h.last_error_date)} {h.last_error_message ?? ''}
              </dd>
            </dl>
            {h.state === 'paused' && (
              <button type="button" class="primary" onClick={resume}>
                Resume delivery
              </button>
            )}
          </>
        )}
      </section>
      <section class="section" aria-labelledby="log-h">
        <h3 id="log-h">Delivery log</h3>
        <div class="row" role="group" aria-label="Filter deliveries">
          <label>
            Status
            <select value={filter.status} onChange={(e) => setF({ status: (e.target as HTMLSelectElement).value })}>
              <option value="">All</option>
              {['pending', 'in_flight', 'delivered', 'failed', 'pull'].map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label>
            From
            <input type="datetime-local" value={filter.since} onChange={(e) => setF({ since: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            To
            <input type="datetime-local" value={filter.until} onChange={(e) => setF({ until: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            Per page
            <select value={filter.limit} onChange={(e) => setF({ limit: Number((e.target as HTMLSelectElement).value) })}>
              {PAGE_SIZES.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <button type="button" class="secondary" onClick={refresh}>
            Refresh
          </button>
        </div>
        <ErrorText error={logError || error} />
        {note && <p role="status">{note}</p>}
        <div class="table-wrap">
          <table aria-label="Deliveries">
            <thead>
              <tr>
                <th>When</th>
                <th>Field</th>
                <th>Status</th>
                <th>Attempts</th>
                <th>Last error</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {log?.rows.map((d) => (
                <tr key={d.id} data-delivery={d.id} data-status={d.status}>
                  <td>{fmt(d.created_at)}</td>
                  <td>{d.field}</td>
                  <td>
                    <span class={`pill ${statusPill(d.status)}`}>{d.status}</span>
                  </td>
                  <td>{d.attempts}</td>
                  <td>{d.last_error ?? ''}</td>
                  <td>
                    <button type="button" class="link" onClick={() => show(d)} aria-label={`Attempts of delivery ${d.id}`}>
                      Attempts
                    </button>
                    {d.status !== 'in_flight' && d.status !== 'pull' && (
                      <button
                        type="button"
                        class="secondary"
                        onClick={() => retry(d)}
                        aria-label={`${d.status === 'pending' ? 'Retry now' : 'Replay'} delivery ${d.id}`}
                      >
                        {d.status === 'pending' ? 'Retry now' : 'Replay'}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
              {log && !log.rows.length && (
                <tr>
                  <td colSpan={6} class="muted">
                    No deliveries.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        {log && log.rows.length > 0 && (
          <div class="row paging">
            <span class="muted" role="status">
              {log.rows.length} {log.rows.length === 1 ? 'delivery' : 'deliveries'}
              {log.next ? ' shown, newest first' : ' — all of them'}
            </span>
            {log.next && (
              <button type="button" class="secondary" onClick={loadMore} disabled={loadingMore}>
                {loadingMore ? 'Loading…' : 'Load more'}
              </button>
            )}
          </div>
        )}
        {open && (
          <div class="section" aria-label="Attempts">
            <h3>
              Delivery {open.id.slice(0, 8)} <span class={`pill ${statusPill(open.status)}`}>{open.status}</span>
            </h3>
            <table>
              <thead>
                <tr>
                  <th>#</th>
                  <th>Time</th>
                  <th>HTTP</th>
                  <th>Latency</th>
                  <th>Error / response</th>
                </tr>
              </thead>
              <tbody>
                {open.attempt_log.map((a) => (
                  <tr key={a.attempt}>
                    <td>{a.attempt}</td>
                    <td>{fmt(a.time)}</td>
                    <td>{a.status_code ?? '—'}</td>
                    <td>{a.latency_ms === null ? '—' : `${a.latency_ms} ms`}</td>
                    <td>{a.error ?? a.response_body ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <details>
              <summary>Payload</summary>
              <pre class="code">{JSON.stringify(open.payload, null, 2)}</pre>
            </details>
          </div>
        )}
        <form class="row" onSubmit={replay} aria-label="Replay a time range">
          <label>
            Replay the last … hours
            <input name="hours" type="number" min={1} max={720} defaultValue={1} />
          </label>
          <label>
            Which
            <select name="status">
              <option value="failed">Failed only</option>
              <option value="">Failed and delivered</option>
            </select>
          </label>
          <button type="submit" class="secondary">
            Replay range
          </button>
        </form>
      </section>
    </>
  );
}

function Root() {
  const [token, setToken] = useState(tokens.get());
  const set = (t: string | null) => {
    tokens.set(t);
    setToken(t);
  };
  const logout = () => {
    if (token) void api('POST', '/auth/logout', undefined, { token }).catch(() => undefined);
    set(null);
  };
  return token ? <Console token={token} onLogout={logout} /> : <Auth title="Switchboard console" onToken={set} />;
}

render(<Root />, document.getElementById('app')!);
