import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { sha256Hex } from '../common/crypto/tokens';
import { isUuid } from '../common/ids/uuid';
import { uuidV7 } from '../common/ids/uuid-v7';
import { AppConfig } from '../config/app-config';
import { rowsOf } from '../database/query-rows';
import { SqlService } from '../database/sql.service';
import { MessagingErrors } from '../messaging/messaging.errors';
import { MessagingService, ThreadFacts } from '../messaging/messaging.service';
import type { StoredEvent } from '../messaging/person-events';
import { openSealed, sealValue } from '../webhooks/sealed-items';
import { MarketingMessagesErrors } from './marketing-messages.errors';
import {
  looksLikeToken,
  newNotificationMessagesToken,
  optinItem,
  optinRequestOf,
  sendCooldownMs,
  tokenExpiry,
  TopicRow,
  topicView,
  TopicView,
} from './marketing-messages-policy';

const TOPIC_COLUMNS =
  'id, thread_id, page_id, mid, title, payload, frequency, timezone, token_sealed, status, created_at, expires_at, last_sent_at, refreshed';

// What a marketing message may be sent on: the token's topic and whose thread it is.
export interface TokenTarget {
  topicId: string;
  tokenHash: string;
  psid: string;
}

// Messenger's marketing messages (formerly recurring notifications). A Page's bot sends an opt-in request (template
// notification_messages) within the standard window; the person taps its button and the Page's apps get
// messaging_optins with a notification_messages_token; with it the bot sends outside the 24-hour window, at most
// once per cooldown, until the token expires or the person stops (they may resume). One token per person, Page and
// topic (the request's title).
@Injectable()
export class MarketingMessagesService {
  constructor(
    private readonly messaging: MessagingService,
    private readonly sql: SqlService,
    private readonly config: AppConfig,
  ) {}

  // The person tapped the opt-in request `mid`. A topic with no live token gets one (a new one for an expired
  // topic: REFRESHED), and the Page's apps get messaging_optins carrying it; a stopped topic is resumed
  // (RESUME_NOTIFICATIONS, same token); a live one answers its state and tells no one. Under the thread's lock, so
  // taps at once take turns and one token comes of them.
  async optIn(userId: string, threadId: string, mid: string): Promise<TopicView> {
    const thread = await this.messaging.writableThread(userId, threadId);
    await this.messaging.spendPersonSend(userId);
    return this.messaging.recordThreadChange(thread, async (m, lastSeq) => {
      const request = await this.requestOf(m, thread, mid);
      const now = Date.now();
      const [row] = await this.topicRow(m, thread.id, request.title);
      if (row && Number(row.expires_at) > now) {
        if (row.status === 'active') return { result: topicView(row, now) };
        const resumed = await this.setStatus(m, row.id, 'active');
        return this.told(thread, resumed, 'RESUME_NOTIFICATIONS', lastSeq, now);
      }
      const token = newNotificationMessagesToken();
      const frequency = request.notification_messages_frequency ?? null;
      const values = {
        mid,
        payload: request.payload,
        frequency,
        timezone: request.notification_messages_timezone ?? 'UTC',
        hash: sha256Hex(token),
        sealed: sealValue(this.config.secretBox, token),
        expiresAt: tokenExpiry(now, frequency),
      };
      // An expired topic's row takes the new token (its old one never works again: its hash is gone).
      const [fresh] = rowsOf<TopicRow>(
        row
          ? await m.query(
              `UPDATE notification_message_tokens
                  SET mid = $2, payload = $3, frequency = $4, timezone = $5, token_hash = $6, token_sealed = $7, status = 'active',
                      created_at = $8, expires_at = $9, last_sent_at = NULL, refreshed = true
                WHERE id = $1 RETURNING ${TOPIC_COLUMNS}`,
              [row.id, values.mid, values.payload, frequency, values.timezone, values.hash, values.sealed, now, values.expiresAt],
            )
          : await m.query(
              `INSERT INTO notification_message_tokens
                 (id, thread_id, page_id, mid, title, payload, frequency, timezone, token_hash, token_sealed, status, created_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', $11, $12) RETURNING ${TOPIC_COLUMNS}`,
              [uuidV7(), thread.id, thread.page_id, mid, request.title, values.payload, frequency, values.timezone, values.hash, values.sealed, now, values.expiresAt],
            ),
      );
      return this.told(thread, fresh, 'opt_in', lastSeq, now);
    });
  }

  // The person stops the topic of opt-in request `mid`: the Page's apps get STOP_NOTIFICATIONS and sends on its
  // token are refused until they resume. Stopping a stopped topic answers its state and tells no one.
  async stop(userId: string, threadId: string, mid: string): Promise<TopicView> {
    // Stopping stays open while the person blocks the Page (opting in does not).
    const thread = await this.messaging.writableThread(userId, threadId, { whileBlocked: true });
    await this.messaging.spendPersonSend(userId);
    return this.messaging.recordThreadChange(thread, async (m, lastSeq) => {
      const request = await this.requestOf(m, thread, mid);
      const now = Date.now();
      const [row] = await this.topicRow(m, thread.id, request.title);
      if (!row || Number(row.expires_at) <= now) throw MarketingMessagesErrors.notOptedIn();
      if (row.status === 'stopped') return { result: topicView(row, now) };
      const stopped = await this.setStatus(m, row.id, 'stopped');
      return this.told(thread, stopped, 'STOP_NOTIFICATIONS', lastSeq, now);
    });
  }

  // The person's topics on this thread, newest first (the chat app draws each opt-in request's state from them).
  async topics(userId: string, threadId: string): Promise<{ data: TopicView[] }> {
    const thread = await this.messaging.findOwnThread(userId, threadId);
    const rows = await this.sql.query<TopicRow>(
      `SELECT ${TOPIC_COLUMNS} FROM notification_message_tokens WHERE thread_id = $1 ORDER BY created_at DESC, id DESC`,
      [thread.id],
    );
    const now = Date.now();
    return { data: rows.map((r) => topicView(r, now)) };
  }

  // --- the Send API's side ---

  // The thread a marketing message with this token goes to, or Graph's refusal: unknown (or another Page's),
  // expired, stopped, or sent on too recently. Found by the token's hash, so no secret is compared here to time.
  async target(pageId: string, token: string): Promise<TokenTarget> {
    if (!looksLikeToken(token)) throw MarketingMessagesErrors.unknownToken();
    const hash = sha256Hex(token);
    const [row] = await this.sql.query<TopicRow & { psid: string }>(
      `SELECT k.status, k.expires_at, k.last_sent_at, k.frequency, k.id, k.page_id, t.psid
         FROM notification_message_tokens k JOIN threads t ON t.id = k.thread_id
        WHERE k.token_hash = $1`,
      [hash],
    );
    if (!row || row.page_id !== pageId) throw MarketingMessagesErrors.unknownToken();
    this.check(row, Date.now());
    return { topicId: row.id, tokenHash: hash, psid: row.psid };
  }

  // In the message's transaction: the token is spent (its last send stamped) only if it still may send, so two
  // sends at once can't both pass the cap, and a stop that commits first refuses the send. Throws (nothing is
  // written) when it may not.
  async spend(m: EntityManager, target: TokenTarget): Promise<void> {
    const now = Date.now();
    const [row] = rowsOf<TopicRow>(
      await m.query(`SELECT ${TOPIC_COLUMNS} FROM notification_message_tokens WHERE id = $1 AND token_hash = $2 FOR UPDATE`, [
        target.topicId,
        target.tokenHash,
      ]),
    );
    // Renewed (a new token for an expired topic) since the lookup: this token is gone.
    if (!row) throw MarketingMessagesErrors.expiredToken();
    this.check(row, now);
    await m.query(`UPDATE notification_message_tokens SET last_sent_at = $2 WHERE id = $1`, [row.id, now]);
  }

  private check(row: Pick<TopicRow, 'status' | 'expires_at' | 'last_sent_at' | 'frequency'>, now: number): void {
    if (Number(row.expires_at) <= now) throw MarketingMessagesErrors.expiredToken();
    if (row.status !== 'active') throw MarketingMessagesErrors.stoppedToken();
    if (row.last_sent_at != null && now - Number(row.last_sent_at) < sendCooldownMs(row.frequency)) throw MarketingMessagesErrors.tooSoon();
  }

  // --- GET /{page}/notification_message_tokens ---

  // The Page's live tokens (active and unexpired), oldest first, as Meta's guide lists them; `after` continues.
  async list(pageId: string, limit: number, after: string | undefined) {
    let cursor: { at: number; id: string } | undefined;
    if (after !== undefined) {
      const [at, id] = Buffer.from(after, 'base64url').toString('utf8').split('|');
      // The id strictly a UUID: a near one would reach Postgres's cast below and fail there (a 500).
      if (!/^\d{1,15}$/.test(at ?? '') || !isUuid(id ?? '')) throw MarketingMessagesErrors.tokenListCursor();
      cursor = { at: Number(at), id };
    }
    const now = Date.now();
    // Two statements, without a cursor and with one, so each starts its walk of notification_message_tokens_page_idx
    // at its first row and stops at the limit. With `$n IS NULL OR (…) > (…)` a generic plan (the statement is
    // prepared, and may go generic after five runs) can't make the cursor an index condition: it filtered every row
    // of the Page before the cursor instead (a page near the end of 300 k tokens: 74 ms and 290 k rows, against 0.3 ms).
    const rows = await this.sql.query<TopicRow & { psid: string }>(
      `SELECT ${TOPIC_COLUMNS.split(', ').map((c) => `k.${c}`).join(', ')}, t.psid
         FROM notification_message_tokens k JOIN threads t ON t.id = k.thread_id
        WHERE k.page_id = $1 AND k.status = 'active' AND k.expires_at > $2
          ${cursor ? 'AND (k.created_at, k.id) > ($4::bigint, $5::uuid)' : ''}
        ORDER BY k.created_at, k.id LIMIT $3`,
      cursor ? [pageId, now, limit + 1, cursor.at, cursor.id] : [pageId, now, limit + 1],
    );
    const page = rows.slice(0, limit);
    const box = this.config.secretBox;
    const data = page.map((r) => {
      // A token sealed under another SECRETS_KEY (rotated) can't be given back: its row is listed without it, as
      // a webhook carrying it goes out without it (openSealedItem). The row stays: the person is still subscribed
      // and the token still sends (it is found by its hash), and one unreadable row must not fail the whole list.
      const token = openSealed(box, r.token_sealed);
      return {
        ...(token !== undefined ? { notification_messages_token: token } : {}),
        recipient_id: r.psid,
        topic_title: r.title,
        payload: r.payload,
        notification_messages_timezone: r.timezone,
        ...(r.frequency ? { notification_messages_frequency: r.frequency } : {}),
        creation_timestamp: Number(r.created_at),
        token_expiry_timestamp: Number(r.expires_at),
      };
    });
    // As the Conversations API pages: `after` only while there is more.
    const last = page[page.length - 1];
    const more = rows.length > limit && last !== undefined;
    return { data, paging: { cursors: more ? { after: Buffer.from(`${Number(last.created_at)}|${last.id}`).toString('base64url') } : {} } };
  }

  // --- building blocks ---

  private async requestOf(m: EntityManager, thread: ThreadFacts, mid: string) {
    const [msg] = rowsOf<{ sender: string; content: Record<string, unknown> }>(
      await m.query(`SELECT sender, content FROM messages WHERE thread_id = $1 AND mid = $2`, [thread.id, mid]),
    );
    if (!msg) throw MessagingErrors.messageNotFound(mid);
    const request = msg.sender === 'page' ? optinRequestOf(msg.content) : undefined;
    if (!request) throw MarketingMessagesErrors.notAnOptinRequest();
    return request;
  }

  private async topicRow(m: EntityManager, threadId: string, title: string): Promise<TopicRow[]> {
    return rowsOf<TopicRow>(await m.query(`SELECT ${TOPIC_COLUMNS} FROM notification_message_tokens WHERE thread_id = $1 AND title = $2`, [threadId, title]));
  }

  private async setStatus(m: EntityManager, id: string, status: 'active' | 'stopped'): Promise<TopicRow> {
    const [row] = rowsOf<TopicRow>(await m.query(`UPDATE notification_message_tokens SET status = $2 WHERE id = $1 RETURNING ${TOPIC_COLUMNS}`, [id, status]));
    return row;
  }

  // What a change tells: the person's devices (an `optin` event) and the Page's apps (messaging_optins).
  private told(thread: ThreadFacts, row: TopicRow, change: Parameters<typeof optinItem>[3], lastSeq: number, now: number) {
    const view = topicView(row, now);
    const event: StoredEvent = {
      type: 'optin',
      mid: row.mid,
      title: row.title,
      status: row.status,
      opted_in_at: view.opted_in_at,
      expires_at: view.expires_at,
      thread_id: thread.id,
      page_id: thread.page_id,
      seq: lastSeq,
    };
    const messaging = optinItem({ psid: thread.psid, pageId: thread.page_id }, row, row.token_sealed, change, now);
    return { result: view, event, webhook: { field: 'messaging_optins' as const, messaging } };
  }
}
