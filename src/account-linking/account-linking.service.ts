import { Inject, Injectable } from '@nestjs/common';
import { randomToken, sha256Hex } from '../common/crypto/tokens';
import { AppException } from '../common/errors/app.exception';
import { GraphErrors } from '../common/errors/graph.exception';
import { AppConfig } from '../config/app-config';
import { rowsOf } from '../database/query-rows';
import { SqlService } from '../database/sql.service';
import { RATE_LIMITER, RateLimiterPort } from '../infra/rate-limit/rate-limiter.port';
import { MessagingService, ThreadFacts } from '../messaging/messaging.service';
import { spendSendBudget } from '../send-api/send-budget';
import { AccountLinkingErrors } from './account-linking.errors';

// How long a Log In tap's token names the person: long enough to log in, short enough that a leaked link is stale.
export const ACCOUNT_LINKING_TOKEN_TTL_MS = 15 * 60_000;
// Live tokens kept per thread (taps in several tabs); older and finished ones go at the next tap.
const LIVE_TOKENS_PER_THREAD = 4;
export const ACCOUNT_LINKING_TOKEN_PREFIX = 'alt_';
// Where the login page sends the person back: the redirect_uri handed to it.
export const ACCOUNT_LINKING_COMPLETE_PATH = '/account-linking/complete';

interface TokenRow {
  thread_id: string;
  page_id: string;
  user_id: string;
  psid: string;
  expires_at: string;
  completed_at: string | null;
}

// Messenger's account linking. A person taps a Log In button (`account_link`) of one of the Page's messages; the
// business's login page opens with `account_linking_token` and `redirect_uri`; once they have logged in it sends
// them back to `redirect_uri&authorization_code=…`, and the Page's apps get messaging_account_linking `linked` with
// that code. While the token lives the Page's bot may ask whose it is (`GET /me?fields=recipient&account_linking_token=`).
// Log Out (`account_unlink`, the person) or POST /me/unlink_accounts (the bot) unlinks: `unlinked`.
@Injectable()
export class AccountLinkingService {
  constructor(
    private readonly messaging: MessagingService,
    private readonly sql: SqlService,
    private readonly config: AppConfig,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiterPort,
  ) {}

  // The person tapped Log In on message `mid`: a token for the login page at `url`, which must be one of that
  // message's Log In buttons (the person can't send the token to a page the Page did not name). `origin`: the
  // request's, for an absolute redirect_uri when PUBLIC_BASE_URL is unset.
  async start(userId: string, threadId: string, input: { mid: string; url: string }, origin: string) {
    const thread = await this.messaging.writableThread(userId, threadId);
    const [offered] = await this.sql.query(
      `SELECT 1 FROM messages WHERE thread_id = $1 AND mid = $2 AND sender = 'page'
          AND jsonb_path_exists(content, 'lax $.** ? (@.type == "account_link" && @.url == $u)', jsonb_build_object('u', $3::text))`,
      [thread.id, input.mid, input.url],
    );
    if (!offered) throw AccountLinkingErrors.notOffered();
    await this.messaging.spendPersonSend(userId);
    const token = randomToken(ACCOUNT_LINKING_TOKEN_PREFIX);
    const now = Date.now();
    const expiresAt = now + ACCOUNT_LINKING_TOKEN_TTL_MS;
    await this.sql.transaction(async (q) => {
      await q(
        `DELETE FROM account_linking_tokens WHERE thread_id = $1 AND token_hash NOT IN (
           SELECT token_hash FROM account_linking_tokens WHERE thread_id = $1 AND completed_at IS NULL AND expires_at > $2
            ORDER BY expires_at DESC LIMIT ${LIVE_TOKENS_PER_THREAD - 1})`,
        [thread.id, now],
      );
      await q(`INSERT INTO account_linking_tokens (token_hash, thread_id, page_id, expires_at) VALUES ($1, $2, $3, $4)`, [
        sha256Hex(token),
        thread.id,
        thread.page_id,
        expiresAt,
      ]);
    });
    const base = (this.config.env.PUBLIC_BASE_URL ?? origin).replace(/\/+$/, '');
    // Login pages append `&authorization_code=…` to redirect_uri, so it carries a query already.
    const redirectUri = `${base}${ACCOUNT_LINKING_COMPLETE_PATH}?account_linking_token=${token}`;
    const authorize = new URL(input.url);
    authorize.searchParams.set('account_linking_token', token);
    authorize.searchParams.set('redirect_uri', redirectUri);
    return { authorize_url: authorize.toString(), expires_at: expiresAt };
  }

  // Where the login page sent the browser back (the public redirect_uri): the Page whose conversation it returns to.
  // Nothing is completed here: a plain navigation carries no one's identity, and anyone may hold this URL (a person
  // could hand their Log In link to someone else to log in with). The chat app completes it as the person.
  async returnTarget(token: string): Promise<{ pageId: string } | null> {
    const row = await this.liveToken(token);
    return row && row.completed_at === null ? { pageId: row.page_id } : null;
  }

  // The person's chat app completes the return: only the person who tapped Log In may. With a code they are linked
  // (again, if they were: a new login may be another account) and the Page's apps get it; without one they gave up,
  // and nobody is told. Either way the token is spent. Answers whether the account is linked now.
  async complete(userId: string, token: string, authorizationCode: string | undefined): Promise<{ status: 'linked' | 'cancelled'; linked: boolean }> {
    const row = await this.liveToken(token);
    if (!row) throw AccountLinkingErrors.invalidToken();
    if (row.user_id !== userId) throw AccountLinkingErrors.notYours();
    if (row.completed_at !== null) throw AccountLinkingErrors.tokenUsed();
    const hash = sha256Hex(token);
    const spend = async (query: (text: string, params: unknown[]) => Promise<unknown>) =>
      rowsOf(
        await query(
          `UPDATE account_linking_tokens SET completed_at = $2 WHERE token_hash = $1 AND completed_at IS NULL AND expires_at > $2 RETURNING 1`,
          [hash, Date.now()],
        ),
      ).length > 0;
    if (authorizationCode === undefined) {
      if (!(await spend((text, params) => this.sql.query(text, params)))) throw AccountLinkingErrors.tokenUsed();
      const [link] = await this.sql.query(`SELECT 1 FROM account_links WHERE thread_id = $1`, [row.thread_id]);
      return { status: 'cancelled', linked: link !== undefined };
    }
    const changed = await this.messaging.recordAccountLinking(
      threadFacts(row),
      { status: 'linked', authorizationCode, by: 'person' },
      async (m) => {
        // Spent in the transaction that tells the bots: of two returns with one token, one links.
        if (!(await spend((text, params) => m.query(text, params)))) return false;
        await m.query(
          `INSERT INTO account_links (thread_id, linked_at) VALUES ($1, $2)
           ON CONFLICT (thread_id) DO UPDATE SET linked_at = EXCLUDED.linked_at`,
          [row.thread_id, Date.now()],
        );
        return true;
      },
    );
    if (!changed) throw AccountLinkingErrors.tokenUsed();
    return { status: 'linked', linked: true };
  }

  // Log Out, by the person.
  async unlinkByPerson(userId: string, threadId: string): Promise<void> {
    // Taking the link back stays open while the person blocks the Page.
    const thread = await this.messaging.writableThread(userId, threadId, { whileBlocked: true });
    if (!(await this.unlink(thread, 'person'))) throw AccountLinkingErrors.notLinked();
  }

  // POST /me/unlink_accounts {psid}, by the Page's bot. Unlinking what is not linked changes nothing and tells no
  // one, and answers as Graph does all the same.
  async unlinkByPage(pageId: string, appId: string, psid: unknown): Promise<{ result: string }> {
    // Spent refused or not, as the handover calls do: an unlink is a webhook, so it can't be spammed.
    await spendSendBudget(this.limiter, this.config.env, pageId, appId);
    // Graph takes ids as numbers too; ours are at most 20 digits (a JS number holds such an id exactly up to 15).
    const id = typeof psid === 'number' && Number.isSafeInteger(psid) && psid > 0 ? String(psid) : psid;
    if (typeof id !== 'string' || !/^\d{1,20}$/.test(id)) throw AccountLinkingErrors.graphPsid();
    const thread = await this.messaging.findThreadByPsid(pageId, id);
    if (!thread) throw GraphErrors.noMatchingUser();
    // A person who blocked the Page gets nothing from it, an unlink included: Graph's 551, as a send.
    await this.unlink(thread, 'page').catch((err: unknown) => {
      throw err instanceof AppException && err.code === 'THREAD.BLOCKED' ? GraphErrors.personUnavailable() : err;
    });
    return { result: 'unlink account success' };
  }

  async state(userId: string, threadId: string): Promise<{ linked: boolean; linked_at?: number }> {
    const thread = await this.messaging.findOwnThread(userId, threadId);
    const [link] = await this.sql.query<{ linked_at: string }>(`SELECT linked_at FROM account_links WHERE thread_id = $1`, [thread.id]);
    return link ? { linked: true, linked_at: Number(link.linked_at) } : { linked: false };
  }

  // GET /me?fields=recipient&account_linking_token=… with the Page's token: whose Log In tap it is, while it lives.
  async recipient(pageId: string, token: unknown, fields: unknown): Promise<{ id: string; recipient: string }> {
    if (fields !== undefined && typeof fields !== 'string') throw AccountLinkingErrors.graphFields();
    const asked = fields?.trim() ? fields.split(',').map((f) => f.trim()) : ['recipient'];
    if (asked.some((f) => f !== 'id' && f !== 'recipient')) throw AccountLinkingErrors.graphFields();
    const row = typeof token === 'string' ? await this.liveToken(token) : undefined;
    // Another Page's token reads as unknown: it says nothing about that Page's people.
    if (!row || row.page_id !== pageId) throw AccountLinkingErrors.graphInvalidToken();
    return { id: pageId, recipient: row.psid };
  }

  private async unlink(thread: ThreadFacts, by: 'person' | 'page'): Promise<boolean> {
    return this.messaging.recordAccountLinking(
      thread,
      { status: 'unlinked', authorizationCode: null, by },
      async (m) => rowsOf(await m.query(`DELETE FROM account_links WHERE thread_id = $1 RETURNING 1`, [thread.id])).length > 0,
    );
  }

  // Up to `limit` tokens expired by `now` (used or not: liveToken reads none of them), oldest first, off the
  // expires_at index; rows another sweeper holds are skipped. Answers how many went.
  async deleteExpiredTokens(now: number, limit: number): Promise<number> {
    const [{ n }] = await this.sql.query<{ n: number }>(
      `WITH gone AS (
         DELETE FROM account_linking_tokens WHERE token_hash IN (
           SELECT token_hash FROM account_linking_tokens WHERE expires_at <= $1
            ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [now, limit],
    );
    return n;
  }

  // An unexpired token this server issued, found by its hash (never stored itself; the hash is the lookup key,
  // so no comparison of secrets runs here to time).
  private async liveToken(token: string): Promise<TokenRow | undefined> {
    if (!token.startsWith(ACCOUNT_LINKING_TOKEN_PREFIX) || token.length > 100) return undefined;
    const [row] = await this.sql.query<TokenRow>(
      `SELECT k.thread_id, k.page_id, k.expires_at, k.completed_at, t.user_id, t.psid
         FROM account_linking_tokens k JOIN threads t ON t.id = k.thread_id
        WHERE k.token_hash = $1 AND k.expires_at > $2`,
      [sha256Hex(token), Date.now()],
    );
    return row;
  }
}

function threadFacts(row: TokenRow): ThreadFacts {
  return { id: row.thread_id, page_id: row.page_id, user_id: row.user_id, psid: row.psid };
}
