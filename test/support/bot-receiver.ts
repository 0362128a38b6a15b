import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { verifyMessenger } from '../../libs/webhook-signature';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  // Set when the receiver has secrets: X-Hub-Signature-256 matched one of them.
  signatureValid?: boolean;
}

export interface BotReceiver {
  url: string;
  received: ReceivedRequest[];
  // Override how POSTs are answered (status code), e.g. to simulate failures.
  respond: (req: ReceivedRequest) => number | Promise<number>;
  // App secrets to verify X-Hub-Signature-256 against, as a real bot does; a bad signature is answered 401.
  secrets: string[];
  close(): Promise<void>;
}

// A local bot endpoint: answers Graph's verification handshake and records every webhook POST.
export async function startBotReceiver(verifyToken: string): Promise<BotReceiver> {
  const receiver: BotReceiver = {
    url: '',
    received: [],
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
      const entry: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      if (receiver.secrets.length) {
        entry.signatureValid = verifyMessenger(entry.body, req.headers['x-hub-signature-256'], receiver.secrets);
      }
      receiver.received.push(entry);
      const status = entry.signatureValid === false ? 401 : await receiver.respond(entry);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'EVENT_RECEIVED' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}/webhook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
