import { httpClient } from '../support/http-client';
import { connectPerson } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { openThread, personSays } from '../factories/messaging.factory';
import { createPage, signupPerson } from '../factories/registry.factory';

// Separate roles: the live pool runs in the worker process only; the api process starts a dry-run pool on first use.
describe('hosted scripts across api and worker processes', () => {
  let t: TestPlatform;
  afterAll(async () => {
    await t?.close();
  });

  it('uploads and dry-runs in the api, runs events in the worker', async () => {
    t = await startTestPlatform({ role: 'api', env: { SCRIPT_POLL_INTERVAL_MS: '100' } });
    const worker = await t.spawnSibling('worker');
    const api = httpClient(t.url);
    const owner = await signupPerson(api, 'Owner');
    const page = await createPage(api, owner);
    const source = `export default { async onMessage(e, ctx) {
      await ctx.send({ recipient: { id: e.sender.id }, messaging_type: 'RESPONSE', message: { text: 'worker says ' + e.message.text } });
    } };`;
    expect((await api.post(`/pages/${page.id}/scripts`, { source }, { token: owner.token })).status).toBe(201);
    const dry = await api.post(
      `/pages/${page.id}/scripts/1/test`,
      { event: { sender: { id: '7' }, recipient: { id: page.id }, timestamp: 1, message: { mid: 'm_1', text: 'dry' } } },
      { token: owner.token },
    );
    expect(dry.body).toMatchObject({ outcome: 'ok', sends: [{ message: { message: { text: 'worker says dry' } }, error: null }] });
    expect((await api.post(`/pages/${page.id}/scripts/1/activate`, {}, { token: owner.token })).status).toBe(200);

    const person = await signupPerson(api, 'Customer');
    const thread = await openThread(api, person, page.id);
    const sock = await connectPerson(t.url, person.token);
    await personSays(api, person, thread.id, 'live');
    await sock.waitFor('the reply', (e) => e.type === 'message' && e.message?.text === 'worker says live');
    await sock.close();

    const apiLog = t.logs.join('');
    const workerLog = worker.logs.join('');
    expect(apiLog).toContain('dry-run sandbox pool started');
    expect(apiLog).not.toContain('sandbox pool started with');
    expect(workerLog).toContain('sandbox pool started with 2 workers');
    expect(workerLog).not.toContain('dry-run sandbox pool started');
  });
});
