import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
import type { PersonPrincipal } from '../auth/principal';
import { GET_STARTED_TITLE } from '../../libs/templates';
import { MessengerProfileService, PersonProfileView } from './messenger-profile.service';

// The person's side of the Messenger Profile: what a chat client shows on a Page's thread.
@ApiTags('pages')
@Controller('pages')
@PersonAuth()
export class PageProfileController {
  constructor(private readonly profiles: MessengerProfileService) {}

  @Get(':pageId/profile')
  @ApiQuery({ name: 'locale', required: false, example: 'en_US' })
  @ApiOkResponse({
    description:
      'greeting with {{user_first_name}} filled, get_started (tap: POST /threads/{id}/postbacks with its title and payload), persistent_menu, ice_breakers',
    schema: {
      example: {
        page_id: '101',
        page_name: 'Acme',
        greeting: 'Hi Ada!',
        get_started: { title: GET_STARTED_TITLE, payload: 'GET_STARTED' },
        persistent_menu: null,
        ice_breakers: [],
      },
    },
  })
  get(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string, @Query('locale') locale?: string): Promise<PersonProfileView> {
    return this.profiles.personView(pageId, who.userId, typeof locale === 'string' && locale ? locale : 'default');
  }
}
