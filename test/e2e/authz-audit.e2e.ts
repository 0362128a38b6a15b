import sharp from 'sharp';
import { BotReceiver, ReceivedRequest, startBotReceiver } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform, TEST_ADMIN_TOKEN } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import {
  clientId,
  conversation,
  conversationWithPsid,
  openThread,
  pageSays,
  personSays,
} from '../factories/messaging.factory';
import { createPage, signupPerson, subscribedApp } from '../factories/registry.factory';

// Who may act, where the rule is not the route's guard alone: ids that reach another person's data.
describe('authorization: ids of someone else', () => {
  let t: TestPlatform;
  let api: HttpClient;

  beforeAll(async () => {
    t = await startTestPlatform({ redis: false });
    api = httpClient(t.url);
  });
  afterAll(async () => t?.close());

  it("a person can't send, and so get a fresh URL of, media the Page's bot sent into another person's thread", async () => {
    const c = await conversationWithPsid(api, t.db);
    await personSays(api, c.person, c.thread.id, 'my invoice, please');
    // The bot uploads the person's invoice (Attachment Upload API) and sends it to them alone.
    const png = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#a30' } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append('message', JSON.stringify({ attachment: { type: 'image', payload: { is_reusable: true } } }));
    form.append('filedata', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'invoice.png');
    const uploaded = await fetch(`${t.url}/v25.0/me/message_attachments?access_token=${c.pageToken}`, {
      method: 'POST',
      body: form,
    });
    expect(uploaded.status).toBe(200);
    const { attachment_id } = (await uploaded.json()) as { attachment_id: string };
    const sent = await pageSays(api, c.pageToken, c.psid, {
      attachment: { type: 'image', payload: { attachment_id } },
    });
    expect(sent.status).toBe(200);
    // Its media id is in every URL of it (expired ones included).
    const [{ media_id: mediaId }] = await t.db.query<{ media_id: string }>(
      'SELECT media_id FROM message_attachments WHERE id = $1',
      [attachment_id],
    );

    // Another person of the same Page names that id in a message of their own thread.
    const other = await signupPerson(api, 'Someone Else');
    const theirs = await openThread(api, other, c.page.id);
    const stolen = await api.post(
      `/threads/${theirs.id}/messages`,
      { attachments: [{ media_id: mediaId }], client_message_id: clientId() },
      { token: other.token },
    );
    expect(stolen.status).toBe(400);
    expect(stolen.body.code).toBe('MEDIA.UNKNOWN_ATTACHMENT');
    const listed = await api.get(`/threads/${theirs.id}/messages`, { token: other.token });
    expect(JSON.stringify(listed.body)).not.toContain(`/media/${mediaId}/`);
  });
});

// An operator's suspension cuts an app off everywhere: its tokens, new events, and what was waiting for it.
describe('authorization: a suspended app', () => {
  let t: TestPlatform;
  let api: HttpClient;

  beforeAll(async () => {
    t = await startTestPlatform({
      env: { OUTBOUND_ALLOWLIST: '127.0.0.0/8', WEBHOOK_RECONCILE_INTERVAL_MS: '200', WEBHOOK_RETRY_SCHEDULE: '0,1' },
    });
    api = httpClient(t.url);
  });
  afterAll(async () => t?.close());

  const carries = (r: ReceivedRequest, mid: string) => r.body.toString('utf8').includes(mid);

  it('gets none of the events that waited for it while it is suspended, and gets them once restored', async () => {
    const owner = await signupPerson(api, 'Page Owner');
    const page = await createPage(api, owner);
    const held = await subscribedApp(api, owner, page.id, 'Suspended', ['messages']);
    const control = await subscribedApp(api, owner, page.id, 'Control', ['messages']);
    try {
      // Its bot is down: the person's message waits for a retry.
      held.bot.respond = () => 503;
      const person = await signupPerson(api, 'Customer');
      const thread = await openThread(api, person, page.id);
      const first = await personSays(api, person, thread.id, 'my address is 1 Main St');
      await waitFor('the failed attempt', async () => {
        const [d] = await t.db.query<{ status: string; attempts: number }>(
          'SELECT status, attempts FROM webhook_deliveries WHERE app_id = $1',
          [held.id],
        );
        return d?.status === 'pending' && Number(d.attempts) >= 1 ? d : undefined;
      });
      expect((await api.post(`/admin/apps/${held.id}/suspend`, undefined, { token: TEST_ADMIN_TOKEN })).status).toBe(
        200,
      );
      // Its bot is back, and the retry is due.
      held.bot.respond = () => 200;
      const before = held.bot.received.length;
      await t.db.query('UPDATE webhook_deliveries SET next_attempt_at = now() WHERE app_id = $1', [held.id]);
      // The Page's other app hears the next message: deliveries are going out.
      const second = await personSays(api, person, thread.id, 'anyone there?');
      await waitFor('the other app to get the second message', () =>
        control.bot.received.find((r) => carries(r, second.mid)),
      );
      // Ten and more reconciler passes later, nothing has gone to the suspended app.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(held.bot.received.slice(before).map((r) => r.body.toString('utf8'))).toEqual([]);
      const [waiting] = await t.db.query<{ status: string }>(
        'SELECT status FROM webhook_deliveries WHERE app_id = $1',
        [held.id],
      );
      expect(waiting.status).toBe('pending');

      // Restored, it gets what waited (nothing was dropped), and nothing recorded while it was suspended.
      expect((await api.post(`/admin/apps/${held.id}/restore`, undefined, { token: TEST_ADMIN_TOKEN })).status).toBe(
        200,
      );
      await waitFor('the held message after the restore', () => held.bot.received.find((r) => carries(r, first.mid)));
      expect(held.bot.received.filter((r) => carries(r, second.mid))).toEqual([]);
    } finally {
      await held.bot.close();
      await control.bot.close();
    }
  }, 60_000);
});

// A Page's hosted script runs as its own app: suspended, it runs nothing either, and so sends nothing as the Page.
describe('authorization: a suspended hosted-script app', () => {
  let t: TestPlatform;
  let api: HttpClient;

  beforeAll(async () => {
    t = await startTestPlatform({
      redis: false,
      env: { SANDBOX_WORKERS: '1', SCRIPT_POLL_INTERVAL_MS: '100', WEBHOOK_RETRY_SCHEDULE: '0,1' },
    });
    api = httpClient(t.url);
  });
  afterAll(async () => t?.close());

  it('runs none of the events that waited for it while its app is suspended, and runs them once restored', async () => {
    const owner = await signupPerson(api, 'Page Owner');
    const page = await createPage(api, owner);
    // Fails its first run (the event waits for a retry), answers after that.
    const source = `export default { async onMessage(e, ctx) {
      if (!(await ctx.store.get('failed-once'))) { await ctx.store.set('failed-once', true); throw new Error('not yet'); }
      await ctx.send({ recipient: { id: e.sender.id }, messaging_type: 'RESPONSE', message: { text: 'script says ' + e.message.text } });
    } };`;
    expect((await api.post(`/pages/${page.id}/scripts`, { source }, { token: owner.token })).status).toBe(201);
    expect((await api.post(`/pages/${page.id}/scripts/1/activate`, {}, { token: owner.token })).status).toBe(200);
    const [{ app_id: hostedAppId }] = await t.db.query<{ app_id: string }>(
      'SELECT app_id FROM page_scripts WHERE page_id = $1',
      [page.id],
    );
    const person = await signupPerson(api, 'Customer');
    const thread = await openThread(api, person, page.id);
    await personSays(api, person, thread.id, 'hello');
    await waitFor('the failed run', async () => {
      const [d] = await t.db.query<{ status: string; attempts: number }>(
        'SELECT status, attempts FROM webhook_deliveries WHERE app_id = $1',
        [hostedAppId],
      );
      return d?.status === 'pending' && Number(d.attempts) >= 1 ? d : undefined;
    });
    expect((await api.post(`/admin/apps/${hostedAppId}/suspend`, undefined, { token: TEST_ADMIN_TOKEN })).status).toBe(
      200,
    );
    await t.db.query('UPDATE webhook_deliveries SET next_attempt_at = now() WHERE app_id = $1', [hostedAppId]);
    const pageTexts = async () =>
      (
        (await api.get(`/threads/${thread.id}/messages`, { token: person.token })).body.data as {
          sender: string;
          text?: string;
        }[]
      )
        .filter((m) => m.sender === 'page')
        .map((m) => m.text);
    // Many poller passes (100 ms each) and the retry's delay later, the script has not run again.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await pageTexts()).toEqual([]);

    expect((await api.post(`/admin/apps/${hostedAppId}/restore`, undefined, { token: TEST_ADMIN_TOKEN })).status).toBe(
      200,
    );
    await waitFor('the reply after the restore', async () =>
      (await pageTexts()).includes('script says hello') ? true : undefined,
    );
  }, 60_000);
});

// What a person's request says about the server (its Host header) is theirs alone: it never reaches the Page's bots.
describe("a person's Host header and the Page's bots", () => {
  let t: TestPlatform;
  let api: HttpClient;
  let bot: BotReceiver;

  beforeAll(async () => {
    t = await startTestPlatform({ redis: false, env: { OUTBOUND_ALLOWLIST: '127.0.0.0/8' } });
    api = httpClient(t.url);
    bot = await startBotReceiver('verify-me');
  });
  afterAll(async () => {
    await bot?.close();
    await t?.close();
  });

  it("mints the bot's attachment URLs on the platform's origin, not on the Host the person sent", async () => {
    const c = await conversation(api, bot);
    bot.secrets.push(c.app.secret);
    const png = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#0a3' } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'p.png');
    const up = await fetch(`${t.url}/threads/${c.thread.id}/attachments`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${c.person.token}` },
    });
    expect(up.status).toBe(201);
    const { media_id } = (await up.json()) as { media_id: string };
    const sent = await api.post(
      `/threads/${c.thread.id}/messages`,
      { attachments: [{ media_id }], client_message_id: clientId() },
      { token: c.person.token, headers: { host: 'attacker.example' } },
    );
    expect(sent.status).toBe(201);
    const item = await waitFor('the webhook', () =>
      bot.received
        .flatMap((r) => (JSON.parse(r.body.toString('utf8')).entry ?? []) as { messaging: any[] }[])
        .flatMap((e) => e.messaging)
        .find((m) => m.message?.mid === sent.body.mid),
    );
    const url = new URL(item.message.attachments[0].payload.url);
    expect(url.host).toBe(new URL(t.url).host);
    expect((await fetch(url)).status).toBe(200);
  });
});
