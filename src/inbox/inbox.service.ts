import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { numericId } from '../common/crypto/tokens';
import { AppException } from '../common/errors/app.exception';
import { RequestValidationError } from '../common/errors/validation';
import { GraphException } from '../common/errors/graph.exception';
import { isUniqueViolation } from '../database/pg-errors';
import { AppConfig } from '../config/app-config';
import { controlNotice, HandoverService } from '../handover/handover.service';
import { MessagingErrors } from '../messaging/messaging.errors';
import { ControlRow, controlView, MessagingService, ThreadRow } from '../messaging/messaging.service';
import { PageInboxHub } from '../pages/page-inbox-hub';
import { PagesService } from '../pages/pages.service';
import { PersonasService, StoredPersona } from '../send-api/personas.service';
import { SendApiService } from '../send-api/send-api.service';
import { PAGE_INBOX_APP_ID, WebhooksService } from '../webhooks/webhooks.service';
import { InboxListQueryDto, InboxNoteCreateDto, InboxPersonaCreateDto, InboxSendDto, InboxThreadChangeDto } from './dto/inbox.dto';
import { InboxErrors } from './inbox.errors';

const DAY_MS = 86_400_000;
// Bounds what one conversation accumulates (and what its list returns at once).
export const MAX_NOTES_PER_THREAD = 200;

interface NoteRow {
  id: string;
  author_user_id: string;
  author_name: string | null;
  text: string;
  created_at: Date;
}
const noteView = (n: NoteRow) => ({
  id: n.id,
  author: { id: n.author_user_id, name: n.author_name ?? '' },
  text: n.text,
  created_at: new Date(n.created_at).toISOString(),
});

// Messenger's Page Inbox: the Page's own people (its admins) read its conversations and answer them as the Page.
// Their messages are the Page's, sent under the Page Inbox's app id (263902037430900): the person sees the Page,
// the bots get them as echoes. On a Page with a primary bot (handover protocol) they reply only while the Page
// Inbox controls the thread: they take it over (the bot gets take_thread_control) and hand it back when done (the
// primary gets pass_thread_control), as a bot would pass it to the inbox.
@Injectable()
export class InboxService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly pages: PagesService,
    private readonly messaging: MessagingService,
    private readonly handover: HandoverService,
    private readonly webhooks: WebhooksService,
    private readonly sendApi: SendApiService,
    private readonly inboxHub: PageInboxHub,
    private readonly personas: PersonasService,
  ) {}

  // --- notes: the Page's people leave them on a conversation for each other (never the person's, never a bot's) ---

  async notes(userId: string, pageId: string, threadId: string) {
    await this.pages.assertAdmin(pageId, userId);
    const thread = await this.messaging.findPageThread(pageId, threadId);
    const rows: NoteRow[] = await this.db.query(
      `SELECT n.id, n.author_user_id, u.name AS author_name, n.text, n.created_at
         FROM inbox_notes n LEFT JOIN users u ON u.id = n.author_user_id
        WHERE n.thread_id = $1 ORDER BY n.created_at, n.id LIMIT $2`,
      [thread.id, MAX_NOTES_PER_THREAD],
    );
    return { data: rows.map(noteView) };
  }

  async addNote(userId: string, pageId: string, threadId: string, dto: InboxNoteCreateDto) {
    await this.pages.assertAdmin(pageId, userId);
    const thread = await this.messaging.findPageThread(pageId, threadId);
    // The cap under a lock of the thread's notes (not its row, which every message of the thread takes), so notes
    // added at once take turns.
    const [row] = await this.db.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('sb-inbox-notes:' || $1))`, [thread.id]);
      return m.query(
        `INSERT INTO inbox_notes (id, thread_id, page_id, author_user_id, text)
         SELECT $1::varchar, $2::varchar, $3::varchar, $4::varchar, $5::varchar
          WHERE (SELECT count(*) FROM inbox_notes WHERE thread_id = $2::varchar) < $6::int
         RETURNING id, author_user_id, (SELECT name FROM users WHERE id = $4::varchar) AS author_name, text, created_at`,
        [numericId(), thread.id, pageId, userId, dto.text, MAX_NOTES_PER_THREAD],
      ) as Promise<NoteRow[]>;
    });
    if (!row) throw InboxErrors.tooManyNotes(MAX_NOTES_PER_THREAD);
    this.inboxHub.touch(pageId, thread.id);
    return noteView(row);
  }

  async deleteNote(userId: string, pageId: string, threadId: string, noteId: string): Promise<void> {
    await this.pages.assertAdmin(pageId, userId);
    const thread = await this.messaging.findPageThread(pageId, threadId);
    const [note]: { author_user_id: string }[] = /^\d{1,20}$/.test(noteId)
      ? await this.db.query(`SELECT author_user_id FROM inbox_notes WHERE id = $1 AND thread_id = $2`, [noteId, thread.id])
      : [];
    if (!note) throw InboxErrors.noteNotFound(noteId);
    if (note.author_user_id !== userId) throw InboxErrors.notNoteAuthor();
    await this.db.query(`DELETE FROM inbox_notes WHERE id = $1 AND author_user_id = $2`, [noteId, userId]);
    this.inboxHub.touch(pageId, thread.id);
  }

  // --- personas: the Page's people answer as a named agent (Messenger's Personas API, the same personas a bot uses) ---

  async listPersonas(userId: string, pageId: string, origin?: string) {
    await this.pages.assertAdmin(pageId, userId);
    return { data: (await this.personas.list(pageId, origin)).data };
  }

  async createPersona(userId: string, pageId: string, dto: InboxPersonaCreateDto): Promise<{ id: string }> {
    await this.pages.assertAdmin(pageId, userId);
    try {
      return await this.personas.create(pageId, { name: dto.name, profile_picture_url: dto.profile_picture_url });
    } catch (err) {
      // The Personas API answers in Graph's shape; this route in the person API's.
      if (!(err instanceof GraphException)) throw err;
      if (err.code === 613 || err.code === 4) throw InboxErrors.tooFast(err.headers);
      throw InboxErrors.personaRefused(err.message);
    }
  }

  async deletePersona(userId: string, pageId: string, personaId: string): Promise<void> {
    await this.pages.assertAdmin(pageId, userId);
    try {
      await this.personas.remove(pageId, personaId);
    } catch (err) {
      if (err instanceof GraphException) throw InboxErrors.personaNotFound(personaId);
      throw err;
    }
  }

  private async persona(pageId: string, personaId: string | undefined): Promise<StoredPersona | undefined> {
    if (personaId === undefined) return undefined;
    const found = await this.personas.find(pageId, personaId);
    if (!found) throw InboxErrors.personaNotFound(personaId);
    return found;
  }

  async threads(userId: string, pageId: string, q: InboxListQueryDto) {
    await this.pages.assertAdmin(pageId, userId);
    const folder = q.folder ?? 'inbox';
    const assignee = q.assignee === 'me' ? userId : q.assignee === 'none' ? '' : q.assignee;
    return this.messaging.listPageThreads(pageId, q.limit ?? 50, q.cursor, {
      done: folder === 'all' ? undefined : folder === 'done',
      assignee,
      nameContains: q.q,
    });
  }

  // Filing a conversation: done (back in the inbox by itself when the person writes again) and assigned to one of
  // the Page's admins. Answers the thread as the list shows it.
  async file(userId: string, pageId: string, threadId: string, change: InboxThreadChangeDto) {
    await this.pages.assertAdmin(pageId, userId);
    if (change.done === undefined && change.assignee_id === undefined) {
      throw new RequestValidationError([{ field: 'done', rule: 'oneOf', message: 'give done, assignee_id or both' }]);
    }
    const thread = await this.messaging.findPageThread(pageId, threadId);
    // Not in the inbox until its first message: nothing to file.
    if (Number(thread.last_seq) === 0) throw MessagingErrors.threadNotFound(threadId);
    if (change.assignee_id && !(await this.pages.isAdmin(pageId, change.assignee_id))) throw InboxErrors.assigneeNotAdmin(change.assignee_id);
    const filed = await this.messaging.filePageThread(thread.id, { done: change.done, assigneeUserId: change.assignee_id, ifSeenUpTo: change.last_seq });
    if (!filed) {
      if (change.last_seq !== undefined && (await this.messaging.personWroteAfter(thread.id, change.last_seq))) throw InboxErrors.threadChanged();
      // The assignee stopped being an admin between the check and the write.
      throw InboxErrors.assigneeNotAdmin(change.assignee_id!);
    }
    this.inboxHub.touch(pageId, thread.id);
    const view = await this.messaging.pageThreadView(pageId, thread.id);
    if (!view) throw MessagingErrors.threadNotFound(threadId);
    return view;
  }

  async messages(userId: string, pageId: string, threadId: string, afterSeq: number, limit: number, origin?: string) {
    await this.pages.assertAdmin(pageId, userId);
    return this.messaging.listPageThreadMessages(pageId, threadId, afterSeq, limit, origin);
  }

  // The message sent, `created` false when a retry with its client_message_id found the first one.
  async send(userId: string, pageId: string, threadId: string, dto: InboxSendDto) {
    await this.pages.assertAdmin(pageId, userId);
    const thread = await this.messaging.findPageThread(pageId, threadId);
    const cmid = dto.client_message_id ?? null;
    const earlier = cmid === null ? undefined : await this.messaging.findPageMessageByClientId(thread.id, cmid);
    if (earlier) return { ...earlier, created: false };
    const persona = await this.persona(pageId, dto.persona_id);
    await this.spendPageBucket(pageId);
    this.checkSendable(thread);
    try {
      const content = { text: dto.text, ...(persona ? { persona } : {}) };
      const sent = await this.messaging.sendPageMessage(thread, PAGE_INBOX_APP_ID, content, {
        personLastAtFrom: this.windowStart(),
        clientMessageId: cmid,
      });
      return { ...sent, created: true };
    } catch (err) {
      // Nothing written: a retry raced this one, or the thread changed since the lookup (blocked, control, window).
      if (!(err instanceof AppException && err.code === 'PAGE.NOT_FOUND') && !isUniqueViolation(err)) throw err;
      const raced = cmid === null ? undefined : await this.messaging.findPageMessageByClientId(thread.id, cmid);
      if (raced) return { ...raced, created: false };
      this.checkSendable(await this.messaging.findPageThread(pageId, threadId));
      throw err;
    }
  }

  async take(userId: string, pageId: string, threadId: string) {
    return this.changeControl(userId, pageId, threadId, 'take');
  }

  async release(userId: string, pageId: string, threadId: string) {
    return this.changeControl(userId, pageId, threadId, 'release');
  }

  // Someone of the Page's is writing a reply: the person sees the Page typing, as after a bot's typing_on (which
  // ends at typing_off, a message from the Page, or TYPING_TIMEOUT_MS). Only where a reply could be sent, and on the
  // Page's send bucket like any sender action.
  async typing(userId: string, pageId: string, threadId: string, on: boolean, personaId?: string): Promise<void> {
    await this.pages.assertAdmin(pageId, userId);
    const thread = await this.messaging.findPageThread(pageId, threadId);
    this.checkSendable(thread);
    // Off needs no persona: one deleted while someone typed as it must not keep the person seeing "typing".
    const persona = on ? await this.persona(pageId, personaId) : undefined;
    await this.spendPageBucket(pageId);
    await this.messaging.pageTyping(thread, on, persona);
  }

  // The Page has read the person's messages: they see "Seen", as after a bot's mark_seen.
  async read(userId: string, pageId: string, threadId: string): Promise<void> {
    await this.pages.assertAdmin(pageId, userId);
    await this.messaging.pageMarkSeen(await this.messaging.findPageThread(pageId, threadId), null);
  }

  // One transaction on the locked thread, as every handover call (HandoverService.control): a take moves control to
  // the Page Inbox and tells the app that had it; a release makes the thread idle again (the primary's) and tells it.
  private async changeControl(userId: string, pageId: string, threadId: string, action: 'take' | 'release') {
    await this.pages.assertAdmin(pageId, userId);
    const known = await this.messaging.findPageThread(pageId, threadId);
    const deliveries = await this.db.transaction(async (m) => {
      const thread = await this.handover.lockThread(m, known.id);
      const roles = await this.handover.roles(m, pageId);
      const primary = [...roles].find(([, role]) => role === 'primary')?.[0];
      if (!primary) throw InboxErrors.noHandover();
      const controller = thread.controller ?? primary;
      const base = { sender: { id: thread.psid }, recipient: { id: pageId }, timestamp: Date.now() };
      if (action === 'take') {
        if (controller === PAGE_INBOX_APP_ID) return [];
        const notice = controlNotice(controller, PAGE_INBOX_APP_ID);
        return this.handover.apply(m, thread, PAGE_INBOX_APP_ID, [{ toApp: controller, item: { ...base, take_thread_control: notice } }]);
      }
      if (controller !== PAGE_INBOX_APP_ID) throw InboxErrors.notInControl(null);
      const notice = controlNotice(PAGE_INBOX_APP_ID, primary);
      return this.handover.apply(m, thread, null, [{ toApp: primary, item: { ...base, pass_thread_control: notice } }]);
    });
    // The Page's other admins see the new control.
    this.inboxHub.touch(pageId, known.id);
    if (deliveries.length) await this.webhooks.dispatch(deliveries);
    return { control: controlView(await this.messaging.findPageThread(pageId, threadId)) };
  }

  private checkSendable(thread: ThreadRow & ControlRow): void {
    // The person blocked messages from the Page: nothing of its people's reaches them either.
    if (thread.blocked_at != null) throw MessagingErrors.pageBlocked();
    const control = controlView(thread);
    if (!control.inbox_has_control) throw InboxErrors.notInControl(control.controller_name);
    if (Number(thread.person_last_at ?? 0) < this.windowStart()) {
      throw InboxErrors.outsideWindow(Math.round(this.config.env.HUMAN_AGENT_WINDOW_SECONDS / (DAY_MS / 1000)));
    }
  }

  // Human replies follow Messenger's human agent window (HUMAN_AGENT_WINDOW_SECONDS, 7 days), not the bots' 24 h.
  private windowStart(): number {
    return Date.now() - this.config.env.HUMAN_AGENT_WINDOW_SECONDS * 1000;
  }

  // The Page's Send API bucket (the people and the bots share the Page's rate), answered in this route's shape.
  private async spendPageBucket(pageId: string): Promise<void> {
    try {
      await this.sendApi.spend(pageId, null);
    } catch (err) {
      if (err instanceof GraphException && err.code === 613) throw InboxErrors.tooFast(err.headers);
      throw err;
    }
  }
}
