import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthService } from '../auth/auth.service';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
import { bearerToken } from '../auth/guards/token-extract';
import type { PersonPrincipal } from '../auth/principal';
import { AppConfig } from '../config/app-config';
import { AccountsService } from './accounts.service';
import { LoginDto, LoginResponseDto, MeResponseDto } from './dto/login.dto';
import { SignupDto, SignupResponseDto } from './dto/signup.dto';

@ApiTags('accounts')
@Controller()
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly config: AppConfig,
    private readonly auth: AuthService,
  ) {}

  @Post('auth/signup')
  @ApiCreatedResponse({ type: SignupResponseDto })
  signup(@Body() dto: SignupDto): Promise<SignupResponseDto> {
    return this.accounts.signup(dto.username, dto.password, dto.name);
  }

  @Post('auth/login')
  @HttpCode(200)
  @ApiOkResponse({ type: LoginResponseDto })
  async login(@Body() dto: LoginDto): Promise<LoginResponseDto> {
    const { access_token } = await this.accounts.login(dto.username, dto.password);
    return { access_token, expires_in: this.config.env.PERSON_TOKEN_TTL_SECONDS };
  }

  @Post('auth/logout')
  @PersonAuth()
  @HttpCode(204)
  @ApiOperation({ summary: "Revoke the caller's token; WebSockets opened with it close with code 4401" })
  @ApiNoContentResponse()
  async logout(@Req() req: FastifyRequest): Promise<void> {
    // PersonAuth has checked it is a live person token.
    await this.auth.revokePersonToken(bearerToken(req)!);
  }

  @Get('me')
  @PersonAuth()
  @ApiOkResponse({ type: MeResponseDto })
  async me(@CurrentPrincipal() who: PersonPrincipal): Promise<MeResponseDto> {
    const u = await this.accounts.findById(who.userId);
    return { id: u.id, username: u.username, name: u.name };
  }
}
