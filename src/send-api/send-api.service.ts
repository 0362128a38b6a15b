import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { parseGraphParams, parsePlatformMediaUrl, validateSendRequest } from '../../libs/templates';
import type { MediaElement, MessageContent, SendRequest } from '../../libs/templates';
import { AppException } from '../common/errors/app.exception';
import { GraphException, GraphErrors } from '../common/errors/graph.exception';
import { AppConfig } from '../config/app-config';
import { RATE_LIMITER, RateLimiterPort } from '../infra/rate-limit/rate-limiter.port';
import { MarketingMessagesService, TokenTarget } from '../marketing-messages/marketing-messages.service';
import { MediaService } from '../media/media.service';
import { MessagingService, ThreadFacts, ThreadRow } from '../messaging/messaging.service';
import { AttachmentsService } from './attachments.service';
import { PersonasService } from './personas.service';
import { SendApiErrors } from './send-api.errors';
import { spendSendBudget } from './send-budget';

export type SendResult = { recipient_id: string; message_id?: string; attachment_id?: string };

// Graph's error object, for callers that take an answer rather than an exception (hosted scripts).
export type GraphErrorBody = { error: { message: string; type: string; code: number; error_subcode?: number } };

// What the HTTP route answers; `replayed` when an Idempotency-Key found the first answer.
export interface SendAnswer {
  status: number;
  body: SendResult;
  replayed: boolean;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

class IdempotencyRace extends Error {}

// Content whose stored form needs nothing looked up: no reply_to to find, no attachment to resolve or fetch, no
// media template to check (contentOf below does no I/O for it).
function needsNoLookup(req: SendRequest): boolean {
  if (req.reply_to || req.persona_id !== undefined || !req.message) return false;
  const att = req.message.attachment as { type?: string; payload?: { template_type?: string } } | undefined;
  return !att || (att.type === 'template' && att.payload?.template_type !== 'media');
}

// Marketing messages' opt-in request (template notification_messages).
const isOptinRequest = (req: SendRequest) =>
  (req.message?.attachment as { payload?: { template_type?: string } } | undefined)?.payload?.template_type === 'notification_messages';

// Handover protocol: on a page with a primary receiver only the app controlling the thread sends (messages and
// sender actions alike); a send as the Page itself (no app) is not held to it. The append statement checks it again
// under the thread's lock, so a pass racing this check writes nothing.
function checkControl(thread: ThreadRow, appId: string | null): void {
  if (appId !== null && thread.controller != null && thread.controller !== appId) throw SendApiErrors.notThreadController();
}

// The person blocked messages from the Page: every send to them is refused, sender actions included, before the
// window or handover is considered (Messenger's 551 / 1545041). Read off the row the lookup fetched anyway; the
// lookup-free path leaves it to the message statement (see deliver).
function checkReachable(thread: ThreadRow): void {
  if (thread.blocked_at != null) throw SendApiErrors.personUnavailable();
}

// The Send API: validation (libs/templates), the messaging window, rate limits, Idempotency-Key,
// attachment ids; then MessagingService stores the message and pushes it.
@Injectable()
export class SendApiService {
  constructor(
    private readonly messaging: MessagingService,
    private readonly attachments: AttachmentsService,
    private readonly config: AppConfig,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiterPort,
    @InjectDataSource() private readonly db: DataSource,
    private readonly media: MediaService,
    private readonly personas: PersonasService,
    private readonly marketing: MarketingMessagesService,
  ) {}

  // For hosted scripts (ctx.send): the same rules as the HTTP route. appId null: sent as the Page itself
  // (no app ceiling). Answers Graph's result or Graph's error object; never throws a Graph error.
  async send(
    pageId: string,
    appId: string | null,
    body: unknown,
    opts: { idempotencyKey?: string } = {},
  ): Promise<SendResult | GraphErrorBody> {
    try {
      return (await this.deliver(pageId, appId, body, opts.idempotencyKey)).body;
    } catch (err) {
      if (err instanceof GraphException) return graphErrorBody(err);
      throw err;
    }
  }

  // The HTTP route's path: throws GraphException on refusal. `params` is query and body merged.
  async deliver(pageId: string, appId: string | null, params: unknown, idempotencyKey?: string, opts: { spent?: boolean } = {}): Promise<SendAnswer> {
    const scope = { pageId, appId: appId ?? '' };
    const first = await this.answerOf(pageId, scope.appId, idempotencyKey);
    if (first) return first;
    try {
      return await this.deliverFresh(pageId, appId, params, idempotencyKey, opts.spent ?? false, scope);
    } catch (err) {
      const answered = await this.answeredMeanwhile(err, scope, idempotencyKey);
      if (answered) return answered;
      throw err;
    }
  }

  // deliver, for a call whose Idempotency-Key (if any) had no answer yet.
  private async deliverFresh(
    pageId: string,
    appId: string | null,
    params: unknown,
    idempotencyKey: string | undefined,
    spent: boolean,
    scope: { pageId: string; appId: string },
  ): Promise<SendAnswer> {
    // Every call spends its tokens, refused or not; the buckets' round trip overlaps validation and the lookup.
    const spending = spent ? Promise.resolve() : this.spend(pageId, appId);
    spending.catch(() => undefined);
    const { req, raw } = await this.validRequest(params, spending);

    // A thread this process has seen: no lookup, the statement checks the window (below). Only for content that
    // needs no lookups of its own, so every refusal is still reported in the order of the path below.
    const psid = req.recipient.id;
    const facts =
      psid !== undefined && req.message && !req.sender_action && needsNoLookup(req) ? this.messaging.knownThreadByPsid(pageId, psid) : undefined;
    if (facts) {
      await spending;
      const { content } = await this.contentOf(pageId, appId, facts, req, undefined);
      try {
        return await this.write(facts, appId, content, undefined, scope, idempotencyKey, this.windowStart(req));
      } catch (err) {
        // Nothing written: the person blocked the Page, outside the window, or the thread or its page gone. The full
        // path says which.
        if (!(err instanceof AppException && err.code === 'PAGE.NOT_FOUND')) throw err;
        this.messaging.forgetThread(facts);
      }
    }

    const { thread, target } = await this.recipientThread(pageId, req, spending);
    checkControl(thread, appId);

    if (req.sender_action) {
      try {
        if (req.sender_action === 'mark_seen') await this.messaging.pageMarkSeen(thread, appId);
        else if (req.sender_action === 'react' || req.sender_action === 'unreact') {
          const { message_id, reaction } = req.payload!;
          const found = await this.messaging.setPageReaction(thread, message_id, req.sender_action === 'react' ? reaction! : null, appId);
          if (!found) throw SendApiErrors.unknownReactionTarget();
        } else {
          // Typing as a persona (a human agent, say): the person sees who is typing.
          const persona = req.persona_id === undefined ? undefined : await this.personas.forSend(pageId, req.persona_id);
          await this.messaging.pageTyping(thread, req.sender_action === 'typing_on', persona);
        }
      } catch (err) {
        // Control passed to another app, or the person blocked the Page, between the lookup and the write (both
        // checked again under the thread's lock).
        if (err instanceof AppException && err.code === 'THREAD.NOT_CONTROLLER') throw SendApiErrors.notThreadController();
        if (err instanceof AppException && err.code === 'THREAD.BLOCKED') throw SendApiErrors.personUnavailable();
        throw err;
      }
      // Graph answers a sender action with the recipient only.
      const body = { recipient_id: thread.psid };
      if (idempotencyKey !== undefined) {
        await this.db.query(
          `INSERT INTO send_idempotency_keys (page_id, app_id, key, status, body) VALUES ($1, $2, $3, 200, $4)
           ON CONFLICT (page_id, app_id, key) DO NOTHING`,
          [pageId, scope.appId, idempotencyKey, JSON.stringify(body)],
        );
      }
      return { status: 200, body, replayed: false };
    }

    const { content, attachmentId } = await this.contentOf(pageId, appId, thread, req, raw);
    try {
      return await this.write(thread, appId, content, attachmentId, scope, idempotencyKey, null, target);
    } catch (err) {
      // The append wrote nothing: the person blocked the Page or control passed to another app since the lookup
      // (the append checks both under the thread's lock), or the page or thread went. Looked up again, the refusal
      // is named as a fresh call would be.
      if (!(err instanceof AppException && err.code === 'PAGE.NOT_FOUND')) throw err;
      const now = await this.messaging.findThreadByPsid(pageId, thread.psid);
      if (now) checkReachable(now);
      if (now) checkControl(now, appId);
      throw err;
    }
  }

  // What a send of `params` would refuse before it writes anything (the params, the recipient, the messaging
  // window, the rate limits): a multipart call runs this before it stores its file, so a refused call leaves
  // nothing behind. False when the Idempotency-Key has its answer already (a replay: the file is not stored).
  // The call's tokens are spent here: deliver is then told so (`spent`).
  async precheck(pageId: string, appId: string | null, params: unknown, idempotencyKey?: string): Promise<boolean> {
    const scope = { pageId, appId: appId ?? '' };
    if (await this.answerOf(pageId, scope.appId, idempotencyKey)) return false;
    try {
      const spending = this.spend(pageId, appId);
      spending.catch(() => undefined);
      const { req } = await this.validRequest(params, spending);
      const { thread } = await this.recipientThread(pageId, req, spending);
      checkControl(thread, appId);
      return true;
    } catch (err) {
      if (await this.answeredMeanwhile(err, scope, idempotencyKey)) return false;
      throw err;
    }
  }

  // The first answer of a refused call's Idempotency-Key, if a duplicate committed one since this call looked: that
  // send may be why this one was refused (the marketing token it spent is in its cooldown now), and a retry is
  // owed the first call's answer, not a refusal of its own.
  private async answeredMeanwhile(err: unknown, scope: { pageId: string; appId: string }, idempotencyKey: string | undefined): Promise<SendAnswer | undefined> {
    if (!(err instanceof GraphException) || idempotencyKey === undefined) return undefined;
    return this.findAnswer(scope.pageId, scope.appId, idempotencyKey);
  }

  // The thread a request goes to, once the call's tokens are spent. A PSID's thread must be within the messaging
  // window; a marketing messages token's (recipient.notification_messages_token) needs no window but a live token
  // of this Page that may send now (src/marketing-messages), spent again in the message's transaction (`target`).
  private async recipientThread(pageId: string, req: SendRequest, spending: Promise<void>): Promise<{ thread: ThreadRow; target?: TokenTarget }> {
    const token = req.recipient.notification_messages_token;
    if (token !== undefined) {
      await spending;
      const target = await this.marketing.target(pageId, token);
      const thread = await this.messaging.findThreadByPsid(pageId, target.psid);
      if (!thread) throw GraphErrors.noMatchingUser();
      checkReachable(thread);
      // An opt-in request goes only within the standard window, whoever it is addressed by.
      if (isOptinRequest(req)) this.checkWindow(thread, req);
      return { thread, target };
    }
    const [, thread] = await Promise.all([spending, this.messaging.findThreadByPsid(pageId, req.recipient.id)]);
    if (!thread) throw GraphErrors.noMatchingUser();
    checkReachable(thread);
    this.checkWindow(thread, req);
    return { thread };
  }

  // The first answer an Idempotency-Key has, if any (a malformed key is refused).
  private async answerOf(pageId: string, appId: string, idempotencyKey: string | undefined): Promise<SendAnswer | undefined> {
    if (idempotencyKey === undefined) return undefined;
    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) throw SendApiErrors.badIdempotencyKey();
    return this.findAnswer(pageId, appId, idempotencyKey);
  }

  // The request as Graph reads it (`raw`: params with their JSON decoded), or its refusal once the call's tokens
  // are spent.
  private async validRequest(params: unknown, spending: Promise<void>): Promise<{ req: SendRequest; raw: Record<string, unknown> }> {
    const parsed = parseGraphParams(params);
    const valid = parsed.ok ? validateSendRequest(parsed.value) : parsed;
    if (!valid.ok) {
      await spending;
      throw SendApiErrors.invalid(valid.error.message, valid.error.subcode);
    }
    return { req: valid.value, raw: (parsed as { value: Record<string, unknown> }).value };
  }

  // Stores and pushes the message (MessagingService), with the Idempotency-Key row in its transaction when given.
  private async write(
    thread: ThreadFacts,
    appId: string | null,
    content: MessageContent,
    attachmentId: string | undefined,
    scope: { pageId: string; appId: string },
    idempotencyKey: string | undefined,
    personLastAtFrom: number | null,
    target?: TokenTarget,
  ): Promise<SendAnswer> {
    const saved = attachmentId ? { attachment_id: attachmentId } : {};
    try {
      let answer: SendResult | undefined;
      await this.messaging
        .sendPageMessage(thread, appId, content, {
          within:
            idempotencyKey === undefined && target === undefined
              ? undefined
              : async (m, sent) => {
                  // The key first: a duplicate that committed while this one waited for the thread's lock is answered
                  // as it was (IdempotencyRace, below), not refused by the cooldown its token send has just started.
                  if (idempotencyKey !== undefined) {
                    answer = { recipient_id: thread.psid, message_id: sent.mid, ...saved };
                    await this.storeAnswer(m, scope.pageId, scope.appId, idempotencyKey, answer);
                  }
                  // A marketing message spends its token's cap with the message: refused, nothing is written (the
                  // key's row included).
                  if (target) await this.marketing.spend(m, target);
                },
          personLastAtFrom,
        })
        .then((sent) => (answer ??= { recipient_id: thread.psid, message_id: sent.mid, ...saved }));
      return { status: 200, body: answer!, replayed: false };
    } catch (err) {
      // A concurrent duplicate committed first: our transaction rolled back, nothing was sent. Answer as it did.
      if (err instanceof IdempotencyRace && idempotencyKey !== undefined) {
        const first = await this.findAnswer(scope.pageId, scope.appId, idempotencyKey);
        if (first) return first;
      }
      throw err;
    }
  }

  // Both buckets are spent at once (one round trip); the app's ceiling (code 4) is reported before the Page's (613).
  // The Page's and the app's send buckets; other Graph calls that act on a conversation (handover) spend them too.
  spend(pageId: string, appId: string | null): Promise<void> {
    return spendSendBudget(this.limiter, this.config.env, pageId, appId);
  }

  // RESPONSE and UPDATE (and sender actions) within the standard window of the person's last message;
  // MESSAGE_TAG (HUMAN_AGENT, CUSTOMER_FEEDBACK: the only tags libs/templates lets through) within the long one.
  private checkWindow(thread: ThreadRow, req: SendRequest): void {
    const last = Number(thread.person_last_at ?? 0);
    if (!last || last < this.windowStart(req)) throw SendApiErrors.outsideWindow();
  }

  // The oldest person_last_at (ms) that still lets this request through.
  private windowStart(req: SendRequest): number {
    const env = this.config.env;
    // Marketing messages' opt-in request: "only within the standard messaging window" (Meta), whatever the tag.
    const windowSeconds =
      req.messaging_type === 'MESSAGE_TAG' && !isOptinRequest(req) ? env.HUMAN_AGENT_WINDOW_SECONDS : env.MESSAGING_WINDOW_SECONDS;
    return Date.now() - windowSeconds * 1000;
  }

  // What is stored: the message, its references resolved (attachment ids, a plain URL fetched and stored by
  // src/send-api/attachments.service.ts, media template URLs checked), with reply_to and notification_type beside
  // it (top-level in the request, but they belong to this message: the person's event and the echo carry them).
  private async contentOf(
    pageId: string,
    appId: string | null,
    thread: ThreadFacts,
    req: SendRequest,
    raw: unknown,
  ): Promise<{ content: MessageContent; attachmentId?: string }> {
    if (req.reply_to) {
      const nested = (raw as { message?: { reply_to?: unknown } } | undefined)?.message?.reply_to !== undefined;
      const param = nested ? 'message[reply_to][mid]' : 'reply_to[mid]';
      const mid = req.reply_to.mid;
      const found: unknown[] =
        mid.length <= 64 ? await this.db.query(`SELECT 1 FROM messages WHERE mid = $1 AND thread_id = $2`, [mid, thread.id]) : [];
      if (!found.length) throw SendApiErrors.unknownReplyTo(param);
    }
    const persona = req.persona_id === undefined ? undefined : await this.personas.forSend(pageId, req.persona_id);
    const { message: resolved, attachmentId } = await this.attachments.forSend(pageId, appId, req.message!);
    const message = await this.checkMediaTemplate(pageId, resolved);
    const content = {
      ...message,
      ...(persona ? { persona } : {}),
      ...(req.reply_to ? { reply_to: { mid: req.reply_to.mid } } : {}),
      ...(req.notification_type ? { notification_type: req.notification_type } : {}),
    } as MessageContent;
    return { content, attachmentId };
  }

  // A media template's elements by URL (not attachment_id) must name this Page's media: each keeps its media_id,
  // so each reader gets a freshly signed URL (messaging-items), not the one sent, which expires.
  private async checkMediaTemplate(pageId: string, message: MessageContent): Promise<MessageContent> {
    const att = message.attachment as { type: string; payload: Record<string, unknown> } | undefined;
    const payload = att?.payload as { template_type?: string; elements?: Record<string, unknown>[] } | undefined;
    if (!att || att.type !== 'template' || payload?.template_type !== 'media' || !payload.elements) return message;
    const elements = await Promise.all(
      payload.elements.map(async (el, i) =>
        typeof el.attachment_id === 'string' || typeof el.media_id === 'string'
          ? el
          : { ...el, media_id: await this.ownMedia(pageId, el as unknown as MediaElement, i) },
      ),
    );
    return { ...message, attachment: { ...att, payload: { ...payload, elements } } } as MessageContent;
  }

  // A media template URL (libs/templates checked its shape) must be one this platform signed, for this Page's
  // media, of the declared media_type. Graph's Facebook URLs never expire, so an expired but genuine signature
  // is still accepted: it proves the bot was handed this media (a webhook, an echo) and the Page owns it.
  private async ownMedia(pageId: string, el: MediaElement, index: number): Promise<string> {
    const param = `message[attachment][payload][elements][${index}][url]`;
    const ref = parsePlatformMediaUrl(el.url);
    if (!ref) throw SendApiErrors.notOurMedia(param, 'must be a URL of media on this platform');
    try {
      this.media.verify(ref.mediaId, ref.variant, ref.exp, ref.sig);
    } catch (err) {
      if (!(err instanceof AppException)) throw err;
      if (err.code !== 'MEDIA.URL_EXPIRED') throw SendApiErrors.notOurMedia(param, "is not a URL of this Page's media");
    }
    const rec = await this.media.findById(ref.mediaId);
    if (!rec || rec.page_id !== pageId) throw SendApiErrors.notOurMedia(param, "is not a URL of this Page's media");
    if (rec.kind !== el.media_type) {
      throw SendApiErrors.invalid(`param ${param} names ${rec.kind} media, but media_type is ${el.media_type}`);
    }
    return rec.id;
  }

  private async findAnswer(pageId: string, appId: string, key: string): Promise<SendAnswer | undefined> {
    const rows: { status: number; body: SendResult }[] = await this.db.query(
      `SELECT status, body FROM send_idempotency_keys
        WHERE page_id = $1 AND app_id = $2 AND key = $3 AND created_at > now() - make_interval(secs => $4)`,
      [pageId, appId, key, this.config.env.SEND_IDEMPOTENCY_TTL_SECONDS],
    );
    return rows[0] ? { status: rows[0].status, body: rows[0].body, replayed: true } : undefined;
  }

  // In the message's transaction. A live row with this key (a concurrent duplicate that committed first) means
  // this send must not happen: throwing rolls the message back. An expired row is taken over.
  private async storeAnswer(m: EntityManager, pageId: string, appId: string, key: string, body: SendResult): Promise<void> {
    const rows: unknown[] = await m.query(
      `INSERT INTO send_idempotency_keys (page_id, app_id, key, status, body) VALUES ($1, $2, $3, 200, $4)
       ON CONFLICT (page_id, app_id, key) DO UPDATE SET status = 200, body = EXCLUDED.body, created_at = now()
        WHERE send_idempotency_keys.created_at <= now() - make_interval(secs => $5)
       RETURNING key`,
      [pageId, appId, key, JSON.stringify(body), this.config.env.SEND_IDEMPOTENCY_TTL_SECONDS],
    );
    if (!rows.length) throw new IdempotencyRace();
  }
}

export function graphErrorBody(err: GraphException): GraphErrorBody {
  return {
    error: {
      message: err.message,
      type: err.type,
      code: err.code,
      ...(err.subcode !== undefined ? { error_subcode: err.subcode } : {}),
    },
  };
}
