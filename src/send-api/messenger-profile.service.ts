import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  GET_STARTED_TITLE,
  MESSENGER_PROFILE_FIELDS,
  MESSENGER_PROFILE_JSON_PARAMS,
  NEVER_SET_MESSENGER_PROFILE_FIELDS,
  parseGraphParams,
  validateCustomUserSettings,
  validateMessengerProfile,
  validateMessengerProfileDelete,
} from '../../libs/templates';
import { GraphErrors } from '../common/errors/graph.exception';
import type { MessengerProfileSettings } from '../../libs/templates';
import { notFound } from '../common/errors/app.exception';
import { AppConfig } from '../config/app-config';
import { RATE_LIMITER, RateLimiterPort } from '../infra/rate-limit/rate-limiter.port';
import { fillGreeting } from './profile-text';
import { SendApiErrors } from './send-api.errors';

type Settings = Partial<Record<(typeof MESSENGER_PROFILE_FIELDS)[number], unknown>>;

// What a person's client needs to greet a new thread: the greeting with the person's name filled in,
// the Get Started button (tapping it posts its payload to POST /threads/{id}/postbacks), the menu, ice breakers.
export interface PersonProfileView {
  page_id: string;
  page_name: string;
  greeting: string | null;
  get_started: { title: string; payload: string } | null;
  persistent_menu: { composer_input_disabled: boolean; call_to_actions: unknown[] } | null;
  ice_breakers: { question: string; payload: string }[];
}

// Messenger Profile per Page (`/me/messenger_profile`): stored as libs/templates normalizes it.
@Injectable()
export class MessengerProfileService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiterPort,
  ) {}

  // Messenger limits the Messenger Profile API per Page (10 calls per 10 minutes); every Graph call spends,
  // refused or not, as on the Send API. The person's view (personView) is not a Graph call and is not counted.
  private spend(pageId: string): Promise<void> {
    return this.spendProfileBucket(`profile:page:${pageId}`);
  }

  // A bucket of the Messenger Profile's size (MESSENGER_PROFILE_RATE_CALLS per window): also per person for
  // custom_user_settings, and per Page for persona creates. Over it, 613 with Retry-After.
  async spendProfileBucket(key: string): Promise<void> {
    const { MESSENGER_PROFILE_RATE_CALLS: calls, MESSENGER_PROFILE_RATE_WINDOW_SECONDS: window } = this.config.env;
    const bucket = await this.limiter.consume(key, { capacity: calls, refillPerSecond: calls / window });
    if (!bucket.allowed) throw SendApiErrors.pageRateLimited(bucket.retryAfterMs);
  }

  private async load(pageId: string): Promise<Settings> {
    const rows: { settings: Settings }[] = await this.db.query(`SELECT settings FROM messenger_profiles WHERE page_id = $1`, [pageId]);
    return rows[0]?.settings ?? {};
  }

  private async save(pageId: string, settings: Settings, m: Pick<DataSource, 'query'> = this.db): Promise<void> {
    await m.query(
      `INSERT INTO messenger_profiles (page_id, settings) VALUES ($1, $2)
       ON CONFLICT (page_id) DO UPDATE SET settings = EXCLUDED.settings, updated_at = now()`,
      [pageId, JSON.stringify(settings)],
    );
  }

  async set(pageId: string, params: unknown): Promise<{ result: 'success' }> {
    await this.spend(pageId);
    const parsed = parseGraphParams(params, MESSENGER_PROFILE_JSON_PARAMS);
    if (!parsed.ok) throw SendApiErrors.invalid(parsed.error.message);
    const current = await this.load(pageId);
    const valid = validateMessengerProfile(parsed.value, { getStartedExists: current.get_started !== undefined });
    if (!valid.ok) throw SendApiErrors.invalid(valid.error.message);
    // Each property given replaces the stored one; the others stay.
    await this.save(pageId, { ...current, ...(valid.value as Settings) });
    return { result: 'success' };
  }

  async remove(pageId: string, params: unknown): Promise<{ result: 'success' }> {
    await this.spend(pageId);
    const parsed = parseGraphParams(params, MESSENGER_PROFILE_JSON_PARAMS);
    if (!parsed.ok) throw SendApiErrors.invalid(parsed.error.message);
    const valid = validateMessengerProfileDelete(parsed.value);
    if (!valid.ok) throw SendApiErrors.invalid(valid.error.message);
    const current = await this.load(pageId);
    const next: Settings = { ...current };
    for (const f of valid.value.fields) delete next[f];
    // The menu needs get_started: removing get_started alone would leave a menu Messenger refuses.
    if (next.persistent_menu !== undefined && next.get_started === undefined) {
      throw SendApiErrors.invalid('param fields must include persistent_menu when it includes get_started');
    }
    await this.db.transaction(async (m) => {
      await this.save(pageId, next, m);
      // People's own menus need the Page's get_started, as the Page's menu does: they go with it.
      if (next.get_started === undefined) await m.query(`DELETE FROM custom_user_settings WHERE page_id = $1`, [pageId]);
    });
    return { result: 'success' };
  }

  // `GET ?fields=a,b`: Graph answers {data:[{…the fields that are set}]}, or {data:[]} when none is.
  async get(pageId: string, fieldsParam: unknown): Promise<{ data: Settings[] }> {
    await this.spend(pageId);
    const fields = typeof fieldsParam === 'string' ? fieldsParam.split(',').map((f) => f.trim()).filter(Boolean) : [];
    if (!fields.length) throw SendApiErrors.invalid('The parameter fields is required');
    // Graph's properties never set here are answered as not set, as Graph answers them on a Page without them.
    const known: readonly string[] = [...MESSENGER_PROFILE_FIELDS, ...NEVER_SET_MESSENGER_PROFILE_FIELDS];
    const unknown = fields.findIndex((f) => !known.includes(f));
    if (unknown >= 0) {
      throw SendApiErrors.invalid(`Param fields[${unknown}] must be one of {${known.join(', ')}} - got "${fields[unknown]}"`);
    }
    const current = await this.load(pageId);
    const out: Settings = {};
    for (const f of MESSENGER_PROFILE_FIELDS) if (fields.includes(f) && current[f] !== undefined) out[f] = current[f];
    return { data: Object.keys(out).length ? [out] : [] };
  }

  // --- custom_user_settings: one person's own persistent menu ---

  // Graph counts these per person: a bucket per (Page, PSID), with the profile's size.
  private spendUser(pageId: string, psid: string): Promise<void> {
    return this.spendProfileBucket(`profile:user:${pageId}:${psid}`);
  }

  // Only a person with a thread on this Page (Graph: "No matching user found"). `reaching`: the call puts something
  // before the person, which a person who blocked the Page doesn't get (551, as a send).
  private async requirePerson(pageId: string, psid: unknown, opts: { reaching?: boolean } = {}): Promise<string> {
    if (typeof psid !== 'string' || !psid) throw SendApiErrors.invalid('param psid is required');
    const rows: { blocked_at: unknown }[] = /^\d{1,20}$/.test(psid)
      ? await this.db.query(`SELECT blocked_at FROM threads WHERE page_id = $1 AND psid = $2`, [pageId, psid])
      : [];
    if (!rows.length) throw GraphErrors.noMatchingUser();
    if (opts.reaching && rows[0].blocked_at != null) throw GraphErrors.personUnavailable();
    return psid;
  }

  async setUserMenu(pageId: string, params: unknown): Promise<{ result: 'success' }> {
    const parsed = parseGraphParams(params, ['persistent_menu']);
    if (!parsed.ok) throw SendApiErrors.invalid(parsed.error.message);
    const current = await this.load(pageId);
    const valid = validateCustomUserSettings(parsed.value, { getStartedExists: current.get_started !== undefined });
    if (!valid.ok) throw SendApiErrors.invalid(valid.error.message);
    const psid = await this.requirePerson(pageId, valid.value.psid, { reaching: true });
    await this.spendUser(pageId, psid);
    await this.db.query(
      `INSERT INTO custom_user_settings (page_id, psid, persistent_menu) VALUES ($1, $2, $3)
       ON CONFLICT (page_id, psid) DO UPDATE SET persistent_menu = EXCLUDED.persistent_menu, updated_at = now()`,
      [pageId, psid, JSON.stringify(valid.value.persistent_menu)],
    );
    return { result: 'success' };
  }

  // Graph's answer: the person's own menu and the Page's, each when set.
  async getUserMenu(pageId: string, params: Record<string, unknown>) {
    const psid = await this.requirePerson(pageId, params.psid);
    await this.spendUser(pageId, psid);
    const [row]: { persistent_menu: unknown[] }[] = await this.db.query(
      `SELECT persistent_menu FROM custom_user_settings WHERE page_id = $1 AND psid = $2`,
      [pageId, psid],
    );
    const page = (await this.load(pageId)).persistent_menu;
    const out = { ...(row ? { user_level_persistent_menu: row.persistent_menu } : {}), ...(page ? { page_level_persistent_menu: page } : {}) };
    return { data: Object.keys(out).length ? [out] : [] };
  }

  // DELETE ?psid=&params=["persistent_menu"] (or params=persistent_menu): back to the Page's menu.
  async removeUserMenu(pageId: string, params: Record<string, unknown>): Promise<{ result: 'success' }> {
    const parsed = parseGraphParams(params, ['params']);
    if (!parsed.ok) throw SendApiErrors.invalid(parsed.error.message);
    const list = parsed.value.params;
    const names = typeof list === 'string' ? list.split(',').map((x) => x.trim()) : list;
    if (!Array.isArray(names) || !names.length || names.some((n) => n !== 'persistent_menu')) {
      throw SendApiErrors.invalid('param params must be ["persistent_menu"]');
    }
    const psid = await this.requirePerson(pageId, parsed.value.psid);
    await this.spendUser(pageId, psid);
    await this.db.query(`DELETE FROM custom_user_settings WHERE page_id = $1 AND psid = $2`, [pageId, psid]);
    return { result: 'success' };
  }

  async personView(pageId: string, userId: string, locale = 'default'): Promise<PersonProfileView> {
    const [page]: { name: string; suspended_at: Date | null }[] = /^\d{1,20}$/.test(pageId)
      ? await this.db.query(`SELECT name, suspended_at FROM pages WHERE id = $1`, [pageId])
      : [];
    if (!page || page.suspended_at) throw notFound('PAGE.NOT_FOUND', `No page ${pageId}`);
    const [user]: { name: string }[] = await this.db.query(`SELECT name FROM users WHERE id = $1`, [userId]);
    const s = (await this.load(pageId)) as MessengerProfileSettings;
    // The person's own menu (custom_user_settings), if the Page's bot gave them one, replaces the Page's.
    const [own]: { persistent_menu: MessengerProfileSettings['persistent_menu'] }[] = await this.db.query(
      `SELECT c.persistent_menu FROM custom_user_settings c JOIN threads t ON t.page_id = c.page_id AND t.psid = c.psid
        WHERE t.page_id = $1 AND t.user_id = $2`,
      [pageId, userId],
    );
    if (own) s.persistent_menu = own.persistent_menu;
    const pick = <T extends { locale: string }>(list?: T[]) =>
      list?.find((x) => x.locale === locale) ?? list?.find((x) => x.locale === 'default');
    const greeting = pick(s.greeting);
    const menu = pick(s.persistent_menu);
    const ice = pick(s.ice_breakers as { locale: string; call_to_actions: { question: string; payload: string }[] }[] | undefined);
    return {
      page_id: pageId,
      page_name: page.name,
      greeting: greeting ? fillGreeting(greeting.text, user?.name ?? '') : null,
      get_started: s.get_started ? { title: GET_STARTED_TITLE, payload: s.get_started.payload } : null,
      persistent_menu: menu ? { composer_input_disabled: Boolean(menu.composer_input_disabled), call_to_actions: menu.call_to_actions } : null,
      ice_breakers: ice?.call_to_actions ?? [],
    };
  }
}
