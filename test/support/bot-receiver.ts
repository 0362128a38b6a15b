import { createHmac, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { verifyMessenger } from '../../libs/webhook-signature';
import { waitFor } from './wait-for';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  // Requests this receiver was answering when this one arrived (itself included).
  concurrent: number;
  answeredAt?: number;
  arrivedAt: number;
  // Set when the receiver has secrets: X-Hub-Signature-256 and the legacy X-Hub-Signature (sha1) both matched one
  // of them.
  signatureValid?: boolean;
}

export type Answer = number | { status: number; headers?: Record<string, string>; body?: string | Buffer };

export interface BotReceiver {
  url: string;
  port: number;
  received: ReceivedRequest[];
  inFlight: number;
  maxInFlight: number;
  // Override how POSTs are answered (status code, or status and headers), e.g. to simulate failures.
  // A promise that never settles makes the receiver hang.
  respond: (req: ReceivedRequest) => Answer | Promise<Answer>;
  // App secrets to verify X-Hub-Signature-256 against, as a real bot does; a bad signature is answered 401.
  secrets: string[];
  close(): Promise<void>;
}

// A local bot endpoint: answers Graph's verification handshake and records every webhook POST.
// `port` lets a test bring a receiver back where it was.
export async function startBotReceiver(verifyToken: string, port = 0): Promise<BotReceiver> {
  const receiver: BotReceiver = {
    url: '',
    port: 0,
    received: [],
    inFlight: 0,
    maxInFlight: 0,
    respond: () => 200,
    secrets: [],
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'GET') {
        const ok = url.searchParams.get('hub.mode') === 'subscribe' && url.searchParams.get('hub.verify_token') === verifyToken;
        res.writeHead(ok ? 200 : 403, { 'content-type': 'text/plain' });
        res.end(ok ? url.searchParams.get('hub.challenge') ?? '' : 'forbidden');
        return;
      }
      receiver.inFlight++;
      receiver.maxInFlight = Math.max(receiver.maxInFlight, receiver.inFlight);
      const entry: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        concurrent: receiver.inFlight,
        arrivedAt: Date.now(),
      };
      if (receiver.secrets.length) {
        entry.signatureValid =
          verifyMessenger(entry.body, req.headers['x-hub-signature-256'], receiver.secrets) &&
          legacySignatureValid(entry.body, req.headers['x-hub-signature'], receiver.secrets);
      }
      receiver.received.push(entry);
      try {
        const answer = entry.signatureValid === false ? 401 : await receiver.respond(entry);
        const { status, headers, body } = typeof answer === 'number' ? { status: answer, headers: {}, body: undefined } : answer;
        res.writeHead(status, { 'content-type': 'text/plain', ...headers });
        res.end(body ?? (status < 300 ? 'EVENT_RECEIVED' : 'nope'));
      } finally {
        receiver.inFlight--;
        entry.answeredAt = Date.now();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/webhook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

// Messenger's older header, still sent for bots that only check it: sha1=<hex HMAC-SHA1 of the body>.
function legacySignatureValid(body: Buffer, header: string | string[] | undefined, secrets: string[]): boolean {
  if (typeof header !== 'string' || !/^sha1=[0-9a-f]{40}$/.test(header)) return false;
  const given = Buffer.from(header.slice(5), 'hex');
  return secrets.some((s) => timingSafeEqual(createHmac('sha1', s).update(body).digest(), given));
}

// Every item the bot received, with the key it came under ('messaging', or 'standby' for a thread another app
// controls), each POST's signature checked first.
export function receivedEntries(bot: BotReceiver): ['messaging' | 'standby', any][] {
  return bot.received.flatMap((r) => {
    if (r.signatureValid !== true) throw new Error(`a webhook POST to ${bot.url} was not signed with the app secret`);
    return (JSON.parse(r.body.toString('utf8')).entry ?? []).flatMap((e: any) => [
      ...(e.messaging ?? []).map((m: any) => ['messaging', m]),
      ...(e.standby ?? []).map((m: any) => ['standby', m]),
    ]);
  });
}

// The first received item (as [key, item], receivedEntries) that matches, waited for.
export function waitForEntry(what: string, bot: BotReceiver, match: (key: 'messaging' | 'standby', item: any) => boolean) {
  return waitFor(what, () => receivedEntries(bot).find(([k, m]) => match(k, m)));
}
