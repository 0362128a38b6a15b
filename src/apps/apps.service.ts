import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository } from 'typeorm';
import { AuthService } from '../auth/auth.service';
import { forbidden, notFound } from '../common/errors/app.exception';
import { numericId } from '../common/crypto/tokens';
import { AppEntity } from './entities/app.entity';
import { AppSubscriptionEntity, SubscribedField } from './entities/app-subscription.entity';

export const toAppView = (a: AppEntity) => ({ id: a.id, name: a.name, require_appsecret_proof: a.requireAppsecretProof });

@Injectable()
export class AppsService {
  // What a new page subscription starts elsewhere: the webhook gateway pushes what waited to be pulled.
  private readonly pageSubscribedListeners: ((appId: string) => Promise<void>)[] = [];

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(AppEntity) private readonly apps: Repository<AppEntity>,
    @InjectRepository(AppSubscriptionEntity) private readonly subscriptions: Repository<AppSubscriptionEntity>,
    private readonly auth: AuthService,
  ) {}

  async create(ownerId: string, name: string) {
    return this.db.transaction(async (m) => {
      const app = m.create(AppEntity, { id: numericId(), name, ownerId });
      await m.insert(AppEntity, app);
      const secret = await this.auth.createAppSecret(app.id, m);
      return { id: app.id, name: app.name, secret };
    });
  }

  async findActive(appId: string): Promise<AppEntity> {
    const app = /^\d{1,20}$/.test(appId) ? await this.apps.findOneBy({ id: appId }) : null;
    if (!app || app.suspendedAt) throw notFound('APP.NOT_FOUND', `No app ${appId}`);
    return app;
  }

  async assertOwner(appId: string, userId: string): Promise<AppEntity> {
    const app = await this.findActive(appId);
    // A Page's hosted-script app is managed through /pages/{id}/scripts only.
    if (app.hosted) throw notFound('APP.NOT_FOUND', `No app ${appId}`);
    if (app.ownerId !== userId) throw forbidden('APP.NOT_OWNER', 'You do not own this app');
    return app;
  }

  async findManyByIds(ids: string[]): Promise<AppEntity[]> {
    return ids.length ? this.apps.findBy({ id: In(ids) }) : [];
  }

  async listOwned(ownerId: string) {
    return (await this.apps.find({ where: { ownerId, hosted: false }, order: { createdAt: 'ASC' } })).map(toAppView);
  }

  async update(appId: string, userId: string, patch: { name?: string; require_appsecret_proof?: boolean }) {
    const app = await this.assertOwner(appId, userId);
    if (patch.name !== undefined) app.name = patch.name;
    if (patch.require_appsecret_proof !== undefined) app.requireAppsecretProof = patch.require_appsecret_proof;
    await this.apps.update({ id: appId }, { name: app.name, requireAppsecretProof: app.requireAppsecretProof });
    if (patch.require_appsecret_proof !== undefined) await this.auth.credentialsChanged();
    return toAppView(app);
  }

  async rotateSecret(appId: string, userId: string) {
    await this.assertOwner(appId, userId);
    const { secret, previousExpiresAt } = await this.auth.rotateAppSecret(appId);
    return { secret, previous_secret_expires_at: previousExpiresAt.toISOString() };
  }

  async saveSubscription(appId: string, object: string, callbackUrl: string, fields: SubscribedField[]) {
    await this.subscriptions.upsert(
      { appId, object, callbackUrl, fields, active: true, inactiveReason: null },
      ['appId', 'object'],
    );
    if (object === 'page') for (const listener of this.pageSubscribedListeners) await listener(appId);
  }

  onPageSubscribed(listener: (appId: string) => Promise<void>): void {
    this.pageSubscribedListeners.push(listener);
  }

  // The webhook gateway switches a subscription off (410 Gone) and on again (resume); events are kept meanwhile.
  async setSubscriptionActive(appId: string, object: string, active: boolean, reason: string | null): Promise<boolean> {
    const res = await this.subscriptions.update({ appId, object }, { active, inactiveReason: active ? null : reason });
    return Boolean(res.affected);
  }

  async findSubscription(appId: string, object = 'page') {
    return this.subscriptions.findOneBy({ appId, object });
  }

  async listSubscriptions(appId: string) {
    return this.subscriptions.find({ where: { appId }, order: { object: 'ASC' } });
  }

  async deleteSubscription(appId: string, object?: string): Promise<void> {
    await this.subscriptions.delete(object ? { appId, object } : { appId });
  }

  // Graph's DELETE with `fields`: those fields leave the subscription, which goes once none is left. Nothing else
  // about it changes (an endpoint switched off stays off). Under a row lock, so two removals don't undo each other.
  async removeSubscriptionFields(appId: string, object: string, names: string[]): Promise<void> {
    await this.subscriptions.manager.transaction(async (m) => {
      const sub = await m.findOne(AppSubscriptionEntity, { where: { appId, object }, lock: { mode: 'pessimistic_write' } });
      if (!sub) return;
      const fields = sub.fields.filter((f) => !names.includes(f.name));
      if (fields.length) await m.update(AppSubscriptionEntity, { appId, object }, { fields });
      else await m.delete(AppSubscriptionEntity, { appId, object });
    });
  }

  async setSuspended(appId: string, suspended: boolean) {
    const app = /^\d{1,20}$/.test(appId) ? await this.apps.findOneBy({ id: appId }) : null;
    if (!app) throw notFound('APP.NOT_FOUND', `No app ${appId}`);
    app.suspendedAt = suspended ? new Date() : null;
    await this.apps.update({ id: appId }, { suspendedAt: app.suspendedAt });
    await this.auth.credentialsChanged();
    return app;
  }

  async listAll(limit: number, offset: number) {
    const [rows, total] = await this.apps.findAndCount({ order: { createdAt: 'ASC' }, take: limit, skip: offset });
    return { total, data: rows.map((a) => ({ ...toAppView(a), owner_id: a.ownerId, suspended: Boolean(a.suspendedAt) })) };
  }
}
