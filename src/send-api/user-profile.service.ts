import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { forbidden, notFound } from '../common/errors/app.exception';
import { AppConfig } from '../config/app-config';
import { MessagingService } from '../messaging/messaging.service';
import { AvatarUrlSigner, avatarSvg } from './avatar';
import { splitName } from './profile-text';
import { SendApiErrors } from './send-api.errors';

export const USER_PROFILE_FIELDS = ['id', 'first_name', 'last_name', 'name', 'profile_pic'] as const;
// Fields Graph has on a PSID but gives only to apps granted pages_user_locale / _timezone / _gender, which no app is
// here: Graph's refusal (100/2018247), not "nonexisting field", so a bot's fallback for it runs.
const RESTRICTED_USER_FIELDS = ['locale', 'timezone', 'gender'];
const DEFAULT_FIELDS = ['first_name', 'last_name', 'profile_pic'];
// `GET /me` (or `/{page_id}`) with a page token reads the Page itself, as Graph does: bots ask it at start.
export const PAGE_NODE_FIELDS = ['id', 'name', 'category'] as const;
const PAGE_DEFAULT_FIELDS = ['name', 'id'];

// Graph's `fields=a,b`: the named ones (each must exist on the node), or the node's defaults.
export function requestedFields(fieldsParam: unknown, defaults: string[], known: readonly string[], node: string): string[] {
  const fields =
    typeof fieldsParam === 'string' && fieldsParam.trim()
      ? fieldsParam
          .split(',')
          .map((f) => f.trim())
          .filter(Boolean)
      : defaults;
  const unknown = fields.find((f) => !known.includes(f));
  if (unknown) throw SendApiErrors.nonexistingField(unknown, node);
  return fields;
}
export const AVATAR_URL_SIGNER = Symbol('AVATAR_URL_SIGNER');

// `GET /{psid}?fields=…` with a page token: only for people who have a thread with that Page.
@Injectable()
export class UserProfileService {
  constructor(
    private readonly messaging: MessagingService,
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    @Inject(AVATAR_URL_SIGNER) private readonly signer: AvatarUrlSigner,
  ) {}

  // `origin`: the request's, for an absolute profile_pic when PUBLIC_BASE_URL is unset.
  async get(pageId: string, psid: string, fieldsParam: unknown, origin: string): Promise<Record<string, unknown>> {
    const fields = requestedFields(fieldsParam, DEFAULT_FIELDS, [...USER_PROFILE_FIELDS, ...RESTRICTED_USER_FIELDS], 'User');
    if (fields.some((f) => RESTRICTED_USER_FIELDS.includes(f))) throw SendApiErrors.profilePermission();
    const thread = await this.messaging.findThreadByPsid(pageId, psid);
    if (!thread) throw SendApiErrors.noProfile();
    const [user]: { name: string }[] = await this.db.query(`SELECT name FROM users WHERE id = $1`, [thread.user_id]);
    if (!user) throw SendApiErrors.noProfile();
    const { first_name, last_name } = splitName(user.name);
    // Graph's profile_pic is a signed URL that expires; so is ours (PROFILE_PIC_URL_TTL_SECONDS).
    const base = (this.config.env.PUBLIC_BASE_URL ?? origin).replace(/\/+$/, '');
    const profile_pic = base + this.signer.sign(pageId, thread.psid);
    const all: Record<string, unknown> = { first_name, last_name, name: user.name, profile_pic };
    const out: Record<string, unknown> = {};
    for (const f of fields) if (f !== 'id') out[f] = all[f];
    out.id = thread.psid;
    return out;
  }

  async page(pageId: string, fieldsParam: unknown): Promise<Record<string, unknown>> {
    const fields = requestedFields(fieldsParam, PAGE_DEFAULT_FIELDS, PAGE_NODE_FIELDS, 'Page');
    const [page]: { id: string; name: string; category: string | null }[] = await this.db.query(
      `SELECT id, name, category FROM pages WHERE id = $1`,
      [pageId],
    );
    // The guard let the token through, so the page exists; a category never set is left out, as Graph omits empty fields.
    const out: Record<string, unknown> = {};
    for (const f of fields) if (page?.[f as keyof typeof page] != null) out[f] = page[f as keyof typeof page];
    return out;
  }

  // The picture a profile_pic URL names. Accounts hold no uploaded picture: it is drawn from the name.
  async avatar(
    pageId: string,
    psid: string,
    exp: string,
    sig: string,
  ): Promise<{ svg: string; maxAgeSeconds: number }> {
    const verdict = this.signer.verify(pageId, psid, exp, sig);
    if (verdict === 'expired') throw forbidden('AVATAR.URL_EXPIRED', 'This avatar URL has expired');
    if (verdict !== 'ok') throw forbidden('AVATAR.URL_FORGED', 'This avatar URL is not valid');
    const thread = await this.messaging.findThreadByPsid(pageId, psid);
    const [user]: { id: string; name: string }[] = thread
      ? await this.db.query(`SELECT id, name FROM users WHERE id = $1`, [thread.user_id])
      : [];
    if (!user) throw notFound('AVATAR.NOT_FOUND', 'No such person on this page');
    return {
      svg: avatarSvg(user.name, user.id),
      maxAgeSeconds: Math.max(0, Number(exp) - Math.floor(Date.now() / 1000)),
    };
  }
}
