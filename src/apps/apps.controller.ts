import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
import type { PersonPrincipal } from '../auth/principal';
import { AppsService, toAppView } from './apps.service';
import { AppDto, AppListDto, CreateAppDto, CreatedAppDto, RotatedSecretDto } from './dto/create-app.dto';
import { UpdateAppDto } from './dto/update-app.dto';

@ApiTags('apps')
@Controller('apps')
@PersonAuth()
export class AppsController {
  constructor(private readonly apps: AppsService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedAppDto })
  create(@CurrentPrincipal() who: PersonPrincipal, @Body() dto: CreateAppDto): Promise<CreatedAppDto> {
    return this.apps.create(who.userId, dto.name);
  }

  @Get()
  @ApiOkResponse({ type: AppListDto })
  async list(@CurrentPrincipal() who: PersonPrincipal): Promise<AppListDto> {
    return { data: await this.apps.listOwned(who.userId) };
  }

  @Get(':appId')
  @ApiOkResponse({ type: AppDto })
  async get(@CurrentPrincipal() who: PersonPrincipal, @Param('appId') appId: string): Promise<AppDto> {
    return toAppView(await this.apps.assertOwner(appId, who.userId));
  }

  @Patch(':appId')
  @ApiOkResponse({ type: AppDto })
  update(@CurrentPrincipal() who: PersonPrincipal, @Param('appId') appId: string, @Body() dto: UpdateAppDto) {
    return this.apps.update(appId, who.userId, dto);
  }

  @Post(':appId/secret/rotate')
  @HttpCode(200)
  @ApiOkResponse({ type: RotatedSecretDto })
  rotate(@CurrentPrincipal() who: PersonPrincipal, @Param('appId') appId: string): Promise<RotatedSecretDto> {
    return this.apps.rotateSecret(appId, who.userId);
  }
}
