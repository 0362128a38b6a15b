import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { conversationWithPsid } from '../factories/messaging.factory';

// Graph's batch request: up to 50 calls in one, run in order, each answered as if made alone.
describe('graph: batch requests', () => {
  let t: TestPlatform;
  let api: HttpClient;

  beforeAll(async () => {
    t = await startTestPlatform();
    api = httpClient(t.url);
  });
  afterAll(async () => t?.close());

  async function setup() {
    const c = await conversationWithPsid(api, t.db);
    await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1', [c.thread.id, Date.now()]);
    return c;
  }
  const sendBody = (psid: string, text: string) =>
    new URLSearchParams({ recipient: JSON.stringify({ id: psid }), messaging_type: 'RESPONSE', message: JSON.stringify({ text }) }).toString();

  it('runs each operation in order with the batch token, as Graph answers them', async () => {
    const c = await setup();
    const batch = [
      { method: 'POST', relative_url: 'me/messages', body: sendBody(c.psid, 'first') },
      { method: 'POST', relative_url: 'v25.0/me/messages', body: sendBody(c.psid, 'second') },
      { method: 'POST', relative_url: 'me/messages', body: sendBody('1234567890123456', 'nobody') },
      { method: 'GET', relative_url: `${c.psid}?fields=first_name` },
    ];
    // Graph's root, form-encoded, as SDKs call it.
    const res = await api.post('/', undefined, { form: { access_token: c.pageToken, batch: JSON.stringify(batch) } });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(4);
    expect(res.body.map((a: any) => a.code)).toEqual([200, 200, 400, 200]);
    const [first, second, nobody, profile] = res.body.map((a: any) => JSON.parse(a.body));
    expect(first).toEqual({ recipient_id: c.psid, message_id: expect.stringMatching(/^m_/) });
    expect(second.message_id).not.toBe(first.message_id);
    expect(nobody.error).toMatchObject({ code: 100, error_subcode: 2018001 });
    expect(profile).toMatchObject({ first_name: 'Customer', id: c.psid });
    expect(res.body[0].headers).toContainEqual({ name: 'Content-Type', value: expect.stringContaining('application/json') });
    const history = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(history.body.data.map((m: any) => m.text)).toEqual(['first', 'second']);

    // JSON, versioned, headers left out.
    const json = await api.post(`/v25.0/?access_token=${encodeURIComponent(c.pageToken)}`, {
      include_headers: false,
      batch: [{ method: 'get', relative_url: 'me' }],
    });
    expect(json.status).toBe(200);
    expect(json.body).toEqual([{ code: 200, body: expect.any(String) }]);
    expect(JSON.parse(json.body[0].body)).toMatchObject({ id: c.page.id });
  });

  it("gives an operation its own token when it names one, and nothing a single call couldn't reach", async () => {
    const c = await setup();
    const d = await setup();
    const res = await api.post(`/v25.0?access_token=${encodeURIComponent(c.pageToken)}`, {
      batch: [
        { method: 'POST', relative_url: `me/messages?access_token=${encodeURIComponent(d.pageToken)}`, body: sendBody(d.psid, 'to d') },
        { method: 'POST', relative_url: 'me/messages', body: sendBody(d.psid, 'c to d') },
        { method: 'GET', relative_url: 'threads' },
      ],
    });
    expect(res.body.map((a: any) => a.code)).toEqual([200, 400, 400]);
    const history = await api.get(`/threads/${d.thread.id}/messages`, { token: d.person.token });
    expect(history.body.data.map((m: any) => m.text)).toEqual(['to d']);
  });

  it('keeps every operation under the Graph prefix: no dot segments, no batch in a batch', async () => {
    const c = await setup();
    const inner = JSON.stringify([{ method: 'GET', relative_url: 'me' }]);
    for (const op of [
      { method: 'GET', relative_url: '%2e%2e/health' },
      { method: 'GET', relative_url: 'me/%2e%2e/%2e%2e/metrics' },
      { method: 'POST', relative_url: `.?batch=${encodeURIComponent(inner)}` },
    ]) {
      const res = await api.post(`/v25.0?access_token=${encodeURIComponent(c.pageToken)}`, { batch: [op] });
      expect([res.status, res.body.error?.code]).toEqual([400, 100]);
    }
    // Nor the batch route itself, by version alone.
    const nested = await api.post(`/v25.0?access_token=${encodeURIComponent(c.pageToken)}`, { batch: [{ method: 'POST', relative_url: 'v25.0?batch=[]' }] });
    expect([nested.status, nested.body.error?.code]).toEqual([400, 100]);
  });

  it('answers with URLs where the caller reached the platform', async () => {
    const c = await setup();
    const direct = await api.get(`/v25.0/${c.psid}?fields=profile_pic&access_token=${encodeURIComponent(c.pageToken)}`);
    const batched = await api.post(`/v25.0?access_token=${encodeURIComponent(c.pageToken)}`, { batch: [{ method: 'GET', relative_url: `${c.psid}?fields=profile_pic` }] });
    const url = new URL(JSON.parse(batched.body[0].body).profile_pic);
    expect(url.origin).toBe(new URL(direct.body.profile_pic).origin);
    expect(url.origin).toBe(new URL(t.url).origin);
  });

  it('runs dependent operations with values of earlier answers ({result=name:$.path}), as Graph does', async () => {
    const c = await setup();
    // Greet the person by the name their profile answers, in one batch.
    const batch = [
      { method: 'GET', relative_url: `${c.psid}?fields=first_name`, name: 'profile' },
      {
        method: 'POST',
        relative_url: 'me/messages',
        name: 'greet',
        omit_response_on_success: false,
        body: 'recipient={"id":"{result=profile:$.id}"}&messaging_type=RESPONSE&message={"text":"Hi {result=profile:$.first_name}!"}',
      },
      { method: 'GET', relative_url: 'me', depends_on: 'greet' },
      // A parent that fails: its dependant is not run.
      { method: 'POST', relative_url: 'me/messages', name: 'bad', body: 'recipient={"id":"1234567890123456"}&message={"text":"x"}' },
      { method: 'POST', relative_url: 'me/messages', body: 'recipient={"id":"{result=bad:$.recipient_id}"}&message={"text":"never"}' },
      // A path that selects nothing.
      { method: 'GET', relative_url: '{result=profile:$.nickname}' },
    ];
    const res = await api.post('/', undefined, { form: { access_token: c.pageToken, batch: JSON.stringify(batch) } });
    expect(res.status).toBe(200);
    const [profile, greet, me, bad, never, empty] = res.body;
    // What others depend on is left out when it succeeded, unless it asked to stay.
    expect(profile).toBeNull();
    expect(greet.code).toBe(200);
    expect(JSON.parse(greet.body)).toEqual({ recipient_id: c.psid, message_id: expect.stringMatching(/^m_/) });
    expect(me.code).toBe(200);
    expect(bad.code).toBe(400);
    expect([never.code, JSON.parse(never.body).error]).toEqual([400, expect.objectContaining({ code: 100, message: expect.stringContaining('"bad", which failed') })]);
    expect(JSON.parse(empty.body).error.message).toContain('selects nothing');
    const history = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(history.body.data.map((m: any) => m.text)).toEqual(['Hi Customer!']);

    // A reference to no earlier operation refuses the batch whole.
    const forward = await api.post('/', undefined, {
      form: { access_token: c.pageToken, batch: JSON.stringify([{ method: 'GET', relative_url: 'me/{result=later:$.id}' }, { method: 'GET', relative_url: 'me', name: 'later' }]) },
    });
    expect([forward.status, forward.body.error?.code]).toEqual([400, 100]);
  });

  it('refuses a malformed batch whole, with Graph error 100, and needs a token', async () => {
    const c = await setup();
    for (const batch of ['[', '[]', JSON.stringify([{ method: 'PUT', relative_url: 'me' }]), JSON.stringify([{ method: 'GET', relative_url: 'https://evil.example/' }]),
      JSON.stringify(Array(51).fill({ method: 'GET', relative_url: 'me' })), JSON.stringify([{ method: 'GET', relative_url: '' }])]) {
      const res = await api.post('/', undefined, { form: { access_token: c.pageToken, batch } });
      expect([res.status, res.body.error?.code]).toEqual([400, 100]);
    }
    const anonymous = await api.post('/', undefined, { form: { batch: JSON.stringify([{ method: 'GET', relative_url: 'me' }]) } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe(190);
    // GET / is still the chat app.
    expect((await api.get('/')).status).toBe(200);
  });
});
