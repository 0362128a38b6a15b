import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { AppsService } from '../apps/apps.service';
import { AuthService } from '../auth/auth.service';
import { AppException, conflict, forbidden, notFound } from '../common/errors/app.exception';
import { retryTransient } from '../common/async/retry';
import { numericId } from '../common/crypto/tokens';
import { pgCode } from '../database/pg-errors';
import { rowsOf } from '../database/query-rows';
import { WebhooksService } from '../webhooks/webhooks.service';
import type { HandoverRole, PageAppDto } from './dto/connect-app.dto';
import type { PageAdminDto } from './dto/page-admins.dto';
import { PageAdminEntity } from './entities/page-admin.entity';
import { PageAppEntity } from './entities/page-app.entity';
import { containsPattern } from '../database/like-pattern';
import { PageInboxHub } from './page-inbox-hub';
import { PageEntity } from './entities/page.entity';

export interface PageView {
  id: string;
  name: string;
  category: string | null;
}

// How long a disconnect whose outbox lock wait runs out keeps trying before it answers 503 PAGE.BUSY.
const DISCONNECT_RETRY_MS = 2000;

export const toPageView = (p: PageEntity): PageView => ({ id: p.id, name: p.name, category: p.category });

// Policy notices are about the Page, not a person: their own ordering key (never a PSID, which is all digits).
const POLICY_THREAD_KEY = 'policy';
// Role notices (messaging_handovers app_roles) are about an app of the Page, not a person: their own key too.
const APP_ROLES_THREAD_KEY = 'app_roles';
// What the apps are told when the operator gives no reason.
const POLICY_REASON = "The Page violated the platform's policies";

@Injectable()
export class PagesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(PageEntity) private readonly pages: Repository<PageEntity>,
    @InjectRepository(PageAdminEntity) private readonly admins: Repository<PageAdminEntity>,
    @InjectRepository(PageAppEntity) private readonly pageApps: Repository<PageAppEntity>,
    private readonly apps: AppsService,
    private readonly auth: AuthService,
    private readonly webhooks: WebhooksService,
    private readonly inboxHub: PageInboxHub,
  ) {}

  async create(userId: string, name: string, category?: string): Promise<PageView> {
    const page = await this.db.transaction(async (m) => {
      const p = m.create(PageEntity, { id: numericId(), name, category: category ?? null, createdBy: userId });
      await m.insert(PageEntity, p);
      await m.insert(PageAdminEntity, { pageId: p.id, userId });
      return p;
    });
    return toPageView(page);
  }

  async search(q: string | undefined, limit = 25): Promise<PageView[]> {
    const qb = this.pages.createQueryBuilder('p').where('p.suspended_at IS NULL').orderBy('p.name').limit(limit);
    if (q) {
      qb.andWhere('lower(p.name) LIKE :pattern', { pattern: containsPattern(q) });
    }
    return (await qb.getMany()).map(toPageView);
  }

  async findActive(pageId: string): Promise<PageEntity> {
    const page = /^\d{1,20}$/.test(pageId) ? await this.pages.findOneBy({ id: pageId }) : null;
    if (!page || page.suspendedAt) throw notFound('PAGE.NOT_FOUND', `No page ${pageId}`);
    return page;
  }

  async isAdmin(pageId: string, userId: string): Promise<boolean> {
    return this.admins.existsBy({ pageId, userId });
  }

  // Which of these (page, person) pairs are an admin of a Page that is not suspended, as `${pageId}:${userId}`: one
  // query for all of a process's inbox watches (the gateway's recheck).
  async activeAdminships(pairs: { pageId: string; userId: string }[]): Promise<Set<string>> {
    if (!pairs.length) return new Set();
    const rows: { page_id: string; user_id: string }[] = await this.db.query(
      `SELECT a.page_id, a.user_id FROM page_admins a JOIN pages p ON p.id = a.page_id AND p.suspended_at IS NULL
        WHERE (a.page_id, a.user_id) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[]))`,
      [pairs.map((p) => p.pageId), pairs.map((p) => p.userId)],
    );
    return new Set(rows.map((r) => `${r.page_id}:${r.user_id}`));
  }

  // A page exists for everyone who may talk to it, but only its admins may manage it.
  async assertAdmin(pageId: string, userId: string): Promise<PageEntity> {
    const page = await this.findActive(pageId);
    if (!(await this.isAdmin(pageId, userId))) throw forbidden('PAGE.NOT_ADMIN', 'You are not an admin of this page');
    return page;
  }

  async pagesAdministeredBy(userId: string): Promise<PageView[]> {
    const rows = await this.pages
      .createQueryBuilder('p')
      .innerJoin(PageAdminEntity, 'a', 'a.page_id = p.id AND a.user_id = :userId', { userId })
      .where('p.suspended_at IS NULL')
      .orderBy('p.created_at')
      .getMany();
    return rows.map(toPageView);
  }

  async connectApp(pageId: string, userId: string, appId: string, fields: string[]): Promise<string> {
    await this.assertAdmin(pageId, userId);
    // Both sides consent: the Page's admin, and the app's owner (the same person: a business that wants another
    // developer's bot makes that developer an admin, who connects their own app). Otherwise any admin could route
    // their Page's conversations into someone else's bot and send, and spend its rate limit, under its name.
    // A hosted-script app belongs to its own page (src/sandbox connects it): not found here.
    await this.apps.assertOwner(appId, userId);
    const token = await this.db.transaction(async (m) => {
      await m.upsert(PageAppEntity, { pageId, appId, subscribedFields: [...new Set(fields)] }, ['pageId', 'appId']);
      return this.auth.issuePageToken(pageId, appId, m);
    });
    // Connecting again replaces the token: the old one must stop working everywhere.
    await this.auth.credentialsChanged();
    return token;
  }

  // The page's admins, or the app's owner: a developer may always take their bot off a page, admin or not.
  async disconnectApp(pageId: string, userId: string, appId: string): Promise<void> {
    await this.findActive(pageId);
    // Not listed, not disconnectable here: removing it would silently stop the page's hosted script.
    const [app] = await this.apps.findManyByIds([appId]);
    if (app?.hosted) throw notFound('PAGE.APP_NOT_CONNECTED', `App ${appId} is not connected to this page`);
    if (app?.ownerId !== userId && !(await this.isAdmin(pageId, userId))) {
      throw forbidden('PAGE.NOT_ADMIN', "Only the page's admins or the app's owner may disconnect it");
    }
    // forgetUndelivered's outbox lock waits at most 200 ms at a time (55P03 when it runs out; 40P01 a deadlock broken
    // by Postgres): nothing changed, so it is tried again, spaced out, before the caller is told to come back.
    const outboxBusy = (err: unknown) => pgCode(err) === '55P03' || pgCode(err) === '40P01';
    try {
      await retryTransient(
        () =>
          this.db.transaction(async (m) => {
            const res = await m.delete(PageAppEntity, { pageId, appId });
            if (!res.affected) throw notFound('PAGE.APP_NOT_CONNECTED', `App ${appId} is not connected to this page`);
            await this.auth.revokePageTokens(pageId, appId, m);
            await this.webhooks.forgetUndelivered(m, appId, pageId);
          }),
        { retryable: outboxBusy, deadline: Date.now() + DISCONNECT_RETRY_MS, firstDelayMs: 250 },
      );
    } catch (err) {
      if (!outboxBusy(err)) throw err;
      throw new AppException(HttpStatus.SERVICE_UNAVAILABLE, 'PAGE.BUSY', 'The outbox is busy: disconnect again shortly', undefined, {
        'retry-after': '5',
      });
    }
    await this.auth.credentialsChanged();
    await this.forgetThreadControl(pageId, appId);
  }

  // Handover protocol: an app that leaves the page (or its role) controls none of its threads any more. Routing
  // already treats such an owner as idle; clearing it keeps a later reconnection from silently taking the threads
  // back. After the commit, outside the outbox lock: a crash in between leaves owners that still count as idle.
  private async forgetThreadControl(pageId: string, appId: string): Promise<void> {
    const sql = `UPDATE threads SET owner_app_id = NULL, owner_since = $3 WHERE page_id = $1 AND owner_app_id = $2`;
    await this.db.query(sql, [pageId, appId, Date.now()]);
    // The Page's people see who controls each thread now.
    this.inboxHub.touch(pageId, null);
  }

  // --- admins: who may manage the page (and connect their own apps to it) ---

  async listAdmins(pageId: string, userId: string): Promise<PageAdminDto[]> {
    await this.assertAdmin(pageId, userId);
    return this.adminsOf(pageId);
  }

  private async adminsOf(pageId: string, onlyUserId?: string): Promise<PageAdminDto[]> {
    const rows: { user_id: string; username: string; name: string; created_at: Date }[] = await this.db.query(
      `SELECT a.user_id, u.username, u.name, a.created_at FROM page_admins a JOIN users u ON u.id = a.user_id
        WHERE a.page_id = $1 AND ($2::varchar IS NULL OR a.user_id = $2) ORDER BY a.created_at, a.user_id`,
      [pageId, onlyUserId ?? null],
    );
    return rows.map((r) => ({ user_id: r.user_id, username: r.username, name: r.name, added_at: new Date(r.created_at).toISOString() }));
  }

  // Adding someone who already is an admin changes nothing and answers them as they are.
  async addAdmin(pageId: string, userId: string, username: string): Promise<PageAdminDto> {
    await this.assertAdmin(pageId, userId);
    const [user]: { id: string }[] = await this.db.query(`SELECT id FROM users WHERE username = $1`, [username.toLowerCase()]);
    if (!user) throw notFound('ACCOUNT.NOT_FOUND', `No person with the username ${username.toLowerCase()}`);
    await this.db.query(`INSERT INTO page_admins (page_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [pageId, user.id]);
    const [view] = await this.adminsOf(pageId, user.id);
    return view;
  }

  // An admin may remove themselves, and admins added after them, never an earlier one: a developer a business made an
  // admin (to connect their bot) can't lock the business out. Nor the last one: a page nobody can manage could never
  // be fixed or have its apps disconnected. Removals are serialised on the page row, so two admins removing each
  // other at once can't leave it with none.
  async removeAdmin(pageId: string, userId: string, targetUserId: string): Promise<void> {
    // Whether the caller is an admin is read below, under the lock.
    await this.findActive(pageId);
    await this.db.transaction(async (m) => {
      await m.query(`SELECT 1 FROM pages WHERE id = $1 FOR UPDATE`, [pageId]);
      const admins: { user_id: string; rank: string }[] = await m.query(
        `SELECT user_id, row_number() OVER (ORDER BY created_at, user_id) AS rank FROM page_admins WHERE page_id = $1`,
        [pageId],
      );
      const me = admins.find((a) => a.user_id === userId);
      if (!me) throw forbidden('PAGE.NOT_ADMIN', 'You are not an admin of this page');
      const target = admins.find((a) => a.user_id === targetUserId);
      if (!target) throw notFound('PAGE.ADMIN_NOT_FOUND', `${targetUserId} is not an admin of this page`);
      if (Number(target.rank) < Number(me.rank)) {
        throw forbidden('PAGE.ADMIN_SENIOR', 'An admin added before you can only be removed by themselves or an earlier admin');
      }
      if (admins.length === 1) throw conflict('PAGE.LAST_ADMIN', 'A page keeps at least one admin: add another before removing this one');
      await m.query(`DELETE FROM page_admins WHERE page_id = $1 AND user_id = $2`, [pageId, targetUserId]);
      // Their conversations in the Page Inbox go back to nobody's.
      await m.query(`UPDATE threads SET assignee_user_id = NULL WHERE page_id = $1 AND assignee_user_id = $2`, [pageId, targetUserId]);
    });
    // They stop hearing the Page's inbox at once, and its other admins see the conversations unassigned.
    await this.inboxHub.revoke(pageId, targetUserId);
    this.inboxHub.touch(pageId, null);
  }

  async listApps(pageId: string, userId: string) {
    await this.assertAdmin(pageId, userId);
    return this.connectedApps(pageId);
  }

  async connectedApps(pageId: string, appId?: string) {
    const rows = await this.pageApps.find({ where: appId ? { pageId, appId } : { pageId }, order: { createdAt: 'ASC' } });
    const apps = await this.apps.findManyByIds(rows.map((r) => r.appId));
    const names = new Map(apps.map((a) => [a.id, a.name]));
    // The page's hosted-script app is the page's own, shown and managed at /pages/{id}/scripts (src/sandbox).
    const hosted = new Set(apps.filter((a) => a.hosted).map((a) => a.id));
    return rows
      .filter((r) => !hosted.has(r.appId))
      .map((r) => ({ app_id: r.appId, name: names.get(r.appId) ?? '', subscribed_fields: r.subscribedFields, handover_role: r.handoverRole }));
  }

  // The page's admins change what a connected app gets without reconnecting it (which would mint a new page token):
  // the REST twin of Graph's POST /{page}/subscribed_apps, which the app itself calls with its page token.
  async updateSubscribedFields(pageId: string, userId: string, appId: string, fields: string[]): Promise<PageAppDto> {
    await this.assertAdmin(pageId, userId);
    const [app] = await this.connectedApps(pageId, appId);
    // The hosted-script app is managed at /pages/{id}/scripts: not connected as far as /apps goes.
    if (!app) throw notFound('PAGE.APP_NOT_CONNECTED', `App ${String(appId).slice(0, 20)} is not connected to page ${pageId}`);
    await this.setSubscribedFields(pageId, appId, fields);
    return { ...app, subscribed_fields: [...new Set(fields)] };
  }

  // Handover protocol roles, set by the page's admins. One primary per page: naming a new one makes the old one
  // secondary, in one transaction (the partial unique index holds the rule).
  async setHandoverRole(pageId: string, userId: string, appId: string, role: HandoverRole | null): Promise<PageAppDto> {
    await this.assertAdmin(pageId, userId);
    const deliveries = await this.db.transaction(async (m) => {
      // Every role change of the page takes the page row first, so two admins naming primaries take turns.
      await m.query(`SELECT id FROM pages WHERE id = $1 FOR UPDATE`, [pageId]);
      const [row] = await m.query(`SELECT app_id, handover_role FROM page_apps WHERE page_id = $1 AND app_id = $2`, [pageId, appId]);
      if (!row) throw notFound('PAGE.APP_NOT_CONNECTED', `App ${String(appId).slice(0, 20)} is not connected to page ${pageId}`);
      const given: [string, HandoverRole][] = [];
      if (role === 'primary') {
        const demoted = rowsOf<{ app_id: string }>(await m.query(
          `UPDATE page_apps SET handover_role = 'secondary' WHERE page_id = $1 AND handover_role = 'primary' AND app_id <> $2 RETURNING app_id`,
          [pageId, appId],
        ));
        for (const d of demoted) given.push([d.app_id, 'secondary']);
      }
      await m.query(`UPDATE page_apps SET handover_role = $3, updated_at = now() WHERE page_id = $1 AND app_id = $2`, [pageId, appId, role]);
      if (role !== null && row.handover_role !== role) given.push([appId, role]);
      // Messenger's app_roles notice, to each app whose role an admin changed: {app_id: [its role]}, about the Page
      // (no sender). A role taken away is told to no one (Meta doesn't document that notice).
      const recorded: string[] = [];
      for (const [id, r] of given) {
        recorded.push(
          ...(await this.webhooks.recordPageEvent(m, {
            pageId,
            field: 'messaging_handovers',
            threadKey: APP_ROLES_THREAD_KEY,
            pageLevel: true,
            toApp: id,
            messaging: { recipient: { id: pageId }, timestamp: Date.now(), app_roles: { [id]: [`${r}_receiver`] } },
          })),
        );
      }
      return recorded;
    });
    if (deliveries.length) await this.webhooks.dispatch(deliveries);
    if (role === null) await this.forgetThreadControl(pageId, appId);
    const [app] = await this.connectedApps(pageId, appId);
    return app ?? { app_id: appId, name: '', subscribed_fields: [], handover_role: role };
  }

  async setSubscribedFields(pageId: string, appId: string, fields: string[]): Promise<void> {
    const res = await this.pageApps.update({ pageId, appId }, { subscribedFields: [...new Set(fields)] });
    if (!res.affected) throw notFound('PAGE.APP_NOT_CONNECTED', `App ${appId} is not connected to page ${pageId}`);
  }

  // Operators act on a Page (src/admin): a warning, a block (suspended: no one can message it or act for it) or an
  // unblock. As on Messenger, its apps subscribed to messaging_policy_enforcement are told, the reason with a warning
  // or a block; the notice is recorded in the transaction that makes the change. A block of a blocked Page (or an
  // unblock of an open one) changes nothing and tells no one.
  // `within`: another module's write that stands or falls with the enforcement (a report closed by it), run first
  // in its transaction; it runs also when the Page is so already.
  async enforcePolicy(
    pageId: string,
    action: 'warning' | 'block' | 'unblock',
    reason?: string,
    within?: (m: EntityManager) => Promise<void>,
  ): Promise<{ page: PageEntity; changed: boolean }> {
    const page = /^\d{1,20}$/.test(pageId) ? await this.pages.findOneBy({ id: pageId }) : null;
    if (!page) throw notFound('PAGE.NOT_FOUND', `No page ${pageId}`);
    const { changed, deliveries } = await this.db.transaction(async (m) => {
      if (within) await within(m);
      if (action !== 'warning') {
        const rows = rowsOf<{ suspended_at: Date | null }>(await m.query(
          `UPDATE pages SET suspended_at = CASE WHEN $2 THEN now() ELSE NULL END
            WHERE id = $1 AND (suspended_at IS NULL) = $2 RETURNING suspended_at`,
          [pageId, action === 'block'],
        ));
        if (!rows.length) return { changed: false, deliveries: [] as string[] };
        page.suspendedAt = rows[0].suspended_at;
      }
      const notice = {
        recipient: { id: pageId },
        timestamp: Date.now(),
        policy_enforcement: { action, ...(action === 'unblock' ? {} : { reason: reason ?? POLICY_REASON }) },
      };
      return {
        changed: true,
        deliveries: await this.webhooks.recordPageEvent(m, {
          pageId,
          field: 'messaging_policy_enforcement',
          threadKey: POLICY_THREAD_KEY,
          pageLevel: true,
          messaging: notice,
        }),
      };
    });
    if (changed && action !== 'warning') await this.auth.credentialsChanged();
    if (deliveries.length) await this.webhooks.dispatch(deliveries);
    return { page, changed };
  }

  async listAll(limit: number, offset: number) {
    const [rows, total] = await this.pages.findAndCount({ order: { createdAt: 'ASC' }, take: limit, skip: offset });
    return { total, data: rows.map((p) => ({ ...toPageView(p), suspended: Boolean(p.suspendedAt) })) };
  }
}
