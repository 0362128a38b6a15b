import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
import type { PersonPrincipal } from '../auth/principal';
import { requestOrigin } from '../media/media.service';
import { ListMessagesQueryDto } from '../messaging/dto/receipts.dto';
import { MessageListDto, SentMessageDto } from '../messaging/dto/send-message.dto';
import {
  InboxControlDto,
  InboxListQueryDto,
  InboxNoteCreateDto,
  InboxNoteDto,
  InboxNoteListDto,
  InboxPersonaCreateDto,
  InboxPersonaCreatedDto,
  InboxPersonaListDto,
  InboxSendDto,
  InboxThreadChangeDto,
  InboxThreadDto,
  InboxThreadListDto,
  InboxTypingDto,
} from './dto/inbox.dto';
import { InboxService } from './inbox.service';

// The Page Inbox: a Page's admins read and answer its conversations (see InboxService).
@ApiTags('inbox')
@Controller('pages/:pageId/inbox')
@PersonAuth()
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get()
  @ApiOkResponse({ type: InboxThreadListDto })
  threads(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Query() q: InboxListQueryDto,
  ): Promise<InboxThreadListDto> {
    return this.inbox.threads(who.userId, pageId, q);
  }

  @Get('personas')
  @ApiOkResponse({ type: InboxPersonaListDto, description: "The Page's personas (its people and its bots share them)" })
  personas(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string, @Req() req: FastifyRequest): Promise<InboxPersonaListDto> {
    return this.inbox.listPersonas(who.userId, pageId, requestOrigin(req));
  }

  @Post('personas')
  @ApiCreatedResponse({ type: InboxPersonaCreatedDto, description: 'The picture is fetched once (an image) and stored here' })
  createPersona(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string, @Body() dto: InboxPersonaCreateDto): Promise<InboxPersonaCreatedDto> {
    return this.inbox.createPersona(who.userId, pageId, dto);
  }

  @Delete('personas/:personaId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Messages already sent as it keep its name and picture' })
  async deletePersona(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string, @Param('personaId') personaId: string): Promise<void> {
    await this.inbox.deletePersona(who.userId, pageId, personaId);
  }

  @Get(':threadId/notes')
  @ApiOkResponse({ type: InboxNoteListDto, description: "The Page's people's notes on the conversation (never shown to the person or a bot)" })
  notes(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string, @Param('threadId') threadId: string): Promise<InboxNoteListDto> {
    return this.inbox.notes(who.userId, pageId, threadId);
  }

  @Post(':threadId/notes')
  @ApiCreatedResponse({ type: InboxNoteDto })
  addNote(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Param('threadId') threadId: string,
    @Body() dto: InboxNoteCreateDto,
  ): Promise<InboxNoteDto> {
    return this.inbox.addNote(who.userId, pageId, threadId, dto);
  }

  @Delete(':threadId/notes/:noteId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Only by the admin who wrote it' })
  async deleteNote(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Param('threadId') threadId: string,
    @Param('noteId') noteId: string,
  ): Promise<void> {
    await this.inbox.deleteNote(who.userId, pageId, threadId, noteId);
  }

  @Patch(':threadId')
  @ApiOkResponse({ type: InboxThreadDto, description: 'Filed: done or back in the inbox, assigned to an admin or to nobody' })
  file(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Param('threadId') threadId: string,
    @Body() dto: InboxThreadChangeDto,
  ): Promise<InboxThreadDto> {
    return this.inbox.file(who.userId, pageId, threadId, dto);
  }

  @Get(':threadId/messages')
  @ApiOkResponse({ type: MessageListDto })
  messages(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Param('threadId') threadId: string,
    @Query() q: ListMessagesQueryDto,
    @Req() req: FastifyRequest,
  ): Promise<MessageListDto> {
    return this.inbox.messages(who.userId, pageId, threadId, q.after_seq ?? 0, q.limit ?? 50, requestOrigin(req));
  }

  @Post(':threadId/messages')
  @ApiCreatedResponse({ type: SentMessageDto, description: 'Sent as the Page; 200 when a retry found the first message' })
  async send(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Param('threadId') threadId: string,
    @Body() dto: InboxSendDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SentMessageDto> {
    const sent = await this.inbox.send(who.userId, pageId, threadId, dto);
    void reply.status(sent.created ? 201 : 200);
    return { mid: sent.mid, seq: sent.seq, timestamp: sent.timestamp };
  }

  @Post(':threadId/take')
  @HttpCode(200)
  @ApiOkResponse({ type: InboxControlDto, description: 'The Page Inbox controls the thread (the bot that had it is told)' })
  take(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string, @Param('threadId') threadId: string): Promise<InboxControlDto> {
    return this.inbox.take(who.userId, pageId, threadId);
  }

  @Post(':threadId/release')
  @HttpCode(200)
  @ApiOkResponse({ type: InboxControlDto, description: 'Handed back: the primary bot controls the thread again (and is told)' })
  release(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string, @Param('threadId') threadId: string): Promise<InboxControlDto> {
    return this.inbox.release(who.userId, pageId, threadId);
  }

  @Post(':threadId/typing')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The person sees the Page typing (or stops seeing it); refused as a reply would be' })
  async typing(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Param('threadId') threadId: string,
    @Body() dto: InboxTypingDto,
  ): Promise<void> {
    await this.inbox.typing(who.userId, pageId, threadId, dto.on, dto.persona_id);
  }

  @Post(':threadId/read')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The person sees "Seen" on their messages' })
  async read(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string, @Param('threadId') threadId: string): Promise<void> {
    await this.inbox.read(who.userId, pageId, threadId);
  }
}
