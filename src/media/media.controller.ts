import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { isVariantName } from './storage';
import { MediaErrors, toHttpError } from './media.errors';
import { MediaService } from './media.service';
import { etagMatches, mediaEtag, parseRangeHeader } from './media-url-signer';

// Variants anyone may cache publicly. None by default: every attachment is private, reachable only through
// a signed URL handed to the thread's participants and its page's bots.
const PUBLIC_VARIANTS = new Set<string>();

@ApiTags('media')
@Controller('media')
export class MediaController {
  constructor(private readonly media: MediaService) {}

  @Get(':id/:variant')
  @ApiOperation({ summary: 'A stored variant (display.webp, display.jpg, thumb.webp, thumb.jpg, original); signed URL required' })
  @ApiQuery({ name: 'exp', required: true, description: 'Expiry, unix seconds' })
  @ApiQuery({ name: 'sig', required: true, description: 'HMAC of id, variant and exp' })
  @ApiHeader({ name: 'range', required: false })
  @ApiHeader({ name: 'if-none-match', required: false })
  @ApiOkResponse({ description: 'The bytes' })
  @ApiResponse({ status: 206, description: 'Partial content (audio and video)' })
  @ApiResponse({ status: 304, description: 'Not modified' })
  @ApiResponse({ status: 403, description: 'Expired or forged URL' })
  @ApiResponse({ status: 416, description: 'Range not satisfiable' })
  async serve(
    @Param('id') id: string,
    @Param('variant') variant: string,
    @Query('exp') exp: string | undefined,
    @Query('sig') sig: string | undefined,
    @Headers('range') range: string | undefined,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const isPublic = PUBLIC_VARIANTS.has(variant);
    if (!isPublic) this.media.verify(id, variant, exp, sig);
    const rec = isVariantName(variant) ? await this.media.findById(id) : null;
    const v = rec?.variants.find((x) => x.name === variant);
    if (!rec || !v) throw MediaErrors.notFound(id);

    const etag = mediaEtag(rec.sha256, variant);
    const seekable = rec.kind === 'audio' || rec.kind === 'video';
    // Refusals go out before the caching headers: a 416 must not be kept as if it were the object.
    const r = seekable && !etagMatches(ifNoneMatch, etag) ? parseRangeHeader(range, v.size) : null;
    if (r === 'invalid') throw MediaErrors.rangeNotSatisfiable(v.size);

    // Private: a shared cache must not keep it; the browser may, for as long as the bytes cannot change.
    void reply.header('etag', etag);
    void reply.header('cache-control', isPublic ? 'public, max-age=31536000, immutable' : 'private, max-age=31536000, immutable');
    void reply.header('x-content-type-options', 'nosniff');
    // Files are downloaded, never rendered in our origin.
    if (rec.kind === 'file') void reply.header('content-disposition', 'attachment');
    if (seekable) void reply.header('accept-ranges', 'bytes');
    if (etagMatches(ifNoneMatch, etag)) {
      void reply.status(304).send();
      return;
    }

    try {
      const body = await this.media.storage.get(v.key, r ?? undefined);
      void reply.header('content-type', v.mime);
      if (r) {
        void reply.status(206);
        void reply.header('content-range', `bytes ${r.start}-${r.end}/${v.size}`);
        void reply.header('content-length', String(r.end - r.start + 1));
      } else {
        void reply.header('content-length', String(v.size));
      }
      await reply.send(body);
    } catch (err) {
      throw toHttpError(err);
    }
  }
}
