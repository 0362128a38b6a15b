import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { AppsService } from '../apps/apps.service';
import { AuthService } from '../auth/auth.service';
import { forbidden, notFound } from '../common/errors/app.exception';
import { numericId } from '../common/crypto/tokens';
import { PageAdminEntity } from './entities/page-admin.entity';
import { PageAppEntity } from './entities/page-app.entity';
import { PageEntity } from './entities/page.entity';

export interface PageView {
  id: string;
  name: string;
  category: string | null;
}

export const toPageView = (p: PageEntity): PageView => ({ id: p.id, name: p.name, category: p.category });

@Injectable()
export class PagesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(PageEntity) private readonly pages: Repository<PageEntity>,
    @InjectRepository(PageAdminEntity) private readonly admins: Repository<PageAdminEntity>,
    @InjectRepository(PageAppEntity) private readonly pageApps: Repository<PageAppEntity>,
    private readonly apps: AppsService,
    private readonly auth: AuthService,
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
      const pattern = `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere('lower(p.name) LIKE :pattern', { pattern });
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
    // A hosted-script app belongs to its own page (src/sandbox connects it).
    if ((await this.apps.findActive(appId)).hosted) throw notFound('APP.NOT_FOUND', `No app ${appId}`);
    const token = await this.db.transaction(async (m) => {
      await m.upsert(PageAppEntity, { pageId, appId, subscribedFields: [...new Set(fields)] }, ['pageId', 'appId']);
      return this.auth.issuePageToken(pageId, appId, m);
    });
    // Connecting again replaces the token: the old one must stop working everywhere.
    await this.auth.credentialsChanged();
    return token;
  }

  async disconnectApp(pageId: string, userId: string, appId: string): Promise<void> {
    await this.assertAdmin(pageId, userId);
    // Not listed, not disconnectable here: removing it would silently stop the page's hosted script.
    const [app] = await this.apps.findManyByIds([appId]);
    if (app?.hosted) throw notFound('PAGE.APP_NOT_CONNECTED', `App ${appId} is not connected to this page`);
    await this.db.transaction(async (m) => {
      const res = await m.delete(PageAppEntity, { pageId, appId });
      if (!res.affected) throw notFound('PAGE.APP_NOT_CONNECTED', `App ${appId} is not connected to this page`);
      await this.auth.revokePageTokens(pageId, appId, m);
    });
    await this.auth.credentialsChanged();
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
      .map((r) => ({ app_id: r.appId, name: names.get(r.appId) ?? '', subscribed_fields: r.subscribedFields }));
  }

  async setSubscribedFields(pageId: string, appId: string, fields: string[]): Promise<void> {
    const res = await this.pageApps.update({ pageId, appId }, { subscribedFields: [...new Set(fields)] });
    if (!res.affected) throw notFound('PAGE.APP_NOT_CONNECTED', `App ${appId} is not connected to page ${pageId}`);
  }

  async setSuspended(pageId: string, suspended: boolean): Promise<PageEntity> {
    const page = /^\d{1,20}$/.test(pageId) ? await this.pages.findOneBy({ id: pageId }) : null;
    if (!page) throw notFound('PAGE.NOT_FOUND', `No page ${pageId}`);
    page.suspendedAt = suspended ? new Date() : null;
    await this.pages.update({ id: pageId }, { suspendedAt: page.suspendedAt });
    await this.auth.credentialsChanged();
    return page;
  }

  async listAll(limit: number, offset: number) {
    const [rows, total] = await this.pages.findAndCount({ order: { createdAt: 'ASC' }, take: limit, skip: offset });
    return { total, data: rows.map((p) => ({ ...toPageView(p), suspended: Boolean(p.suspendedAt) })) };
  }
}
