import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { parseGraphParams, validatePersona } from '../../libs/templates';
import { numericId } from '../common/crypto/tokens';
import { GraphErrors } from '../common/errors/graph.exception';
import { MediaService } from '../media/media.service';
import { graphErrors } from './attachments.service';
import { MessengerProfileService } from './messenger-profile.service';
import { SendApiErrors } from './send-api.errors';

// Bounds what one Page can accumulate; Messenger documents no limit.
export const MAX_PERSONAS_PER_PAGE = 200;

export interface PersonaRow {
  id: string;
  name: string;
  media_id: string;
}

// What a message sent as a persona stores: the persona as it was then (a later delete changes no history).
export type StoredPersona = PersonaRow;

// Messenger's Personas API: a Page's bot creates named identities with a picture and sends as them
// (`persona_id` on the Send API), e.g. to show a human agent taking over.
@Injectable()
export class PersonasService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly media: MediaService,
    private readonly profiles: MessengerProfileService,
  ) {}

  // The picture is fetched once, through the SSRF-safe client, into the media pipeline (re-encoded, metadata
  // stripped): people's browsers load it from this platform with a signed URL, never from the bot's host.
  async create(pageId: string, params: unknown): Promise<{ id: string }> {
    // Each create fetches and re-encodes an image: a bucket per Page the size of the Messenger Profile's (10 per 10
    // minutes), spent refused or not.
    await this.profiles.spendProfileBucket(`personas:page:${pageId}`);
    const parsed = parseGraphParams(params, []);
    if (!parsed.ok) throw SendApiErrors.invalid(parsed.error.message);
    const valid = validatePersona(parsed.value);
    if (!valid.ok) throw SendApiErrors.invalid(valid.error.message);
    const [{ n }] = await this.db.query(`SELECT count(*)::int AS n FROM personas WHERE page_id = $1 AND deleted_at IS NULL`, [pageId]);
    if (n >= MAX_PERSONAS_PER_PAGE) throw SendApiErrors.invalid(`A Page can have at most ${MAX_PERSONAS_PER_PAGE} personas: delete one first`);
    const rec = await graphErrors(() => this.media.ingestFromUrl(valid.value.profile_picture_url, { pageId }));
    if (rec.kind !== 'image') throw SendApiErrors.invalid(`param profile_picture_url must be an image, not ${rec.kind}`);
    await this.media.markReferenced(rec.id);
    const id = numericId();
    // The cap again, under a per-Page lock: concurrent creates that all passed the first check take turns here.
    const inserted = await this.db.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('sb-personas:' || $1))`, [pageId]);
      return m.query(
        `INSERT INTO personas (id, page_id, name, media_id)
         SELECT $1::varchar, $2::varchar, $3::varchar, $4::varchar
          WHERE (SELECT count(*) FROM personas WHERE page_id = $2::varchar AND deleted_at IS NULL) < $5::int
         RETURNING id`,
        [id, pageId, valid.value.name, rec.id, MAX_PERSONAS_PER_PAGE],
      );
    });
    if (!(inserted as unknown[]).length) throw SendApiErrors.invalid(`A Page can have at most ${MAX_PERSONAS_PER_PAGE} personas: delete one first`);
    return { id };
  }

  async list(pageId: string, origin?: string) {
    const rows: PersonaRow[] = await this.db.query(
      `SELECT id, name, media_id FROM personas WHERE page_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`,
      [pageId],
    );
    // All at once (at most MAX_PERSONAS_PER_PAGE): Graph's cursors are there for clients that page.
    return { data: rows.map((r) => this.view(r, origin)), paging: { cursors: { before: rows[0]?.id ?? null, after: rows.at(-1)?.id ?? null } } };
  }

  async find(pageId: string, id: string): Promise<PersonaRow | undefined> {
    if (!/^\d{1,20}$/.test(id)) return undefined;
    const rows: PersonaRow[] = await this.db.query(
      `SELECT id, name, media_id FROM personas WHERE id = $1 AND page_id = $2 AND deleted_at IS NULL`,
      [id, pageId],
    );
    return rows[0];
  }

  async remove(pageId: string, id: string): Promise<{ success: true }> {
    const rows: unknown[] = /^\d{1,20}$/.test(id)
      ? await this.db.query(
          `WITH d AS (UPDATE personas SET deleted_at = now() WHERE id = $1 AND page_id = $2 AND deleted_at IS NULL RETURNING id)
           SELECT id FROM d`,
          [id, pageId],
        )
      : [];
    if (!rows.length) throw unknownObject(id);
    return { success: true };
  }

  // The persona a send names, as the message will store it; Graph's error 100 when it is not this Page's.
  async forSend(pageId: string, id: string): Promise<StoredPersona> {
    const persona = await this.find(pageId, id);
    if (!persona) throw SendApiErrors.invalid('param persona_id must be a persona of this Page');
    return persona;
  }

  // Graph's persona node: the picture as a signed URL of this platform.
  view(p: PersonaRow, origin?: string) {
    return { name: p.name, profile_picture_url: personaPictureUrl(this.media, p.media_id, origin), id: p.id };
  }
}

export function personaPictureUrl(media: MediaService, mediaId: string, origin?: string): string {
  const [shown] = media.forWebhook([{ type: 'image', payload: { media_id: mediaId } }], origin) as { payload: { url: string } }[];
  return shown.payload.url;
}

const unknownObject = (id: string) =>
  GraphErrors.unsupportedGet(
    `Unsupported delete request. Object with ID '${id.slice(0, 40)}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`,
  );
