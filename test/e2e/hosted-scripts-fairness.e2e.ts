import { execFileSync } from 'node:child_process';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson, PersonSocket } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { openThread, personSays } from '../factories/messaging.factory';
import { createPage, signupPerson, Person } from '../factories/registry.factory';

// One Page's script against the others on one sandbox worker: a Page that hangs can't hold every invocation slot,
// and a worker that dies with several Pages' scripts in flight doesn't count against their breakers.
describe('hosted scripts: one Page cannot take the others down', () => {
  let t: TestPlatform;
  let api: HttpClient;
  const sockets: PersonSocket[] = [];

  beforeAll(async () => {
    t = await startTestPlatform({
      env: {
        SANDBOX_WORKERS: '1',
        SCRIPT_CONCURRENCY: '4',
        SCRIPT_POLL_INTERVAL_MS: '100',
        WEBHOOK_RETRY_SCHEDULE: '0,1',
        // One counted failure pauses a script: a crash counted against a bystander would show at once.
        SCRIPT_BREAKER_THRESHOLD: '1',
      },
    });
    api = httpClient(t.url);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await t?.close();
  });

  async function pageWithScript(source: string, limits: Record<string, number> = {}) {
    const owner = await signupPerson(api, 'Owner');
    const page = await createPage(api, owner, 'Scripted');
    const up = await api.post(`/pages/${page.id}/scripts`, { source, limits }, { token: owner.token });
    expect(up.status).toBe(201);
    expect((await api.post(`/pages/${page.id}/scripts/${up.body.version}/activate`, {}, { token: owner.token })).status).toBe(200);
    return { owner, page };
  }

  async function people(pageId: string, n: number): Promise<{ person: Person; thread: string }[]> {
    const out = [];
    for (let i = 0; i < n; i++) {
      const person = await signupPerson(api, `P${i}`);
      out.push({ person, thread: (await openThread(api, person, pageId)).id });
    }
    return out;
  }

  const ECHO = `export default { async onMessage(event, ctx) {
    await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { text: 'echo: ' + event.message.text } });
  } };`;

  const finishedRuns = async (pageId: string) =>
    (
      await t.db.query(
        `SELECT count(*)::int AS n FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
          WHERE d.page_id = $1 AND d.target = 'script'`,
        [pageId],
      )
    )[0].n as number;

  it("a Page whose script hangs holds at most two of the process's invocation slots: another Page is answered at once", async () => {
    const hog = await pageWithScript(`export default { onMessage() { return new Promise(() => {}); } };`, { wallMs: 4000 });
    for (const p of await people(hog.page.id, 6)) await personSays(api, p.person, p.thread, 'hang');
    await waitFor('the hog claimed', async () => {
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE page_id = $1 AND status = 'in_flight'`, [hog.page.id]);
      return n >= 1;
    });
    const good = await pageWithScript(ECHO);
    const [p] = await people(good.page.id, 1);
    const sock = await connectPerson(t.url, p.person.token);
    sockets.push(sock);
    await personSays(api, p.person, p.thread, 'ping');
    await sock.waitFor('the echo', (e) => e.type === 'message' && e.message?.sender === 'page' && e.message.text === 'echo: ping');
    // Answered while every one of the hog's runs was still hanging (each takes its full 4 s wall limit): its claims
    // never took the four slots. With no cap, the echo waited for a hog run to end.
    expect(await finishedRuns(hog.page.id)).toBe(0);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE page_id = $1 AND status = 'in_flight'`, [hog.page.id]);
    expect(n).toBeLessThanOrEqual(2);
  }, 60_000);

  it("a worker that dies with several Pages' scripts in flight counts against none of them", async () => {
    // Each run says it has started (a ctx.store write, visible in Postgres at once), then holds the worker's thread
    // 400 ms (within the 500 ms CPU ceiling): the test kills the worker once a run has said so, so a victim's run is
    // surely in the worker when it dies.
    const victim = await pageWithScript(
      `export default { async onMessage(event, ctx) {
         await ctx.store.set('started:' + event.sender.id, Date.now());
         const t = Date.now(); while (Date.now() - t < 400) {}
         await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { text: 'echo: ' + event.message.text } });
       } };`,
      { cpuMs: 500 },
    );
    // Another Page's script, in flight on the same worker the whole time (it hangs up to its wall limit).
    const other = await pageWithScript(`export default { onMessage() { return new Promise(() => {}); } };`, { wallMs: 8000 });
    const [o] = await people(other.page.id, 1);
    await personSays(api, o.person, o.thread, 'hang');
    const inFlight = (pageId: string) =>
      waitFor(`a run of ${pageId} in flight`, async () => {
        const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE page_id = $1 AND status = 'in_flight'`, [pageId]);
        return n > 0;
      });
    await inFlight(other.page.id);
    const victims = await people(victim.page.id, 4);
    for (const v of victims) await personSays(api, v.person, v.thread, 'hello');
    await waitFor('a victim run started in the worker', async () => {
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM script_store WHERE page_id = $1`, [victim.page.id]);
      return n > 0;
    });
    // The sandbox workers are the platform's forked children (SANDBOX_WORKERS=1, plus the dry-run pool's).
    const children = execFileSync('pgrep', ['-P', String(t.child.pid), '-f', 'worker-main'], { encoding: 'utf8' }).trim().split('\n');
    expect(children.length).toBeGreaterThan(0);
    for (const pid of children) process.kill(Number(pid), 'SIGKILL');
    for (const v of victims) await personSays(api, v.person, v.thread, 'again');

    await waitFor(
      "every victim's message answered",
      async () => {
        const [{ n }] = await t.db.query(
          `SELECT count(*)::int AS n FROM webhook_deliveries WHERE page_id = $1 AND target = 'script' AND status = 'delivered'`,
          [victim.page.id],
        );
        return n === 8;
      },
      { timeoutMs: 40_000 },
    );
    const crashed = await t.db.query(
      `SELECT a.error FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
        WHERE d.page_id = $1 AND a.error LIKE 'worker_crashed%'`,
      [victim.page.id],
    );
    // The victim was in flight when the worker died, and was never paused for it.
    expect(crashed.length).toBeGreaterThan(0);
    expect(crashed.every((r: { error: string }) => r.error.startsWith('worker_crashed_shared'))).toBe(true);
    const state = await api.get(`/pages/${victim.page.id}/scripts`, { token: victim.owner.token });
    expect(state.body).toMatchObject({ paused: false, consecutive_failures: 0 });
    const [{ paused_at }] = await t.db.query(`SELECT paused_at FROM page_scripts WHERE page_id = $1`, [victim.page.id]);
    expect(paused_at).toBeNull();
  }, 90_000);
});
