import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
import type { PersonPrincipal } from '../auth/principal';
import { CreateThreadDto, ListThreadsQueryDto, ThreadDto, ThreadListDto } from './dto/create-thread.dto';
import { DeliveredDto, ListMessagesQueryDto, ReadDto, WatermarkDto } from './dto/receipts.dto';
import { MediaService, requestOrigin } from '../media/media.service';
import { MessageListDto, SendMessageDto, SendPostbackDto, SentMessageDto, UploadedAttachmentDto } from './dto/send-message.dto';
import {
  EditMessageDto,
  MessageParamsDto,
  ReactionDto,
  ReactionStateDto,
  ResponseFeedbackDto,
  ResponseFeedbackStateDto,
  SubmitFeedbackDto,
} from './dto/message-actions.dto';
import { MessageViewDto } from './dto/send-message.dto';
import { MessagingService } from './messaging.service';

@ApiTags('threads')
@Controller('threads')
@PersonAuth()
export class ThreadsController {
  constructor(
    private readonly messaging: MessagingService,
    private readonly media: MediaService,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: ThreadDto, description: 'Created; 200 when the thread already existed' })
  async open(
    @CurrentPrincipal() who: PersonPrincipal,
    @Body() dto: CreateThreadDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ThreadDto> {
    const { thread, created } = await this.messaging.getOrCreateThread(who.userId, dto.page_id, dto.ref);
    void reply.status(created ? 201 : 200);
    return this.messaging.threadView(thread);
  }

  @Get()
  @ApiOkResponse({ type: ThreadListDto })
  async list(@CurrentPrincipal() who: PersonPrincipal, @Query() q: ListThreadsQueryDto): Promise<ThreadListDto> {
    return this.messaging.listThreads(who.userId, q.limit ?? 50, q.cursor);
  }

  @Get(':threadId')
  @ApiOkResponse({ type: ThreadDto })
  async get(@CurrentPrincipal() who: PersonPrincipal, @Param('threadId') threadId: string): Promise<ThreadDto> {
    return this.messaging.threadView(await this.messaging.findOwnThread(who.userId, threadId));
  }

  // Messenger's "Block messages" from a Page: answered with the thread as it now is; again changes nothing.
  @Post(':threadId/block')
  @HttpCode(200)
  @ApiOkResponse({ type: ThreadDto, description: "Blocked: the Page's sends are refused (Graph 551 / 1545041) and yours wait until you unblock; idempotent" })
  async block(@CurrentPrincipal() who: PersonPrincipal, @Param('threadId') threadId: string): Promise<ThreadDto> {
    return this.messaging.threadView(await this.messaging.setBlocked(who.userId, threadId, true));
  }

  @Delete(':threadId/block')
  @ApiOkResponse({ type: ThreadDto, description: 'Unblocked: the Page may message you again (within its messaging window); idempotent' })
  async unblock(@CurrentPrincipal() who: PersonPrincipal, @Param('threadId') threadId: string): Promise<ThreadDto> {
    return this.messaging.threadView(await this.messaging.setBlocked(who.userId, threadId, false));
  }

  @Post(':threadId/messages')
  @ApiCreatedResponse({ type: SentMessageDto, description: 'Stored; 200 when a retry found the first message' })
  async send(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('threadId') threadId: string,
    @Body() dto: SendMessageDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SentMessageDto> {
    const sent = await this.messaging.sendPersonMessage(who.userId, threadId, dto, requestOrigin(req));
    void reply.status(sent.created ? 201 : 200);
    return { mid: sent.mid, seq: sent.seq, timestamp: sent.timestamp };
  }

  // Streamed into the media pipeline (type from the bytes, EXIF stripped, stored once per SHA-256); then send a
  // message with attachments: [{media_id}].
  @Post(':threadId/attachments')
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } } })
  @ApiCreatedResponse({
    type: UploadedAttachmentDto,
    description:
      "413 over MEDIA_MAX_BYTES; 400 spoofed type or corrupt image; 409 THREAD.BLOCKED; 429 over the person's send rate (each upload spends it, as a message does)",
  })
  async upload(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('threadId') threadId: string,
    @Req() req: FastifyRequest,
  ): Promise<UploadedAttachmentDto> {
    // Where the person may write (not blocked, Page not suspended), and within their send bucket: each upload is
    // processed and stored (kept until MEDIA_ORPHAN_TTL_SECONDS even if never sent), so unbounded ones cost disk and CPU.
    const thread = await this.messaging.writableThread(who.userId, threadId);
    await this.messaging.spendPersonSend(who.userId);
    const rec = await this.media.ingestMultipart(req, { pageId: thread.page_id, threadId: thread.id });
    // Presented, not used: an upload no message sends is collected after MEDIA_ORPHAN_TTL_SECONDS.
    const [view] = this.media.forPerson([this.media.stored(rec)], requestOrigin(req)) as UploadedAttachmentDto[];
    return { media_id: rec.id, type: view.type, payload: view.payload };
  }

  @Post(':threadId/postbacks')
  @ApiCreatedResponse({ type: SentMessageDto })
  async postback(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('threadId') threadId: string,
    @Body() dto: SendPostbackDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SentMessageDto> {
    const sent = await this.messaging.sendPostback(who.userId, threadId, dto);
    void reply.status(sent.created ? 201 : 200);
    return { mid: sent.mid, seq: sent.seq, timestamp: sent.timestamp };
  }

  @Get(':threadId/messages')
  @ApiOkResponse({ type: MessageListDto })
  messages(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('threadId') threadId: string,
    @Query() q: ListMessagesQueryDto,
    @Req() req: FastifyRequest,
  ): Promise<MessageListDto> {
    return this.messaging.listMessages(who.userId, threadId, q.after_seq ?? 0, q.limit ?? 50, requestOrigin(req));
  }

  @Post(':threadId/read')
  @HttpCode(200)
  @ApiOkResponse({ type: WatermarkDto })
  async read(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('threadId') threadId: string,
    @Body() dto: ReadDto,
  ): Promise<WatermarkDto> {
    const { watermark } = await this.messaging.markRead(who.userId, threadId, dto.watermark);
    return { watermark };
  }

  @Post(':threadId/delivered')
  @HttpCode(200)
  @ApiOkResponse({ type: WatermarkDto })
  delivered(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('threadId') threadId: string,
    @Body() dto: DeliveredDto,
  ): Promise<WatermarkDto> {
    return this.messaging.markDelivered(who.userId, threadId, dto);
  }

  // Messenger lets a person edit a text message 5 times within 15 minutes; the Page's bots get message_edits.
  @Patch(':threadId/messages/:mid')
  @ApiOkResponse({ type: MessageViewDto, description: 'The message as it now reads' })
  edit(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param() p: MessageParamsDto,
    @Body() dto: EditMessageDto,
    @Req() req: FastifyRequest,
  ): Promise<MessageViewDto> {
    return this.messaging.editPersonMessage(who.userId, p.threadId, p.mid, dto.text, requestOrigin(req));
  }

  // One reaction per person per message, on either side's messages; the Page's bots get message_reactions.
  @Put(':threadId/messages/:mid/reaction')
  @ApiOkResponse({ type: ReactionStateDto })
  react(@CurrentPrincipal() who: PersonPrincipal, @Param() p: MessageParamsDto, @Body() dto: ReactionDto): Promise<ReactionStateDto> {
    return this.messaging.setPersonReaction(who.userId, p.threadId, p.mid, dto.reaction);
  }

  @Delete(':threadId/messages/:mid/reaction')
  @ApiOkResponse({ type: ReactionStateDto })
  unreact(@CurrentPrincipal() who: PersonPrincipal, @Param() p: MessageParamsDto): Promise<ReactionStateDto> {
    return this.messaging.setPersonReaction(who.userId, p.threadId, p.mid, null);
  }

  // "Reveal code" on the Page's coupon: the person's view carries coupon_code from then on; the Page's bots get
  // Messenger's messages webhook {template: {type: coupon, …}}, once however many taps.
  @Post(':threadId/messages/:mid/reveal')
  @HttpCode(200)
  @ApiOkResponse({ type: MessageViewDto, description: 'The coupon with its code; the same on every later call' })
  reveal(@CurrentPrincipal() who: PersonPrincipal, @Param() p: MessageParamsDto, @Req() req: FastifyRequest): Promise<MessageViewDto> {
    return this.messaging.revealCoupon(who.userId, p.threadId, p.mid, requestOrigin(req));
  }

  // The person's answer to the Page's customer feedback template: the Page's bots get messaging_feedback, once.
  @Post(':threadId/messages/:mid/feedback')
  @HttpCode(200)
  @ApiOkResponse({ type: MessageViewDto, description: 'The feedback request with the answer; the same on a retry with the same answers' })
  submitFeedback(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param() p: MessageParamsDto,
    @Body() dto: SubmitFeedbackDto,
    @Req() req: FastifyRequest,
  ): Promise<MessageViewDto> {
    return this.messaging.submitFeedback(who.userId, p.threadId, p.mid, dto.answers, requestOrigin(req));
  }

  // Thumbs up or down on a bot's message (Messenger's response_feedback): the app that sent it gets the webhook.
  @Put(':threadId/messages/:mid/response-feedback')
  @ApiOkResponse({ type: ResponseFeedbackStateDto })
  responseFeedback(@CurrentPrincipal() who: PersonPrincipal, @Param() p: MessageParamsDto, @Body() dto: ResponseFeedbackDto): Promise<ResponseFeedbackStateDto> {
    return this.messaging.setResponseFeedback(who.userId, p.threadId, p.mid, dto.feedback);
  }
}
