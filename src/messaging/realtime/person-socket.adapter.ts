import type { INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { ServerOptions, WebSocket, WebSocketServer } from 'ws';
import { parsePersonFrame } from './person-frames';

// Nest's ws adapter, with options only known at boot (the gateway's decorator is static): the deflate threshold
// from config and the upgrade-time authentication, which needs the gateway's services.
export class PersonSocketAdapter extends WsAdapter {
  constructor(
    app: INestApplication,
    private readonly serverOptions: ServerOptions,
  ) {
    super(app, { messageParser: (data) => parsePersonFrame(data) });
  }

  override create(port: number, options: Record<string, unknown> & { path?: string } = {}) {
    return super.create(port, { ...options, ...this.serverOptions });
  }

  // Nest logs every client socket's error (an oversize or malformed frame) at error level: a client could
  // flood the log. Those are the client's; the gateway terminates the socket. The server's own stay errors.
  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    server.on('connection', (ws: WebSocket) => ws.on('error', (err: Error) => this.logger.debug(`client socket: ${err.message}`)));
    server.on('error', (err: Error) => this.logger.error(err));
    return server;
  }
}
