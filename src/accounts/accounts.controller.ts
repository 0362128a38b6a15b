import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
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

  @Get('me')
  @PersonAuth()
  @ApiOkResponse({ type: MeResponseDto })
  async me(@CurrentPrincipal() who: PersonPrincipal): Promise<MeResponseDto> {
    const u = await this.accounts.findById(who.userId);
    return { id: u.id, username: u.username, name: u.name };
  }
}
