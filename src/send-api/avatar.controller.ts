import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AvatarParamsDto, AvatarQueryDto } from './dto/get-avatar.dto';
import { UserProfileService } from './user-profile.service';

// The picture behind the User Profile API's profile_pic: no token, the signed URL is the credential (as media).
@ApiTags('graph: send api')
@Controller('avatars')
export class AvatarController {
  constructor(private readonly users: UserProfileService) {}

  @Get(':pageId/:psid')
  @ApiOperation({
    summary: "A person's avatar (SVG initials) as the User Profile API's profile_pic links it; signed URL required",
  })
  @ApiOkResponse({ description: 'image/svg+xml' })
  @ApiResponse({ status: 403, description: 'Expired or forged URL' })
  @ApiResponse({ status: 404, description: 'No such person on this Page' })
  async get(@Param() p: AvatarParamsDto, @Query() q: AvatarQueryDto, @Res() reply: FastifyReply): Promise<void> {
    const { svg, maxAgeSeconds } = await this.users.avatar(p.pageId, p.psid, q.exp, q.sig);
    void reply.header('content-type', 'image/svg+xml');
    // The name can change, so it is kept only as long as the URL is valid; private: it names a person.
    void reply.header('cache-control', `private, max-age=${maxAgeSeconds}`);
    void reply.header('x-content-type-options', 'nosniff');
    // Opened on its own, the SVG must run nothing (it has no script; this says so to the browser).
    void reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
    await reply.send(svg);
  }
}
