// The body of `POST` and `DELETE /v{ver}/me/messenger_profile` (reference §4).
import { menuButton } from './buttons';
import {
  GRAPH_TRANSPORT_PARAMS,
  LIMITS,
  MESSENGER_PROFILE_FIELDS,
  MessengerProfileField,
  NEVER_SET_MESSENGER_PROFILE_FIELDS,
  UNSUPPORTED_MESSENGER_PROFILE_FIELDS,
} from './constants';
import {
  array,
  boolean,
  Check,
  Coerce,
  Ctor,
  each,
  Field,
  httpsDomainUrl,
  items,
  KnownFields,
  locale,
  maxChars,
  Nested,
  NestedArray,
  nonEmpty,
  oneOf,
  optional,
  required,
  Shape,
  string,
  toBooleanish,
  toStringish,
} from './rules';
import { runSchema } from './schema';
import type {
  Greeting,
  IceBreaker,
  LocalizedIceBreakers,
  MenuButton,
  MessengerProfileDelete,
  MessengerProfileSettings,
  PersistentMenu,
  ValidationResult,
} from './types';

const payload = [required, string, nonEmpty, maxChars(LIMITS.payload)];

export class GetStartedDto {
  @Coerce(toStringish) @Field(...payload) payload: string;
}

// {{user_first_name}}, {{user_last_name}} and {{user_full_name}} are left in the text; the renderer fills them.
export class GreetingDto implements Greeting {
  @Field(required, locale) locale: string;
  @Field(required, string, nonEmpty, maxChars(LIMITS.greetingText)) text: string;
}

export class IceBreakerDto implements IceBreaker {
  @Field(required, string, nonEmpty, maxChars(LIMITS.iceBreakerQuestion)) question: string;
  @Coerce(toStringish) @Field(...payload) payload: string;
}

export class LocalizedIceBreakersDto implements Omit<LocalizedIceBreakers, 'call_to_actions'> {
  @Field(required, locale) locale: string;
  @NestedArray(() => IceBreakerDto, required, items(1, LIMITS.iceBreakers)) call_to_actions: IceBreakerDto[];
}

export class PersistentMenuDto implements Omit<PersistentMenu, 'call_to_actions'> {
  @Field(required, locale) locale: string;
  @Coerce(toBooleanish) @Field(optional, boolean) composer_input_disabled?: boolean;
  @NestedArray(menuButton, required, items(1, LIMITS.persistentMenuItems)) call_to_actions: MenuButton[];
}

// Ice breakers come either as questions (the first form) or per locale ({locale, call_to_actions}).
const iceBreakerForm = (raw: Record<string, unknown>): Ctor =>
  'call_to_actions' in raw || 'locale' in raw ? LocalizedIceBreakersDto : IceBreakerDto;

const iceBreakerItems: Check = (v: unknown[]) => {
  const localized = v.filter((x) => x instanceof LocalizedIceBreakersDto).length;
  const questions = v.filter((x) => x instanceof IceBreakerDto).length;
  if (localized > 0 && questions > 0)
    return 'must not mix questions with the per-locale form {locale, call_to_actions}';
  if (localized === 0 && v.length > LIMITS.iceBreakers) return `must have at most ${LIMITS.iceBreakers} items`;
  return undefined;
};

// Per-locale lists need a `default` entry and no locale twice; runs after the items are valid.
function locales(field: 'greeting' | 'ice_breakers' | 'persistent_menu'): PropertyDecorator {
  return Shape((profile: Record<string, unknown>) => {
    const list = profile[field];
    if (!Array.isArray(list) || (field === 'ice_breakers' && !(list[0] instanceof LocalizedIceBreakersDto)))
      return undefined;
    const seen = new Set<unknown>();
    for (let i = 0; i < list.length; i++) {
      const value = (list[i] as { locale?: unknown }).locale;
      if (seen.has(value)) return { phrase: `must not repeat locale ${String(value)}`, sub: [field, i, 'locale'] };
      seen.add(value);
    }
    return seen.has('default') ? undefined : { phrase: 'must include an item with locale default', sub: [field] };
  });
}

export interface MessengerProfileOptions {
  /** The Page already has a get_started button stored (persistent_menu requires one). */
  getStartedExists?: boolean;
}

const unsupported = Object.fromEntries(
  UNSUPPORTED_MESSENGER_PROFILE_FIELDS.map((f) => [f, 'is not supported by Switchboard']),
);

export class MessengerProfileDto {
  $context?: MessengerProfileOptions;
  @KnownFields(MESSENGER_PROFILE_FIELDS, { allowed: GRAPH_TRANSPORT_PARAMS, unsupported }) $fields?: string[];
  @Shape((p: Record<string, unknown>) =>
    MESSENGER_PROFILE_FIELDS.some((f) => p[f] !== undefined)
      ? undefined
      : `must set at least one of [${MESSENGER_PROFILE_FIELDS.join(', ')}]`,
  )
  $any?: never;
  @Nested(() => GetStartedDto, optional) get_started?: GetStartedDto;
  @NestedArray(() => GreetingDto, optional, items(1, Infinity)) greeting?: GreetingDto[];
  @locales('greeting') $greeting?: never;
  @NestedArray(iceBreakerForm, optional, items(1, Infinity), iceBreakerItems) ice_breakers?: (
    IceBreakerDto | LocalizedIceBreakersDto
  )[];
  @locales('ice_breakers') $iceBreakers?: never;
  @NestedArray(
    () => PersistentMenuDto,
    optional,
    (_, p: MessengerProfileDto) =>
      p.get_started === undefined && !p.$context?.getStartedExists
        ? 'requires get_started to be set (in this request or already on the Page)'
        : undefined,
    items(1, Infinity),
  )
  persistent_menu?: PersistentMenuDto[];
  @locales('persistent_menu') $persistentMenu?: never;
  @Field(optional, array, items(1, LIMITS.whitelistedDomains), each(string, httpsDomainUrl))
  whitelisted_domains?: string[];
}

/**
 * Validates a Messenger Profile body (`POST /me/messenger_profile`) as Graph would.
 * persistent_menu needs get_started: in the same body, or say it is stored with `getStartedExists`.
 * Ice breakers are normalized to the per-locale form.
 */
export function validateMessengerProfile(
  body: unknown,
  options: MessengerProfileOptions = {},
): ValidationResult<MessengerProfileSettings> {
  const result = runSchema<MessengerProfileSettings & { ice_breakers?: (IceBreaker | LocalizedIceBreakers)[] }>(
    MessengerProfileDto,
    body,
    [],
    (profile: MessengerProfileDto) => (profile.$context = options),
  );
  if (!result.ok) return result;
  const iceBreakers = result.value.ice_breakers;
  if (iceBreakers && !('call_to_actions' in iceBreakers[0])) {
    result.value.ice_breakers = [{ locale: 'default', call_to_actions: iceBreakers as IceBreaker[] }];
  }
  return result as ValidationResult<MessengerProfileSettings>;
}

export class MessengerProfileDeleteDto {
  @KnownFields(['fields'], { allowed: GRAPH_TRANSPORT_PARAMS }) $fields?: string[];
  // Graph also takes a comma-separated list: fields=get_started,greeting
  @Coerce((v) => (typeof v === 'string' ? v.split(',').map((f) => f.trim()) : v))
  @Field(
    required,
    array,
    items(1, Infinity),
    each(string, oneOf([...MESSENGER_PROFILE_FIELDS, ...NEVER_SET_MESSENGER_PROFILE_FIELDS])),
  )
  fields: string[];
}

/**
 * Validates a Messenger Profile delete body (`DELETE /me/messenger_profile` with `fields`). Graph's properties that are
 * never set here are accepted and left out of `fields` (there is nothing to remove).
 */
export function validateMessengerProfileDelete(body: unknown): ValidationResult<MessengerProfileDelete> {
  const result = runSchema<{ fields: string[] }>(MessengerProfileDeleteDto, body, []);
  if (!result.ok) return result;
  const stored = MESSENGER_PROFILE_FIELDS as readonly string[];
  return { ok: true, value: { fields: [...new Set(result.value.fields)].filter((f): f is MessengerProfileField => stored.includes(f)) } };
}

/** A normalized `POST /me/custom_user_settings` body: one person's own persistent menu. */
export interface CustomUserSettings {
  psid: string;
  persistent_menu: PersistentMenu[];
}

export class CustomUserSettingsDto {
  $context?: MessengerProfileOptions;
  @KnownFields(['psid', 'persistent_menu'], { allowed: GRAPH_TRANSPORT_PARAMS }) $fields?: string[];
  @Coerce(toStringish) @Field(required, string, nonEmpty) psid: string;
  @NestedArray(
    () => PersistentMenuDto,
    required,
    (_, p: CustomUserSettingsDto) =>
      p.$context?.getStartedExists ? undefined : 'requires the Page to have get_started set (POST /me/messenger_profile)',
    items(1, Infinity),
  )
  persistent_menu: PersistentMenuDto[];
  @locales('persistent_menu') $persistentMenu?: never;
}

/**
 * Validates a user-level persistent menu (`POST /me/custom_user_settings`) as Graph would: the Page's menu rules,
 * and the Page must have get_started (say so with `getStartedExists`).
 */
export function validateCustomUserSettings(body: unknown, options: MessengerProfileOptions = {}): ValidationResult<CustomUserSettings> {
  return runSchema<CustomUserSettings>(CustomUserSettingsDto, body, [], (dto: CustomUserSettingsDto) => (dto.$context = options));
}
