import fc from 'fast-check';
import sharp from 'sharp';
import { anyQueryText, expectNo5xx } from '../support/fuzz-request';
import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { clientId, conversationWithPsid, openThread, pageSays, personSays, psidOf } from '../factories/messaging.factory';
import { signupPerson } from '../factories/registry.factory';

// Messenger's Conversations API with a page token: the Page's conversations, their messages and one message, as
// Graph answers them, and nothing of another Page's.
describe('graph: conversations API', () => {
  let t: TestPlatform;
  let api: HttpClient;

  beforeAll(async () => {
    t = await startTestPlatform({ redis: false });
    api = httpClient(t.url);
  });
  afterAll(async () => t?.close());

  const get = (token: string, path: string) => api.get(`/v25.0/${path}${path.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`);
  const GRAPH_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/;

  it("lists the Page's conversations newest first, reads one's messages and one message", async () => {
    const c = await conversationWithPsid(api, t.db);
    const hi = await personSays(api, c.person, c.thread.id, 'Hi, is my order shipped?');
    const reply = await pageSays(api, c.pageToken, c.psid, { text: 'Yes, this morning.' });
    expect(reply.status).toBe(200);
    const other = await signupPerson(api, 'Bea Later');
    const otherThread = await openThread(api, other, c.page.id);
    await personSays(api, other, otherThread.id, 'Hello?');
    const otherPsid = await psidOf(t.db, otherThread.id);

    const list = await get(c.pageToken, 'me/conversations?platform=messenger');
    expect(list.status).toBe(200);
    expect(list.body).toEqual({
      data: [
        { id: `t_${otherThread.id}`, updated_time: expect.stringMatching(GRAPH_TIME) },
        { id: `t_${c.thread.id}`, updated_time: expect.stringMatching(GRAPH_TIME) },
      ],
      paging: { cursors: {} },
    });

    // One person's, with more fields.
    const one = await get(c.pageToken, `${c.page.id}/conversations?platform=messenger&user_id=${c.psid}&fields=participants,message_count,unread_count,snippet,can_reply`);
    expect(one.body.data).toEqual([
      {
        id: `t_${c.thread.id}`,
        participants: {
          data: [
            { name: 'Customer', email: `${c.psid}@facebook.com`, id: c.psid },
            { name: 'Acme', email: `${c.page.id}@facebook.com`, id: c.page.id },
          ],
        },
        message_count: 2,
        unread_count: 1,
        snippet: 'Yes, this morning.',
        can_reply: true,
      },
    ]);

    // A page at a time.
    const first = await get(c.pageToken, 'me/conversations?limit=1');
    expect(first.body.data.map((x: { id: string }) => x.id)).toEqual([`t_${otherThread.id}`]);
    const rest = await get(c.pageToken, `me/conversations?limit=1&after=${first.body.paging.cursors.after}`);
    expect(rest.body.data.map((x: { id: string }) => x.id)).toEqual([`t_${c.thread.id}`]);

    // The conversation's messages, newest first, a page at a time.
    const conv = await get(c.pageToken, `t_${c.thread.id}?fields=messages&limit=1`);
    expect(conv.body).toEqual({
      messages: { data: [{ id: reply.body.message_id, created_time: expect.stringMatching(GRAPH_TIME) }], paging: { cursors: { after: expect.any(String) } } },
      id: `t_${c.thread.id}`,
    });
    const older = await get(c.pageToken, `t_${c.thread.id}?fields=messages&limit=1&after=${conv.body.messages.paging.cursors.after}`);
    expect(older.body.messages).toEqual({ data: [{ id: hi.mid, created_time: expect.stringMatching(GRAPH_TIME) }], paging: { cursors: {} } });

    // Messages expanded in place (Graph's field expansion): what each says and who wrote it.
    const expanded = await get(c.pageToken, `t_${c.thread.id}?fields=id,messages{message,from}`);
    expect(expanded.body).toEqual({
      id: `t_${c.thread.id}`,
      messages: {
        data: [
          { message: 'Yes, this morning.', from: { name: 'Acme', email: `${c.page.id}@facebook.com`, id: c.page.id }, id: reply.body.message_id },
          { message: 'Hi, is my order shipped?', from: { name: 'Customer', email: `${c.psid}@facebook.com`, id: c.psid }, id: hi.mid },
        ],
        paging: { cursors: {} },
      },
    });

    // One message: who wrote to whom, and what.
    const fields = 'id,created_time,from,to,message';
    expect((await get(c.pageToken, `${hi.mid}?fields=${fields}`)).body).toEqual({
      id: hi.mid,
      created_time: expect.stringMatching(GRAPH_TIME),
      from: { name: 'Customer', email: `${c.psid}@facebook.com`, id: c.psid },
      to: { data: [{ name: 'Acme', email: `${c.page.id}@facebook.com`, id: c.page.id }] },
      message: 'Hi, is my order shipped?',
    });
    const answer = await get(c.pageToken, `${reply.body.message_id}?fields=from,message`);
    // Graph names the node whether or not `id` was asked for.
    expect(answer.body).toEqual({ from: { name: 'Acme', email: `${c.page.id}@facebook.com`, id: c.page.id }, message: 'Yes, this morning.', id: reply.body.message_id });
    expect((await get(c.pageToken, hi.mid)).body).toEqual({ id: hi.mid, created_time: expect.stringMatching(GRAPH_TIME) });
    expect(otherPsid).not.toBe(c.psid);
  });

  it("gives a message's media as Graph's attachments edge, its URLs signed for the bot", async () => {
    const c = await conversationWithPsid(api, t.db);
    const photo = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#39c' } }).png().toBuffer();
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(photo)], { type: 'image/png' }), 'p.png');
    const up = await fetch(`${t.url}/threads/${c.thread.id}/attachments`, { method: 'POST', body: form, headers: { authorization: `Bearer ${c.person.token}` } });
    expect(up.status).toBe(201);
    const { media_id } = (await up.json()) as { media_id: string };
    const sent = await api.post(`/threads/${c.thread.id}/messages`, { text: 'This one', attachments: [{ media_id }], client_message_id: clientId() }, { token: c.person.token });
    expect(sent.status).toBe(201);
    const text = await pageSays(api, c.pageToken, c.psid, { text: 'Lovely' });
    expect(text.status).toBe(200);

    const one = await get(c.pageToken, `${sent.body.mid}?fields=message,attachments`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({
      id: sent.body.mid,
      message: 'This one',
      attachments: {
        data: [
          {
            id: `${sent.body.mid}_0`,
            mime_type: expect.stringMatching(/^image\//),
            size: expect.any(Number),
            image_data: {
              width: 40,
              height: 30,
              max_width: 40,
              max_height: 30,
              url: expect.stringMatching(/^http:\/\/.+\/media\//),
              preview_url: expect.stringMatching(/^http:\/\/.+\/media\//),
            },
          },
        ],
      },
    });
    // The URL is the media itself, readable without the person's token.
    const img = await fetch(one.body.attachments.data[0].image_data.url);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toMatch(/^image\//);
    // A message without media has no attachments field, as on Graph; expanded in a conversation the same.
    expect((await get(c.pageToken, `${text.body.message_id}?fields=message,attachments`)).body).toEqual({ message: 'Lovely', id: text.body.message_id });
    const conv = await get(c.pageToken, `t_${c.thread.id}?fields=messages{attachments}`);
    expect(conv.body.messages.data.map((m: any) => [m.id, m.attachments?.data[0].id])).toEqual([
      [text.body.message_id, undefined],
      [sent.body.mid, `${sent.body.mid}_0`],
    ]);
  });

  it("shows nothing of another Page's, and refuses what Graph refuses", async () => {
    const c = await conversationWithPsid(api, t.db);
    const d = await conversationWithPsid(api, t.db);
    const theirs = await personSays(api, d.person, d.thread.id, 'private');
    for (const path of [`t_${d.thread.id}`, theirs.mid, `t_${d.thread.id}?fields=messages`]) {
      const res = await get(c.pageToken, path);
      expect([path, res.status, res.body.error?.code, res.body.error?.error_subcode]).toEqual([path, 400, 100, 33]);
    }
    expect((await get(c.pageToken, `${d.page.id}/conversations`)).status).toBeGreaterThanOrEqual(400);
    expect((await get(c.pageToken, `me/conversations?user_id=${d.psid}`)).body.data).toEqual([]);
    for (const bad of ['platform=instagram', 'fields=bogus', 'limit=0', 'limit=101', 'after=nope', 'user_id=abc', 'fields=participants{name}', 'fields=messages{message', 'fields=messages{bogus}']) {
      const res = await get(c.pageToken, `me/conversations?${bad}`);
      expect([bad, res.status, res.body.error?.code]).toEqual([bad, 400, 100]);
    }
    expect((await api.get(`/v25.0/me/conversations`)).status).toBe(401);
  });

  it('never answers 5xx to random queries', async () => {
    const c = await conversationWithPsid(api, t.db);
    const m = await personSays(api, c.person, c.thread.id, 'fuzz');
    const paths = ['me/conversations', `t_${c.thread.id}`, m.mid, `t_${c.thread.id}x`, 'm_'];
    const param = fc.constantFrom('platform', 'user_id', 'fields', 'limit', 'after', 'before');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.array(fc.tuple(param, anyQueryText()), { maxLength: 4 }), async (path, pairs) => {
        const q = pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
        await expectNo5xx(t.db, api, 'GET', `/v25.0/${path}?${q}${q ? '&' : ''}access_token=${encodeURIComponent(c.pageToken)}`, {});
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});
