import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
import type { PersonPrincipal } from '../auth/principal';
import { createValidationPipe } from '../common/errors/validation';
import { requestOrigin } from '../media/media.service';
import { ACCOUNT_LINKING_COMPLETE_PATH, AccountLinkingService } from './account-linking.service';
import {
  AccountLinkingStartedDto,
  AccountLinkStateDto,
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

// Where the business's login page sends the person back (the redirect_uri it was given). No session: the token in
// the URL is the credential, spent here.
@ApiTags('threads')
@Controller(ACCOUNT_LINKING_COMPLETE_PATH.replace(/^\//, ''))
export class AccountLinkingReturnController {
  constructor(private readonly linking: AccountLinkingService) {}

  @Get()
  @HttpCode(303)
  @ApiOperation({ summary: "The login page's return: links (with authorization_code) or cancels, then back to the conversation" })
  @ApiQuery({ name: 'account_linking_token', type: String })
  @ApiQuery({ name: 'authorization_code', type: String, required: false })
  @ApiResponse({ status: 303, description: 'To the chat app: /?page=<page_id>&account_linking=linked|cancelled' })
  @ApiResponse({ status: 400, description: 'Unknown or expired token' })
  @ApiResponse({ status: 409, description: 'Token already used' })
  async complete(@Query() raw: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const q = (await RETURN_QUERY_PIPE.transform(raw, { type: 'query', metatype: CompleteAccountLinkingQueryDto })) as CompleteAccountLinkingQueryDto;
    const done = await this.linking.complete(q.account_linking_token, q.authorization_code);
    void reply.header('cache-control', 'no-store');
    void reply.header('location', `/?page=${done.pageId}&account_linking=${done.linked ? 'linked' : 'cancelled'}`);
  }
}
