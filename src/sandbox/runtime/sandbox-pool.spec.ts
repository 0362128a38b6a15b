import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_LIMITS, resolveLimits, SandboxPool, type InvocationRequest, type WorkerExitInfo } from '.';
import { InMemoryHostBridge } from './testing/in-memory-host-bridge';

// The workers are real child processes running isolated-vm; only this jest process stays free of it.
const event = (text = 'hi') => ({
  sender: { id: 'psid-1' },
  recipient: { id: 'page' },
  timestamp: 1,
  message: { mid: 'm1', text },
});

const ECHO = `
let seen = 0;
export default {
  async onMessage(event, ctx) {
    seen++;
    console.log('seen', seen, 'page', ctx.page.id);
    await ctx.send({ recipient: { id: event.sender.id }, message: { text: 'echo: ' + event.message.text } });
  },
};`;

describe('resolveLimits', () => {
  it('layers overrides on the defaults', () => {
    expect(resolveLimits()).toEqual(DEFAULT_LIMITS);
    expect(resolveLimits({ cpuMs: 10 }, { wallMs: 500 })).toMatchObject({ cpuMs: 10, wallMs: 500, memoryMb: 32 });
  });
  it('refuses values that would switch isolation off', () => {
    expect(() => resolveLimits({ memoryMb: 4 })).toThrow(RangeError);
    expect(() => resolveLimits({ cpuMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });
});

// Polls `done` every 10 ms, for up to 10 s.
async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!done()) throw new Error('timed out');
}

describe('SandboxPool', () => {
  let host: InMemoryHostBridge;
  let pool: SandboxPool;
  const exits: WorkerExitInfo[] = [];
  let n = 0;
  const uid = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;
  const run = (over: Partial<InvocationRequest> & { source: string }) =>
    pool.invoke({ pageId: 'p', scriptVersionId: 'v', handler: 'onMessage', event: event(), ...over });

  beforeAll(async () => {
    host = new InMemoryHostBridge({ maxKeysPerPage: 3 });
    pool = new SandboxPool({ workers: 2, host, maxWarmIsolatesPerWorker: 4, onWorkerExit: (i) => exits.push(i) });
    await pool.start();
  });
  afterAll(() => pool.stop());

  it('never loads isolated-vm into the pool\'s own process', async () => {
    await run({ pageId: uid('page'), scriptVersionId: uid('v'), source: ECHO });
    const maps = existsSync('/proc/self/maps') ? readFileSync('/proc/self/maps', 'utf8') : '';
    expect(maps).not.toMatch(/isolated[-_]vm/);
  });

  it('runs a handler, sends through the bridge with the invocation Page and captures logs', async () => {
    const pageId = uid('page');
    const r = await run({ pageId, scriptVersionId: uid('v'), source: ECHO, event: event('hello') });
    expect(r).toMatchObject({ outcome: 'ok', handled: true, sends: 1, coldStart: true, logsTruncated: false });
    expect(r.logs).toEqual([{ level: 'log', message: `seen 1 page ${pageId}`, ts: expect.any(Number) }]);
    expect(host.sent.filter((s) => s.pageId === pageId)).toEqual([
      { pageId, message: { recipient: { id: 'psid-1' }, message: { text: 'echo: hello' } } },
    ]);
    expect(r.cpuMs).toBeGreaterThan(0);
    expect(r.initMs).toBeGreaterThan(0);
  });

  it('passes ctx.handover calls to the bridge as plain values, for the invocation Page, and refuses malformed ones', async () => {
    const pageId = uid('page');
    const source = `export default { async onMessage(e, ctx) {
      const before = await ctx.handover.owner(e.sender.id);
      await ctx.handover.pass(e.sender.id, { target_app_id: 263902037430900, metadata: 'wants a human' });
      await ctx.handover.request(e.sender.id);
      const refused = [];
      for (const bad of [() => ctx.handover.pass('not-a-psid'), () => ctx.handover.take(e.sender.id, { metadata: 7 }), () => ctx.handover.pass(e.sender.id, { target_app_id: 'x' })]) {
        try { await bad(); } catch (err) { refused.push(err.code + ': ' + err.message); }
      }
      console.log(JSON.stringify({ before, refused }));
    } }`;
    const r = await run({ pageId, scriptVersionId: uid('v'), source, event: { ...event('hi'), sender: { id: '123456' } } as never });
    expect(r).toMatchObject({ outcome: 'ok', handled: true });
    expect(JSON.parse(r.logs[0].message)).toEqual({
      before: null,
      refused: [
        "invalid_argument: ctx.handover needs the person's PSID",
        'invalid_argument: ctx.handover: metadata must be a string',
        'invalid_argument: ctx.handover: target_app_id must be an app id',
      ],
    });
    expect(host.handovers.filter((h) => h.pageId === pageId).map((h) => h.call)).toEqual([
      { action: 'pass', recipient: '123456', target_app_id: '263902037430900', metadata: 'wants a human' },
      { action: 'request', recipient: '123456' },
    ]);
  });

  it('passes ctx.unlinkAccount to the bridge for the invocation Page, a numeric PSID as its digits, and refuses anything else', async () => {
    const pageId = uid('page');
    const source = `export default { async onMessage(e, ctx) {
      const answers = [await ctx.unlinkAccount(e.sender.id), await ctx.unlinkAccount(1234567)];
      const refused = [];
      for (const bad of ['not-a-psid', undefined, { id: e.sender.id }, '1'.repeat(21)]) {
        try { await ctx.unlinkAccount(bad); } catch (err) { refused.push(err.code + ': ' + err.message); }
      }
      console.log(JSON.stringify({ answers, refused }));
    } }`;
    const r = await run({ pageId, scriptVersionId: uid('v'), source, event: { ...event('hi'), sender: { id: '123456' } } as never });
    expect(r).toMatchObject({ outcome: 'ok', handled: true });
    expect(JSON.parse(r.logs[0].message)).toEqual({
      answers: [{ result: 'unlink account success' }, { result: 'unlink account success' }],
      refused: Array(4).fill("invalid_argument: ctx.unlinkAccount needs the person's PSID"),
    });
    expect(host.unlinked.filter((u) => u.pageId === pageId).map((u) => u.psid)).toEqual(['123456', '1234567']);
  });

  it('keeps an isolate warm per Page and script version, never shared between Pages', async () => {
    const v = uid('v');
    const [a, b] = [uid('page'), uid('page')];
    const a1 = await run({ pageId: a, scriptVersionId: v, source: ECHO });
    const a2 = await run({ pageId: a, scriptVersionId: v, source: ECHO });
    const b1 = await run({ pageId: b, scriptVersionId: v, source: ECHO });
    expect([a1.coldStart, a2.coldStart, b1.coldStart]).toEqual([true, false, true]);
    expect(a2.logs[0].message).toBe(`seen 2 page ${a}`);
    expect(b1.logs[0].message).toBe(`seen 1 page ${b}`);
  });

  it('never loses a log line or an un-awaited send made just before the handler returns', async () => {
    const pageId = uid('page');
    const scriptVersionId = uid('v');
    const source = `export default { onMessage(e, ctx) {
      ctx.send({ recipient: { id: 'u' }, message: { text: 'fire and forget' } });
      console.log('last words');
    } }`;
    const results = await Promise.all(Array.from({ length: 30 }, () => run({ pageId, scriptVersionId, source })));
    expect(results.every((r) => r.outcome === 'ok' && r.sends === 1 && r.logs[0]?.message === 'last words')).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(host.sent.filter((s) => s.pageId === pageId)).toHaveLength(30);
  });

  it('keeps results, logs and sends the same once a warm isolate is entered synchronously', async () => {
    // worker-main.ts switches a well-behaved isolate to synchronous entries after eight clean warm events.
    const pageId = uid('page');
    const scriptVersionId = uid('v');
    for (let i = 1; i <= 12; i++) {
      const r = await run({ pageId, scriptVersionId, source: ECHO, event: event(`n${i}`) });
      expect(r).toMatchObject({ outcome: 'ok', handled: true, sends: 1, hostCalls: 1, coldStart: i === 1 });
      expect(r.logs.map((l) => l.message)).toEqual([`seen ${i} page ${pageId}`]);
    }
    const sent = host.sent.filter((s) => s.pageId === pageId).map((s) => (s.message as { message: { text: string } }).message.text);
    expect(sent).toEqual(Array.from({ length: 12 }, (_, i) => `echo: n${i + 1}`));
    const thrower = 'export default { onMessage(event) { if (event.message.text === "throw") throw new TypeError("bad " + event.message.text); } }';
    const tv = uid('v');
    for (let i = 0; i < 10; i++) expect((await run({ pageId, scriptVersionId: tv, source: thrower })).outcome).toBe('ok');
    const thrown = await run({ pageId, scriptVersionId: tv, source: thrower, event: event('throw') });
    expect(thrown).toMatchObject({ outcome: 'error', error: { code: 'script_error', message: 'TypeError: bad throw' } });
    expect(thrown.error!.stack).toContain('file:///bot.js');
    expect((await run({ pageId, scriptVersionId: tv, source: thrower, handler: 'onPostback' })).handled).toBe(false);
  });

  it('captures the logs of module top-level code in the cold invocation, and thrown non-errors', async () => {
    const source = `console.warn('loading'); export default { onMessage() { throw 'just a string'; } };`;
    const pageId = uid('page');
    const scriptVersionId = uid('v');
    const cold = await run({ pageId, scriptVersionId, source });
    expect(cold.logs).toEqual([expect.objectContaining({ level: 'warn', message: 'loading' })]);
    expect(cold.error).toEqual({ code: 'script_error', message: 'Thrown: just a string' });
    const warm = await run({ pageId, scriptVersionId, source });
    expect(warm.logs).toEqual([]);
  });

  it('answers handled:false for an event the script does not handle', async () => {
    const r = await run({ pageId: uid('page'), scriptVersionId: uid('v'), source: ECHO, handler: 'onRead' });
    expect(r).toMatchObject({ outcome: 'ok', handled: false, sends: 0 });
  });

  it('gives the store to the script, with quota errors as rejections carrying the code', async () => {
    const pageId = uid('page');
    const source = `export default { async onMessage(e, ctx) {
      await ctx.store.set('a', { n: 1 });
      console.log(JSON.stringify(await ctx.store.get('a')), JSON.stringify(await ctx.store.get('missing')));
      await ctx.store.set('b', 2); await ctx.store.set('c', 3);
      try { await ctx.store.set('d', 4); } catch (err) { console.log(err instanceof Error, err.code, err.message); }
      console.log(await ctx.store.delete('a'));
    } }`;
    const r = await run({ pageId, scriptVersionId: uid('v'), source });
    expect(r.outcome).toBe('ok');
    expect(r.logs.map((l) => l.message)).toEqual([
      '{"n":1} null',
      'true quota_exceeded a Page stores at most 3 keys',
      'true',
    ]);
    expect([...host.storeOf(pageId).keys()]).toEqual(['b', 'c']);
  });

  it('rejects ctx.send with an Error carrying the code when the platform refuses', async () => {
    const source = `export default { async onMessage(e, ctx) {
      try { await ctx.send({ text: 'no recipient' }); } catch (err) { console.log(err.code, err.message); }
    } }`;
    const r = await run({ pageId: uid('page'), scriptVersionId: uid('v'), source });
    expect(r.logs[0].message).toBe('invalid_message a message needs recipient.id and message');
    expect(r.sends).toBe(1);
  });

  it('fetches only through the bridge, which applies the allow-list; the script gets a copy', async () => {
    host.routes.set('https://api.example.com/x', { status: 200, headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    const source = `export default { async onMessage(e, ctx) {
      const r = await ctx.fetch('https://api.example.com/x', { headers: { accept: 'application/json' } });
      console.log(r.status, r.ok, r.headers['content-type'], await r.text(), (await r.json()).a, Object.isFrozen(r));
      try { await ctx.fetch('https://other.example.com/'); } catch (err) { console.log(err.code); }
    } }`;
    const r = await run({ pageId: uid('page'), scriptVersionId: uid('v'), source, allowedHosts: ['api.example.com'] });
    expect(r.logs.map((l) => l.message)).toEqual(['200 true application/json {"a":1} 1 true', 'fetch_refused']);
  });

  it('counts ctx.fetch per invocation: each event of a Page gets its own allowance, whatever runs beside it', async () => {
    const bridge = new InMemoryHostBridge({ latencyMs: 5 });
    bridge.routes.set('https://api.example.com/x', { status: 200, headers: {}, body: 'ok' });
    const capped = new SandboxPool({ workers: 1, host: bridge, maxFetchesPerInvocation: 3 });
    await capped.start();
    try {
      const source = `export default { async onMessage(e, ctx) {
        let ok = 0, refused = 0;
        for (let i = 0; i < 6; i++) { try { await ctx.fetch('https://api.example.com/x'); ok++; } catch (err) { if (err.code === 'fetch_refused') refused++; } }
        console.log(ok + ' ' + refused);
      } }`;
      const pageId = uid('page');
      const runs = await Promise.all(
        [pageId, pageId, uid('page')].map((p) =>
          capped.invoke({ pageId: p, scriptVersionId: 'fv', source, handler: 'onMessage', event: event(), allowedHosts: ['api.example.com'] }),
        ),
      );
      expect(runs.map((r) => r.logs.map((l) => l.message))).toEqual([['3 3'], ['3 3'], ['3 3']]);
      expect(bridge.fetched).toHaveLength(9);
    } finally {
      await capped.stop();
    }
  });

  it('reports syntax errors with line and column, from checkSyntax and from invoke', async () => {
    await expect(pool.checkSyntax(ECHO)).resolves.toEqual({ ok: true });
    const bad = 'export default {\n  async onMessage() {\n    let x = ;\n  }\n}';
    await expect(pool.checkSyntax(bad)).resolves.toEqual({ ok: false, message: "Unexpected token ';'", line: 3, column: 13 });
    await expect(pool.checkSyntax('// bot\nimport fs from "fs";\nexport default {}')).resolves.toEqual({
      ok: false,
      message: 'imports are not supported (import of "fs")',
      line: 2,
      column: 1,
    });
    const r = await run({ pageId: uid('page'), scriptVersionId: uid('v'), source: bad });
    expect(r).toMatchObject({ outcome: 'error', error: { code: 'syntax_error', message: "Unexpected token ';' (line 3, column 13)" } });
  });

  it('separates module errors (init_error, bad_module) from handler errors (script_error, with the script frames)', async () => {
    const init = await run({ pageId: uid('page'), scriptVersionId: uid('v'), source: 'throw new Error("at load");\nexport default {}' });
    expect(init.error).toMatchObject({ code: 'init_error', message: 'Error: at load' });
    const shape = await run({ pageId: uid('page'), scriptVersionId: uid('v'), source: 'export default 42' });
    expect(shape.error).toMatchObject({ code: 'bad_module' });
    const imports = await run({ pageId: uid('page'), scriptVersionId: uid('v'), source: 'import x from "y"; export default {}' });
    expect(imports.error).toMatchObject({ code: 'bad_module' });
    const thrown = await run({
      pageId: uid('page'),
      scriptVersionId: uid('v'),
      source: 'export default {\n  onMessage() {\n    throw new TypeError("nope");\n  },\n};',
    });
    expect(thrown).toMatchObject({ outcome: 'error', handled: true, error: { code: 'script_error', message: 'TypeError: nope' } });
    expect(thrown.error!.stack).toBe('TypeError: nope\n    at Object.onMessage (file:///bot.js:3:11)');
  });

  it('refuses malformed requests before they reach a worker', async () => {
    const base = { pageId: uid('page'), scriptVersionId: uid('v'), source: ECHO };
    expect((await pool.invoke({ ...base, handler: 'constructor' as never, event: event() })).error!.code).toBe('invalid_request');
    expect((await pool.invoke({ ...base, handler: 'onMessage', event: { n: 1n } })).error!.code).toBe('invalid_request');
    expect((await pool.invoke({ ...base, handler: 'onMessage', event: { t: 'x'.repeat(300_000) } })).error!.code).toBe('invalid_request');
    expect((await pool.invoke({ ...base, handler: 'onMessage', event: event(), limits: { memoryMb: 1 } })).error!.code).toBe('invalid_request');
  });

  it('applies per-invocation limit overrides', async () => {
    const source = 'export default { async onMessage() { const t = Date.now(); while (Date.now() - t < 40) {} } }';
    const tight = await run({ pageId: uid('page'), scriptVersionId: uid('v'), source, limits: { cpuMs: 10 } });
    expect(tight).toMatchObject({ outcome: 'limit', limit: 'cpu' });
    expect(tight.cpuMs).toBeGreaterThanOrEqual(10);
    const loose = await run({ pageId: uid('page'), scriptVersionId: uid('v'), source });
    expect(loose.outcome).toBe('ok');
  });

  it('bounds logs by count and bytes and says so', async () => {
    const many = await run({
      pageId: uid('page'),
      scriptVersionId: uid('v'),
      source: 'export default { onMessage() { for (let i = 0; i < 5000; i++) console.info("line", i); } }',
      limits: { maxLogEntries: 20 },
    });
    expect(many.outcome).toBe('ok');
    expect(many.logsTruncated).toBe(true);
    expect(many.logs).toHaveLength(21);
    expect(many.logs[19]).toMatchObject({ level: 'info', message: 'line 19' });
    expect(many.logs[20]).toMatchObject({ level: 'warn', message: '[sandbox] log output truncated: limit reached' });
    const big = await run({
      pageId: uid('page'),
      scriptVersionId: uid('v'),
      source: 'export default { onMessage() { console.error("é".repeat(3000)); console.log("after"); } }',
      limits: { maxLogBytes: 1001 },
    });
    expect(big.logsTruncated).toBe(true);
    expect(big.logs[0]).toMatchObject({ level: 'error', message: 'é'.repeat(500) });
    expect(big.logs).toHaveLength(2);
  });

  it('drops the warm isolates of a disposed version', async () => {
    const pageId = uid('page');
    const scriptVersionId = uid('v');
    await run({ pageId, scriptVersionId, source: ECHO });
    expect((await run({ pageId, scriptVersionId, source: ECHO })).coldStart).toBe(false);
    pool.dispose(scriptVersionId);
    const after = await run({ pageId, scriptVersionId, source: ECHO });
    expect(after.coldStart).toBe(true);
    expect(after.logs[0].message).toBe(`seen 1 page ${pageId}`);
  });

  it('evicts the least recently used warm isolate past the per-worker cap', async () => {
    const v = uid('v');
    const pages: string[] = [];
    for (let i = 0; pages.length < 5; i++) if (pool.workerIndexFor(`lru-${v}-${i}`) === 0) pages.push(`lru-${v}-${i}`);
    for (const pageId of pages) await run({ pageId, scriptVersionId: v, source: ECHO });
    expect((await run({ pageId: pages[4], scriptVersionId: v, source: ECHO })).coldStart).toBe(false);
    expect((await run({ pageId: pages[0], scriptVersionId: v, source: ECHO })).coldStart).toBe(true);
  });

  it('asks the pool for a source the worker no longer holds, keeping the Page\'s event order', async () => {
    const small = new SandboxPool({ workers: 1, host, maxWarmIsolatesPerWorker: 1, maxSourceCacheBytesPerWorker: 1 });
    await small.start();
    try {
      const call = (pageId: string, scriptVersionId: string) =>
        small.invoke({ pageId, scriptVersionId, source: ECHO, handler: 'onMessage', event: event() });
      expect((await call('a', 'va')).coldStart).toBe(true);
      // b evicts a's isolate (LRU 1) and a's source (cache of 1 byte keeps only the newest).
      expect((await call('b', 'vb')).coldStart).toBe(true);
      // The pool believes the worker has va, sends no source; the worker asks for it.
      const again = await Promise.all([call('a', 'va'), call('a', 'va'), call('a', 'va')]);
      expect(again.map((r) => [r.outcome, r.coldStart, r.logs[0].message])).toEqual([
        ['ok', true, 'seen 1 page a'],
        ['ok', false, 'seen 2 page a'],
        ['ok', false, 'seen 3 page a'],
      ]);
    } finally {
      await small.stop();
    }
  });

  it('quarantines a version that was in flight each time its worker died, until disposed', async () => {
    const slow = new InMemoryHostBridge({ latencyMs: 5000 });
    const q = new SandboxPool({ workers: 1, host: slow, quarantineAfterCrashes: 2 });
    await q.start();
    try {
      const call = (scriptVersionId: string) =>
        q.invoke({ pageId: 'p', scriptVersionId, source: ECHO, handler: 'onMessage', event: event() });
      const crashWith = async (versions: string[]) => {
        const pending = versions.map(call);
        await new Promise((r) => setTimeout(r, 100));
        process.kill(q.workerPids()[0]!, 'SIGKILL');
        await Promise.all(pending);
        while (!q.workerPids()[0]) await new Promise((r) => setTimeout(r, 10));
      };
      await crashWith(['bad']);
      await crashWith(['bad', 'innocent']); // blame: bad 1.5, innocent 0.5
      await crashWith(['bad']); // still allowed in: bad 2.5
      expect((await call('bad')).error?.code).toBe('quarantined');
      slow.latencyMs = 0;
      expect((await call('innocent')).outcome).toBe('ok');
      q.dispose('bad');
      expect((await call('bad')).outcome).toBe('ok');
    } finally {
      await q.stop();
    }
  });

  it("quarantines a Page whose versions keep crashing their worker, new versions included, and no other Page", async () => {
    // Version quarantine ends with the version (a new upload is disposed and run afresh): without a Page's own
    // count, uploading again bought a script that kills its worker on purpose a fresh set of crashes each time.
    const slow = new InMemoryHostBridge({ latencyMs: 5000 });
    const q = new SandboxPool({ workers: 1, host: slow, quarantineAfterCrashes: 1 });
    await q.start();
    try {
      const call = (pageId: string, scriptVersionId: string) =>
        q.invoke({ pageId, scriptVersionId, source: ECHO, handler: 'onMessage', event: event() });
      const crashWith = async (scriptVersionId: string) => {
        const pending = call('evil', scriptVersionId);
        await new Promise((r) => setTimeout(r, 100));
        process.kill(q.workerPids()[0]!, 'SIGKILL');
        expect((await pending).error?.code).toBe('worker_crashed');
        while (!q.workerPids()[0]) await new Promise((r) => setTimeout(r, 10));
      };
      await crashWith('evil-1');
      expect((await call('evil', 'evil-1')).error?.code).toBe('quarantined');
      q.dispose('evil-1');
      await crashWith('evil-2');
      q.dispose('evil-2');
      slow.latencyMs = 0;
      // Twice the version's allowance: the Page is refused whatever version it runs, for QUARANTINE_MS.
      expect((await call('evil', 'evil-3')).error).toMatchObject({ code: 'quarantined', message: expect.stringContaining('Page') });
      expect((await call('other', 'other-1')).outcome).toBe('ok');
    } finally {
      await q.stop();
    }
  });

  it("blames an isolate that fails to terminate for its worker's death, not the run that happened to be in flight", async () => {
    // A builtin that runs on near the heap limit does not stop when its run is ended (limit cpu): isolated-vm
    // reports "Script failed to terminate" seconds later, from that isolate, and the worker dies. Blamed on what was
    // in flight then, an innocent Page alone in flight took worker_crashed (its breaker, its quarantine).
    const seen: WorkerExitInfo[] = [];
    const stuck = new InMemoryHostBridge();
    stuck.routes.set('https://api.example.com/hang', { hang: true });
    const p = new SandboxPool({ workers: 1, host: stuck, quarantineAfterCrashes: 1, onWorkerExit: (i) => seen.push(i) });
    await p.start();
    try {
      const HANG = `export default { async onMessage(e, ctx) { await ctx.fetch('https://api.example.com/hang'); } }`;
      const EVIL = `export default { onMessage() { 'a'.repeat(2 ** 24).replaceAll('a', 'bbbb'); } }`;
      const innocent = p.invoke({
        pageId: 'innocent', scriptVersionId: 'innocent-v', source: HANG, handler: 'onMessage', event: event(),
        allowedHosts: ['api.example.com'], limits: { wallMs: 60_000 },
      });
      const evil = await p.invoke({ pageId: 'evil', scriptVersionId: 'evil-v', source: EVIL, handler: 'onMessage', event: event() });
      expect(evil).toMatchObject({ outcome: 'limit', limit: 'cpu' });
      expect(await innocent).toMatchObject({ outcome: 'error', error: { code: 'worker_crashed_shared' } });
      expect(seen).toEqual([expect.objectContaining({ reason: 'fatal', message: 'Script failed to terminate' })]);
      expect(await p.invoke({ pageId: 'evil', scriptVersionId: 'evil-v', source: EVIL, handler: 'onMessage', event: event() })).toMatchObject({
        error: { code: 'quarantined' },
      });
      const ECHO_ONLY = 'export default { onMessage() {} }';
      expect(await p.invoke({ pageId: 'innocent', scriptVersionId: 'innocent-v', source: ECHO_ONLY, handler: 'onMessage', event: event() })).toMatchObject({
        outcome: 'ok',
      });
    } finally {
      await p.stop();
    }
  });

  it('answers overloaded past the in-flight cap of a worker', async () => {
    const slow = new InMemoryHostBridge({ latencyMs: 100 });
    const tiny = new SandboxPool({ workers: 1, host: slow, maxInFlightPerWorker: 1 });
    await tiny.start();
    try {
      const call = () => tiny.invoke({ pageId: 'p', scriptVersionId: 'v', source: ECHO, handler: 'onMessage', event: event() });
      const [first, second] = await Promise.all([call(), call()]);
      expect(first.outcome).toBe('ok');
      expect(second.error!.code).toBe('overloaded');
    } finally {
      await tiny.stop();
    }
  });

  it("bounds a Page's host calls still in flight, counting those its ended runs left behind", async () => {
    // A call the handler does not await outlives its run: its answer is dropped, its work is not. Unbounded, a script
    // that fires calls and returns piled them up in the bridge event after event (one stuck dependency away).
    const stuck = new InMemoryHostBridge();
    stuck.routes.set('https://api.example.com/hang', { hang: true });
    const p = new SandboxPool({ workers: 1, host: stuck });
    await p.start();
    try {
      const FIRE = `export default { async onMessage(e, ctx) {
        if (e.message.text === 'check') {
          try { await ctx.store.get('k'); console.log('answered'); } catch (err) { console.log(err.code); }
          return;
        }
        for (let i = 0; i < 20; i++) ctx.fetch('https://api.example.com/hang').catch(() => {});
      } }`;
      const run = (pageId: string, text: string) =>
        p.invoke({ pageId, scriptVersionId: 'fire', source: FIRE, handler: 'onMessage', event: event(text), allowedHosts: ['api.example.com'] });
      for (let i = 0; i < 10; i++) expect(await run('firer', 'go')).toMatchObject({ outcome: 'ok', hostCalls: 20 });
      // Twice the per-event maxHostCalls (50) at most.
      expect(stuck.fetched.filter((f) => f.pageId === 'firer')).toHaveLength(100);
      expect(await run('firer', 'check')).toMatchObject({ outcome: 'ok', logs: [expect.objectContaining({ message: 'host_busy' })] });
      expect(await run('other', 'check')).toMatchObject({ outcome: 'ok', logs: [expect.objectContaining({ message: 'answered' })] });
    } finally {
      await p.stop();
    }
  });

  it('kills and replaces a worker that stops answering heartbeats', async () => {
    const seen: WorkerExitInfo[] = [];
    const hb = new SandboxPool({ workers: 1, host, heartbeatMs: 50, heartbeatTimeoutMs: 300, onWorkerExit: (i) => seen.push(i) });
    await hb.start();
    try {
      const pid = hb.workerPids()[0]!;
      process.kill(pid, 'SIGSTOP');
      const stuck = hb.invoke({ pageId: 'p', scriptVersionId: 'v', source: ECHO, handler: 'onMessage', event: event() });
      await expect(stuck).resolves.toMatchObject({ error: { code: 'worker_crashed' } });
      expect(seen).toEqual([expect.objectContaining({ pid, reason: 'heartbeat', signal: 'SIGKILL', failedInvocations: 1 })]);
      const after = await hb.invoke({ pageId: 'p', scriptVersionId: 'v', source: ECHO, handler: 'onMessage', event: event() });
      expect(after.outcome).toBe('ok');
    } finally {
      await hb.stop();
    }
  });

  it('fails in-flight invocations with pool_stopped on stop()', async () => {
    const slow = new InMemoryHostBridge({ latencyMs: 500 });
    const p = new SandboxPool({ workers: 1, host: slow });
    await p.start();
    const pending = p.invoke({ pageId: 'p', scriptVersionId: 'v', source: ECHO, handler: 'onMessage', event: event() });
    await new Promise((r) => setTimeout(r, 50));
    await p.stop();
    await expect(pending).resolves.toMatchObject({ outcome: 'error', error: { code: 'pool_stopped' } });
  });

  it('fails the in-flight invocations of a dead worker, replaces it, and leaves the other worker alone', async () => {
    const slow = new InMemoryHostBridge({ latencyMs: 300 });
    const crashPool = new SandboxPool({ workers: 2, host: slow, onWorkerExit: (i) => exits.push(i) });
    await crashPool.start();
    try {
      const pageOn = (w: number) => {
        for (let i = 0; ; i++) if (crashPool.workerIndexFor(`crash-${i}`) === w) return `crash-${i}`;
      };
      const [victim, bystander] = [pageOn(0), pageOn(1)];
      const before = exits.length;
      const pid = crashPool.workerPids()[0]!;
      const doomed = crashPool.invoke({ pageId: victim, scriptVersionId: 'v', source: ECHO, handler: 'onMessage', event: event() });
      const fine = crashPool.invoke({ pageId: bystander, scriptVersionId: 'v', source: ECHO, handler: 'onMessage', event: event() });
      await new Promise((r) => setTimeout(r, 100));
      process.kill(pid, 'SIGKILL');
      await expect(doomed).resolves.toMatchObject({ outcome: 'error', error: { code: 'worker_crashed' } });
      await expect(fine).resolves.toMatchObject({ outcome: 'ok', sends: 1 });
      expect(exits.slice(before)).toEqual([expect.objectContaining({ index: 0, pid, signal: 'SIGKILL', failedInvocations: 1 })]);
      const again = await crashPool.invoke({ pageId: victim, scriptVersionId: 'v', source: ECHO, handler: 'onMessage', event: event() });
      expect(again).toMatchObject({ outcome: 'ok', coldStart: true });
      expect(crashPool.workerPids()[0]).not.toBe(pid);
      // Two versions in flight when it dies: neither is named the culprit.
      const second = crashPool.workerPids()[0]!;
      const onZero: string[] = [];
      for (let i = 0; onZero.length < 2; i++) if (crashPool.workerIndexFor(`pair-${i}`) === 0) onZero.push(`pair-${i}`);
      // Runs that never end on their own (a host call that never answers), so both are in flight at the kill.
      slow.routes.set('https://api.example.com/hang', { hang: true });
      const HANG = `export default { async onMessage(e, ctx) { await ctx.fetch('https://api.example.com/hang'); } }`;
      const both = onZero.map((p, i) =>
        crashPool.invoke({ pageId: p, scriptVersionId: `v${i}`, source: HANG, handler: 'onMessage', event: event(), allowedHosts: ['api.example.com'] }),
      );
      await waitUntil(() => slow.fetched.filter((f) => onZero.includes(f.pageId)).length === 2);
      process.kill(second, 'SIGKILL');
      for (const r of await Promise.all(both)) expect(r).toMatchObject({ outcome: 'error', error: { code: 'worker_crashed_shared' } });
    } finally {
      await crashPool.stop();
    }
    await expect(
      crashPool.invoke({ pageId: 'x', scriptVersionId: 'v', source: ECHO, handler: 'onMessage', event: event() }),
    ).resolves.toMatchObject({ error: { code: 'pool_stopped' } });
  });
});
