import * as fs from 'node:fs';
import * as path from 'node:path';
import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform, TEST_ADMIN_TOKEN } from '../support/spawn-platform';
import { conversationWithPsid, personSays } from '../factories/messaging.factory';

// Every route in the published OpenAPI document, with every kind of caller, against bodies and queries that
// have crashed parsers before (an own `constructor` key, which class-transformer takes for a class; nesting
// deeper than the stack), as JSON, form-encoded and in the query: always a 4xx (or a success), never a 5xx, in
// the route's error shape. The per-module fuzz tests cover random input on chosen routes; this covers every route.
describe('every route against hazardous input', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let c: Awaited<ReturnType<typeof conversationWithPsid>>;
  let mid: string;

  beforeAll(async () => {
    t = await startTestPlatform({ redis: false });
    api = httpClient(t.url);
    c = await conversationWithPsid(api, t.db);
    mid = (await personSays(api, c.person, c.thread.id, 'a message to react to and edit')).mid;
  });
  afterAll(async () => t?.close());

  const deep = (levels: number) => `${'['.repeat(levels)}"x"${']'.repeat(levels)}`;
  const D = deep(20_000);
  const fieldNames = ['name', 'text', 'message', 'recipient', 'fields', 'payload', 'watermark', 'page_id', 'app_id', 'source', 'callback_url', 'subscribed_fields', 'get_started', 'reaction', 'ref', 'answers'];
  const json = (value: string) => `{${fieldNames.map((f) => `"${f}":${value}`).join(',')}}`;
  const bodies: { label: string; type: string; raw: string }[] = [
    { label: 'constructor at the top', type: 'application/json', raw: '{"constructor":"1","name":"n"}' },
    { label: 'constructor under every field', type: 'application/json', raw: json('{"constructor":"1"}') },
    { label: 'deep nesting under every field', type: 'application/json', raw: json(D) },
    { label: 'deep nesting as the body', type: 'application/json', raw: D },
    {
      label: 'form with JSON hazards',
      type: 'application/x-www-form-urlencoded',
      raw: fieldNames.map((f, i) => `${f}=${encodeURIComponent(i % 2 ? D : '{"constructor":"1"}')}`).join('&'),
    },
  ];
  const query = `?constructor=1&fields=${encodeURIComponent('{"constructor":"1"}')}&after=${encodeURIComponent(deep(2_000))}&limit=${encodeURIComponent('{"constructor":1}')}`;

  function routes(): { method: string; path: string }[] {
    const doc = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'openapi', 'openapi.json'), 'utf8'));
    const ids: Record<string, string> = {
      graphVersion: 'v25.0',
      appId: c.app.id,
      pageId: c.page.id,
      pageRef: c.page.id,
      threadId: c.thread.id,
      mid,
      psid: c.psid,
      deliveryId: '00000000-0000-4000-8000-000000000000',
      userId: c.person.id,
      version: '1',
      id: '1',
      variant: 'original',
      objectId: '1',
      personaId: '1',
      noteId: '1',
      reportId: '1',
    };
    const out: { method: string; path: string }[] = [];
    for (const [template, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
      const concrete = template.replace(/\{(\w+)\}/g, (_, name: string) => {
        if (!(name in ids)) throw new Error(`no id for {${name}} in ${template}: add one`);
        return ids[name];
      });
      for (const method of Object.keys(ops)) if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) out.push({ method: method.toUpperCase(), path: concrete });
    }
    // What ends a token or removes the fixture goes last, so the rest meet live callers.
    const destructive = (r: { method: string; path: string }) => r.method === 'DELETE' || /logout|rotate|suspend|deactivate/.test(r.path);
    return [...out.filter((r) => !destructive(r)), ...out.filter(destructive)];
  }

  it('answers every route, caller, body and query below 500, in the route’s error shape', async () => {
    const all = routes();
    expect(all.length).toBeGreaterThan(60);
    // The form bodies are parsed, not refused for their type: the Send API reads them as Graph does and names the hazard.
    const form = bodies.find((b) => b.type.includes('form'))!;
    const send = await api.call('POST', `/v25.0/me/messages?access_token=${c.pageToken}`, undefined, { headers: { 'content-type': form.type }, raw: form.raw });
    expect([send.status, send.body.error?.code]).toEqual([400, 100]);
    expect(send.body.error.message).toMatch(/^\(#100\) param \w+/);
    const callers = [undefined, c.person.token, c.owner.token, c.pageToken, c.app.token, TEST_ADMIN_TOKEN];
    const failures: string[] = [];
    for (const route of all) {
      for (const token of callers) {
        const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
        const tries = route.method === 'GET' || route.method === 'DELETE' ? [{ label: 'query', type: '', raw: undefined as string | undefined }] : bodies;
        for (const b of tries) {
          const res = await api.call(route.method, `${route.path}${query}`, undefined, {
            headers: b.type ? { ...headers, 'content-type': b.type } : headers,
            raw: b.raw,
          });
          const where = `${route.method} ${route.path} (${b.label}, ${token ? token.slice(0, 6) : 'no token'})`;
          if (res.status >= 500) failures.push(`${where}: ${res.status} ${res.text.slice(0, 200)}`);
          else if (res.status >= 400 && res.headers['content-type']?.toString().includes('json')) {
            const shaped = /^\/v25\.0(\/|$)/.test(route.path)
              ? typeof res.body?.error?.code === 'number' && typeof res.body.error.fbtrace_id === 'string'
              : res.body?.statusCode === res.status && typeof res.body.code === 'string';
            if (!shaped) failures.push(`${where}: ${res.status} not in the route's error shape: ${res.text.slice(0, 200)}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  }, 240_000);
});
