import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { PUBSUB, PubSubPort } from '../infra/pubsub/pubsub.port';
import { PageInboxHints } from './page-inbox-hints';

export type { InboxHint, InboxWatcher } from './page-inbox-hints';

// The Page Inbox's live hints (page-inbox-hints.ts) on the process's bus.
@Injectable()
export class PageInboxHub extends PageInboxHints {
  constructor(@Inject(PUBSUB) pubsub: PubSubPort, config: AppConfig) {
    super(pubsub, config.env.REDIS_COMMAND_TIMEOUT_MS, new Logger('PageInboxHub'));
  }
}
