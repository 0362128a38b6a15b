import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
import type { PersonPrincipal } from '../auth/principal';
import { createValidationPipe } from '../common/errors/validation';
import { requestOrigin } from '../media/media.service';
import { ACCOUNT_LINKING_COMPLETE_PATH, AccountLinkingService } from './account-linking.service';
import {
  AccountLinkingCompletedDto,
  AccountLinkingStartedDto,
  AccountLinkStateDto,
  CompleteAccountLinkingDto,
  CompleteAccountLinkingQueryDto,
  StartAccountLinkingDto,
} from './dto/account-linking.dto';

// The person's side of account linking, on their own thread.
@ApiTags('threads')
@Controller('threads/:threadId/account-linking')
@PersonAuth()
export class AccountLinkingController {
  constructor(private readonly linking: AccountLinkingService) {}

  @Get()
  @ApiOkResponse({ type: AccountLinkStateDto })
  state(@CurrentPrincipal() who: PersonPrincipal, @Param('threadId') threadId: string): Promise<AccountLinkStateDto> {
    return this.linking.state(who.userId, threadId);
  }

  @Post()
  @ApiOperation({ summary: 'Log In: tapped on a Page message; answers the login page to open' })
  @ApiCreatedResponse({ type: AccountLinkingStartedDto })
  start(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('threadId') threadId: string,
    @Body() dto: StartAccountLinkingDto,
    @Req() req: FastifyRequest,
  ): Promise<AccountLinkingStartedDto> {
    return this.linking.start(who.userId, threadId, dto, requestOrigin(req));
  }

  @Delete()
  @ApiOperation({ summary: "Log Out: unlinks the person's account; the Page's apps get messaging_account_linking unlinked" })
  @ApiOkResponse({ type: AccountLinkStateDto })
  async unlink(@CurrentPrincipal() who: PersonPrincipal, @Param('threadId') threadId: string): Promise<AccountLinkStateDto> {
    await this.linking.unlinkByPerson(who.userId, threadId);
    return { linked: false };
  }
}

// A login page adds params of its own to the redirect at times: they are dropped, not refused.
const RETURN_QUERY_PIPE = createValidationPipe({ dropUnknown: true });

// Where the business's login page sends the person back (the redirect_uri it was given), and where the person's
// chat app then completes it.
@ApiTags('threads')
@Controller(ACCOUNT_LINKING_COMPLETE_PATH.replace(/^\//, ''))
export class AccountLinkingReturnController {
  constructor(private readonly linking: AccountLinkingService) {}

  // A plain navigation carries no one's identity, so nothing is completed here (nor by a link prefetcher): the
  // browser goes on to the chat app with the token and code in the URL's fragment (never sent to a server), and the
  // app, as the person, POSTs them below.
  @Get()
  @HttpCode(303)
  @ApiOperation({ summary: "The login page's return: on to the chat app, which completes it as the person" })
  @ApiQuery({ name: 'account_linking_token', type: String })
  @ApiQuery({ name: 'authorization_code', type: String, required: false })
  @ApiResponse({ status: 303, description: 'To /?page=<page_id>#account_linking_token=…&authorization_code=… (or #account_linking_error=expired)' })
  async back(@Query() raw: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const q = (await RETURN_QUERY_PIPE.transform(raw, { type: 'query', metatype: CompleteAccountLinkingQueryDto })) as CompleteAccountLinkingQueryDto;
    const target = await this.linking.returnTarget(q.account_linking_token);
    const parts: Record<string, string> = target
      ? { account_linking_token: q.account_linking_token, ...(q.authorization_code === undefined ? {} : { authorization_code: q.authorization_code }) }
      : { account_linking_error: 'expired' };
    // %-encoded, spaces as %20: the app reads a `+` as itself (web/src/chat/ref-link.ts).
    const fragment = Object.entries(parts)
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join('&');
    void reply.header('cache-control', 'no-store');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('location', `/${target ? `?page=${target.pageId}` : ''}#${fragment}`);
  }

  @Post()
  @HttpCode(200)
  @PersonAuth()
  @ApiOperation({ summary: 'Completes a login as the person who tapped Log In: linked with a code, cancelled without' })
  @ApiOkResponse({ type: AccountLinkingCompletedDto })
  @ApiResponse({ status: 403, description: 'ACCOUNT_LINKING.NOT_YOURS: another account tapped this Log In' })
  complete(@CurrentPrincipal() who: PersonPrincipal, @Body() dto: CompleteAccountLinkingDto): Promise<AccountLinkingCompletedDto> {
    return this.linking.complete(who.userId, dto.account_linking_token, dto.authorization_code);
  }
}
