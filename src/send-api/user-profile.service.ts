import { Injectable } from '@nestjs/common';
import { MessagingService } from '../messaging/messaging.service';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { splitName } from './profile-text';
import { SendApiErrors } from './send-api.errors';

export const USER_PROFILE_FIELDS = ['id', 'first_name', 'last_name', 'name', 'profile_pic'] as const;
const DEFAULT_FIELDS = ['first_name', 'last_name', 'profile_pic'];

// `GET /{psid}?fields=…` with a page token: only for people who have a thread with that Page.
@Injectable()
export class UserProfileService {
  constructor(
    private readonly messaging: MessagingService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  async get(pageId: string, psid: string, fieldsParam: unknown): Promise<Record<string, unknown>> {
    const fields =
      typeof fieldsParam === 'string' && fieldsParam.trim()
        ? fieldsParam.split(',').map((f) => f.trim()).filter(Boolean)
        : DEFAULT_FIELDS;
    const unknown = fields.find((f) => !(USER_PROFILE_FIELDS as readonly string[]).includes(f));
    if (unknown) throw SendApiErrors.nonexistingField(unknown, 'User');
    const thread = await this.messaging.findThreadByPsid(pageId, psid);
    if (!thread) throw SendApiErrors.noProfile();
    const [user]: { name: string }[] = await this.db.query(`SELECT name FROM users WHERE id = $1`, [thread.user_id]);
    if (!user) throw SendApiErrors.noProfile();
    const { first_name, last_name } = splitName(user.name);
    const all: Record<string, unknown> = { first_name, last_name, name: user.name, profile_pic: null };
    const out: Record<string, unknown> = {};
    for (const f of fields) if (f !== 'id') out[f] = all[f];
    out.id = thread.psid;
    return out;
  }
}
