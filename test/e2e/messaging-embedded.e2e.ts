import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startBotReceiver } from '../support/bot-receiver';
import { httpClient } from '../support/http-client';
import { assertGapFree, connectPerson } from '../support/person-socket';
import { spawnPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { conversation, openThread, pageSays, personSays } from '../factories/messaging.factory';
import { signupPerson } from '../factories/registry.factory';
import { verifyMessenger } from '../../libs/webhook-signature';

// The loop on the embedded default: PGlite behind a pool of one connection, in-process pub/sub and queue.
describe('messaging on the embedded default', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-embedded-msg-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('runs person → bot → person with concurrent sends and no deadlock', async () => {
    const bot = await startBotReceiver('verify-me');
    const p = await spawnPlatform('all', { DATA_DIR: dataDir });
    try {
      const api = httpClient(p.url);
      const c = await conversation(api, bot);
      const sock = await connectPerson(p.url, c.person.token);
      await Promise.all(Array.from({ length: 20 }, (_, i) => personSays(api, c.person, c.thread.id, `m${i}`)));
      // Events due together arrive batched: count entries, not POSTs.
      const entryCount = () => bot.received.reduce((n, r) => n + JSON.parse(r.body.toString()).entry.length, 0);
      const inbound = await waitFor('20 webhooks', () => (entryCount() >= 20 ? bot.received : undefined));
      const first = JSON.parse(inbound[0].body.toString());
      expect(verifyMessenger(inbound[0].body, inbound[0].headers['x-hub-signature-256'] as string, c.app.secret)).toBe(true);
      const psid = first.entry[0].messaging[0].sender.id;
      await Promise.all(Array.from({ length: 20 }, (_, i) => pageSays(api, c.pageToken, psid, { text: `r${i}` })));
      const replies = await sock.waitForCount('20 replies', 20, (e) => e.type === 'message');
      expect(replies.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 21));
      assertGapFree(sock.events, 0);
      // The bot acknowledged all 20: "Delivered" reaches seq 20, in as many receipts as there were batches.
      await sock.waitFor('delivered up to 20', (e) => e.type === 'delivery' && e.by === 'page' && e.seq === 20);
      const poll = await api.get('/events?after=0&timeout=0&limit=500', { token: c.person.token });
      const receipts = poll.body.events.filter((e: any) => e.type === 'delivery');
      expect(poll.body.events.filter((e: any) => e.type !== 'delivery')).toHaveLength(40);
      const receiptSeqs = receipts.map((e: any) => e.seq);
      expect(receiptSeqs).toEqual([...receiptSeqs].sort((a, b) => a - b));
      expect(new Set(receiptSeqs).size).toBe(receiptSeqs.length);

      // The Page Inbox and the Conversations API read the same threads on PGlite (their SQL: functions,
      // row_to_json, row comparisons), and a human reply goes out as the Page.
      const inbox = await api.get(`/pages/${c.page.id}/inbox`, { token: c.owner.token });
      expect(inbox.body.data).toMatchObject([{ id: c.thread.id, psid, unread_count: 20, control: { handover: false, inbox_has_control: true } }]);
      const human = await api.post(`/pages/${c.page.id}/inbox/${c.thread.id}/messages`, { text: 'a human here' }, { token: c.owner.token });
      expect(human.body).toMatchObject({ seq: 41 });
      await sock.waitFor('the human reply', (e) => e.type === 'message' && e.message?.text === 'a human here');
      const convs = await api.get(`/v25.0/me/conversations?fields=message_count,messages{message}&limit=5&access_token=${encodeURIComponent(c.pageToken)}`);
      expect(convs.body.data).toMatchObject([{ id: `t_${c.thread.id}`, message_count: 41 }]);
      expect(convs.body.data[0].messages.data[0]).toEqual({ message: 'a human here', id: expect.stringMatching(/^m_/) });
      // The name search, off PGlite's pg_trgm (the migration created the extension and its index): 3+ letters, any
      // case; a name nobody has; 1 letter; a page at a time.
      const zoe = await signupPerson(api, 'Zoë Quixote');
      const zoeThread = await openThread(api, zoe, c.page.id);
      await personSays(api, zoe, zoeThread.id, 'hello');
      const search = async (q: string, more = '') => {
        const res = await api.get(`/pages/${c.page.id}/inbox?q=${encodeURIComponent(q)}${more}`, { token: c.owner.token });
        expect(res.status).toBe(200);
        return { ids: res.body.data.map((x: { id: string }) => x.id), next: res.body.paging.next_cursor };
      };
      expect((await search('QUIX')).ids).toEqual([zoeThread.id]);
      expect((await search('ustom')).ids).toEqual([c.thread.id]);
      expect((await search('nobody-is-called-this')).ids).toEqual([]);
      expect((await search('u')).ids).toEqual([zoeThread.id, c.thread.id]);
      const firstOfU = await search('u', '&limit=1');
      expect(firstOfU.ids).toEqual([zoeThread.id]);
      expect(await search('u', `&limit=1&cursor=${firstOfU.next}`)).toEqual({ ids: [c.thread.id], next: null });
      await sock.close();
    } finally {
      await p.stop();
      await bot.close();
    }
  }, 120_000);
});
