// The bench's bot: a separate process so its event loop does not share the platform's. Answers after DELAY_MS,
// reports each POST's delivery ids and arrival time (wall clock, sub-ms) to the parent over IPC, in batches.
import * as http from 'node:http';
import { AddressInfo } from 'node:net';

let delayMs = 0;
let pending: { ids: string[]; t: number; entries: unknown[] }[] = [];
// Gateway POSTs open at once (arrival to answer), the most since the last delay change: how many batches the
// gateway keeps in flight.
let open = 0;
let maxOpen = 0;

const now = () => performance.timeOrigin + performance.now();

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET') {
      res.end(url.searchParams.get('hub.challenge') ?? '');
      return;
    }
    const t = now();
    // Baseline posts (keep=0) are only answered; gateway posts report each entry's message mid.
    if (url.searchParams.get('keep') !== '0') {
      maxOpen = Math.max(maxOpen, ++open);
      res.on('finish', () => open--);
      const entries = JSON.parse(Buffer.concat(chunks).toString('utf8')).entry as any[];
      const ids = entries.map((e) => String(e.messaging?.[0]?.message?.mid ?? ''));
      pending.push({ ids, t, entries });
    }
    const answer = () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('EVENT_RECEIVED');
    };
    if (delayMs) setTimeout(answer, delayMs);
    else answer();
  });
});

setInterval(() => {
  if (!pending.length) return;
  process.send!({ type: 'batch', items: pending, maxOpen });
  pending = [];
}, 20).unref();

process.on('message', (m: { type: string; delayMs?: number }) => {
  if (m.type === 'delay') {
    delayMs = m.delayMs ?? 0;
    maxOpen = 0;
    process.send!({ type: 'delay-set' });
  } else if (m.type === 'exit') {
    server.close();
    process.exit(0);
  }
});

server.listen(0, '127.0.0.1', () => {
  process.send!({ type: 'ready', port: (server.address() as AddressInfo).port });
});
