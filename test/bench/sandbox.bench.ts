// Sandbox runtime benchmark. Build and run:
//   npx tsc -p tsconfig.build.json && node --no-node-snapshot dist/test/bench/sandbox.bench.js
// (the flag is only needed by the workers, which get it themselves; it is harmless here).
import { SandboxPool, type InvocationResult } from '../../src/sandbox/runtime';
import { InMemoryHostBridge } from '../../src/sandbox/runtime/testing/in-memory-host-bridge';

const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 300);
const WARM_RUNS = Number(process.env.BENCH_WARM_RUNS ?? 5000);

const HANDLER_BODY = 'return event.message.text.length + event.sender.id.length;';
const SOURCE = `export default { async onMessage(event, ctx) { ${HANDLER_BODY} } };`;
const SEND_SOURCE = `export default { async onMessage(event, ctx) {
  await ctx.send({ recipient: { id: event.sender.id }, message: { text: 'ok' } });
} };`;

// A Messenger text event of about 1 KB.
const event = {
  sender: { id: '6789012345678901' },
  recipient: { id: '1234567890123456' },
  timestamp: 1_700_000_000_000,
  message: { mid: 'm_' + 'a'.repeat(60), text: 'x'.repeat(860), nlp: { entities: {} } },
};
const eventJson = JSON.stringify(event);

const nowNs = (): bigint => process.hrtime.bigint();
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}
const fmt = (n: number, digits = 1) => n.toFixed(digits);

function check(r: InvocationResult): InvocationResult {
  if (r.outcome !== 'ok') throw new Error(`bench invocation failed: ${JSON.stringify(r)}`);
  return r;
}

async function main(): Promise<void> {
  const host = new InMemoryHostBridge();
  const pool = new SandboxPool({ workers: 1, host, maxWarmIsolatesPerWorker: 16 });
  await pool.start();
  const invoke = (scriptVersionId: string, source = SOURCE, pageId = 'bench-page') =>
    pool.invoke({ pageId, scriptVersionId, source, handler: 'onMessage', event });

  // Cold: a new script version each time, so a new isolate, context, bootstrap, compile, module
  // evaluation and the first handler call.
  for (let i = 0; i < 20; i++) check(await invoke(`warmup-cold-${i}`));
  const coldE2e: number[] = [];
  const coldChild: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const t = nowNs();
    const r = check(await invoke(`cold-${i}`));
    coldE2e.push(Number(nowNs() - t) / 1e6);
    if (!r.coldStart) throw new Error('expected a cold start');
    coldChild.push(r.wallMs);
  }

  // Warm: one isolate, a 1 KB event, a handler that does almost nothing.
  for (let i = 0; i < 500; i++) check(await invoke('warm'));
  const warmE2e: number[] = [];
  const warmChild: number[] = [];
  for (let i = 0; i < WARM_RUNS; i++) {
    const t = nowNs();
    const r = check(await invoke('warm'));
    warmE2e.push(Number(nowNs() - t) / 1e3);
    warmChild.push(r.wallMs * 1e3);
  }

  // Warm with one ctx.send: two more IPC hops (worker → pool → bridge → worker).
  for (let i = 0; i < 200; i++) check(await invoke('warm-send', SEND_SOURCE));
  const sendE2e: number[] = [];
  const sendChild: number[] = [];
  for (let i = 0; i < Math.min(WARM_RUNS, 2000); i++) {
    const t = nowNs();
    const r = check(await invoke('warm-send', SEND_SOURCE));
    sendE2e.push(Number(nowNs() - t) / 1e3);
    sendChild.push(r.wallMs * 1e3);
  }
  await pool.stop();

  // The same handler run natively, with the same JSON.parse of the event the sandbox does.
  const handler = new Function('event', 'ctx', HANDLER_BODY) as (e: unknown, c: unknown) => number;
  const onMessage = async (e: unknown, c: unknown) => handler(e, c);
  const ctx = Object.freeze({ page: { id: 'bench-page' } });
  for (let i = 0; i < 2000; i++) await onMessage(JSON.parse(eventJson), ctx);
  const native: number[] = [];
  for (let i = 0; i < WARM_RUNS; i++) {
    const t = nowNs();
    await onMessage(JSON.parse(eventJson), ctx);
    native.push(Number(nowNs() - t) / 1e3);
  }

  console.log(`event bytes=${Buffer.byteLength(eventJson)} cold_runs=${COLD_RUNS} warm_runs=${WARM_RUNS} workers=1`);
  console.log(`cold end-to-end (pool.invoke, IPC included): p50=${fmt(pct(coldE2e, 0.5), 2)} ms p99=${fmt(pct(coldE2e, 0.99), 2)} ms`);
  console.log(`cold in worker (isolate+context+bootstrap+compile+evaluate+first call): p50=${fmt(pct(coldChild, 0.5), 2)} ms p99=${fmt(pct(coldChild, 0.99), 2)} ms`);
  console.log(`warm end-to-end (pool.invoke, 2 IPC hops): p50=${fmt(pct(warmE2e, 0.5))} us p99=${fmt(pct(warmE2e, 0.99))} us`);
  console.log(`warm in worker (in-isolate overhead, what warm_ reports): p50=${fmt(pct(warmChild, 0.5))} us p99=${fmt(pct(warmChild, 0.99))} us`);
  console.log(`warm with one ctx.send: end-to-end p50=${fmt(pct(sendE2e, 0.5))} us p99=${fmt(pct(sendE2e, 0.99))} us; in worker p50=${fmt(pct(sendChild, 0.5))} us`);
  console.log(`native handler (JSON.parse + call): p50=${fmt(pct(native, 0.5), 2)} us p99=${fmt(pct(native, 0.99), 2)} us`);
  console.log(
    `sandbox cold_p50_ms=${fmt(pct(coldE2e, 0.5), 2)} cold_p99_ms=${fmt(pct(coldE2e, 0.99), 2)} ` +
      `warm_p50_us=${fmt(pct(warmChild, 0.5))} warm_p99_us=${fmt(pct(warmChild, 0.99))} native_p50_us=${fmt(pct(native, 0.5), 2)}`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
