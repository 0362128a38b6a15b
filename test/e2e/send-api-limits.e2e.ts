import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { conversation, personSays } from '../factories/messaging.factory';
import { connectApp, createPage } from '../factories/registry.factory';

// Token buckets with a small configured rate: a Page's bucket (613 + Retry-After), the app's ceiling (4),
// exhausted and then refilled. Through the Redis limiter and the in-process one.
describe.each([
  ['redis', true],
  ['in-process', false],
])('send api rate limits (%s)', (_label, redis) => {
  let t: TestPlatform;
  let api: HttpClient;

  beforeAll(async () => {
    t = await startTestPlatform({
      redis,
      env: {
        SEND_RATE_PER_PAGE_PER_SECOND: '3',
        SEND_RATE_PER_APP_PER_SECOND: '5',
        // 3 calls, refilled at one a second.
        MESSENGER_PROFILE_RATE_CALLS: '3',
        MESSENGER_PROFILE_RATE_WINDOW_SECONDS: '3',
      },
    });
    api = httpClient(t.url);
  });
  afterAll(async () => t?.close());

  async function setup() {
    const c = await conversation(api);
    await personSays(api, c.person, c.thread.id, 'hi');
    const [row] = await t.db.query('SELECT psid FROM threads WHERE id = $1', [c.thread.id]);
    return { ...c, psid: row.psid as string };
  }
  const send = (token: string, psid: string) =>
    api.post(`/v25.0/me/messages?access_token=${token}`, { recipient: { id: psid }, messaging_type: 'RESPONSE', message: { text: 'x' } });

  it('answers 613 with Retry-After once a Page bucket is empty, and sends again once it refilled', async () => {
    const c = await setup();
    const burst = await Promise.all(Array.from({ length: 4 }, () => send(c.pageToken, c.psid)));
    // No timing assumed: any refusal in the burst must be exactly Graph's 613.
    const refused = burst.filter((r) => r.status !== 200);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.body.error).toMatchObject({ code: 613, message: '(#613) Calls to this api have exceeded the rate limit.', type: 'OAuthException' });
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // Keep spending until refused (the bucket is empty), then wait for it to refill.
    const empty = await waitFor('an empty bucket', async () => ((await send(c.pageToken, c.psid)).status === 429 ? true : undefined));
    expect(empty).toBe(true);
    const refilled = await waitFor('a refilled bucket', async () => {
      const r = await send(c.pageToken, c.psid);
      return r.status === 200 ? r : undefined;
    }, { intervalMs: 100 });
    expect(refilled.body.message_id).toMatch(/^m_/);
    // Refusals sent nothing: the page's messages are exactly the 200s.
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE thread_id = $1 AND sender = 'page'`, [c.thread.id]);
    const [{ e }] = await t.db.query(`SELECT count(*)::int AS e FROM user_events WHERE user_id = $1 AND type = 'message'`, [c.person.id]);
    expect(e).toBe(n);
  });

  it("answers 4 when the app's ceiling is reached across its Pages, and each Page's bucket is its own", async () => {
    const c = await setup();
    // A second Page of the same app: its sends (to an unknown PSID) still spend the app's ceiling.
    const page2 = await createPage(api, c.owner, 'Second');
    const token2 = await connectApp(api, c.owner, page2.id, c.app.id);
    const codes = new Set<number>();
    await waitFor('the app ceiling', async () => {
      const rs = await Promise.all([
        ...Array.from({ length: 4 }, () => send(c.pageToken, c.psid)),
        ...Array.from({ length: 4 }, () => send(token2, '1')),
      ]);
      for (const r of rs) if (r.status === 429) codes.add(r.body.error.code);
      const four = rs.find((r) => r.status === 429 && r.body.error.code === 4);
      if (four) {
        expect(four.body.error.message).toBe('(#4) Application request limit reached');
        expect(Number(four.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      return four;
    });
    expect(codes.has(4)).toBe(true);
    await waitFor('the app refilled', async () => ((await send(c.pageToken, c.psid)).status === 200 ? true : undefined), { intervalMs: 100 });
  });

  it('answers 613 once a Page has spent its Messenger Profile calls, and answers again once the bucket refilled', async () => {
    const c = await setup();
    const profile = () => api.get(`/v25.0/me/messenger_profile?fields=greeting&access_token=${c.pageToken}`);
    const refused = await waitFor('an empty profile bucket', async () => {
      const r = await profile();
      return r.status === 429 ? r : undefined;
    });
    expect(refused.body.error).toMatchObject({ code: 613, message: '(#613) Calls to this api have exceeded the rate limit.', type: 'OAuthException' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const refilled = await waitFor('a refilled profile bucket', async () => {
      const r = await profile();
      return r.status === 200 ? r : undefined;
    }, { intervalMs: 200 });
    expect(refilled.body).toEqual({ data: [] });
  });
});

// Messenger's own figure (10 calls per 10 minutes per Page), scaled down: nothing refills during the test.
describe('messenger profile rate limit', () => {
  let t: TestPlatform;
  let api: HttpClient;

  beforeAll(async () => {
    t = await startTestPlatform({ redis: false, env: { MESSENGER_PROFILE_RATE_CALLS: '3', MESSENGER_PROFILE_RATE_WINDOW_SECONDS: '3600' } });
    api = httpClient(t.url);
  });
  afterAll(async () => t?.close());

  it("counts POST, GET and DELETE per Page, refuses past the limit without storing, and leaves other Pages and the person's view alone", async () => {
    const c = await conversation(api);
    const url = `/v25.0/me/messenger_profile?access_token=${c.pageToken}`;
    expect((await api.post(url, { get_started: { payload: 'GS' } })).status).toBe(200);
    expect((await api.get(`${url}&fields=get_started`)).status).toBe(200);
    // A refused call spends too (as on the Send API): this 400 is the third call.
    expect((await api.call('DELETE', url, { fields: ['nope'] })).status).toBe(400);

    const over = await api.post(url, { greeting: [{ locale: 'default', text: 'Hi' }] });
    expect(over.status).toBe(429);
    expect(over.body.error).toMatchObject({ code: 613, message: '(#613) Calls to this api have exceeded the rate limit.', type: 'OAuthException' });
    // One call refills in window / calls = 1200 s.
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(1000);
    const [row] = await t.db.query('SELECT settings FROM messenger_profiles WHERE page_id = $1', [c.page.id]);
    expect(row.settings).toEqual({ get_started: { payload: 'GS' } });
    expect((await api.get(`${url}&fields=get_started`)).status).toBe(429);

    // The person's client reads the profile without spending the Page's Graph calls.
    const view = await api.get(`/pages/${c.page.id}/profile`, { token: c.person.token });
    expect(view.status).toBe(200);
    expect(view.body.get_started).toEqual({ title: 'Get Started', payload: 'GS' });
    // Another Page has its own bucket, and the Send API's bucket is not this one.
    const page2 = await createPage(api, c.owner, 'Second');
    const token2 = await connectApp(api, c.owner, page2.id, c.app.id);
    expect((await api.get(`/v25.0/me/messenger_profile?fields=greeting&access_token=${token2}`)).status).toBe(200);
    await personSays(api, c.person, c.thread.id, 'hi');
    const [th] = await t.db.query('SELECT psid FROM threads WHERE id = $1', [c.thread.id]);
    const sent = await api.post(`/v25.0/me/messages?access_token=${c.pageToken}`, { recipient: { id: th.psid }, messaging_type: 'RESPONSE', message: { text: 'x' } });
    expect(sent.status).toBe(200);
  });
});
