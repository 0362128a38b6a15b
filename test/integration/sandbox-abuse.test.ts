// Hostile scripts against the sandbox runtime. Every case checks three things beyond its own
// outcome: the host process is unharmed, another Page's script on the SAME worker still works
// right after, and this process's event loop never stalled (isolation means the abuse happens in
// another process, on another thread).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SandboxPool, type InvocationRequest, type InvocationResult } from '../../src/sandbox/runtime';
import { InMemoryHostBridge } from '../../src/sandbox/runtime/testing/in-memory-host-bridge';

const MAX_LOOP_DELAY_MS = 200;
const event = { sender: { id: 'psid-9' }, recipient: { id: 'page' }, timestamp: 1, message: { mid: 'm', text: 'hi' } };
const VICTIM = `export default { async onMessage(event, ctx) {
  const r = await ctx.send({ recipient: { id: event.sender.id }, message: { text: 'still fine' } });
  console.log('victim ok', typeof r.message_id, ({}).polluted === undefined);
} }`;

const VICTIM_LIMITS = { cpuMs: 1000, initCpuMs: 1000, wallMs: 20_000 };

let host: InMemoryHostBridge;
let pool: SandboxPool;
let seq = 0;

beforeAll(async () => {
  host = new InMemoryHostBridge();
  pool = new SandboxPool({ workers: 2, host });
  await pool.start();
});
afterAll(() => pool.stop());

function pageOn(worker: number, prefix: string): string {
  for (let i = 0; ; i++) if (pool.workerIndexFor(`${prefix}-${i}`) === worker) return `${prefix}-${i}`;
}

// Runs `source` as a fresh evil Page, then a victim Page on the same worker.
async function abuse(source: string, over: Partial<InvocationRequest> = {}): Promise<InvocationResult> {
  const id = ++seq;
  const evil = pageOn(id % 2, `evil-${id}`);
  const victim = pageOn(id % 2, `victim-${id}`);
  const hostile = monitorEventLoopDelay({ resolution: 10 });
  hostile.enable();
  let r: InvocationResult;
  try {
    r = await pool.invoke({ pageId: evil, scriptVersionId: `evil-v${id}`, source, handler: 'onMessage', event, ...over });
  } finally {
    hostile.disable();
  }
  expect(hostile.max / 1e6).toBeLessThan(MAX_LOOP_DELAY_MS);
  // The victim proves isolation, not speed: generous time limits, so a host loaded by other work can't fail it (with
  // two full test runs on two cores, one victim once ended 'limit' under the default 50 ms of CPU and 2 s of wall).
  const v = await pool.invoke({ pageId: victim, scriptVersionId: `victim-v${id}`, source: VICTIM, handler: 'onMessage', event, limits: VICTIM_LIMITS });
  expect(v).toMatchObject({ outcome: 'ok', sends: 1, logs: [expect.objectContaining({ message: 'victim ok string true' })] });
  expect(host.sent.some((s) => s.pageId === victim)).toBe(true);
  // The host realm itself.
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(typeof process.exit).toBe('function');
  expect(JSON.parse('{"a":1}')).toEqual({ a: 1 });
  return r;
}

// `evil` as the body of an async onMessage(event, ctx) that first handles ten harmless events on the same Page
// and version, so its isolate is warm and trusted when the event 'go' runs it (then `abuse` as usual).
async function trusted(evil: string, over: Partial<InvocationRequest> = {}): Promise<InvocationResult> {
  const pageId = pageOn((seq + 1) % 2, `trusted-${seq + 1}`);
  const scriptVersionId = `trusted-v${seq + 1}`;
  const source = `export default { async onMessage(event, ctx) { if (event.message.text !== 'go') return; ${evil} } }`;
  for (let i = 0; i < 10; i++) {
    const r = await pool.invoke({ pageId, scriptVersionId, source, handler: 'onMessage', event, ...over });
    expect(r.outcome).toBe('ok');
  }
  return abuse(source, { ...over, pageId, scriptVersionId, event: { ...event, message: { mid: 'm', text: 'go' } } });
}

const messages = (r: InvocationResult) => r.logs.map((l) => l.message);

describe('sandbox abuse', () => {
  it('constructor chains and stack tricks reach only the isolate realm', async () => {
    const r = await abuse(`export default { async onMessage(event, ctx) {
      const found = {};
      const tryIt = (name, f) => { try { const v = f(); found[name] = v === undefined ? 'undefined' : typeof v; } catch (e) { found[name] = 'threw ' + e.constructor.name; } };
      tryIt('send.constructor', () => ctx.send.constructor.constructor('return process')());
      tryIt('store.constructor', () => ctx.store.get.constructor('return process')());
      tryIt('ctx.constructor', () => ctx.constructor.constructor('return process')());
      // ctx's promises carry their own constructor: undefined (bootstrap.ts); the chain above them is the realm's.
      tryIt('promise.constructor', () => Object.getPrototypeOf(ctx.send({})).constructor.constructor('return process')());
      tryIt('console.constructor', () => console.log.constructor('return require')());
      const g = ctx.send.constructor('return this')();
      found.globals = ['process', 'require', 'module', 'Buffer', 'setTimeout', 'setImmediate', 'fetch', '$0', '$1', 'ivm', 'isolatedVm']
        .filter((k) => k in g);
      found.sameRealm = g === globalThis;
      try { await import('fs'); found.import = 'loaded'; } catch (e) { found.import = 'threw'; }
      // CallSite objects of the bootstrap's frames: strict mode hides their functions.
      Error.prepareStackTrace = (e, frames) => frames.map((f) => typeof f.getFunction() + '/' + typeof f.getThis());
      found.frames = (() => new Error().stack)().filter((s) => s !== 'undefined/undefined').length;
      Error.prepareStackTrace = undefined;
      found.sendSource = ctx.send.toString().includes('native code') ? 'native' : 'script';
      found.frozen = Object.isFrozen(ctx) && Object.isFrozen(ctx.store) && Object.isFrozen(ctx.page);
      try { ctx.page.id = 'someone-else'; } catch (e) { found.pageWrite = 'threw'; }
      // A sloppy-mode handler walking .caller up to the bootstrap: strict callers read as null.
      found.caller = new Function('return String(arguments.callee.caller)')();
      tryIt('send.caller', () => ctx.send.caller);
      console.log(JSON.stringify(found));
    } }`);
    expect(r.outcome).toBe('ok');
    const found = JSON.parse(messages(r)[0]);
    expect(found).toMatchObject({
      'send.constructor': 'threw ReferenceError',
      'store.constructor': 'threw ReferenceError',
      'ctx.constructor': 'threw ReferenceError',
      'promise.constructor': 'threw ReferenceError',
      'console.constructor': 'threw ReferenceError',
      globals: [],
      sameRealm: true,
      import: 'threw',
      frozen: true,
      pageWrite: 'threw',
      caller: 'null',
      'send.caller': 'threw TypeError',
    });
    // Only the script's own frames (the arrow and onMessage) expose anything.
    expect(found.frames).toBeLessThanOrEqual(2);
  });

  it('a sloppy-mode handler cannot climb to the bootstrap through .caller or arguments', async () => {
    const r = await abuse(`const h = new Function('event', 'ctx', \`
      const c = arguments.callee.caller;
      console.log(String(c), typeof arguments[1].send);
    \`);
    export default { onMessage: h };`);
    expect(messages(r)).toEqual(['null function']);
  });

  it('prototype pollution stays in the polluting Page’s own isolate', async () => {
    const pageId = pageOn(0, 'polluter');
    const source = `export default { async onMessage(event, ctx) {
      const before = ({}).polluted;
      Object.prototype.polluted = 'yes';
      Array.prototype.push = () => { throw new Error('hijacked'); };
      JSON.parse = () => ({ hijacked: true });
      Promise.prototype.then = function () { throw new Error('hijacked then'); };
      Object.prototype.toJSON = function () { return { hijacked: true }; };
      console.log('polluted', String(before));
    } }`;
    const first = await abuse(source, { pageId, scriptVersionId: 'polluter-v' });
    expect(first).toMatchObject({ outcome: 'ok', logs: [expect.objectContaining({ message: 'polluted undefined' })] });
    // The same Page's next event runs in the same warm realm: its pollution is still there, and
    // the bridge (captured builtins, hand-built result strings) still works. Documented behaviour.
    const second = await pool.invoke({ pageId, scriptVersionId: 'polluter-v', source, handler: 'onMessage', event });
    expect(second).toMatchObject({ outcome: 'ok', coldStart: false, logs: [expect.objectContaining({ message: 'polluted yes' })] });
  });

  it("a script's Promise constructor or species tricks are its own error: never an internal fault or a forged limit", async () => {
    const cases = [
      // A promise whose constructor getter throws, returned as the handler's result.
      `const p = Promise.resolve(); Object.defineProperty(p, 'constructor', { get() { throw new Error('boom from script'); } }); return p;`,
      // The realm's species and prototype constructor poisoned, then a plain return (and next, in the warm realm, another).
      `Object.defineProperty(Promise, Symbol.species, { get() { throw new Error('boom from script'); } });
       Object.defineProperty(Promise.prototype, 'constructor', { get() { throw new Error('boom from script'); } }); return 1;`,
      // A thenable that throws the isolate's own disposal text.
      `return { get then() { throw new Error('Isolate was disposed during execution due to memory limit'); } };`,
      // Descriptor fields on Object.prototype (defineProperty reads them from a plain descriptor), then a throw.
      `Object.defineProperty(Object.prototype, 'get', { get() { throw new Error('Isolate was disposed during execution due to memory limit'); }, configurable: true });
       throw new Error('plain');`,
      `Object.prototype.get = undefined; Object.prototype.set = 7; return 1;`,
    ];
    for (const body of cases) {
      const source = `export default { onMessage() { ${body} } }`;
      const r = await abuse(source);
      expect(r.outcome).not.toBe('limit');
      expect(r.error?.code ?? 'none').not.toBe('internal');
      if (r.outcome === 'error') expect(r.error).toMatchObject({ code: 'script_error' });
    }
    // Poisoned for good: every later event of that realm still ends as the script's doing, and ctx.fetch / ctx.send
    // (our promises) still work.
    const pageId = pageOn(1, 'species');
    const source = `export default { async onMessage(event, ctx) {
      Object.defineProperty(Promise.prototype, 'constructor', { get() { throw new Error('poisoned'); }, configurable: true });
      const r = await ctx.send({ recipient: { id: event.sender.id }, message: { text: 'still sends' } });
      console.log('sent', typeof r.message_id);
    } }`;
    for (let i = 0; i < 3; i++) {
      const r = await pool.invoke({ pageId, scriptVersionId: 'species-v', source, handler: 'onMessage', event });
      expect(r.error?.code ?? 'none').not.toBe('internal');
      expect(r.outcome).not.toBe('limit');
    }
  });

  it('ends an infinite synchronous loop at the CPU limit', async () => {
    const r = await abuse('export default { onMessage() { for (;;) {} } }');
    expect(r).toMatchObject({ outcome: 'limit', limit: 'cpu', error: { code: 'limit_exceeded' } });
    expect(r.cpuMs).toBeGreaterThanOrEqual(50);
    // Ended by the CPU watchdog, long before the 2 s wall limit (generous: the machine is shared).
    expect(r.wallMs).toBeLessThan(1500);
  });

  it('ends an infinite loop in a promise continuation (after an await) at the CPU limit', async () => {
    const r = await abuse(`export default { async onMessage(e, ctx) { await ctx.store.get('k'); console.log('awaited'); for (;;) {} } }`);
    expect(r).toMatchObject({ outcome: 'limit', limit: 'cpu', hostCalls: 1, logs: [expect.objectContaining({ message: 'awaited' })] });
    expect(r.wallMs).toBeLessThan(1500);
  });

  // A worker enters an isolate synchronously only once it has run clean warm events (worker-main.ts,
  // SYNC_AFTER_CLEAN_RUNS); these scripts behave for ten events, then turn on the event 'go'.
  it('ends a script that turns hostile once its isolate runs synchronously: loops, continuations, chains', async () => {
    const loop = await trusted('for (;;) {}');
    expect(loop).toMatchObject({ outcome: 'limit', limit: 'cpu', coldStart: false });
    expect(loop.wallMs).toBeLessThan(1500);
    const awaited = await trusted(`await ctx.store.get('k'); console.log('awaited'); for (;;) {}`);
    expect(awaited).toMatchObject({ outcome: 'limit', limit: 'cpu', hostCalls: 1, logs: [expect.objectContaining({ message: 'awaited' })] });
    const chain = await trusted('const f = () => Promise.resolve().then(f); f();');
    expect(chain).toMatchObject({ outcome: 'limit', limit: 'cpu' });
    const bomb = await trusted('const a = []; for (;;) a.push({ a: [a.length] });', { limits: { cpuMs: 1000, wallMs: 20_000 } });
    expect(bomb).toMatchObject({ outcome: 'limit', limit: 'memory' });
    const sends = await trusted(`for (;;) ctx.send({ recipient: { id: 'x' }, message: { text: 'spam' } }).catch(() => {});`);
    expect(sends).toMatchObject({ outcome: 'limit', limit: 'sends', sends: 10 });
    // Over SYNC_MAX_CPU_MS even a trusted isolate is entered asynchronously, under the cpuTime watchdog.
    const big = await trusted('for (;;) {}', { limits: { cpuMs: 1200, wallMs: 20_000 } });
    expect(big).toMatchObject({ outcome: 'limit', limit: 'cpu' });
    expect(big.cpuMs).toBeGreaterThanOrEqual(1200);
  });

  it('enters a warm isolate synchronously only after clean runs, and never again once it hit a limit', async () => {
    const pageId = pageOn(0, 'distrust');
    const scriptVersionId = 'distrust-v1';
    const source = `export default { async onMessage(event) { if (event.message.text === 'go') for (;;) {} } }`;
    const run = (text = 'hi') =>
      pool.invoke({ pageId, scriptVersionId, source, handler: 'onMessage', event: { ...event, message: { mid: 'm', text } } });
    const first = await run();
    expect(first).toMatchObject({ outcome: 'ok', coldStart: true, entry: 'async' });
    for (let i = 0; i < 8; i++) expect((await run()).entry).toBe('async');
    expect(await run()).toMatchObject({ outcome: 'ok', entry: 'sync' });
    expect(await run('go')).toMatchObject({ outcome: 'limit', limit: 'cpu', entry: 'sync' });
    for (let i = 0; i < 12; i++) expect(await run()).toMatchObject({ outcome: 'ok', entry: 'async' });
    expect(await run('go')).toMatchObject({ outcome: 'limit', limit: 'cpu', entry: 'async' });
  });

  it('ends an endless microtask chain and an infinite loop in top-level module code', async () => {
    const chain = await abuse('export default { onMessage() { const f = () => Promise.resolve().then(f); f(); } }');
    expect(chain).toMatchObject({ outcome: 'limit', limit: 'cpu' });
    const top = await abuse('for (;;) {}\nexport default {}');
    expect(top).toMatchObject({ outcome: 'limit', limit: 'cpu', coldStart: true });
    expect(top.error!.message).toContain("module's top-level code");
  });

  it('survives memory bombs: arrays, strings, ArrayBuffers', async () => {
    const roomy = { limits: { cpuMs: 10_000, wallMs: 20_000 } };
    const arrays = await abuse('export default { onMessage() { const a = []; for (;;) a.push({ a: [a.length] }); } }', roomy);
    expect(arrays).toMatchObject({ outcome: 'limit', limit: 'memory' });
    const strings = await abuse('export default { onMessage() { const a = []; for (let i = 0; ; i++) a.push("x".repeat(1e5) + i); } }', roomy);
    expect(strings).toMatchObject({ outcome: 'limit', limit: 'memory' });
    // V8 refuses this inside the isolate: a plain script error, the isolate stays usable.
    const doubling = await abuse('export default { onMessage() { let s = "x"; for (;;) s += s; } }', roomy);
    expect(doubling).toMatchObject({ outcome: 'error', error: { code: 'script_error', message: 'RangeError: Invalid string length' } });
    // V8 refuses the buffer past its own cap, but those it gave stay held past the isolate's limit: a memory limit.
    const buffers = await abuse('export default { onMessage() { const a = []; for (;;) a.push(new ArrayBuffer(4 * 1024 * 1024)); } }', roomy);
    expect(buffers).toMatchObject({ outcome: 'limit', limit: 'memory' });
    const huge = await abuse('export default { onMessage() { new Uint8Array(2 ** 31); } }', roomy);
    expect(huge.outcome).toBe('error');
    // One allocation far past the limit, kept in the warm realm: isolated-vm lets it land, the run's end catches it.
    const kept = await abuse(
      `const keep = []; export default { onMessage() { const s = 'x'.repeat(2 ** 27) + keep.length; s.indexOf('y'); keep.push(s); } }`,
      { limits: { cpuMs: 5000, memoryMb: 32, wallMs: 20_000 } },
    );
    expect(kept).toMatchObject({ outcome: 'limit', limit: 'memory' });
  });

  it('turns deep recursion into a script error', async () => {
    const r = await abuse('export default { onMessage() { const f = (n) => f(n + 1) + 1; f(0); } }');
    expect(r).toMatchObject({ outcome: 'error', error: { code: 'script_error', message: 'RangeError: Maximum call stack size exceeded' } });
  });

  it('bounds a log flood', async () => {
    const bounded = await abuse('export default { onMessage() { for (let i = 0; i < 100000; i++) console.log("x".repeat(1000), i); } }', {
      limits: { cpuMs: 5000 },
    });
    expect(bounded.logsTruncated).toBe(true);
    expect(bounded.logs.length).toBeLessThanOrEqual(101);
    expect(bounded.logs.reduce((n, l) => n + Buffer.byteLength(l.message), 0)).toBeLessThanOrEqual(16 * 1024 + 100);
    const endless = await abuse('export default { onMessage() { for (;;) console.log("spam"); } }');
    expect(endless).toMatchObject({ outcome: 'limit', limit: 'cpu', logsTruncated: true });
    expect(endless.logs.length).toBeLessThanOrEqual(101);
  });

  it('bounds a promise flood', async () => {
    const r = await abuse('export default { onMessage() { for (;;) new Promise(() => {}); } }');
    expect(r.outcome).toBe('limit');
    expect(['cpu', 'memory']).toContain(r.limit);
  });

  it('stops a send flood at the send limit, awaited or not', async () => {
    const sentBefore = host.sent.length;
    const fireAndForget = await abuse(`export default { onMessage(event, ctx) {
      for (;;) ctx.send({ recipient: { id: 'x' }, message: { text: 'spam' } }).catch(() => {});
    } }`);
    expect(fireAndForget).toMatchObject({ outcome: 'limit', limit: 'sends', sends: 10 });
    const awaited = await abuse(`export default { async onMessage(event, ctx) {
      for (;;) await ctx.send({ recipient: { id: 'x' }, message: { text: 'spam' } });
    } }`);
    expect(awaited).toMatchObject({ outcome: 'limit', limit: 'sends', sends: 10 });
    await new Promise((r) => setTimeout(r, 50));
    // Two floods, at most ten sends each, plus the two victims' single sends.
    expect(host.sent.length - sentBefore).toBeLessThanOrEqual(22);
  });

  it('stops a flood of other host calls', async () => {
    const r = await abuse(`export default { onMessage(event, ctx) { for (let i = 0; i < 100000; i++) ctx.store.get('k' + i).catch(() => {}); } }`);
    expect(r).toMatchObject({ outcome: 'limit', limit: 'host_calls', hostCalls: 51 });
  });

  it('ignores a huge or cyclic return value', async () => {
    const big = await abuse('export default { onMessage() { return "x".repeat(8 * 1024 * 1024); } }');
    expect(big.outcome).toBe('ok');
    const cyclic = await abuse('export default { async onMessage() { const a = {}; a.a = a; return a; } }');
    expect(cyclic.outcome).toBe('ok');
  });

  it('refuses oversized payloads inside the script, before they cross', async () => {
    const r = await abuse(`export default { async onMessage(event, ctx) {
      try { await ctx.send({ recipient: { id: 'x' }, message: { text: 'x'.repeat(100000) } }); } catch (e) { console.log(e.code); }
      try { await ctx.send({ recipient: { id: 'x' }, message: { text: 'é'.repeat(40000) } }); } catch (e) { console.log(e.code); }
    } }`);
    expect(messages(r)).toEqual(['payload_too_large', 'payload_too_large']);
    expect(r.sends).toBe(1); // the second passed the isolate's character check, the worker counted its bytes
  });

  it('leaves fetch policy to the bridge: private addresses and redirects into them are refused', async () => {
    host.routes.set('https://api.partner.test/ok', { status: 200, body: 'public data' });
    host.routes.set('https://api.partner.test/to-metadata', { redirect: 'http://169.254.169.254/latest/meta-data/' });
    host.routes.set('https://api.partner.test/to-loopback', { redirect: 'http://127.0.0.1:6379/' });
    host.routes.set('https://api.partner.test/to-other', { redirect: 'https://evil.test/' });
    host.routes.set('https://api.partner.test/hop', { redirect: '/ok' });
    const targets = [
      'http://127.0.0.1/',
      'http://localhost:5432/',
      'http://[::1]/',
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:127.0.0.1]/',
      'file:///etc/passwd',
      'https://api.partner.test/to-metadata',
      'https://api.partner.test/to-loopback',
      'https://api.partner.test/to-other',
      'https://api.partner.test/hop',
    ];
    const fetchedBefore = host.fetched.length;
    const r = await abuse(
      `export default { async onMessage(event, ctx) {
        for (const url of ${JSON.stringify(targets)}) {
          try { const res = await ctx.fetch(url); console.log(url, res.status, await res.text()); }
          catch (e) { console.log(url, e.code); }
        }
      } }`,
      { allowedHosts: ['api.partner.test', '127.0.0.1', 'localhost', '169.254.169.254'], limits: { maxHostCalls: 20 } },
    );
    expect(messages(r)).toEqual([
      ...targets.slice(0, -1).map((t) => `${t} fetch_refused`),
      'https://api.partner.test/hop 200 public data',
    ]);
    const reached = host.fetched.slice(fetchedBefore).map((f) => new URL(f.url).hostname);
    expect(new Set(reached)).toEqual(new Set(['api.partner.test']));
  });

  it('offers no SharedArrayBuffer, Atomics.wait or WebAssembly; a hang ends at the wall limit', async () => {
    const r = await abuse(`export default { async onMessage(event, ctx) {
      console.log(typeof SharedArrayBuffer, typeof Atomics, typeof Atomics.wait, typeof Atomics.waitAsync, typeof WebAssembly);
      await new Promise(() => {});
    } }`, { limits: { wallMs: 300 } });
    expect(r).toMatchObject({ outcome: 'limit', limit: 'wall', logs: [expect.objectContaining({ message: 'undefined object undefined undefined undefined' })] });
    expect(r.wallMs).toBeGreaterThanOrEqual(300);
    expect(r.wallMs).toBeLessThan(1500);
  });

  it('offers no FinalizationRegistry: its cleanup callbacks would run between entries, under no limit', async () => {
    // Offered, the callbacks ran on the worker's own thread whenever V8 collected: an endless one held that worker
    // (every Page on it) until the heartbeat killed it, ten seconds later.
    const pids = pool.workerPids();
    const r = await abuse(`export default { onMessage() {
      console.log(typeof FinalizationRegistry);
      const reg = new FinalizationRegistry(() => { for (;;) {} });
      for (let i = 0; i < 2000; i++) reg.register({ big: new Array(1000).fill(i) }, i);
    } }`);
    expect(r).toMatchObject({
      outcome: 'error',
      error: { code: 'script_error', message: 'ReferenceError: FinalizationRegistry is not defined' },
      logs: [expect.objectContaining({ message: 'undefined' })],
    });
    expect(pool.workerPids()).toEqual(pids);
  });

  it('counts a slow host call against the wall limit', async () => {
    host.routes.set('https://slow.partner.test/', { hang: true });
    const r = await abuse(`export default { async onMessage(event, ctx) { await ctx.fetch('https://slow.partner.test/'); } }`, {
      allowedHosts: ['slow.partner.test'],
      limits: { wallMs: 300 },
    });
    expect(r).toMatchObject({ outcome: 'limit', limit: 'wall', hostCalls: 1 });
  });

  it('reports a syntax error with line and column', async () => {
    const r = await abuse('export default {\n  onMessage() {\n    return 1 +* 2;\n  }\n}');
    expect(r).toMatchObject({ outcome: 'error', error: { code: 'syntax_error', message: "Unexpected token '*' (line 3, column 15)" } });
  });

  it('keeps serving a script that throws on every event, warm, without harming others', async () => {
    const pageId = pageOn(1, 'thrower');
    const source = 'let n = 0;\nexport default { onMessage() { n++; throw new Error("fail " + n); } }';
    const results: InvocationResult[] = [];
    for (let i = 0; i < 20; i++) results.push(await abuse(source, { pageId, scriptVersionId: 'thrower-v' }));
    expect(results.map((r) => r.error?.message)).toEqual(results.map((_, i) => `Error: fail ${i + 1}`));
    expect(results.filter((r) => r.coldStart)).toHaveLength(1);
  });

  it('keeps a burst of concurrent abusers from starving well-behaved Pages', async () => {
    const loops = Array.from({ length: 6 }, (_, i) =>
      pool.invoke({ pageId: `burst-evil-${i}`, scriptVersionId: 'burst-evil', source: 'export default { onMessage() { for (;;) {} } }', handler: 'onMessage', event }),
    );
    const good = await abuse(VICTIM);
    expect(good.outcome).toBe('ok');
    const results = await Promise.all(loops);
    expect(results.every((r) => r.outcome === 'limit' && r.limit === 'cpu')).toBe(true);
  });
});
