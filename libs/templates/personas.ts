// The body of `POST /v{ver}/me/personas` (Messenger's Personas API).
import { GRAPH_TRANSPORT_PARAMS } from './constants';
import { Field, KnownFields, httpUrl, maxChars, nonEmpty, required, string } from './rules';
import { runSchema } from './schema';
import type { ValidationResult } from './types';

export const PERSONA_NAME_MAX_CHARS = 200;

export interface PersonaRequest {
  name: string;
  profile_picture_url: string;
}

const notBlank = (v: unknown) => (typeof v === 'string' && !/\S/.test(v) ? 'must not be blank' : undefined);

export class PersonaDto implements PersonaRequest {
  @KnownFields(['name', 'profile_picture_url'], { allowed: GRAPH_TRANSPORT_PARAMS }) $fields?: string[];
  @Field(required, string, nonEmpty, notBlank, maxChars(PERSONA_NAME_MAX_CHARS)) name: string;
  @Field(required, string, httpUrl) profile_picture_url: string;
}

/** Validates a persona as Graph would: the first failing param as error 100. */
export function validatePersona(body: unknown): ValidationResult<PersonaRequest> {
  return runSchema<PersonaRequest>(PersonaDto, body, []);
}
