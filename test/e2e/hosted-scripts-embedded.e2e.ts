import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { httpClient } from '../support/http-client';
import { connectPerson } from '../support/person-socket';
import { spawnPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { openThread, personSays } from '../factories/messaging.factory';
import { createPage, signupPerson } from '../factories/registry.factory';

// The embedded default (PGlite with one connection, in-process queues): a hosted script answers, keeps state, dry-runs.
describe('hosted scripts on the embedded default', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-scripts-embedded-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('runs a quick-reply menu script with ctx.store', async () => {
    const p = await spawnPlatform('all', { DATA_DIR: dataDir, SCRIPT_POLL_INTERVAL_MS: '100' });
    try {
      const api = httpClient(p.url);
      const owner = await signupPerson(api, 'Owner');
      const page = await createPage(api, owner);
      const source = `
        export default {
          async onMessage(event, ctx) {
            const to = { id: event.sender.id };
            const choice = event.message.quick_reply?.payload;
            if (choice) {
              await ctx.store.set('last:' + event.sender.id, choice);
              await ctx.send({ recipient: to, messaging_type: 'RESPONSE', message: { text: 'You chose ' + choice } });
              return;
            }
            const last = await ctx.store.get('last:' + event.sender.id);
            await ctx.send({ recipient: to, messaging_type: 'RESPONSE', message: {
              text: last ? 'Again ' + last + '?' : 'Pick a colour',
              quick_replies: [{ content_type: 'text', title: 'Red', payload: 'RED' }, { content_type: 'text', title: 'Blue', payload: 'BLUE' }],
            } });
          },
        };`;
      const up = await api.post(`/pages/${page.id}/scripts`, { source }, { token: owner.token });
      expect(up.status).toBe(201);
      expect((await api.post(`/pages/${page.id}/scripts/1/activate`, {}, { token: owner.token })).status).toBe(200);

      const person = await signupPerson(api, 'Customer');
      const thread = await openThread(api, person, page.id);
      const sock = await connectPerson(p.url, person.token);
      const fromPage = (text: string) => sock.waitFor(text, (e) => e.type === 'message' && e.message?.sender === 'page' && e.message.text === text);
      await personSays(api, person, thread.id, 'hi');
      const menu = await fromPage('Pick a colour');
      expect(menu.message.quick_replies.map((q: any) => q.payload)).toEqual(['RED', 'BLUE']);
      const res = await api.post(`/threads/${thread.id}/messages`, { text: 'Blue', quick_reply: { payload: 'BLUE' }, client_message_id: 'qr-1' }, { token: person.token });
      expect(res.status).toBe(201);
      await fromPage('You chose BLUE');
      await personSays(api, person, thread.id, 'hello again');
      await fromPage('Again BLUE?');

      const dry = await api.post(
        `/pages/${page.id}/scripts/1/test`,
        { event: { sender: { id: '42' }, recipient: { id: page.id }, timestamp: 1, message: { mid: 'm_1', text: 'x' } } },
        { token: owner.token },
      );
      expect(dry.body).toMatchObject({ outcome: 'ok', sends: [{ message: { message: { text: 'Pick a colour' } }, error: null }] });
      const logs = await waitFor('logs', async () => (await api.get(`/pages/${page.id}/scripts/1/logs`, { token: owner.token })).body.data);
      expect(logs.some((l: any) => l.message === '[sandbox] version 1 activated')).toBe(true);
      await sock.close();
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });
});
