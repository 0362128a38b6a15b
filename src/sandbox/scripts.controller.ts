import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
import type { PersonPrincipal } from '../auth/principal';
import {
  DeactivateScriptDto,
  DryRunDto,
  ResumeScriptDto,
  ScriptListDto,
  ScriptLogListDto,
  ScriptSourceDto,
  ScriptVersionDto,
  TestScriptDto,
  UploadScriptDto,
} from './dto/upload-script.dto';
import { ScriptsService } from './scripts.service';

@ApiTags('hosted scripts')
@Controller('pages/:pageId/scripts')
@PersonAuth()
export class ScriptsController {
  constructor(private readonly scripts: ScriptsService) {}

  @Get()
  @ApiOkResponse({ type: ScriptListDto })
  list(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string): Promise<ScriptListDto> {
    return this.scripts.list(pageId, who.userId);
  }

  @Post()
  @ApiCreatedResponse({ type: ScriptVersionDto, description: 'A new version; a syntax error is a 400 naming line and column' })
  upload(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string, @Body() dto: UploadScriptDto): Promise<ScriptVersionDto> {
    return this.scripts.upload(pageId, who.userId, dto);
  }

  // One version with its source, e.g. to start a new version from an older one in the console's editor.
  @Get(':version')
  @ApiOkResponse({ type: ScriptSourceDto })
  get(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string, @Param('version') version: string): Promise<ScriptSourceDto> {
    return this.scripts.getVersion(pageId, who.userId, version);
  }

  @Post('resume')
  @HttpCode(200)
  @ApiOkResponse({ type: ResumeScriptDto, description: 'Clears a tripped breaker; the active version runs the kept events in order' })
  @ApiConflictResponse({ description: 'SCRIPT.NOT_ACTIVE: no version is active' })
  resume(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string): Promise<ResumeScriptDto> {
    return this.scripts.resume(pageId, who.userId);
  }

  @Post('deactivate')
  @HttpCode(200)
  @ApiOkResponse({
    type: DeactivateScriptDto,
    description:
      'No version stays active: the page\'s new events no longer reach the script (the hosted app is disconnected) and events waiting for it are dropped; a run already in flight finishes. Activating a version connects it again.',
  })
  deactivate(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string): Promise<DeactivateScriptDto> {
    return this.scripts.deactivate(pageId, who.userId);
  }

  @Post(':version/activate')
  @HttpCode(200)
  @ApiOkResponse({ schema: { example: { active_version: 2 } } })
  activate(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string, @Param('version') version: string) {
    return this.scripts.activate(pageId, who.userId, version);
  }

  @Get(':version/logs')
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiQuery({ name: 'before', required: false, type: String, description: 'log id to page back from' })
  @ApiOkResponse({ type: ScriptLogListDto })
  logs(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Param('version') version: string,
    @Query('limit') limit?: string,
    @Query('before') before?: string,
  ): Promise<ScriptLogListDto> {
    const n = limit && /^\d+$/.test(limit) ? Number(limit) : 100;
    return this.scripts.listLogs(pageId, who.userId, version, n, before && /^\d{1,18}$/.test(before) ? before : undefined);
  }

  @Post(':version/test')
  @HttpCode(200)
  @ApiOkResponse({ type: DryRunDto, description: 'What the version would send and log for this event; nothing is sent or stored' })
  test(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Param('version') version: string,
    @Body() dto: TestScriptDto,
  ): Promise<DryRunDto> {
    return this.scripts.dryRun(pageId, who.userId, version, dto.event);
  }
}
