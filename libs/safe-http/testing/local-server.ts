import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { TEST_CERT, TEST_KEY } from './tls-fixture';

/** What a test server saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The local address the connection arrived on. */
  localAddress: string;
  /** The TLS SNI name, for https servers. */
  servername?: string | false | null;
}

/** A throwaway HTTP(S) server bound to one loopback address, for tests. */
export interface LocalServer {
  host: string;
  port: number;
  /** `http(s)://<host>:<port><path>` with the host as bound (IPv6 in brackets). */
  url(path?: string): string;
  /** TCP connections accepted so far. */
  connections: number;
  requests: SeenRequest[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** Starts a server on `host` (default 127.0.0.1) and an ephemeral port; `tls` serves the test certificate. */
export async function startServer(
  handler: Handler,
  options: { host?: string; tls?: boolean; port?: number } = {},
): Promise<LocalServer> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const requests: SeenRequest[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        localAddress: req.socket.localAddress ?? '',
        servername: options.tls ? (req.socket as TLSSocket).servername : undefined,
      });
      handler(req, res, body);
    });
  };
  const server = options.tls
    ? createHttpsServer({ cert: TEST_CERT, key: TEST_KEY }, onRequest)
    : createHttpServer(onRequest);
  const state = { connections: 0 };
  server.on('connection', (socket: Socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that hangs up mid-handshake is expected in these tests.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    url: (path = '/') => `${options.tls ? 'https' : 'http'}://${shown}:${port}${path}`,
    get connections() {
      return state.connections;
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on `host` that was just free: nothing listens there. */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const server = await startServer(() => undefined, { host });
  const { port } = server;
  await server.close();
  return port;
}
