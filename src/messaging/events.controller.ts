import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
import { bearerToken } from '../auth/guards/token-extract';
import type { PersonPrincipal } from '../auth/principal';
import { sha256Hex } from '../common/crypto/tokens';
import { EventsPageDto, EventsQueryDto } from './dto/receipts.dto';
import { LongPollService } from './realtime/long-poll.service';

@ApiTags('threads')
@Controller('events')
@PersonAuth()
export class EventsController {
  constructor(private readonly longPoll: LongPollService) {}

  // The long-poll fallback of /ws: the same events with the same cursors.
  @Get()
  @ApiOkResponse({ type: EventsPageDto })
  async poll(
    @CurrentPrincipal() who: PersonPrincipal,
    @Query() q: EventsQueryDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<EventsPageDto> {
    // The client hanging up ends the wait (the response closes before we answer).
    const aborted = new Promise<void>((resolve) => reply.raw.once('close', () => resolve()));
    // PersonGuard took the token from the bearer header; its revocation ends the wait.
    const tokenHash = sha256Hex(bearerToken(req)!);
    return this.longPoll.poll(who.userId, tokenHash, q.after, (q.timeout ?? 25) * 1000, q.limit ?? 100, aborted);
  }
}
