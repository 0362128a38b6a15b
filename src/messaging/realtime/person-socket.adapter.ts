import type { INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ServerOptions, WebSocket, WebSocketServer } from 'ws';
import { parsePersonFrame } from './person-frames';

// Nest's ws adapter, with options only known at boot (the gateway's decorator is static): the deflate threshold
// from config and the upgrade-time authentication, which needs the gateway's services. It also routes upgrades
// on the app's own HTTP server itself, so a path no gateway serves is answered 404 with the API's error body
// (Nest's adapter drops the connection without a word).
export class PersonSocketAdapter extends WsAdapter {
  private readonly byPath = new Map<string, WebSocketServer>();
  private attachedTo?: Server;

  constructor(
    app: INestApplication,
    private readonly serverOptions: ServerOptions,
  ) {
    super(app, { messageParser: (data) => parsePersonFrame(data) });
  }

  override create(port: number, options: Record<string, unknown> & { path?: string; namespace?: string; server?: unknown } = {}) {
    const { path, namespace: _namespace, server: _server, ...wsOptions } = options;
    if (port !== 0 || !this.httpServer || typeof path !== 'string') return super.create(port, { ...options, ...this.serverOptions });
    const wss = this.bindErrorHandler(new WebSocketServer({ noServer: true, ...wsOptions, ...this.serverOptions }));
    this.byPath.set(path, wss);
    if (!this.attachedTo) {
      this.attachedTo = this.httpServer as Server;
      this.attachedTo.on('upgrade', this.onUpgrade);
    }
    return wss;
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node's HTTP server stops watching an upgraded socket's errors: a client reset must not go unhandled.
    socket.on('error', () => socket.destroy());
    let pathname = '';
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      // Not a URL at all: answered like an unknown path.
    }
    const wss = this.byPath.get(pathname);
    if (wss) return wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    const body = JSON.stringify({ statusCode: 404, code: 'NOT_FOUND', message: `No WebSocket at ${pathname || 'that path'}` });
    socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  };

  override async dispose(): Promise<void> {
    this.attachedTo?.off('upgrade', this.onUpgrade);
    this.attachedTo = undefined;
    this.byPath.clear();
    await super.dispose();
  }

  // Nest logs every client socket's error (an oversize or malformed frame) at error level: a client could
  // flood the log. Those are the client's; the gateway terminates the socket. The server's own stay errors.
  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    server.on('connection', (ws: WebSocket) => ws.on('error', (err: Error) => this.logger.debug(`client socket: ${err.message}`)));
    server.on('error', (err: Error) => this.logger.error(err));
    return server;
  }
}
