// Buttons of templates and of the persistent menu (reference §3 "Button types").
import { BUTTON_TYPES, LIMITS, MENU_BUTTON_TYPES, WEBVIEW_HEIGHT_RATIOS, WEBVIEW_SHARE_BUTTON } from './constants';
import {
  boolean,
  Coerce,
  Ctor,
  e164,
  Field,
  httpUrl,
  httpsOrLoopbackUrl,
  maxChars,
  nonEmpty,
  oneOf,
  optional,
  required,
  string,
  toBooleanish,
  toLowerCase,
  toStringish,
} from './rules';
import type { AccountLinkButton, AccountUnlinkButton, DefaultAction, PhoneNumberButton, PostbackButton, WebUrlButton } from './types';

const title = [required, string, nonEmpty, maxChars(LIMITS.buttonTitle)];

export class WebUrlButtonDto implements WebUrlButton {
  @Field(required, oneOf(['web_url'])) type: 'web_url';
  @Field(...title) title: string;
  @Field(required, string, httpUrl) url: string;
  @Coerce(toLowerCase)
  @Field(optional, oneOf(WEBVIEW_HEIGHT_RATIOS))
  webview_height_ratio?: WebUrlButton['webview_height_ratio'];
  @Coerce(toBooleanish) @Field(optional, boolean) messenger_extensions?: boolean;
  @Field(optional, string, httpUrl) fallback_url?: string;
  @Field(optional, oneOf(WEBVIEW_SHARE_BUTTON)) webview_share_button?: 'hide' | 'show';
}

export class PostbackButtonDto implements PostbackButton {
  @Field(required, oneOf(['postback'])) type: 'postback';
  @Field(...title) title: string;
  @Coerce(toStringish) @Field(required, string, maxChars(LIMITS.payload)) payload: string;
}

export class PhoneNumberButtonDto implements PhoneNumberButton {
  @Field(required, oneOf(['phone_number'])) type: 'phone_number';
  @Field(...title) title: string;
  @Field(required, string, e164) payload: string;
}

// Messenger draws these two with its own titles ("Log In", "Log Out"); a title sent along is ignored.
export class AccountLinkButtonDto implements AccountLinkButton {
  @Field(required, oneOf(['account_link'])) type: 'account_link';
  @Field(required, string, httpsOrLoopbackUrl) url: string;
}

export class AccountUnlinkButtonDto implements AccountUnlinkButton {
  @Field(required, oneOf(['account_unlink'])) type: 'account_unlink';
}

/** `default_action` of a generic element: a URL button without title. */
export class DefaultActionDto implements DefaultAction {
  @Field(required, oneOf(['web_url'])) type: 'web_url';
  @Field(required, string, httpUrl) url: string;
  @Coerce(toLowerCase)
  @Field(optional, oneOf(WEBVIEW_HEIGHT_RATIOS))
  webview_height_ratio?: DefaultAction['webview_height_ratio'];
  @Coerce(toBooleanish) @Field(optional, boolean) messenger_extensions?: boolean;
  @Field(optional, string, httpUrl) fallback_url?: string;
  @Field(optional, oneOf(WEBVIEW_SHARE_BUTTON)) webview_share_button?: 'hide' | 'show';
}

// An unknown `type` builds one of these, whose only rule names the allowed types.
class UnknownTemplateButton {
  @Field(required, oneOf(BUTTON_TYPES)) type: unknown;
}
class UnknownMenuButton {
  @Field(required, oneOf(MENU_BUTTON_TYPES)) type: unknown;
}

const BUTTONS: Record<string, Ctor> = {
  web_url: WebUrlButtonDto,
  postback: PostbackButtonDto,
  phone_number: PhoneNumberButtonDto,
  account_link: AccountLinkButtonDto,
  account_unlink: AccountUnlinkButtonDto,
};

/** Picks the button class for a template button. */
export function templateButton(raw: Record<string, unknown>): Ctor {
  const type = raw.type;
  return typeof type === 'string' && (BUTTON_TYPES as readonly string[]).includes(type)
    ? BUTTONS[type]
    : UnknownTemplateButton;
}

/** Picks the button class for a persistent menu item (web_url or postback only). */
export function menuButton(raw: Record<string, unknown>): Ctor {
  const type = raw.type;
  return typeof type === 'string' && (MENU_BUTTON_TYPES as readonly string[]).includes(type)
    ? BUTTONS[type]
    : UnknownMenuButton;
}
