import WebSocket from 'ws';

export interface PersonSocket {
  ws: WebSocket;
  // Every frame after hello, in arrival order.
  events: any[];
  hello: any;
  // Resolves with the first event (already received or coming) that matches; rejects when the socket closes first.
  waitFor(what: string, match: (e: any) => boolean, timeoutMs?: number): Promise<any>;
  // Resolves once `n` events match (counting those already received).
  waitForCount(what: string, n: number, match: (e: any) => boolean, timeoutMs?: number): Promise<any[]>;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

// The person's client over a real WebSocket (permessage-deflate offered, as browsers do).
export async function connectPerson(
  base: string,
  token: string,
  opts: { after?: number; viaHeader?: boolean; autoPong?: boolean } = {},
): Promise<PersonSocket> {
  const url = new URL('/ws', base.replace(/^http/, 'ws'));
  if (!opts.viaHeader) url.searchParams.set('access_token', token);
  if (opts.after !== undefined) url.searchParams.set('after', String(opts.after));
  const ws = new WebSocket(url, { perMessageDeflate: true, autoPong: opts.autoPong ?? true, headers: opts.viaHeader ? { authorization: `Bearer ${token}` } : {} });
  const events: any[] = [];
  const waiters = new Set<() => void>();
  let closedInfo: { code: number; reason: string } | undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => {
      closedInfo = { code, reason: reason.toString() };
      resolve(closedInfo);
      for (const w of waiters) w();
    }),
  );
  const hello = await new Promise<any>((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if (msg.type === 'hello') return resolve(msg);
      events.push(msg);
      for (const w of waiters) w();
    });
  });

  function waitForCount(what: string, n: number, match: (e: any) => boolean, timeoutMs = 30_000): Promise<any[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hits = events.filter(match);
        if (hits.length >= n) {
          done();
          resolve(hits);
        } else if (closedInfo) {
          done();
          reject(new Error(`socket closed (${closedInfo.code} ${closedInfo.reason}) waiting for ${what}: ${hits.length}/${n}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}: ${events.filter(match).length}/${n}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }

  return {
    ws,
    events,
    hello,
    waitForCount,
    waitFor: async (what, match, timeoutMs) => (await waitForCount(what, 1, match, timeoutMs))[0],
    closed,
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close();
      await closed;
    },
  };
}

// Stored events (those with a cursor) must come exactly once each, in cursor order with no gap.
export function assertGapFree(events: any[], from: number): number {
  const cursors = events.filter((e) => e.cursor !== undefined).map((e) => e.cursor);
  const expected = cursors.map((_, i) => from + i + 1);
  if (JSON.stringify(cursors) !== JSON.stringify(expected)) {
    throw new Error(`cursors not gap-free after ${from}: ${cursors.join(',')}`);
  }
  return from + cursors.length;
}

// An upgrade the server refuses: its HTTP status, headers and JSON body (rejects if the socket opens instead).
export function upgradeRefusal(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`upgraded: ${url}`));
    });
    ws.once('error', () => undefined);
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
  });
}
