import { BotReceiver, receivedEntries, waitForEntry } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson, PersonSocket } from '../support/person-socket';
import { startTestPlatform, TestPlatform, TEST_ADMIN_TOKEN } from '../support/spawn-platform';
import { ALL_FIELDS, openThread, pageSays, personSays, psidOf } from '../factories/messaging.factory';
import { createPage, Person, signupPerson, subscribedApp } from '../factories/registry.factory';

const admin = { token: TEST_ADMIN_TOKEN };
const UNAVAILABLE = { message: "(#551) This person isn't available right now.", type: 'OAuthException', code: 551, error_subcode: 1545041 };
const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);

// People report their conversations with Pages and the operators review the reports, over real Postgres and Redis
// with bots that verify signatures: a report (with or without a block, in one step), its idempotency, who may
// report, the operators' list, detail and resolution (warn and suspend tell the Page's apps, signed, as the Page
// routes do), and that the Page's side learns nothing of a report.
describe('reports', () => {
  let t: TestPlatform;
  let api: HttpClient;
  const bots: BotReceiver[] = [];
  const sockets: PersonSocket[] = [];

  beforeAll(async () => {
    // A small bucket, so one test can spend it; every other test's person writes far fewer than this.
    t = await startTestPlatform({ env: { PERSON_SEND_BURST: '12', PERSON_SEND_RATE_PER_SECOND: '1' } });
    api = httpClient(t.url);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await Promise.all(bots.map((b) => b.close()));
    await t?.close();
  });

  // A Page whose bot hears messages and policy notices, and a person who wrote to it and got an answer.
  async function setup(pageName = 'Prize Corp') {
    const owner = await signupPerson(api, 'Page Owner');
    const page = await createPage(api, owner, pageName);
    const app = await subscribedApp(api, owner, page.id, 'Prize bot', [...ALL_FIELDS.split(','), 'messaging_policy_enforcement']);
    bots.push(app.bot);
    const person = await signupPerson(api, 'Customer');
    const thread = await openThread(api, person, page.id);
    const hello = await personSays(api, person, thread.id, 'Hello?');
    const psid = await psidOf(t.db, thread.id);
    const answer = await pageSays(api, app.pageToken, psid, { text: 'You won a prize! Send your card number' });
    expect(answer.status).toBe(200);
    return { owner, page, app, bot: app.bot, person, thread, hello, psid, answerMid: answer.body.message_id as string };
  }
  type Ctx = Awaited<ReturnType<typeof setup>>;

  const report = (c: { thread: { id: string } }, body: object, token: string) => api.post(`/threads/${c.thread.id}/report`, body, { token });
  const reportsOf = (threadId: string) =>
    t.db.query<{ id: string; reason: string; details: string | null; reported_seq: string; status: string; reporter_user_id: string; page_id: string }>(
      `SELECT * FROM page_reports WHERE thread_id = $1 ORDER BY created_at`,
      [threadId],
    );
  const socket = async (token: string) => {
    const s = await connectPerson(t.url, token);
    sockets.push(s);
    return s;
  };
  // Policy notices of one Page reach its bot in order: once a marker warning is there, nothing earlier is coming.
  async function policyNotices(c: Ctx) {
    const marker = `marker ${Math.random()}`;
    expect((await api.post(`/admin/pages/${c.page.id}/warn`, { reason: marker }, admin)).status).toBe(200);
    await waitForEntry('the marker notice', c.bot, (_, m) => m.policy_enforcement?.reason === marker);
    return receivedEntries(c.bot)
      .map(([, m]) => m)
      .filter((m) => m.policy_enforcement && m.policy_enforcement.reason !== marker);
  }

  it('reports without blocking; again while open answers the same report, updated; the Page learns nothing', async () => {
    const c = await setup();
    const res = await report(c, { reason: 'scam', details: 'They ask for my card number' }, c.person.token);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^\d{15}$/),
      reason: 'scam',
      details: 'They ask for my card number',
      status: 'open',
      created_at: ISO,
      updated_at: ISO,
      blocked: false,
    });
    // A reference to what was reported (the thread's last seq then), never a copy of the messages.
    const [row] = await reportsOf(c.thread.id);
    expect(row).toMatchObject({ id: res.body.id, page_id: c.page.id, reporter_user_id: c.person.id, reported_seq: '2', status: 'open' });
    expect(JSON.stringify(row)).not.toContain('prize');

    // A retry: the same report, nothing new.
    const again = await report(c, { reason: 'scam', details: 'They ask for my card number' }, c.person.token);
    expect([again.status, again.body.id, again.body.created_at, again.body.reason]).toEqual([200, res.body.id, res.body.created_at, 'scam']);
    // Later, with more said and another reason: still the one report, its snapshot moved up, the details kept.
    const later = await personSays(api, c.person, c.thread.id, 'Is this real?');
    const updated = await report(c, { reason: 'spam' }, c.person.token);
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id: res.body.id, reason: 'spam', details: 'They ask for my card number', status: 'open' });
    const rows = await reportsOf(c.thread.id);
    expect(rows.map((r) => [r.id, r.reason, r.reported_seq])).toEqual([[res.body.id, 'spam', String(later.seq)]]);

    // Not blocked: the Page still writes.
    expect((await pageSays(api, c.app.pageToken, c.psid, { text: 'Still here' })).status).toBe(200);

    // The Page's side: no webhook for a report, nothing in the Page Inbox's views.
    const marker = await personSays(api, c.person, c.thread.id, 'marker');
    await waitForEntry('the marker', c.bot, (_, m) => m.message?.mid === marker.mid);
    expect(receivedEntries(c.bot).every(([, m]) => m.message || m.delivery || m.read)).toBe(true);
    const inboxList = await api.get(`/pages/${c.page.id}/inbox`, { token: c.owner.token });
    const inboxThread = await api.get(`/pages/${c.page.id}/inbox/${c.thread.id}/messages`, { token: c.owner.token });
    for (const view of [inboxList.text, inboxThread.text]) {
      expect(view).not.toContain(res.body.id);
      expect(view).not.toMatch(/report/i);
    }
  });

  it('reports and blocks in one step: the Send API then answers 551, the other devices hear the block', async () => {
    const c = await setup();
    const other = await socket(c.person.token);
    const res = await report(c, { reason: 'harassment', block: true }, c.person.token);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ reason: 'harassment', details: null, status: 'open', blocked: true });
    await other.waitFor('the block event', (e) => e.type === 'block' && e.thread_id === c.thread.id && e.blocked === true);
    expect((await api.get(`/threads/${c.thread.id}`, { token: c.person.token })).body).toMatchObject({ blocked: true, blocked_at: expect.any(Number) });
    const refused = await pageSays(api, c.app.pageToken, c.psid, { text: 'Why did you go?' });
    expect([refused.status, refused.body.error]).toEqual([400, { ...UNAVAILABLE, fbtrace_id: expect.any(String) }]);

    // Again, blocked already: the same report, still blocked, one block event only.
    const blockedAt = (await api.get(`/threads/${c.thread.id}`, { token: c.person.token })).body.blocked_at;
    const again = await report(c, { reason: 'harassment', block: true }, c.person.token);
    expect([again.status, again.body.id, again.body.blocked]).toEqual([200, res.body.id, true]);
    expect((await api.get(`/threads/${c.thread.id}`, { token: c.person.token })).body.blocked_at).toBe(blockedAt);
    const [{ n }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM user_events WHERE user_id = $1 AND type = 'block'`, [c.person.id]);
    expect(n).toBe(1);
    // Without `block` on a blocked thread: the report answers blocked (it is), and nothing is unblocked.
    const noBlock = await report(c, { reason: 'harassment' }, c.person.token);
    expect([noBlock.status, noBlock.body.blocked]).toEqual([200, true]);
  });

  it('takes reports of one thread sent at once in turn: one report, one block', async () => {
    const c = await setup();
    const all = await Promise.all([1, 2, 3, 4].map((i) => report(c, { reason: 'spam', details: `copy ${i}`, block: true }, c.person.token)));
    expect(all.map((r) => r.status).sort()).toEqual([200, 200, 200, 201]);
    expect(new Set(all.map((r) => r.body.id)).size).toBe(1);
    expect(await reportsOf(c.thread.id)).toHaveLength(1);
    const [{ n }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM user_events WHERE user_id = $1 AND type = 'block'`, [c.person.id]);
    expect(n).toBe(1);
  });

  it("refuses another person's thread (404), bad input (400) and a spent bucket (429), writing nothing", async () => {
    const c = await setup();
    const count = async () => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM page_reports`))[0].n;
    const before = await count();
    for (const token of [c.owner.token, (await signupPerson(api, 'Stranger')).token]) {
      const res = await report(c, { reason: 'spam', block: true }, token);
      expect([res.status, res.body.code]).toEqual([404, 'THREAD.NOT_FOUND']);
    }
    for (const bad of ['nope', '1'.repeat(21), '0']) {
      const res = await api.post(`/threads/${bad}/report`, { reason: 'spam' }, { token: c.person.token });
      expect([res.status, res.body.code]).toEqual([404, 'THREAD.NOT_FOUND']);
    }
    expect((await api.post(`/threads/${c.thread.id}/report`, { reason: 'spam' })).status).toBe(401);
    const bads: [object, string][] = [
      [{}, 'reason'],
      [{ reason: 'nope' }, 'reason'],
      [{ reason: 'SPAM' }, 'reason'],
      [{ reason: 'spam', details: 'x'.repeat(1001) }, 'details'],
      [{ reason: 'spam', details: 5 }, 'details'],
      [{ reason: 'spam', details: 'a\u0000b' }, 'details'],
      [{ reason: 'spam', block: 'yes' }, 'block'],
      [{ reason: 'spam', evil: true }, 'evil'],
    ];
    for (const [body, field] of bads) {
      const res = await report(c, body, c.person.token);
      expect([JSON.stringify(body), res.status, res.body.code]).toEqual([JSON.stringify(body), 400, expect.any(String)]);
      expect(res.body).toMatchObject({ statusCode: 400, requestId: expect.any(String) });
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect(await count()).toBe(before);
    expect((await api.get(`/threads/${c.thread.id}`, { token: c.person.token })).body.blocked).toBe(false);

    // The person's send bucket (burst 12 here): reports spend it like their other taps; over it, 429, nothing written.
    const spender = await signupPerson(api, 'Spender');
    const thread = await openThread(api, spender, c.page.id);
    let limited;
    let lastStored = -1;
    for (let i = 0; i < 100 && !limited; i++) {
      const res = await report({ thread }, { reason: 'spam', details: `try ${i}` }, spender.token);
      if (res.status === 429) limited = res;
      else {
        expect(res.status).toBe(i === 0 ? 201 : 200);
        lastStored = i;
      }
    }
    expect(limited).toMatchObject({ status: 429, body: { code: 'THREAD.RATE_LIMITED' }, headers: { 'retry-after': expect.any(String) } });
    // The refused try wrote nothing: the report carries the last accepted one's details.
    const [row] = await reportsOf(thread.id);
    expect(row.details).toBe(`try ${lastStored}`);
    const tries = await api.get(`/admin/reports?page_id=${c.page.id}`, admin);
    expect(tries.body.data.filter((r: any) => r.thread_id === thread.id)).toHaveLength(1);
  });

  // Three people report one Page, one another Page; then the operators page through them.
  it('lists reports for the operators newest first, by status and Page, a page at a time; counts open ones per Page', async () => {
    const c = await setup('Listed Page');
    const other = await setup('Other Page');
    const reporters: { person: Person; thread: { id: string } }[] = [{ person: c.person, thread: c.thread }];
    for (const name of ['Second', 'Third']) {
      const person = await signupPerson(api, name);
      reporters.push({ person, thread: await openThread(api, person, c.page.id) });
    }
    const ids: string[] = [];
    for (const [i, r] of reporters.entries()) {
      const res = await report(r, { reason: (['spam', 'scam', 'other'] as const)[i] }, r.person.token);
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const otherId = (await report(other, { reason: 'inappropriate' }, other.person.token)).body.id;

    const first = await api.get(`/admin/reports?page_id=${c.page.id}&limit=2`, admin);
    expect(first.status).toBe(200);
    expect(first.body.data.map((r: any) => r.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.data[1]).toEqual({
      id: ids[1],
      page: { id: c.page.id, name: 'Listed Page' },
      thread_id: reporters[1].thread.id,
      reporter: { id: reporters[1].person.id, name: 'Second' },
      reason: 'scam',
      details: null,
      status: 'open',
      reported_seq: 0,
      created_at: ISO,
      updated_at: ISO,
      resolved_at: null,
      resolution: null,
      resolution_note: null,
      resolved_by: null,
    });
    expect(first.body.paging.next_cursor).toEqual(expect.any(String));
    const second = await api.get(`/admin/reports?page_id=${c.page.id}&limit=2&cursor=${encodeURIComponent(first.body.paging.next_cursor)}`, admin);
    expect(second.body).toEqual({ data: [expect.objectContaining({ id: ids[0], reported_seq: 2 })], paging: { next_cursor: null } });

    // Every Page's open reports, newest first: the other Page's is the newest.
    const all = await api.get('/admin/reports?limit=200', admin);
    const mine = all.body.data.map((r: any) => r.id).filter((id: string) => [...ids, otherId].includes(id));
    expect(mine).toEqual([otherId, ids[2], ids[1], ids[0]]);

    // Dismissed leaves the open list for the dismissed one; the Pages' open counts follow.
    expect((await api.post(`/admin/reports/${ids[1]}/resolve`, { action: 'dismiss' }, admin)).status).toBe(200);
    const open = await api.get(`/admin/reports?page_id=${c.page.id}&status=open`, admin);
    expect(open.body.data.map((r: any) => r.id)).toEqual([ids[2], ids[0]]);
    const dismissed = await api.get(`/admin/reports?page_id=${c.page.id}&status=dismissed`, admin);
    expect(dismissed.body.data.map((r: any) => [r.id, r.status, r.resolution])).toEqual([[ids[1], 'dismissed', 'dismiss']]);
    expect((await api.get(`/admin/reports?page_id=${c.page.id}&status=resolved`, admin)).body.data).toEqual([]);
    const pages = await api.get('/admin/pages?limit=500', admin);
    const count = (id: string) => pages.body.data.find((p: any) => p.id === id)?.open_reports;
    expect([count(c.page.id), count(other.page.id)]).toEqual([2, 1]);
    expect(pages.body.data.every((p: any) => typeof p.open_reports === 'number')).toBe(true);

    for (const q of ['status=nope', 'cursor=garbage', 'cursor=1.2.3', 'page_id=abc', 'limit=0', 'limit=201', 'extra=1']) {
      const res = await api.get(`/admin/reports?${q}`, admin);
      expect([q, res.status, res.body.statusCode]).toEqual([q, 400, 400]);
    }
  });

  it("shows a report with the conversation's last messages up to what was reported", async () => {
    const c = await setup();
    const third = await personSays(api, c.person, c.thread.id, 'Is this real?');
    const { body: r } = await report(c, { reason: 'scam', details: 'Asked for my card' }, c.person.token);
    // Said after the report: not part of it.
    await personSays(api, c.person, c.thread.id, 'Never mind');

    const detail = await api.get(`/admin/reports/${r.id}`, admin);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ id: r.id, reason: 'scam', details: 'Asked for my card', reported_seq: 3, thread_id: c.thread.id, page: { id: c.page.id } });
    expect(detail.body.messages.map((m: any) => [m.seq, m.sender, m.mid])).toEqual([
      [1, 'person', c.hello.mid],
      [2, 'page', c.answerMid],
      [3, 'person', third.mid],
    ]);
    expect(detail.body.messages[1]).toMatchObject({ text: 'You won a prize! Send your card number', app_id: c.app.id });
    const lastTwo = await api.get(`/admin/reports/${r.id}?messages=2`, admin);
    expect(lastTwo.body.messages.map((m: any) => m.seq)).toEqual([2, 3]);

    for (const id of ['999999999999999', 'nope', '1'.repeat(21)]) {
      const res = await api.get(`/admin/reports/${id}`, admin);
      expect([res.status, res.body.code]).toEqual([404, 'REPORT.NOT_FOUND']);
    }
    for (const q of ['messages=0', 'messages=101', 'messages=x']) expect((await api.get(`/admin/reports/${r.id}?${q}`, admin)).status).toBe(400);
  });

  it("resolves with a warning: the Page's app is told (signed), once; the report is closed with who, when and what", async () => {
    const c = await setup();
    const { body: r } = await report(c, { reason: 'spam' }, c.person.token);
    const res = await api.post(
      `/admin/reports/${r.id}/resolve`,
      { action: 'warn', reason: 'Sending unsolicited promotions', note: 'First strike', operator: 'grace' },
      admin,
    );
    expect(res.status).toBe(200);
    expect(res.body.enforcement).toEqual({ id: c.page.id, suspended: false, changed: true });
    expect(res.body.report).toMatchObject({
      id: r.id,
      status: 'resolved',
      resolution: 'warn',
      resolution_note: 'First strike',
      resolved_by: 'grace',
      resolved_at: ISO,
    });
    // A retry of the same action: the report as it is, nobody told again. Another action: 409.
    const retry = await api.post(`/admin/reports/${r.id}/resolve`, { action: 'warn', reason: 'Sending unsolicited promotions' }, admin);
    expect([retry.status, retry.body.report.resolved_by, retry.body.enforcement]).toEqual([200, 'grace', null]);
    const other = await api.post(`/admin/reports/${r.id}/resolve`, { action: 'suspend' }, admin);
    expect([other.status, other.body.code]).toEqual([409, 'REPORT.CLOSED']);

    // receivedEntries checks every POST's signature against the app's secret.
    expect(await policyNotices(c)).toEqual([
      { recipient: { id: c.page.id }, timestamp: expect.any(Number), policy_enforcement: { action: 'warning', reason: 'Sending unsolicited promotions' } },
    ]);
    // Still open for business: a warning changes nothing else.
    expect((await pageSays(api, c.app.pageToken, c.psid, { text: 'Sorry' })).status).toBe(200);
    // Closed: the person's next report is a new one.
    const next = await report(c, { reason: 'spam' }, c.person.token);
    expect([next.status, next.body.id === r.id]).toEqual([201, false]);
  });

  it('resolves by suspending the Page (its apps are told, its token stops working) and by dismissing (nobody is told)', async () => {
    const c = await setup();
    const dismissedReport = (await report(c, { reason: 'other', details: 'Not sure' }, c.person.token)).body;
    const dismissed = await api.post(`/admin/reports/${dismissedReport.id}/resolve`, { action: 'dismiss', note: 'Nothing wrong here' }, admin);
    expect(dismissed.status).toBe(200);
    expect(dismissed.body).toEqual({
      report: expect.objectContaining({ status: 'dismissed', resolution: 'dismiss', resolution_note: 'Nothing wrong here', resolved_by: 'admin' }),
      enforcement: null,
    });
    expect(await policyNotices(c)).toEqual([]);

    const { body: r } = await report(c, { reason: 'scam' }, c.person.token);
    const res = await api.post(`/admin/reports/${r.id}/resolve`, { action: 'suspend' }, admin);
    expect(res.status).toBe(200);
    expect(res.body.enforcement).toEqual({ id: c.page.id, suspended: true, changed: true });
    expect(res.body.report).toMatchObject({ status: 'resolved', resolution: 'suspend', resolved_by: 'admin', resolution_note: null });
    const notice = await waitForEntry('the block notice', c.bot, (_, m) => m.policy_enforcement?.action === 'block');
    expect(notice[1]).toEqual({ recipient: { id: c.page.id }, timestamp: expect.any(Number), policy_enforcement: { action: 'block', reason: "The Page violated the platform's policies" } });
    expect((await pageSays(api, c.app.pageToken, c.psid, { text: 'Hello?' })).status).toBe(401);
    const pages = await api.get('/admin/pages?limit=500', admin);
    expect(pages.body.data.find((p: any) => p.id === c.page.id)).toMatchObject({ suspended: true, open_reports: 0 });
  });

  // "Both or neither", forced: a trigger in this test's database fails the report's own write after the block (or
  // the suspension) in the same transaction was written. The request fails (a fault, so a 500) and leaves nothing.
  it('writes the report with its block, and the resolution with its suspension, or neither: a failed report write undoes them', async () => {
    const c = await setup();
    await t.db.query(`
      CREATE FUNCTION fail_marked_report() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.details = 'FAIL' OR NEW.resolution_note = 'FAIL' THEN RAISE EXCEPTION 'injected fault'; END IF;
        RETURN NEW;
      END $$`);
    await t.db.query(`CREATE TRIGGER fail_marked_report BEFORE INSERT OR UPDATE ON page_reports FOR EACH ROW EXECUTE FUNCTION fail_marked_report()`);
    try {
      const eventsOf = async () =>
        (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM user_events WHERE user_id = $1`, [c.person.id]))[0].n;
      const before = await eventsOf();
      const failed = await report(c, { reason: 'scam', details: 'FAIL', block: true }, c.person.token);
      expect(failed.status).toBe(500);
      const [thread] = await t.db.query<{ blocked_at: string | null }>(`SELECT blocked_at FROM threads WHERE id = $1`, [c.thread.id]);
      expect(thread.blocked_at).toBeNull();
      expect(await reportsOf(c.thread.id)).toEqual([]);
      expect(await eventsOf()).toBe(before);
      expect((await pageSays(api, c.app.pageToken, c.psid, { text: 'Still here' })).status).toBe(200);

      const { body: r } = await report(c, { reason: 'scam' }, c.person.token);
      const resolve = await api.post(`/admin/reports/${r.id}/resolve`, { action: 'suspend', note: 'FAIL' }, admin);
      expect(resolve.status).toBe(500);
      const [page] = await t.db.query<{ suspended_at: string | null }>(`SELECT suspended_at FROM pages WHERE id = $1`, [c.page.id]);
      expect(page.suspended_at).toBeNull();
      expect((await reportsOf(c.thread.id)).map((x) => x.status)).toEqual(['open']);
      expect(await policyNotices(c)).toEqual([]);
    } finally {
      await t.db.query(`DROP TRIGGER fail_marked_report ON page_reports`);
      await t.db.query(`DROP FUNCTION fail_marked_report()`);
    }
  });

  it('refuses the operator routes without ADMIN_TOKEN and bad resolutions with 400', async () => {
    const c = await setup();
    const { body: r } = await report(c, { reason: 'spam' }, c.person.token);
    const routes: [string, string, object?][] = [
      ['GET', '/admin/reports'],
      ['GET', `/admin/reports/${r.id}`],
      ['POST', `/admin/reports/${r.id}/resolve`, { action: 'dismiss' }],
    ];
    for (const [method, path, body] of routes) {
      for (const token of [undefined, c.person.token, c.app.pageToken, 'not-the-admin-token']) {
        const res = await api.call(method, path, body, { token });
        expect([method, path, res.status, res.body.code]).toEqual([method, path, 401, 'AUTH.UNAUTHENTICATED']);
      }
    }
    const bads = [
      {},
      { action: 'ban' },
      { action: 'warn', reason: '' },
      { action: 'warn', reason: '   ' },
      { action: 'dismiss', note: 'x'.repeat(1001) },
      { action: 'dismiss', operator: 'x'.repeat(81) },
      { action: 'dismiss', evil: 1 },
    ];
    for (const bad of bads) {
      const res = await api.post(`/admin/reports/${r.id}/resolve`, bad, admin);
      expect([JSON.stringify(bad), res.status]).toEqual([JSON.stringify(bad), 400]);
    }
    expect((await api.post('/admin/reports/999999999999999/resolve', { action: 'dismiss' }, admin)).status).toBe(404);
    // Nothing of that closed it.
    expect((await api.get(`/admin/reports/${r.id}`, admin)).body.status).toBe('open');
  });
});
