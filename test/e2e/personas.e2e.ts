import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { conversationWithPsid } from '../factories/messaging.factory';

// Messenger's Personas API: a Page's bot creates a name and picture, sends as it with persona_id, and the person
// sees that name and picture; the picture is fetched once and served by the platform.
describe('send api: personas', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let cdn: http.Server;
  let cdnUrl: string;
  let fetches = 0;

  beforeAll(async () => {
    t = await startTestPlatform({ env: { OUTBOUND_ALLOWLIST: '127.0.0.0/8' } });
    api = httpClient(t.url);
    const face = await sharp({ create: { width: 256, height: 256, channels: 3, background: '#c84' } }).png().toBuffer();
    cdn = http.createServer((req, res) => {
      fetches++;
      if (req.url === '/ada.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(face);
      if (req.url === '/notes.txt') return res.writeHead(200, { 'content-type': 'text/plain' }).end('not a picture');
      res.writeHead(404).end('no');
    });
    await new Promise<void>((r) => cdn.listen(0, '127.0.0.1', r));
    cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    cdn?.closeAllConnections();
    await new Promise((r) => cdn?.close(r));
    await t?.close();
  });

  const graph = (token: string) => ({
    post: (path: string, body: unknown) => api.post(`/v25.0/${path}?access_token=${encodeURIComponent(token)}`, body),
    get: (path: string) => api.get(`/v25.0/${path}?access_token=${encodeURIComponent(token)}`),
    del: (path: string) => api.delete(`/v25.0/${path}?access_token=${encodeURIComponent(token)}`),
  });
  async function setup() {
    const c = await conversationWithPsid(api, t.db);
    await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1', [c.thread.id, Date.now()]);
    return { ...c, g: graph(c.pageToken) };
  }

  it('creates a persona, sends as it, and shows the person its name and picture', async () => {
    const c = await setup();
    const created = await c.g.post('me/personas', { name: 'Ada (support)', profile_picture_url: `${cdnUrl}/ada.png` });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ id: expect.stringMatching(/^\d+$/) });
    const id = created.body.id as string;

    const node = await c.g.get(id);
    expect(node.body).toEqual({ name: 'Ada (support)', profile_picture_url: expect.stringContaining('/media/'), id });
    // The picture is the platform's copy, re-encoded, behind a signed URL: the person's browser never asks the bot's host.
    const before = fetches;
    const picture = await fetch(node.body.profile_picture_url);
    expect(picture.status).toBe(200);
    expect(picture.headers.get('content-type')).toMatch(/^image\//);
    expect(fetches).toBe(before);
    // The same persona; its picture's signed URL is minted per read (expiry in seconds), so two reads may differ
    // in their query: the object is the same.
    const unsigned = (p: { profile_picture_url: string }) => ({ ...p, profile_picture_url: p.profile_picture_url.split('?')[0] });
    expect((await c.g.get(`${c.page.id}/personas`)).body.data.map(unsigned)).toEqual([unsigned(node.body)]);

    const sock = await connectPerson(t.url, c.person.token);
    const sent = await c.g.post('me/messages', { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'Ada here, how can I help?' }, persona_id: id });
    expect(sent.status).toBe(200);
    const live = await sock.waitFor('the message', (e) => e.type === 'message');
    expect(live.message.persona).toEqual({ id, name: 'Ada (support)', profile_picture_url: expect.stringContaining('/media/') });
    const history = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(history.body.data.at(-1)).toMatchObject({ mid: sent.body.message_id, text: 'Ada here, how can I help?', persona: { id, name: 'Ada (support)' } });
    expect((await fetch(history.body.data.at(-1).persona.profile_picture_url)).status).toBe(200);
    // Only the name and picture reach the person: not the stored media id.
    expect(Object.keys(history.body.data.at(-1).persona).sort()).toEqual(['id', 'name', 'profile_picture_url']);

    // Typing as the persona: the person sees who is typing; typing_off names no one.
    expect((await c.g.post('me/messages', { recipient: { id: c.psid }, sender_action: 'typing_on', persona_id: id })).body).toEqual({ recipient_id: c.psid });
    const typing = await sock.waitFor('typing as Ada', (e) => e.type === 'typing' && e.on);
    expect(typing.persona).toEqual({ id, name: 'Ada (support)', profile_picture_url: expect.stringContaining('/media/') });
    expect((await fetch(typing.persona.profile_picture_url)).status).toBe(200);
    await c.g.post('me/messages', { recipient: { id: c.psid }, sender_action: 'typing_off', persona_id: id });
    const off = await sock.waitFor('typing off', (e) => e.type === 'typing' && !e.on);
    expect(off.persona).toBeUndefined();
    const unknown = await c.g.post('me/messages', { recipient: { id: c.psid }, sender_action: 'typing_on', persona_id: '999999999' });
    expect([unknown.status, unknown.body.error?.code]).toEqual([400, 100]);

    // Deleted: no longer listed or usable; what was sent keeps its name.
    expect((await c.g.del(id)).body).toEqual({ success: true });
    expect((await c.g.get('me/personas')).body.data).toEqual([]);
    const after = await c.g.post('me/messages', { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'again' }, persona_id: id });
    expect(after.status).toBe(400);
    expect(after.body.error).toMatchObject({ code: 100, message: expect.stringContaining('persona_id') });
    const again = await c.g.del(id);
    expect(again.status).toBe(400);
    expect(again.body.error).toMatchObject({ code: 100, error_subcode: 33 });
    const kept = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(kept.body.data.at(-1).persona.name).toBe('Ada (support)');
    await sock.close();
  });

  it("keeps each Page's personas to itself, and refuses what is not a name and a picture", async () => {
    const c = await setup();
    const d = await setup();
    const { id } = (await c.g.post('me/personas', { name: 'Grace', profile_picture_url: `${cdnUrl}/ada.png` })).body;
    const foreign = await d.g.post('me/messages', { recipient: { id: d.psid }, messaging_type: 'RESPONSE', message: { text: 'as Grace?' }, persona_id: id });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.code).toBe(100);
    const [{ n }] = await t.db.query('SELECT count(*)::int AS n FROM messages WHERE thread_id = $1', [d.thread.id]);
    expect(n).toBe(0);
    expect((await d.g.del(id)).status).toBe(400);
    expect((await d.g.get(id)).body.error).toMatchObject({ code: 100 });
    expect((await c.g.get(id)).body.name).toBe('Grace');
    // Another Page's path is refused as on every Graph route.
    expect((await d.g.get(`${c.page.id}/personas`)).status).toBeGreaterThanOrEqual(400);

    const bad = [
      [{ profile_picture_url: `${cdnUrl}/ada.png` }, 'name'],
      [{ name: 'x', profile_picture_url: 'not a url' }, 'profile_picture_url'],
      [{ name: 'x', profile_picture_url: `${cdnUrl}/notes.txt` }, 'image'],
      [{ name: 'x', profile_picture_url: `${cdnUrl}/missing.png` }, '404'],
    ] as const;
    for (const [body, says] of bad) {
      const res = await c.g.post('me/personas', body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 100, message: expect.stringContaining(says) });
    }
    expect((await c.g.get('me/personas')).body.data.map((p: { name: string }) => p.name)).toEqual(['Grace']);
  });

  it("limits a Page's persona creates to the Messenger Profile's rate, refused ones included", async () => {
    const c = await setup();
    const answers: number[] = [];
    for (let i = 0; i < 11; i++) answers.push((await c.g.post('me/personas', { name: `Agent ${i}`, profile_picture_url: `${cdnUrl}/ada.png` })).status);
    expect(answers.slice(0, 10)).toEqual(Array(10).fill(200));
    const over = await c.g.post('me/personas', { name: 'One more', profile_picture_url: `${cdnUrl}/ada.png` });
    expect([over.status, over.body.error.code]).toEqual([429, 613]);
    expect(over.headers['retry-after']).toBeDefined();
    expect((await c.g.get('me/personas')).body.data).toHaveLength(10);
  });
});
