import { Client } from 'pg';
import { httpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { openThread, personSays } from '../factories/messaging.factory';
import { createPage, signupPerson } from '../factories/registry.factory';

// A worker process told to stop (a deploy) while a script runs: the run finishes with its worker (a run cut short
// is run again by the next process, and its replies so far go out twice), and the worker takes no new run.
describe('hosted scripts: SIGTERM of a worker mid-run', () => {
  let t: TestPlatform;
  afterAll(async () => {
    await t?.close();
  });

  it('lets the run in flight finish and settle, and leaves new events to the next worker', async () => {
    t = await startTestPlatform({ role: 'api', env: { SCRIPT_POLL_INTERVAL_MS: '100' } });
    const worker = await t.spawnSibling('worker');
    const api = httpClient(t.url);
    const owner = await signupPerson(api, 'Owner');
    const page = await createPage(api, owner);
    // ctx.store.set takes the Page's store lock (script-host-bridge.ts): held by this test, it keeps the run in
    // flight, after its first reply, for as long as the test needs.
    const source = `export default { async onMessage(e, ctx) {
      const to = { id: e.sender.id };
      await ctx.send({ recipient: to, messaging_type: 'RESPONSE', message: { text: 'first ' + e.message.text } });
      await ctx.store.set('k', e.message.text);
      await ctx.send({ recipient: to, messaging_type: 'RESPONSE', message: { text: 'second ' + e.message.text } });
    } };`;
    const up = await api.post(
      `/pages/${page.id}/scripts`,
      { source, limits: { wallMs: 10_000 } },
      { token: owner.token },
    );
    expect(up.status).toBe(201);
    expect(
      (await api.post(`/pages/${page.id}/scripts/${up.body.version}/activate`, {}, { token: owner.token })).status,
    ).toBe(200);
    const pageTexts = async (threadId: string) =>
      (
        await t.db.query<{ text: string }>(
          `SELECT content->>'text' AS text FROM messages WHERE thread_id = $1 AND sender = 'page' ORDER BY seq`,
          [threadId],
        )
      ).map((r) => r.text);
    const delivery = async (text: string) => {
      const [d] = await t.db.query<{ id: string; status: string; attempts: number }>(
        `SELECT d.id, d.status, d.attempts FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
          WHERE d.target = 'script' AND d.page_id = $1 AND e.messaging->'message'->>'text' = $2`,
        [page.id, text],
      );
      return d;
    };

    const a = await signupPerson(api, 'A');
    const threadA = await openThread(api, a, page.id);
    const b = await signupPerson(api, 'B');
    const threadB = await openThread(api, b, page.id);

    const lock = new Client({ connectionString: t.db.url });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      await lock.query(`SELECT pg_advisory_xact_lock(hashtext('sb-script-store:' || $1))`, [page.id]);
      await personSays(api, a, threadA.id, 'a');
      await waitFor('the first reply', async () => (await pageTexts(threadA.id)).includes('first a'));
      await waitFor('the run waiting for the store lock', async () => {
        const [{ n }] = await t.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory' AND query LIKE '%sb-script-store:%'`,
        );
        return n === 1;
      });

      const exited = worker.stop('SIGTERM');
      await waitFor('shutting down', () => worker.logs.join('').includes('shutting down'));
      // An event recorded while the worker drains: its job may reach the draining worker, which must not take it.
      await personSays(api, b, threadB.id, 'b');
      // Time for a worker that stops its sandbox at once to do so (the run would fail) and to take b's job.
      await new Promise((r) => setTimeout(r, 1500));
      await lock.query('COMMIT');
      expect(await exited).toBe(0);
    } finally {
      await lock.end();
    }

    const da = await delivery('a');
    expect(da).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(await t.db.query(`SELECT attempt, error FROM webhook_attempts WHERE delivery_id = $1`, [da.id])).toEqual([
      { attempt: 1, error: null },
    ]);
    expect(await pageTexts(threadA.id)).toEqual(['first a', 'second a']);
    const db = await delivery('b');
    expect(db).toMatchObject({ status: 'pending', attempts: 0 });

    // The next worker runs b once, and nothing of a again.
    await t.spawnSibling('worker');
    await waitFor('b run', async () => (await pageTexts(threadB.id)).includes('second b'));
    expect(await delivery('b')).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(await pageTexts(threadA.id)).toEqual(['first a', 'second a']);
  }, 90_000);
});
