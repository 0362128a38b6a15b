import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GraphErrors } from '../common/errors/graph.exception';
import { AppConfig } from '../config/app-config';
import { MediaService } from '../media/media.service';
import { MessageRow } from '../messaging/messaging-items';
import { MessagingService } from '../messaging/messaging.service';
import { SendApiErrors } from './send-api.errors';
import { requestedFields } from './user-profile.service';

const CONVERSATION_FIELDS = ['id', 'updated_time', 'message_count', 'unread_count', 'participants', 'messages', 'snippet', 'can_reply'] as const;
const CONVERSATION_DEFAULTS = ['id', 'updated_time'];
const MESSAGE_FIELDS = ['id', 'created_time', 'from', 'to', 'message', 'attachments'] as const;
const MESSAGE_DEFAULTS = ['id', 'created_time'];
const PAGE_SIZE = 25;
const GRAPH_FOLDERS = ['inbox', 'page_done', 'other', 'pending', 'spam'];
const MAX_PAGE = 100;

// A conversation's id, as Messenger's look: `t_` and the thread's id.
export const conversationId = (threadId: string) => `t_${threadId}`;
export const isConversationId = (id: string) => /^t_\d{1,20}$/.test(id);

// Graph's times: ISO 8601 with a +0000 offset.
const graphTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');

interface Paging {
  limit: number;
  after?: string;
  before?: string;
}

// Messenger's Conversations API with a page token (what an agents' tool reads the Page Inbox by):
// `GET /{page}/conversations?platform=messenger[&user_id=<psid>]` lists the Page's conversations newest first,
// `GET /t_{id}?fields=messages` a conversation's messages newest first, `GET /{mid}?fields=…` one message. Only the
// token's own Page's; fields as Graph names them, its defaults when none are asked for.
@Injectable()
export class ConversationsService {
  constructor(
    private readonly messaging: MessagingService,
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly media: MediaService,
  ) {}

  // A message's media as Graph's `attachments` edge (absent when it has none, as on Graph).
  private readonly attachmentsOf = (m: MessageRow): { data: unknown[] } | undefined => {
    const c = m.content as { attachment?: unknown; attachments?: unknown };
    const all = [...(Array.isArray(c.attachments) ? c.attachments : []), ...(c.attachment ? [c.attachment] : [])];
    const data = this.media.forGraph(all, (i) => `${m.mid}_${i}`);
    return data.length ? { data } : undefined;
  };

  async list(pageId: string, query: Record<string, unknown>) {
    const platform = query.platform ?? 'messenger';
    if (platform !== 'messenger') throw GraphErrors.invalidParameter(`(#100) param platform must be messenger (${String(platform).slice(0, 20)} is not a platform of this server)`);
    const fields = conversationFields(query.fields);
    const paging = this.paging(query);
    const psid = query.user_id === undefined ? undefined : String(query.user_id);
    if (psid !== undefined && !/^\d{1,20}$/.test(psid)) throw GraphErrors.invalidParameter('(#100) param user_id must be a PSID of this Page');
    const cursor = paging.after === undefined ? undefined : decodeCursor(paging.after, /^\d{1,15}\.\d{1,18}\.\d{1,20}$/);
    // Graph's folders: the inbox, and page_done (what the Page Inbox marked done); nothing here is filed as other,
    // pending or spam.
    const folder = query.folder;
    if (folder !== undefined && !GRAPH_FOLDERS.includes(folder as string)) {
      throw GraphErrors.invalidParameter(`(#100) param folder must be one of ${GRAPH_FOLDERS.join(', ')}`);
    }
    if (folder === 'other' || folder === 'pending' || folder === 'spam') return { data: [], paging: { cursors: {} } };
    const done = folder === undefined ? undefined : folder === 'page_done';
    const { rows, nextCursor } = await this.messaging.pageThreads(pageId, paging.limit, cursor, { psid, done });
    const name = await this.pageName(pageId);
    // One query per conversation only when messages are asked for (at most `limit`, 100).
    const data = [];
    for (const r of rows) data.push(await this.conversation(fields, facts(r, pageId, name)));
    return { data, paging: nextCursor ? { cursors: { after: encodeCursor(nextCursor) } } : { cursors: {} } };
  }

  // GET /t_{id}: one conversation of the token's Page.
  async get(pageId: string, id: string, query: Record<string, unknown>) {
    const fields = conversationFields(query.fields);
    const threadId = id.slice(2);
    const { rows } = await this.messaging.pageThreads(pageId, 1, undefined, { threadId });
    const r = rows[0];
    if (!r) throw noSuchObject(id);
    return this.conversation(fields, facts(r, pageId, await this.pageName(pageId)), this.paging(query));
  }

  private async pageName(pageId: string): Promise<string> {
    const [page]: { name: string }[] = await this.db.query('SELECT name FROM pages WHERE id = $1', [pageId]);
    return page?.name ?? '';
  }

  // GET /{mid}: one message of the token's Page's conversations.
  async message(pageId: string, mid: string, query: Record<string, unknown>) {
    const fields = requestedFields(query.fields, MESSAGE_DEFAULTS, MESSAGE_FIELDS, 'Message');
    const m = await this.messaging.findPageMessage(pageId, mid);
    if (!m) throw noSuchObject(mid);
    return messageNode(m, fields, { psid: m.psid, personName: m.person_name, pageId, pageName: m.page_name }, this.attachmentsOf);
  }

  private async conversation({ fields, messageFields }: ConversationFields, c: ConversationFacts, paging: Paging = { limit: PAGE_SIZE }) {
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      if (f === 'id') out.id = conversationId(c.threadId);
      else if (f === 'updated_time') out.updated_time = graphTime(c.lastTimestamp);
      else if (f === 'message_count') out.message_count = c.messageCount;
      else if (f === 'unread_count') out.unread_count = c.unreadCount;
      else if (f === 'snippet') out.snippet = c.last ? textOf(c.last).slice(0, 100) : '';
      // The standard messaging window is open: a RESPONSE may be sent.
      else if (f === 'can_reply') out.can_reply = c.personLastAt >= Date.now() - this.config.env.MESSAGING_WINDOW_SECONDS * 1000;
      else if (f === 'participants') {
        out.participants = {
          data: [
            { name: c.personName, email: `${c.psid}@facebook.com`, id: c.psid },
            { name: c.pageName, email: `${c.pageId}@facebook.com`, id: c.pageId },
          ],
        };
      } else if (f === 'messages') {
        const before = paging.after === undefined ? null : Number(decodeCursor(paging.after, /^\d{1,18}$/));
        const rows = await this.messaging.pageMessagesNewestFirst(c.threadId, before, paging.limit + 1);
        const shown = rows.slice(0, paging.limit);
        const last = shown[shown.length - 1];
        out.messages = {
          data: shown.map((m) => messageNode(m, messageFields, c, this.attachmentsOf)),
          paging: rows.length > paging.limit ? { cursors: { after: encodeCursor(String(last.seq)) } } : { cursors: {} },
        };
      }
    }
    if (!('id' in out)) out.id = conversationId(c.threadId);
    return out;
  }

  private paging(query: Record<string, unknown>): Paging {
    const raw = query.limit;
    const limit = raw === undefined ? PAGE_SIZE : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw GraphErrors.invalidParameter(`(#100) param limit must be an integer from 1 to ${MAX_PAGE}`);
    const after = query.after;
    if (after !== undefined && (typeof after !== 'string' || after.length > 200)) throw GraphErrors.invalidParameter('(#100) param after must be a cursor');
    return { limit, ...(after === undefined ? {} : { after }) };
  }
}

interface ConversationFacts {
  threadId: string;
  psid: string;
  personName: string;
  pageId: string;
  pageName: string;
  lastTimestamp: number;
  messageCount: number;
  unreadCount: number;
  personLastAt: number;
  last: MessageRow | null;
}

type PageThread = Awaited<ReturnType<MessagingService['pageThreads']>>['rows'][number];

function facts(r: PageThread, pageId: string, pageName: string): ConversationFacts {
  return {
    threadId: r.id,
    psid: r.psid,
    personName: r.person_name,
    pageId,
    pageName,
    lastTimestamp: Number(r.last_timestamp),
    // seq is gap-free from 1: the last one is the count.
    messageCount: Number(r.last_seq),
    unreadCount: r.unread_count,
    personLastAt: Number(r.person_last_at ?? 0),
    last: r.last_message,
  };
}

interface Parties {
  psid: string;
  personName: string;
  pageId: string;
  pageName: string;
}

// A message node with the fields asked for: who wrote to whom (Graph gives each side an email of its id), and what.
function messageNode(m: MessageRow, fields: string[], p: Parties, attachmentsOf: (m: MessageRow) => unknown): Record<string, unknown> {
  const person = { name: p.personName, email: `${p.psid}@facebook.com`, id: p.psid };
  const page = { name: p.pageName, email: `${p.pageId}@facebook.com`, id: p.pageId };
  const [from, to] = m.sender === 'person' ? [person, page] : [page, person];
  const all: Record<string, unknown> = { id: m.mid, created_time: graphTime(Number(m.timestamp)), from, to: { data: [to] }, message: textOf(m) };
  const out = Object.fromEntries(fields.filter((f) => f !== 'attachments').map((f) => [f, all[f]]));
  if (fields.includes('attachments')) {
    const attachments = attachmentsOf(m);
    if (attachments) out.attachments = attachments;
  }
  // Graph names every node it answers, asked or not.
  if (!('id' in out)) out.id = m.mid;
  return out;
}

interface ConversationFields {
  fields: string[];
  // `messages{…}`: the fields of each message (Graph's field expansion); its defaults otherwise.
  messageFields: string[];
}

// Graph's `fields` for a conversation, with one level of expansion on messages: `id,messages{message,from}`.
function conversationFields(param: unknown): ConversationFields {
  if (typeof param !== 'string' || !param.trim()) return { fields: requestedFields(undefined, CONVERSATION_DEFAULTS, CONVERSATION_FIELDS, 'Conversation'), messageFields: MESSAGE_DEFAULTS };
  const names: string[] = [];
  let messageFields = MESSAGE_DEFAULTS;
  for (const part of param.match(/[^,{}]+(\{[^{}]*\})?|[{}]/g) ?? []) {
    const m = /^\s*([a-z_]+)\s*(?:\{([^{}]*)\})?\s*$/.exec(part);
    if (!m) throw SendApiErrors.nonexistingField(part.trim().slice(0, 40), 'Conversation');
    names.push(m[1]);
    if (m[2] !== undefined) {
      if (m[1] !== 'messages') throw SendApiErrors.nonexistingField(`${m[1]}{…}`, 'Conversation');
      messageFields = requestedFields(m[2] || undefined, MESSAGE_DEFAULTS, MESSAGE_FIELDS, 'Message');
    }
  }
  return { fields: requestedFields(names.join(','), CONVERSATION_DEFAULTS, CONVERSATION_FIELDS, 'Conversation'), messageFields };
}

// What a message says as text (Graph's `message` field): its text, a postback's title, or empty.
function textOf(m: MessageRow): string {
  const c = m.content as { text?: unknown; postback?: { title?: unknown } };
  if (typeof c.text === 'string') return c.text;
  if (typeof c.postback?.title === 'string') return c.postback.title;
  return '';
}

const encodeCursor = (raw: string) => Buffer.from(raw).toString('base64url');

function decodeCursor(cursor: string, shape: RegExp): string {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!shape.test(raw)) throw GraphErrors.invalidParameter('(#100) param after must be a cursor this endpoint answered');
  return raw;
}

const noSuchObject = (id: string) =>
  GraphErrors.unsupportedGet(
    `Unsupported get request. Object with ID '${id.slice(0, 80)}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`,
  );
