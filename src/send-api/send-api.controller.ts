import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, GraphAuth, GraphMultipart } from '../auth/guards/auth.guards';
import type { PagePrincipal } from '../auth/principal';
import { SENDER_ACTIONS } from '../../libs/templates';
import { AccountLinkingService } from '../account-linking/account-linking.service';
import { mergeParams } from '../common/http/graph-params';
import { GRAPH_ROUTE_PREFIX } from '../common/http/graph-route';
import { requestOrigin } from '../media/media.service';
import { assertOwnPage } from '../pages/pages-graph.controller';
import { AttachmentsService } from './attachments.service';
import { MessengerProfileService } from './messenger-profile.service';
import { ConversationsService, isConversationId } from './conversations.service';
import { PersonasService } from './personas.service';
import { SendApiService, SendResult } from './send-api.service';
import { UserProfileService } from './user-profile.service';

const asObject = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

@ApiTags('graph: send api')
@Controller(GRAPH_ROUTE_PREFIX)
export class SendApiController {
  constructor(
    private readonly sendApi: SendApiService,
    private readonly attachments: AttachmentsService,
    private readonly profiles: MessengerProfileService,
    private readonly users: UserProfileService,
    private readonly personas: PersonasService,
    private readonly conversations: ConversationsService,
    private readonly linking: AccountLinkingService,
  ) {}

  // Graph takes params in the JSON body, the form body (nested params as JSON strings) or the query string.
  @Post(':pageRef/messages')
  @GraphMultipart()
  @HttpCode(200)
  @GraphAuth('page')
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A repeat within 24 h answers the first answer and sends nothing' })
  @ApiBody({
    description:
      'recipient {id: PSID}, messaging_type, and message {text | attachment, quick_replies, metadata} or sender_action; as JSON, a form, or multipart (a file in filedata after a message naming its attachment type)',
    schema: {
      type: 'object',
      required: ['recipient'],
      properties: {
        recipient: { type: 'object', properties: { id: { type: 'string' } } },
        messaging_type: { type: 'string', enum: ['RESPONSE', 'UPDATE', 'MESSAGE_TAG'] },
        tag: { type: 'string', enum: ['HUMAN_AGENT', 'CUSTOMER_FEEDBACK'] },
        message: { type: 'object', additionalProperties: true },
        sender_action: { type: 'string', enum: [...SENDER_ACTIONS] },
        payload: {
          type: 'object',
          description: 'With sender_action react ({message_id, reaction: one emoji}) or unreact ({message_id})',
          properties: { message_id: { type: 'string' }, reaction: { type: 'string' } },
        },
        persona_id: { type: 'string', description: 'Send as one of the Page\'s personas (POST /me/personas)' },
        notification_type: { type: 'string', enum: ['REGULAR', 'SILENT_PUSH', 'NO_PUSH'] },
        reply_to: {
          type: 'object',
          description: 'A message of this thread to reply to (also accepted as message.reply_to)',
          properties: { mid: { type: 'string' } },
        },
      },
    },
  })
  @ApiOkResponse({ schema: { example: { recipient_id: '1254477777772919', message_id: 'm_AG5Hz2Uq7tuwNEhXfYYKj8mJEM' } } })
  async send(
    @CurrentPrincipal() who: PagePrincipal,
    @Param('pageRef') pageRef: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SendResult> {
    assertOwnPage(who, pageRef);
    // A multipart call's file is stored only once the call is known to go through; its tokens are spent then.
    let spent = false;
    const params = req.isMultipart()
      ? await this.attachments.multipartSendParams(who.pageId, who.appId, req, async (p) => {
          spent = await this.sendApi.precheck(who.pageId, who.appId, mergeParams(query, p), idempotencyKey);
          return spent;
        })
      : body;
    const answer = await this.sendApi.deliver(who.pageId, who.appId, mergeParams(query, params), idempotencyKey, { spent });
    void reply.status(answer.status);
    if (answer.replayed) void reply.header('idempotent-replayed', 'true');
    return answer.body;
  }

  @Post(':pageRef/message_attachments')
  @GraphMultipart()
  @HttpCode(200)
  @GraphAuth('page')
  @ApiBody({
    description: 'message {attachment {type: image|audio|video|file, payload {url, is_reusable: true}}}; or multipart: message (JSON) then filedata',
    schema: { type: 'object', properties: { message: { type: 'object', additionalProperties: true } } },
  })
  @ApiOkResponse({ schema: { example: { attachment_id: '1857777774821032' } } })
  upload(
    @CurrentPrincipal() who: PagePrincipal,
    @Param('pageRef') pageRef: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
  ): Promise<{ attachment_id: string }> {
    assertOwnPage(who, pageRef);
    if (req.isMultipart()) return this.attachments.uploadMultipart(who.pageId, who.appId, req);
    return this.attachments.upload(who.pageId, who.appId, asObject(mergeParams(query, body)));
  }

  @Post(':pageRef/messenger_profile')
  @HttpCode(200)
  @GraphAuth('page')
  @ApiBody({
    description: 'get_started, greeting, ice_breakers, persistent_menu (needs get_started), whitelisted_domains',
    schema: { type: 'object', additionalProperties: true },
  })
  @ApiOkResponse({ schema: { example: { result: 'success' } } })
  setProfile(
    @CurrentPrincipal() who: PagePrincipal,
    @Param('pageRef') pageRef: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
  ) {
    assertOwnPage(who, pageRef);
    return this.profiles.set(who.pageId, mergeParams(query, body));
  }

  @Get(':pageRef/messenger_profile')
  @GraphAuth('page')
  @ApiOkResponse({ schema: { example: { data: [{ get_started: { payload: 'GET_STARTED' } }] } } })
  getProfile(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @Query() query: Record<string, unknown>) {
    assertOwnPage(who, pageRef);
    return this.profiles.get(who.pageId, query?.fields);
  }

  @Delete(':pageRef/messenger_profile')
  @GraphAuth('page')
  @ApiBody({ schema: { type: 'object', properties: { fields: { type: 'array', items: { type: 'string' } } } } })
  @ApiOkResponse({ schema: { example: { result: 'success' } } })
  deleteProfile(
    @CurrentPrincipal() who: PagePrincipal,
    @Param('pageRef') pageRef: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
  ) {
    assertOwnPage(who, pageRef);
    return this.profiles.remove(who.pageId, mergeParams(query, body));
  }

  // A person's own persistent menu, shown to them instead of the Page's.
  @Post(':pageRef/custom_user_settings')
  @HttpCode(200)
  @GraphAuth('page')
  @ApiBody({
    description: 'psid and persistent_menu (the Page\'s menu rules; the Page must have get_started)',
    schema: { type: 'object', required: ['psid', 'persistent_menu'], properties: { psid: { type: 'string' }, persistent_menu: { type: 'array', items: { type: 'object' } } } },
  })
  @ApiOkResponse({ schema: { example: { result: 'success' } } })
  setUserSettings(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @Query() query: Record<string, unknown>, @Body() body: unknown) {
    assertOwnPage(who, pageRef);
    return this.profiles.setUserMenu(who.pageId, mergeParams(query, body));
  }

  @Get(':pageRef/custom_user_settings')
  @GraphAuth('page')
  @ApiOkResponse({ schema: { example: { data: [{ user_level_persistent_menu: [], page_level_persistent_menu: [] }] } } })
  getUserSettings(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @Query() query: Record<string, unknown>) {
    assertOwnPage(who, pageRef);
    return this.profiles.getUserMenu(who.pageId, asObject(query));
  }

  @Delete(':pageRef/custom_user_settings')
  @GraphAuth('page')
  @ApiOkResponse({ schema: { example: { result: 'success' } } })
  deleteUserSettings(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @Query() query: Record<string, unknown>, @Body() body: unknown) {
    assertOwnPage(who, pageRef);
    return this.profiles.removeUserMenu(who.pageId, asObject(mergeParams(query, body)));
  }

  // Personas API: a name and picture the Page's bot sends as (`persona_id`).
  @Post(':pageRef/personas')
  @HttpCode(200)
  @GraphAuth('page')
  @ApiBody({
    description: 'name, and profile_picture_url: an image fetched once and served by this platform',
    schema: { type: 'object', required: ['name', 'profile_picture_url'], properties: { name: { type: 'string' }, profile_picture_url: { type: 'string' } } },
  })
  @ApiOkResponse({ schema: { example: { id: '512345678901234' } } })
  createPersona(
    @CurrentPrincipal() who: PagePrincipal,
    @Param('pageRef') pageRef: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
  ): Promise<{ id: string }> {
    assertOwnPage(who, pageRef);
    return this.personas.create(who.pageId, mergeParams(query, body));
  }

  @Get(':pageRef/personas')
  @GraphAuth('page')
  @ApiOkResponse({ schema: { example: { data: [{ name: 'Ada (agent)', profile_picture_url: 'https://…', id: '512345678901234' }], paging: { cursors: {} } } } })
  listPersonas(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @Req() req: FastifyRequest) {
    assertOwnPage(who, pageRef);
    return this.personas.list(who.pageId, requestOrigin(req));
  }

  // Conversations API: the Page's conversations, newest first (GET /t_{id} and /{mid} below read one).
  @Get(':pageRef/conversations')
  @GraphAuth('page')
  @ApiOkResponse({ schema: { example: { data: [{ id: 't_512345678901234', updated_time: '2026-12-05T23:40:00+0000' }], paging: { cursors: {} } } } })
  listConversations(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @Query() query: Record<string, unknown>) {
    assertOwnPage(who, pageRef);
    return this.conversations.list(who.pageId, asObject(query));
  }

  // Graph's DELETE /{id}: the only object a page token deletes by id here is one of its personas.
  @Delete(':objectId')
  @GraphAuth('page')
  @ApiOkResponse({ schema: { example: { success: true } } })
  deletePersona(@CurrentPrincipal() who: PagePrincipal, @Param('objectId') objectId: string) {
    return this.personas.remove(who.pageId, objectId);
  }

  // User Profile API: only people who have a thread with the Page. `me` or the Page's own id is the Page node; one of
  // its personas' ids, the persona; `t_…` one of its conversations and `m_…` one of their messages (Conversations API).
  @Get(':psid')
  @GraphAuth('page')
  @ApiOkResponse({
    schema: {
      example: {
        first_name: 'Ada',
        last_name: 'Lovelace',
        profile_pic: 'https://switchboard.example/avatars/101/1254477777772919?exp=1700086400&sig=…',
        id: '1254477777772919',
      },
    },
  })
  async userProfile(
    @CurrentPrincipal() who: PagePrincipal,
    @Param('psid') psid: string,
    @Query() query: Record<string, unknown>,
    @Req() req: FastifyRequest,
  ) {
    if (psid === 'me' || psid === who.pageId) {
      // Account linking: whose Log In tap this token is (the login page asks before it sends the person back).
      if (query?.account_linking_token !== undefined) return this.linking.recipient(who.pageId, query.account_linking_token, query.fields);
      return this.users.page(who.pageId, query?.fields);
    }
    if (isConversationId(psid)) return this.conversations.get(who.pageId, psid, asObject(query));
    if (psid.startsWith('m_')) return this.conversations.message(who.pageId, psid, asObject(query));
    const persona = await this.personas.find(who.pageId, psid);
    if (persona) return this.personas.view(persona, requestOrigin(req));
    return this.users.get(who.pageId, psid, query?.fields, requestOrigin(req));
  }
}
