import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { GraphErrors } from '../common/errors/graph.exception';
import { GRAPH_TRANSPORT_PARAMS, parseGraphParams } from '../../libs/templates';
import { MessagingService, ThreadRow } from '../messaging/messaging.service';
import { PageInboxHub } from '../pages/page-inbox-hub';
import { SendApiService } from '../send-api/send-api.service';
import { PAGE_INBOX_APP_ID, threadControllerSql, WebhooksService } from '../webhooks/webhooks.service';
import { HandoverErrors } from './handover.errors';

export type ControlAction = 'pass' | 'take' | 'request' | 'release';

interface ControlParams {
  psid: string;
  metadata?: string;
  targetAppId?: string;
}

// Messenger's limit on a handover's metadata.
const METADATA_MAX_CHARS = 1000;

// A messaging_handovers item for one app.
export interface HandoverNotice {
  toApp: string;
  item: Record<string, unknown>;
}

// request_thread_control's requested_owner_app_id: a number in Meta's request-thread-control guide (its older copy
// quotes it), so kept as one.
export const appIdValue = (id: string) => (Number.isSafeInteger(Number(id)) ? Number(id) : id);

// pass_thread_control and take_thread_control as Meta's messaging_handovers reference gives them: both app ids are
// strings ("123456789"), metadata only when the caller set it.
export const controlNotice = (previous: string, next: string, metadata?: string) => ({
  previous_owner_app_id: previous,
  new_owner_app_id: next,
  ...(metadata === undefined ? {} : { metadata }),
});

// Messenger's handover protocol. A page whose admins gave one connected app the primary role routes each thread's
// events to the app controlling it (threads.owner_app_id; idle: the primary) and a standby copy to the others
// (WebhooksService.pageEventCtes); only the controller sends. Apps pass, take, request and release control here;
// each change is one transaction that locks the thread row (so it is ordered with the thread's messages, whose
// append re-checks control under that lock) and records the messaging_handovers notice for the app it concerns.
@Injectable()
export class HandoverService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly messaging: MessagingService,
    private readonly webhooks: WebhooksService,
    private readonly sendApi: SendApiService,
    private readonly inboxHub: PageInboxHub,
  ) {}

  async control(pageId: string, appId: string, action: ControlAction, params: unknown): Promise<{ success: true }> {
    // Each call spends the Send API's buckets, refused or not: a notice is a webhook, so requests can't be spammed.
    await this.sendApi.spend(pageId, appId);
    const p = this.parse(params, action === 'pass');
    const known = await this.messaging.findThreadByPsid(pageId, p.psid);
    if (!known) throw GraphErrors.noMatchingUser();

    const deliveries = await this.db.transaction(async (m) => {
      const thread = await this.lockThread(m, known.id);
      // Roles are read under the thread's lock, so a role change that committed first is seen.
      const roles = await this.roles(m, pageId);
      const primary = [...roles].find(([, role]) => role === 'primary')?.[0];
      if (!primary) throw HandoverErrors.notSetUp();
      if (!roles.has(appId)) throw HandoverErrors.noRole();
      // Null only if the primary was named after the lock's snapshot: the thread is idle, so the primary's.
      const controller = thread.controller ?? primary;
      const notices: HandoverNotice[] = [];
      let owner: string | null | undefined;
      const base = { sender: { id: thread.psid }, recipient: { id: pageId }, timestamp: Date.now() };
      const meta = p.metadata === undefined ? {} : { metadata: p.metadata };
      switch (action) {
        case 'pass': {
          if (controller !== appId) throw HandoverErrors.notController();
          // A secondary may leave the target out: control goes back to the primary.
          const target = p.targetAppId ?? (appId === primary ? undefined : primary);
          if (target === undefined) throw HandoverErrors.invalid('param target_app_id is required');
          if (target === appId) throw HandoverErrors.alreadyController();
          if (target !== PAGE_INBOX_APP_ID && !roles.has(target)) throw HandoverErrors.badTarget(target);
          owner = target === primary ? null : target;
          const notice = controlNotice(appId, target, p.metadata);
          if (target !== PAGE_INBOX_APP_ID) notices.push({ toApp: target, item: { ...base, pass_thread_control: notice } });
          break;
        }
        case 'take': {
          if (appId !== primary) throw HandoverErrors.primaryOnly();
          if (controller === appId) throw HandoverErrors.alreadyController();
          owner = null;
          const notice = controlNotice(controller, appId, p.metadata);
          if (controller !== PAGE_INBOX_APP_ID) notices.push({ toApp: controller, item: { ...base, take_thread_control: notice } });
          break;
        }
        case 'request': {
          if (controller === appId) throw HandoverErrors.alreadyController();
          const notice = { requested_owner_app_id: appIdValue(appId), ...meta };
          if (controller !== PAGE_INBOX_APP_ID) notices.push({ toApp: controller, item: { ...base, request_thread_control: notice } });
          break;
        }
        case 'release': {
          if (controller !== appId) throw HandoverErrors.notController();
          if (appId === primary) throw HandoverErrors.invalid('The primary receiver already holds idle threads: pass the thread instead');
          owner = null;
          const notice = controlNotice(appId, primary, p.metadata);
          notices.push({ toApp: primary, item: { ...base, pass_thread_control: notice } });
          break;
        }
      }
      return this.apply(m, thread, owner, notices);
    });
    // The Page's people see who controls each thread.
    this.inboxHub.touch(pageId, known.id);
    if (deliveries.length) await this.webhooks.dispatch(deliveries);
    return { success: true };
  }

  // Inside the caller's transaction, on a thread it locked (lockThread): the new owner (undefined: unchanged; null:
  // idle, the primary's) and each notice recorded for the one app it concerns. Answers the deliveries to dispatch
  // after commit. owner_since starts the new owner's idle clock (HandoverIdleProcessor).
  async apply(m: EntityManager, thread: ThreadRow, owner: string | null | undefined, notices: HandoverNotice[]): Promise<string[]> {
    if (owner !== undefined) {
      await m.query(`UPDATE threads SET owner_app_id = $2, owner_since = $3 WHERE id = $1`, [thread.id, owner, Date.now()]);
    }
    const recorded: string[] = [];
    for (const n of notices) {
      recorded.push(
        ...(await this.webhooks.recordPageEvent(m, {
          pageId: thread.page_id,
          field: 'messaging_handovers',
          threadKey: thread.psid,
          messaging: n.item,
          toApp: n.toApp,
        })),
      );
    }
    return recorded;
  }

  // GET /{page}/thread_owner?recipient=<psid>: Graph's answer, `data` empty when the page has no handover.
  async threadOwner(pageId: string, params: unknown): Promise<{ data: { thread_owner: { app_id: string } }[] }> {
    const parsed = parseGraphParams(params, []);
    const recipient = parsed.ok ? parsed.value.recipient : undefined;
    if (typeof recipient !== 'string' || !recipient) throw HandoverErrors.invalid('param recipient is required');
    const thread = await this.messaging.findThreadByPsid(pageId, recipient);
    if (!thread) throw GraphErrors.noMatchingUser();
    return { data: thread.controller ? [{ thread_owner: { app_id: thread.controller } }] : [] };
  }

  // GET /{page}/secondary_receivers: the apps with the secondary role.
  async secondaryReceivers(pageId: string): Promise<{ data: { id: string; name: string }[] }> {
    const rows: { id: string; name: string }[] = await this.db.query(
      `SELECT a.id, a.name FROM page_apps pa JOIN apps a ON a.id = pa.app_id
        WHERE pa.page_id = $1 AND pa.handover_role = 'secondary' ORDER BY pa.created_at`,
      [pageId],
    );
    return { data: rows };
  }

  private parse(params: unknown, withTarget: boolean): ControlParams {
    const parsed = parseGraphParams(params, ['recipient']);
    if (!parsed.ok) throw HandoverErrors.invalid(parsed.error.message);
    const v = parsed.value;
    const known = new Set<string>(['recipient', 'metadata', ...(withTarget ? ['target_app_id'] : []), ...GRAPH_TRANSPORT_PARAMS]);
    const extra = Object.keys(v).find((k) => !known.has(k));
    if (extra) throw HandoverErrors.invalid(`param ${extra.slice(0, 40)} is not a parameter of this call`);
    const recipient = v.recipient as { id?: unknown } | undefined;
    if (!recipient || typeof recipient !== 'object') throw HandoverErrors.invalid('param recipient is required');
    const psid = typeof recipient.id === 'number' && Number.isSafeInteger(recipient.id) ? String(recipient.id) : recipient.id;
    if (typeof psid !== 'string' || !psid) throw HandoverErrors.invalid('param recipient[id] is required');
    const metadata = v.metadata;
    if (metadata !== undefined && (typeof metadata !== 'string' || [...metadata].length > METADATA_MAX_CHARS)) {
      throw HandoverErrors.invalid(`param metadata must be a string of at most ${METADATA_MAX_CHARS} characters`);
    }
    const target = typeof v.target_app_id === 'number' && Number.isSafeInteger(v.target_app_id) ? String(v.target_app_id) : v.target_app_id;
    if (target !== undefined && (typeof target !== 'string' || !/^\d{1,20}$/.test(target))) {
      throw HandoverErrors.invalid('param target_app_id must be an app id');
    }
    return { psid, metadata, targetAppId: target };
  }

  // Every connected app's role; apps without one are left out.
  async roles(m: EntityManager, pageId: string): Promise<Map<string, 'primary' | 'secondary'>> {
    const rows: { app_id: string; handover_role: 'primary' | 'secondary' }[] = await m.query(
      `SELECT app_id, handover_role FROM page_apps WHERE page_id = $1 AND handover_role IS NOT NULL`,
      [pageId],
    );
    return new Map(rows.map((r) => [r.app_id, r.handover_role]));
  }

  // The thread, locked, with its controller as the outbox and the append see it (threadControllerSql).
  async lockThread(m: EntityManager, threadId: string): Promise<ThreadRow> {
    const [t] = await m.query(
      `SELECT t.*, ${threadControllerSql('t.page_id', 't.owner_app_id')} AS controller FROM threads t WHERE t.id = $1 FOR UPDATE`,
      [threadId],
    );
    return t;
  }
}
