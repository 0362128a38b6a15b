import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
import type { PersonPrincipal } from '../auth/principal';
import { MessageParamsDto } from '../messaging/dto/message-actions.dto';
import { TopicListDto, TopicViewDto } from './dto/marketing-messages.dto';
import { MarketingMessagesService } from './marketing-messages.service';

// The person's side of marketing messages, on their own thread: the opt-in request's button, Stop and Resume.
@ApiTags('threads')
@Controller('threads/:threadId')
@PersonAuth()
export class MarketingMessagesController {
  constructor(private readonly marketing: MarketingMessagesService) {}

  @Get('notification-messages')
  @ApiOperation({ summary: "The person's marketing messages topics on this thread (opted in, stopped or expired), newest first" })
  @ApiOkResponse({ type: TopicListDto })
  topics(@CurrentPrincipal() who: PersonPrincipal, @Param('threadId') threadId: string): Promise<TopicListDto> {
    return this.marketing.topics(who.userId, threadId);
  }

  @Post('messages/:mid/optin')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "The opt-in request's button: the Page's apps get messaging_optins with a notification_messages_token (once per live topic; a stopped topic resumes)",
  })
  @ApiOkResponse({ type: TopicViewDto, description: "The topic's state; the same, and nobody told, while it is live" })
  @ApiResponse({ status: 400, description: 'THREAD.NOT_AN_OPTIN_REQUEST: not an opt-in request of the Page' })
  optIn(@CurrentPrincipal() who: PersonPrincipal, @Param() p: MessageParamsDto): Promise<TopicViewDto> {
    return this.marketing.optIn(who.userId, p.threadId, p.mid);
  }

  @Delete('messages/:mid/optin')
  @ApiOperation({ summary: "Stops the request's topic: the Page's apps get messaging_optins STOP_NOTIFICATIONS; sends on its token are refused" })
  @ApiOkResponse({ type: TopicViewDto })
  @ApiResponse({ status: 409, description: 'NOTIFICATION_MESSAGES.NOT_OPTED_IN' })
  stop(@CurrentPrincipal() who: PersonPrincipal, @Param() p: MessageParamsDto): Promise<TopicViewDto> {
    return this.marketing.stop(who.userId, p.threadId, p.mid);
  }
}
