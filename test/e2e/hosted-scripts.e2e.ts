import { BotReceiver, startBotReceiver } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson, PersonSocket } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { ALL_FIELDS, conversation, pageSays, personSays } from '../factories/messaging.factory';

// Hosted bot scripts through the real API and a real platform process (api + worker roles in one, Redis queues).
describe('hosted bot scripts', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let bot: BotReceiver;
  const sockets: PersonSocket[] = [];

  beforeAll(async () => {
    t = await startTestPlatform({
      env: {
        WEBHOOK_RETRY_SCHEDULE: '0,1',
        WEBHOOK_RECONCILE_INTERVAL_MS: '500',
        SCRIPT_POLL_INTERVAL_MS: '100',
        SCRIPT_BREAKER_THRESHOLD: '3',
        SCRIPT_STORE_QUOTA_BYTES: '4096',
        SCRIPT_LOG_RETENTION_PER_PAGE: '50',
      },
    });
    api = httpClient(t.url);
    bot = await startBotReceiver('verify-me');
  });
  afterAll(async () => {
    if (process.env.SCRIPTS_DEBUG) {
      console.log(JSON.stringify(await t.db.query(`SELECT d.page_id, d.status, d.attempts, d.last_error FROM webhook_deliveries d WHERE target='script'`), null, 1));
      console.log(JSON.stringify(await t.db.query(`SELECT page_id, level, message FROM script_logs ORDER BY id`), null, 1));
      console.log(t.logs.filter((l) => /"level":(40|50)/.test(l)).join('').slice(0, 5000));
    }
    await Promise.all(sockets.map((s) => s.close()));
    await bot?.close();
    await t?.close();
  });

  // A page (owner = its admin), a person with a thread on it and a socket open; optionally a webhook bot too.
  async function scriptPage(withBot = false) {
    const c = await conversation(api, withBot ? bot : undefined);
    if (withBot) bot.secrets.push(c.app.secret);
    const sock = await connectPerson(t.url, c.person.token);
    sockets.push(sock);
    return { ...c, sock };
  }

  async function upload(pageId: string, token: string, source: string, extra: Record<string, unknown> = {}) {
    const res = await api.post(`/pages/${pageId}/scripts`, { source, ...extra }, { token });
    expect(res.status).toBe(201);
    return res.body.version as number;
  }

  async function activate(pageId: string, token: string, version: number) {
    const res = await api.post(`/pages/${pageId}/scripts/${version}/activate`, {}, { token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active_version: version });
  }

  const pageReply = (sock: PersonSocket, text: string) =>
    sock.waitFor(`page says ${JSON.stringify(text)}`, (e) => e.type === 'message' && e.message?.sender === 'page' && e.message.text === text);

  async function logsOf(pageId: string, token: string, version: number) {
    const res = await api.get(`/pages/${pageId}/scripts/${version}/logs`, { token });
    expect(res.status).toBe(200);
    return res.body.data as { level: string; message: string; source: 'script' | 'platform' }[];
  }

  // The message_echoes item for `text` on `pageId` that the webhook bot received (batched POSTs included).
  const echoTo = (pageId: string, text: string) =>
    waitFor(`the echo of ${JSON.stringify(text)} at the webhook bot`, () => {
      for (const r of bot.received) {
        for (const entry of JSON.parse(r.body.toString()).entry ?? []) {
          if (entry?.id !== pageId) continue;
          const m = entry.messaging.find((x: any) => x.message?.is_echo && x.message.text === text);
          if (m) return m;
        }
      }
      return undefined;
    });

  const ECHO = `
    export default {
      async onMessage(event, ctx) {
        console.log('got', event.message.text);
        await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { text: 'echo: ' + event.message.text } });
      },
    };`;

  it('refuses an upload with a syntax error, naming line and column', async () => {
    const c = await scriptPage();
    const res = await api.post(
      `/pages/${c.page.id}/scripts`,
      { source: 'export default {\n  async onMessage(e, ctx) {\n    const x = ;\n  },\n};' },
      { token: c.owner.token },
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('SCRIPT.SYNTAX_ERROR');
    expect(res.body.message).toMatch(/line 3, column \d+/);
    expect(res.body.details[0]).toMatchObject({ field: 'source', rule: 'syntax' });
    const list = await api.get(`/pages/${c.page.id}/scripts`, { token: c.owner.token });
    expect(list.body).toMatchObject({ active_version: null, data: [] });
    // Only the page's admins manage its scripts.
    const stranger = await api.get(`/pages/${c.page.id}/scripts`, { token: c.person.token });
    expect(stranger.status).toBe(403);
  });

  it('runs an echo script: the reply reaches the person, the echo webhook reaches the connected bot', async () => {
    const c = await scriptPage(true);
    const v = await upload(c.page.id, c.owner.token, ECHO);
    expect(v).toBe(1);
    await activate(c.page.id, c.owner.token, v);

    await personSays(api, c.person, c.thread.id, 'hello there');
    const reply = await pageReply(c.sock, 'echo: hello there');
    expect(reply.message.mid).toMatch(/^m_/);

    const echo = await echoTo(c.page.id, 'echo: hello there');
    expect(echo.message.mid).toBe(reply.message.mid);
    const [hosted] = await t.db.query('SELECT app_id FROM page_scripts WHERE page_id = $1', [c.page.id]);
    // The hosted app's real id, in the form any app's echo carries it (Graph's: a number).
    const own = await pageSays(api, c.pageToken, echo.recipient.id, { text: 'the bot speaks' });
    expect(own.status).toBe(200);
    const botEcho = await echoTo(c.page.id, 'the bot speaks');
    expect(botEcho.message.app_id).toBe(Number(c.app.id));
    expect(echo.message.app_id).toBe(Number(hosted.app_id));
    expect(hosted.app_id).toMatch(/^[1-9]\d+$/);

    // The page's apps list shows the apps an admin connected; the hosted one is managed under /scripts.
    const listed = await api.get(`/pages/${c.page.id}/apps`, { token: c.owner.token });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ data: [{ app_id: c.app.id, name: 'Bot', subscribed_fields: expect.any(Array), handover_role: null }] });
    expect(JSON.stringify(listed.body)).not.toContain(hosted.app_id);
    // Disconnecting it through /apps would silently stop the script: it is not connected as far as /apps goes.
    const unplug = await api.delete(`/pages/${c.page.id}/apps/${hosted.app_id}`, { token: c.owner.token });
    expect(unplug.status).toBe(404);
    expect(unplug.body.code).toBe('PAGE.APP_NOT_CONNECTED');
    // It has no secret and no token of any kind to leak.
    const [{ secrets }] = await t.db.query('SELECT count(*)::int AS secrets FROM app_secrets WHERE app_id = $1', [hosted.app_id]);
    expect(secrets).toBe(0);
    const [{ tokens }] = await t.db.query('SELECT count(*)::int AS tokens FROM access_tokens WHERE app_id = $1', [hosted.app_id]);
    expect(tokens).toBe(0);
    await personSays(api, c.person, c.thread.id, 'still there?');
    await pageReply(c.sock, 'echo: still there?');
    // The hosted app is the page's own: not listed among the admin's apps, not connectable elsewhere.
    const mine = await api.get('/apps', { token: c.owner.token });
    expect(JSON.stringify(mine.body)).not.toContain(hosted.app_id);
    const other = await api.post('/pages', { name: 'Other' }, { token: c.owner.token });
    const steal = await api.post(`/pages/${other.body.id}/apps`, { app_id: hosted.app_id, subscribed_fields: ['messages'] }, { token: c.owner.token });
    expect(steal.status).toBe(404);

    const logs = await waitFor('the log line', async () => (await logsOf(c.page.id, c.owner.token, v)).find((l) => l.message === 'got hello there'));
    expect(logs.level).toBe('log');
    const list = await api.get(`/pages/${c.page.id}/scripts`, { token: c.owner.token });
    expect(list.body).toMatchObject({ app_id: hosted.app_id, active_version: 1, paused: false, data: [{ version: 1, active: true, subscribed_fields: ['messages', 'messaging_postbacks'] }] });

    // One version with its source (the console loads it into the editor); admins only.
    const one = await api.get(`/pages/${c.page.id}/scripts/1`, { token: c.owner.token });
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ ...list.body.data[0], source: ECHO });
    expect((await api.get(`/pages/${c.page.id}/scripts/1`, { token: c.person.token })).status).toBe(403);
    const missing = await api.get(`/pages/${c.page.id}/scripts/2`, { token: c.owner.token });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('SCRIPT.VERSION_NOT_FOUND');
    expect((await api.get(`/pages/${c.page.id}/scripts/nope`, { token: c.owner.token })).status).toBe(404);
  });

  it('takes part in the handover protocol: a primary script passes a conversation to the agents\' app and gets it back', async () => {
    const c = await scriptPage(true);
    const fields = [...ALL_FIELDS.split(','), 'messaging_handovers', 'standby'];
    expect((await api.put(`/pages/${c.page.id}/apps/${c.app.id}/fields`, { subscribed_fields: fields }, { token: c.owner.token })).status).toBe(200);
    const sub = await api.post(`/v25.0/${c.app.id}/subscriptions`, {
      access_token: c.app.token, object: 'page', callback_url: bot.url, verify_token: 'verify-me', fields: fields.join(','),
    });
    expect(sub.status).toBe(200);
    const source = `export default {
      async onMessage(e, ctx) {
        const to = { id: e.sender.id };
        if (e.message.text !== 'human') return ctx.send({ recipient: to, messaging_type: 'RESPONSE', message: { text: 'bot: ' + e.message.text } });
        await ctx.send({ recipient: to, messaging_type: 'RESPONSE', message: { text: 'Passing you to a person' } });
        await ctx.handover.pass(e.sender.id, { target_app_id: '${c.app.id}', metadata: 'asked for a human' });
        console.log('owner now ' + (await ctx.handover.owner(e.sender.id)));
        try { await ctx.send({ recipient: to, messaging_type: 'RESPONSE', message: { text: 'too late' } }); }
        catch (err) { console.log('refused: ' + err.message); }
      },
      async onHandover(e, ctx) {
        if (e.pass_thread_control) await ctx.send({ recipient: { id: e.sender.id }, messaging_type: 'RESPONSE', message: { text: 'The bot is back' } });
      },
    };`;
    const v = await upload(c.page.id, c.owner.token, source, { subscribed_fields: ['messages', 'messaging_handovers'] });
    await activate(c.page.id, c.owner.token, v);
    const hosted = (await api.get(`/pages/${c.page.id}/scripts`, { token: c.owner.token })).body as { app_id: string };
    expect(hosted.app_id).toMatch(/^[1-9]\d+$/);
    const role = (appId: string, r: string) => api.put(`/pages/${c.page.id}/apps/${appId}/handover-role`, { role: r }, { token: c.owner.token });
    expect((await role(hosted.app_id, 'primary')).status).toBe(200);
    expect((await role(c.app.id, 'secondary')).status).toBe(200);

    // A dry run records the pass beside the sends and changes nothing; reading the owner is real.
    const [{ psid: knownPsid }] = await t.db.query('SELECT psid FROM threads WHERE id = $1', [c.thread.id]);
    const dry = await api.post(
      `/pages/${c.page.id}/scripts/${v}/test`,
      { event: { sender: { id: knownPsid }, recipient: { id: c.page.id }, timestamp: 1, message: { mid: 'm_1', text: 'human' } } },
      { token: c.owner.token },
    );
    expect(dry.body.sends).toEqual([
      expect.objectContaining({ message: expect.objectContaining({ message: { text: 'Passing you to a person' } }), error: null }),
      { message: { handover: { action: 'pass', recipient: knownPsid, target_app_id: c.app.id, metadata: 'asked for a human' } }, result: { success: true }, error: null },
      expect.objectContaining({ message: expect.objectContaining({ message: { text: 'too late' } }), error: null }),
    ]);
    expect(dry.body.logs).toEqual(expect.arrayContaining([expect.objectContaining({ message: `owner now ${hosted.app_id}` })]));
    const [{ owner_app_id: untouched }] = await t.db.query('SELECT owner_app_id FROM threads WHERE id = $1', [c.thread.id]);
    expect(untouched).toBeNull();

    await personSays(api, c.person, c.thread.id, 'human');
    await pageReply(c.sock, 'Passing you to a person');
    const passed = await waitFor('pass_thread_control at the agents\' app', () =>
      bot.received.flatMap((r) => JSON.parse(r.body.toString()).entry ?? []).flatMap((e: any) => e.messaging ?? []).find((m: any) => m.pass_thread_control),
    );
    expect(passed.pass_thread_control).toEqual({
      previous_owner_app_id: hosted.app_id,
      new_owner_app_id: c.app.id,
      metadata: 'asked for a human',
    });
    const psid = passed.sender.id;
    const logs = await waitFor('the script\'s log', async () => {
      const l = (await logsOf(c.page.id, c.owner.token, v)).map((x) => x.message);
      return l.some((m) => m.startsWith('refused')) ? l : undefined;
    });
    expect(logs).toEqual(expect.arrayContaining([`owner now ${c.app.id}`, expect.stringMatching(/^refused: \(#10\) .*control/)]));

    // The agents answer, then release: the script (the primary) hears of it and answers again.
    expect((await pageSays(api, c.pageToken, psid, { text: 'Hi, Ada from support' })).status).toBe(200);
    const released = await api.post(`/v25.0/me/release_thread_control?access_token=${encodeURIComponent(c.pageToken)}`, { recipient: { id: psid } });
    expect(released.body).toEqual({ success: true });
    await pageReply(c.sock, 'The bot is back');
    await personSays(api, c.person, c.thread.id, 'thanks');
    await pageReply(c.sock, 'bot: thanks');
    const texts = (await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token })).body.data.map((m: any) => m.text);
    expect(texts).toEqual(['human', 'Passing you to a person', 'Hi, Ada from support', 'The bot is back', 'thanks', 'bot: thanks']);
  });

  it('unlinks an account as POST /me/unlink_accounts does: the bots get unlinked, the person is told; a dry run only records it', async () => {
    const c = await scriptPage(true);
    const fields = [...ALL_FIELDS.split(','), 'messaging_account_linking'];
    expect((await api.put(`/pages/${c.page.id}/apps/${c.app.id}/fields`, { subscribed_fields: fields }, { token: c.owner.token })).status).toBe(200);
    const sub = await api.post(`/v25.0/${c.app.id}/subscriptions`, {
      access_token: c.app.token, object: 'page', callback_url: bot.url, verify_token: 'verify-me', fields: fields.join(','),
    });
    expect(sub.status).toBe(200);
    const source = `export default {
      async onMessage(e, ctx) {
        if (e.message.text !== 'log me out') return;
        try { await ctx.unlinkAccount('99999999'); } catch (err) { console.log('refused: ' + err.code + ' ' + err.message); }
        const r = await ctx.unlinkAccount(e.sender.id);
        await ctx.send({ recipient: { id: e.sender.id }, messaging_type: 'RESPONSE', message: { text: 'Logged out: ' + r.result } });
      },
    };`;
    const v = await upload(c.page.id, c.owner.token, source);
    await activate(c.page.id, c.owner.token, v);

    // The person links their account (Log In from the webhook bot, back from the login page with a code).
    const [{ psid }] = await t.db.query<{ psid: string }>('SELECT psid FROM threads WHERE id = $1', [c.thread.id]);
    const loginUrl = 'http://127.0.0.1:9/login';
    await personSays(api, c.person, c.thread.id, 'show my orders');
    const offer = await pageSays(api, c.pageToken, psid, {
      attachment: { type: 'template', payload: { template_type: 'button', text: 'Log in', buttons: [{ type: 'account_link', url: loginUrl }] } },
    });
    expect(offer.status).toBe(200);
    const tapped = await api.post(`/threads/${c.thread.id}/account-linking`, { mid: offer.body.message_id, url: loginUrl }, { token: c.person.token });
    const token = new URL(tapped.body.authorize_url).searchParams.get('account_linking_token');
    const linked = await api.post('/account-linking/complete', { account_linking_token: token, authorization_code: 'acct-1' }, { token: c.person.token });
    expect(linked.body).toEqual({ status: 'linked', linked: true });
    const state = async () => (await api.get(`/threads/${c.thread.id}/account-linking`, { token: c.person.token })).body.linked;

    // A dry run records the unlinks beside the sends and unlinks nobody.
    const dry = await api.post(
      `/pages/${c.page.id}/scripts/${v}/test`,
      { event: { sender: { id: psid }, recipient: { id: c.page.id }, timestamp: 1, message: { mid: 'm_1', text: 'log me out' } } },
      { token: c.owner.token },
    );
    expect(dry.body.sends.slice(0, 2)).toEqual([
      { message: { unlink_account: { psid: '99999999' } }, result: { result: 'unlink account success' }, error: null },
      { message: { unlink_account: { psid } }, result: { result: 'unlink account success' }, error: null },
    ]);
    expect(await state()).toBe(true);

    await personSays(api, c.person, c.thread.id, 'log me out');
    await pageReply(c.sock, 'Logged out: unlink account success');
    expect(await state()).toBe(false);
    const unlinked = await waitFor('messaging_account_linking unlinked at the webhook bot', () =>
      bot.received
        .flatMap((r) => JSON.parse(r.body.toString()).entry ?? [])
        .filter((e: any) => e.id === c.page.id)
        .flatMap((e: any) => e.messaging ?? [])
        .find((m: any) => m.account_linking?.status === 'unlinked'),
    );
    expect(unlinked).toMatchObject({ sender: { id: psid }, account_linking: { status: 'unlinked' } });
    await c.sock.waitFor('the unlinked event', (e: any) => e.type === 'account_linking' && e.status === 'unlinked' && e.by === 'page');
    // A PSID of nobody on this Page: Graph's refusal, as the route answers it.
    const logs = await waitFor("the script's log", async () => {
      const l = (await logsOf(c.page.id, c.owner.token, v)).map((x) => x.message);
      return l.some((m) => m.startsWith('refused')) ? l : undefined;
    });
    expect(logs).toEqual(expect.arrayContaining([expect.stringMatching(/^refused: unlink_failed \(#100\) /)]));
  });

  it("a script's run is the person's Delivered, as a webhook's 2xx is", async () => {
    const c = await scriptPage(false);
    await activate(c.page.id, c.owner.token, await upload(c.page.id, c.owner.token, `export default { onMessage() {} };`));
    const sent = await personSays(api, c.person, c.thread.id, 'for the script only');
    const delivered = await c.sock.waitFor('delivered by page', (e: any) => e.type === 'delivery' && e.by === 'page');
    expect(delivered).toMatchObject({ thread_id: c.thread.id, seq: sent.seq, watermark: sent.timestamp });
    const view = await api.post('/threads', { page_id: c.page.id }, { token: c.person.token });
    expect(view.body.delivered_to_page_seq).toBe(sent.seq);
  });

  it('dry-runs a version: what it would send and log, nothing sent or stored', async () => {
    const c = await scriptPage();
    const v = await upload(
      c.page.id,
      c.owner.token,
      `export default {
        async onMessage(event, ctx) {
          await ctx.store.set('dry', 1);
          console.info('stored', await ctx.store.get('dry'));
          await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { text: 'would say ' + event.message.text } });
          await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { quick_replies: [] } }).catch((e) => console.warn(e.code));
        },
      };`,
    );
    const event = { sender: { id: '1234' }, recipient: { id: c.page.id }, timestamp: 1, message: { mid: 'm_x', text: 'hi' } };
    const res = await api.post(`/pages/${c.page.id}/scripts/${v}/test`, { event }, { token: c.owner.token });
    expect(res.status).toBe(200);
    if (process.env.SCRIPTS_DEBUG) console.log(JSON.stringify(res.body));
    expect(res.body).toMatchObject({ outcome: 'ok', handler: 'onMessage', handled: true });
    expect(res.body.sends).toHaveLength(2);
    expect(res.body.sends[0]).toEqual({
      message: { recipient: { id: '1234' }, messaging_type: 'RESPONSE', message: { text: 'would say hi' } },
      result: { recipient_id: '1234', message_id: expect.stringMatching(/^m_dryrun_/) },
      error: null,
    });
    expect(res.body.sends[1]).toMatchObject({ result: null, error: expect.stringMatching(/^\(#100\)/) });
    expect(res.body.logs).toEqual([
      { level: 'info', message: 'stored 1' },
      { level: 'warn', message: 'send_failed' },
    ]);
    const [{ n }] = await t.db.query('SELECT count(*)::int AS n FROM script_store WHERE page_id = $1', [c.page.id]);
    expect(n).toBe(0);
    const [{ m }] = await t.db.query(`SELECT count(*)::int AS m FROM messages WHERE thread_id = $1 AND sender = 'page'`, [c.thread.id]);
    expect(m).toBe(0);
    const bad = await api.post(`/pages/${c.page.id}/scripts/${v}/test`, { event: { nothing: true } }, { token: c.owner.token });
    expect(bad.status).toBe(400);
    expect((await api.post(`/pages/${c.page.id}/scripts/99/test`, { event }, { token: c.owner.token })).status).toBe(404);
  });

  it('persists ctx.store across events, within the quota', async () => {
    const c = await scriptPage();
    const v = await upload(
      c.page.id,
      c.owner.token,
      `export default {
        async onMessage(event, ctx) {
          const n = ((await ctx.store.get('count')) ?? 0) + 1;
          await ctx.store.set('count', n);
          let note = '';
          if (event.message.text === 'big') {
            try { await ctx.store.set('big', 'x'.repeat(5000)); } catch (e) { note = ' ' + e.code; }
          }
          await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { text: '#' + n + note } });
        },
      };`,
    );
    await activate(c.page.id, c.owner.token, v);
    await personSays(api, c.person, c.thread.id, 'one');
    await pageReply(c.sock, '#1');
    await personSays(api, c.person, c.thread.id, 'two');
    await pageReply(c.sock, '#2');
    await personSays(api, c.person, c.thread.id, 'big');
    await pageReply(c.sock, '#3 quota_exceeded');
    const rows = await t.db.query('SELECT key, value FROM script_store WHERE page_id = $1', [c.page.id]);
    expect(rows).toEqual([{ key: 'count', value: 3 }]);
  });

  it("marks the platform's own log lines by source, so a script that prints their wording can't pass for them", async () => {
    const c = await scriptPage();
    const v = await upload(
      c.page.id,
      c.owner.token,
      `export default { onMessage() { console.error('[sandbox] limit exceeded: cpu (forged)'); throw new Error('real failure'); } };`,
    );
    await activate(c.page.id, c.owner.token, v);
    await personSays(api, c.person, c.thread.id, 'go');
    const logs = (await waitFor('both lines', async () => {
      const got = await logsOf(c.page.id, c.owner.token, v);
      return got.some((l) => l.message.includes('real failure')) ? got : undefined;
    }))!;
    expect(logs.find((l) => l.message === '[sandbox] limit exceeded: cpu (forged)')).toMatchObject({ source: 'script' });
    expect(logs.find((l) => l.message.includes('real failure'))).toMatchObject({ source: 'platform', level: 'error' });
  });

  it('keeps parallel ctx.store writes within the quota together', async () => {
    const c = await scriptPage();
    const v = await upload(
      c.page.id,
      c.owner.token,
      `export default {
        async onMessage(event, ctx) {
          const writes = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => ctx.store.set('k' + i, 'q'.repeat(500))));
          const ok = writes.filter((w) => w.status === 'fulfilled').length;
          await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { text: 'stored ' + ok } });
        },
      };`,
    );
    await activate(c.page.id, c.owner.token, v);
    await personSays(api, c.person, c.thread.id, 'fill');
    const reply = await c.sock.waitFor('the count', (e) => e.type === 'message' && e.message?.sender === 'page' && /^stored /.test(e.message.text));
    const [{ total, n }] = await t.db.query('SELECT coalesce(sum(bytes), 0)::int AS total, count(*)::int AS n FROM script_store WHERE page_id = $1', [c.page.id]);
    // SCRIPT_STORE_QUOTA_BYTES is 4096 here: eight 502-byte entries fit, the ninth does not.
    expect(total).toBeLessThanOrEqual(4096);
    expect(n).toBe(8);
    expect(reply.message.text).toBe('stored 8');
  });

  it('keeps what a script prints or throws with a NUL or an unpaired surrogate, readable, and refuses storing them', async () => {
    const c = await scriptPage();
    const v = await upload(
      c.page.id,
      c.owner.token,
      `export default {
        async onMessage(event, ctx) {
          console.log('nul\\u0000here', 'lone\\ud800');
          let code = 'stored';
          try { await ctx.store.set('k', { v: 'a\\u0000b' }); } catch (e) { code = e.code; }
          await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { text: code } });
          if (event.message.text === 'throw') throw new Error('bad\\u0000news');
        },
      };`,
    );
    // The dry run takes the live run's path: the same refusal.
    const event = { sender: { id: '1234' }, recipient: { id: c.page.id }, timestamp: 1, message: { mid: 'm_x', text: 'hello' } };
    const dry = await api.post(`/pages/${c.page.id}/scripts/${v}/test`, { event }, { token: c.owner.token });
    expect(dry.body.sends.map((x: any) => x.message.message.text)).toEqual(['invalid_value']);
    await activate(c.page.id, c.owner.token, v);
    await personSays(api, c.person, c.thread.id, 'hello');
    await pageReply(c.sock, 'invalid_value');
    await personSays(api, c.person, c.thread.id, 'throw');
    await pageReply(c.sock, 'invalid_value');
    // Each run is settled, not left leased (a write Postgres refused used to leave it in flight until its lease
    // lapsed, then run it again, for ever): the first delivered, the throwing one scheduled for a retry with its
    // error kept.
    const runs = await waitFor('both runs settled', async () => {
      const rows = await t.db.query(
        `SELECT d.status, d.last_error FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
          WHERE d.page_id = $1 AND d.target = 'script' ORDER BY e.messaging->'message'->>'text'`,
        [c.page.id],
      );
      return rows.length === 2 && rows[1].last_error ? rows : undefined;
    });
    expect(runs).toEqual([
      { status: 'delivered', last_error: null },
      { status: expect.stringMatching(/^(pending|in_flight)$/), last_error: 'script_error: Error: bad\ufffdnews' },
    ]);
    const logs = await logsOf(c.page.id, c.owner.token, v);
    // A `before` past what a bigint holds is no cursor: ignored, not failed inside Postgres.
    expect((await api.get(`/pages/${c.page.id}/scripts/${v}/logs?before=9999999999999999999`, { token: c.owner.token })).status).toBe(200);
    const printed = logs.filter((l) => l.message.startsWith('nul'));
    expect(printed.length).toBeGreaterThanOrEqual(2);
    expect(new Set(printed.map((l) => `${l.level} ${l.message}`))).toEqual(new Set(['log nul\ufffdhere lone\ufffd']));
    expect(logs.some((l) => l.level === 'error' && l.message === '[sandbox] script_error: Error: bad\ufffdnews')).toBe(true);
    const [{ n }] = await t.db.query('SELECT count(*)::int AS n FROM script_store WHERE page_id = $1', [c.page.id]);
    expect(n).toBe(0);
  });

  it('ends a script over the CPU limit and logs the limit, while another page keeps working', async () => {
    const hog = await scriptPage();
    const bomb = await scriptPage();
    const good = await scriptPage();
    const hv = await upload(hog.page.id, hog.owner.token, `export default { onMessage() { for (;;) {} } };`);
    await activate(hog.page.id, hog.owner.token, hv);
    const bv = await upload(bomb.page.id, bomb.owner.token, `export default { onMessage() { const a = []; for (;;) a.push(new Array(100000).fill(a.length)); } };`);
    await activate(bomb.page.id, bomb.owner.token, bv);
    await personSays(api, bomb.person, bomb.thread.id, 'explode');
    const gv = await upload(good.page.id, good.owner.token, ECHO);
    await activate(good.page.id, good.owner.token, gv);

    await personSays(api, hog.person, hog.thread.id, 'spin');
    for (let i = 0; i < 5; i++) {
      await personSays(api, good.person, good.thread.id, `ping ${i}`);
      await pageReply(good.sock, `echo: ping ${i}`);
    }
    const line = await waitFor('the cpu limit log line', async () =>
      (await logsOf(hog.page.id, hog.owner.token, hv)).find((l) => l.message.startsWith('[sandbox] limit exceeded: cpu')),
    );
    expect(line.level).toBe('error');
    const bombLine = await waitFor('the memory bomb log line', async () =>
      (await logsOf(bomb.page.id, bomb.owner.token, bv)).find((l) => /^\[sandbox\] (limit exceeded: (memory|cpu)|worker_crashed)/.test(l.message)),
    );
    expect(bombLine.level).toBe('error');
    await personSays(api, good.person, good.thread.id, 'after');
    await pageReply(good.sock, 'echo: after');
    const [attempt] = await t.db.query(
      `SELECT a.error FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
        WHERE d.page_id = $1 AND d.target = 'script' ORDER BY a.attempt LIMIT 1`,
      [hog.page.id],
    );
    expect(attempt.error).toMatch(/^limit exceeded: cpu/);
  });

  it('trips the breaker on a script that always throws, keeps the events, and runs them once fixed', async () => {
    const c = await scriptPage();
    const broken = await upload(c.page.id, c.owner.token, `export default { onMessage() { throw new Error('boom'); } };`);
    await activate(c.page.id, c.owner.token, broken);
    await personSays(api, c.person, c.thread.id, 'first');
    await personSays(api, c.person, c.thread.id, 'second');

    const paused = await waitFor('the breaker', async () => {
      const res = await api.get(`/pages/${c.page.id}/scripts`, { token: c.owner.token });
      return res.body.paused ? res.body : undefined;
    });
    expect(paused.consecutive_failures).toBeGreaterThanOrEqual(3);
    expect(paused.paused_reason).toMatch(/script_error: .*boom/);
    const logs = await waitFor('the breaker log line', async () => {
      const got = await logsOf(c.page.id, c.owner.token, broken);
      return got.some((l) => l.message.includes('script paused after 3 consecutive failed invocations')) ? got : undefined;
    });
    expect(logs.some((l) => l.message.includes('boom'))).toBe(true);
    const kept = await t.db.query(
      `SELECT status FROM webhook_deliveries WHERE page_id = $1 AND target = 'script' ORDER BY seq`,
      [c.page.id],
    );
    expect(kept.map((r: any) => r.status)).toEqual(['pending', 'pending']);

    // Fixing the script and activating it clears the breaker; the kept events run in order.
    const fixed = await upload(c.page.id, c.owner.token, ECHO);
    await activate(c.page.id, c.owner.token, fixed);
    await pageReply(c.sock, 'echo: first');
    await pageReply(c.sock, 'echo: second');
    const texts = c.sock.events.filter((e) => e.type === 'message' && e.message?.sender === 'page').map((e) => e.message.text);
    expect(texts).toEqual(['echo: first', 'echo: second']);
    const list = await api.get(`/pages/${c.page.id}/scripts`, { token: c.owner.token });
    expect(list.body).toMatchObject({ paused: false, active_version: fixed });
  });

  it('resumes a paused script on request: same version, the kept events run in order', async () => {
    const c = await scriptPage();
    // Fails while a dependency is down (here a store flag the test flips, as an outside service would recover).
    const v = await upload(
      c.page.id,
      c.owner.token,
      `export default { async onMessage(e, ctx) {
        if (!(await ctx.store.get('backend_up'))) throw new Error('backend down');
        await ctx.send({ recipient: { id: e.sender.id }, messaging_type: 'RESPONSE', message: { text: 'handled ' + e.message.text } });
      } };`,
    );
    const idle = await api.post(`/pages/${c.page.id}/scripts/resume`, {}, { token: c.owner.token });
    expect(idle.status).toBe(409);
    expect(idle.body.code).toBe('SCRIPT.NOT_ACTIVE');
    await activate(c.page.id, c.owner.token, v);
    const running = await api.post(`/pages/${c.page.id}/scripts/resume`, {}, { token: c.owner.token });
    expect(running.body).toEqual({ active_version: v, paused: false, resumed: false, kept_events: 0 });

    await personSays(api, c.person, c.thread.id, 'one');
    await personSays(api, c.person, c.thread.id, 'two');
    await personSays(api, c.person, c.thread.id, 'three');
    await waitFor('the breaker', async () => (await api.get(`/pages/${c.page.id}/scripts`, { token: c.owner.token })).body.paused || undefined);
    await t.db.query(`INSERT INTO script_store (page_id, key, value, bytes) VALUES ($1, 'backend_up', 'true', 14)`, [c.page.id]);

    expect((await api.post(`/pages/${c.page.id}/scripts/resume`, {}, { token: c.person.token })).status).toBe(403);
    const res = await api.post(`/pages/${c.page.id}/scripts/resume`, {}, { token: c.owner.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active_version: v, paused: false, resumed: true, kept_events: 3 });
    await pageReply(c.sock, 'handled three');
    const texts = c.sock.events.filter((e) => e.type === 'message' && e.message?.sender === 'page').map((e) => e.message.text);
    expect(texts).toEqual(['handled one', 'handled two', 'handled three']);
    const list = await api.get(`/pages/${c.page.id}/scripts`, { token: c.owner.token });
    expect(list.body).toMatchObject({ active_version: v, paused: false, paused_reason: null, consecutive_failures: 0 });
    const logs = await logsOf(c.page.id, c.owner.token, v);
    expect(logs.some((l) => l.message === '[sandbox] resumed by an admin; 3 kept events run again')).toBe(true);
  });

  it('deactivates: new events reach no script, waiting ones are dropped, activating a version restores it', async () => {
    // A webhook bot on the page too: its delivery of an event shows the event was recorded.
    const c = await scriptPage(true);
    const deactivate = (token: string, pageId = c.page.id) => api.post(`/pages/${pageId}/scripts/deactivate`, {}, { token });
    const nothing = await deactivate(c.owner.token);
    expect(nothing.status).toBe(200);
    expect(nothing.body).toEqual({ active_version: null, paused: false, deactivated: false, dropped_events: 0 });

    // Two events kept by the breaker are what waits for the script when it is deactivated.
    const broken = await upload(c.page.id, c.owner.token, `export default { onMessage() { throw new Error('boom'); } };`);
    await activate(c.page.id, c.owner.token, broken);
    await personSays(api, c.person, c.thread.id, 'first');
    await personSays(api, c.person, c.thread.id, 'second');
    await waitFor('the breaker', async () => (await api.get(`/pages/${c.page.id}/scripts`, { token: c.owner.token })).body.paused || undefined);

    // Only the page's admins; the REST error shape.
    const stranger = await deactivate(c.person.token);
    expect(stranger.status).toBe(403);
    expect(stranger.body.code).toBe('PAGE.NOT_ADMIN');
    const nowhere = await deactivate(c.owner.token, '999999999999');
    expect(nowhere.status).toBe(404);
    expect(nowhere.body.code).toBe('PAGE.NOT_FOUND');

    const res = await deactivate(c.owner.token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active_version: null, paused: false, deactivated: true, dropped_events: 2 });
    const dropped = await t.db.query(`SELECT status, last_error FROM webhook_deliveries WHERE page_id = $1 AND target = 'script' ORDER BY seq`, [c.page.id]);
    expect(dropped).toEqual([
      { status: 'failed', last_error: 'dropped: the hosted script was deactivated' },
      { status: 'failed', last_error: 'dropped: the hosted script was deactivated' },
    ]);
    const list = await api.get(`/pages/${c.page.id}/scripts`, { token: c.owner.token });
    expect(list.body).toMatchObject({ active_version: null, paused: false, consecutive_failures: 0, data: [{ version: broken, active: false }] });
    expect((await logsOf(c.page.id, c.owner.token, broken)).some((l) => l.message === `[sandbox] version ${broken} deactivated by an admin; 2 queued events dropped`)).toBe(true);
    expect((await deactivate(c.owner.token)).body).toEqual({ active_version: null, paused: false, deactivated: false, dropped_events: 0 });

    // A new event: the bot gets it; nothing is recorded for the script, so nothing runs or logs.
    const logsBefore = (await logsOf(c.page.id, c.owner.token, broken)).length;
    await personSays(api, c.person, c.thread.id, 'nobody home');
    await waitFor('the event at the webhook bot', () =>
      bot.received.some((r) =>
        (JSON.parse(r.body.toString()).entry ?? []).some(
          (e: any) => e?.id === c.page.id && e.messaging.some((x: any) => !x.message?.is_echo && x.message?.text === 'nobody home'),
        ),
      ) || undefined,
    );
    const [{ n }] = await t.db.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE d.page_id = $1 AND d.target = 'script' AND e.messaging->'message'->>'text' = 'nobody home'`,
      [c.page.id],
    );
    expect(n).toBe(0);

    // A run that was in flight at the deactivation and failed goes back to pending: dropped when a version is
    // activated again, never run by it.
    await t.db.query(
      `UPDATE webhook_deliveries SET status = 'pending', last_error = NULL, next_attempt_at = now()
        WHERE id = (SELECT id FROM webhook_deliveries WHERE page_id = $1 AND target = 'script' ORDER BY seq LIMIT 1)`,
      [c.page.id],
    );
    const fixed = await upload(c.page.id, c.owner.token, ECHO);
    await activate(c.page.id, c.owner.token, fixed);
    await personSays(api, c.person, c.thread.id, 'back');
    await pageReply(c.sock, 'echo: back');
    const texts = c.sock.events.filter((e) => e.type === 'message' && e.message?.sender === 'page').map((e) => e.message.text);
    expect(texts).toEqual(['echo: back']);
    await waitFor('the new version\'s log line', async () => (await logsOf(c.page.id, c.owner.token, fixed)).find((l) => l.message === 'got back'));
    const statuses = async () =>
      (await t.db.query(`SELECT status FROM webhook_deliveries WHERE page_id = $1 AND target = 'script' ORDER BY seq`, [c.page.id])).map((r: any) => r.status);
    await waitFor('the run to settle', async () => ((await statuses())[2] === 'delivered' ? true : undefined));
    expect(await statuses()).toEqual(['failed', 'failed', 'delivered']);
    expect((await logsOf(c.page.id, c.owner.token, broken)).length).toBe(logsBefore);
  });

  it('keeps at most SCRIPT_LOG_RETENTION_PER_PAGE log lines per page, the newest', async () => {
    const c = await scriptPage();
    const v = await upload(
      c.page.id,
      c.owner.token,
      `export default { async onMessage(e, ctx) {
        for (let i = 0; i < 30; i++) console.log(e.message.text + ' ' + i);
        await ctx.send({ recipient: { id: e.sender.id }, messaging_type: 'RESPONSE', message: { text: 'logged ' + e.message.text } });
      } };`,
    );
    await activate(c.page.id, c.owner.token, v);
    for (const word of ['a', 'b', 'c']) {
      await personSays(api, c.person, c.thread.id, word);
      await pageReply(c.sock, `logged ${word}`);
    }
    const logs = await waitFor('the last line', async () => {
      const got = await logsOf(c.page.id, c.owner.token, v);
      return got[0]?.message === 'c 29' ? got : undefined;
    });
    const [{ n }] = await t.db.query('SELECT count(*)::int AS n FROM script_logs WHERE page_id = $1', [c.page.id]);
    expect(n).toBeLessThanOrEqual(50);
    expect(logs.length).toBeLessThanOrEqual(50);
    expect(logs.some((l) => l.message === 'a 0')).toBe(false);
  });

  it('applies per-page limit overrides of the version', async () => {
    const c = await scriptPage();
    const v = await upload(
      c.page.id,
      c.owner.token,
      `export default { async onMessage(e, ctx) {
        for (let i = 1; i <= 2; i++) await ctx.send({ recipient: { id: e.sender.id }, messaging_type: 'RESPONSE', message: { text: 'send ' + i } });
      } };`,
      { limits: { maxSends: 1 } },
    );
    await activate(c.page.id, c.owner.token, v);
    await personSays(api, c.person, c.thread.id, 'go');
    await pageReply(c.sock, 'send 1');
    const line = await waitFor('the sends limit', async () =>
      (await logsOf(c.page.id, c.owner.token, v)).find((l) => l.message.startsWith('[sandbox] limit exceeded: sends')),
    );
    expect(line.level).toBe('error');
    const list = await api.get(`/pages/${c.page.id}/scripts`, { token: c.owner.token });
    expect(list.body.data[0].limits).toEqual({ maxSends: 1 });
  });

  it('switches behaviour on activation and rollback', async () => {
    const c = await scriptPage();
    const say = (text: string) =>
      `export default { async onMessage(e, ctx) { await ctx.send({ recipient: { id: e.sender.id }, messaging_type: 'RESPONSE', message: { text: '${text} ' + e.message.text } }); } };`;
    const v1 = await upload(c.page.id, c.owner.token, say('v1'));
    const v2 = await upload(c.page.id, c.owner.token, say('v2'));
    expect([v1, v2]).toEqual([1, 2]);
    await activate(c.page.id, c.owner.token, v1);
    await personSays(api, c.person, c.thread.id, 'a');
    await pageReply(c.sock, 'v1 a');
    await activate(c.page.id, c.owner.token, v2);
    await personSays(api, c.person, c.thread.id, 'b');
    await pageReply(c.sock, 'v2 b');
    await activate(c.page.id, c.owner.token, v1);
    await personSays(api, c.person, c.thread.id, 'c');
    await pageReply(c.sock, 'v1 c');
  });

  it('refuses ctx.fetch to a host the script did not declare, and plain http', async () => {
    const c = await scriptPage();
    const v = await upload(
      c.page.id,
      c.owner.token,
      `export default {
        async onMessage(event, ctx) {
          const out = [];
          for (const url of ['https://undeclared.example.net/x', 'http://api.example.com/x']) {
            try { await ctx.fetch(url); out.push('fetched'); } catch (e) { out.push(e.code + ': ' + e.message); }
          }
          await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { text: out.join(' | ') } });
        },
      };`,
      { allowed_hosts: ['api.example.com'] },
    );
    await activate(c.page.id, c.owner.token, v);
    await personSays(api, c.person, c.thread.id, 'go');
    await pageReply(
      c.sock,
      "fetch_refused: undeclared.example.net is not among the script's allowed_hosts | fetch_refused: only https URLs may be fetched, not http:",
    );
    const bad = await api.post(`/pages/${c.page.id}/scripts`, { source: ECHO, allowed_hosts: ['127.0.0.1'] }, { token: c.owner.token });
    expect(bad.status).toBe(400);
    const greedy = await api.post(`/pages/${c.page.id}/scripts`, { source: ECHO, limits: { cpuMs: 60000 } }, { token: c.owner.token });
    expect(greedy.status).toBe(400);
    expect(greedy.body.message).toMatch(/cpuMs may be at most/);
  });
});
