import type { INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { ServerOptions } from 'ws';
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
}
