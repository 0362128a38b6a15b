import { GraphErrors } from '../common/errors/graph.exception';

// The webhook fields Messenger defines for `object=page` (shared/reference/messenger-platform.md §1).
export const MESSENGER_FIELDS = [
  'messages',
  'messaging_postbacks',
  'message_deliveries',
  'message_reads',
  'message_echoes',
  'message_edits',
  'message_reactions',
  'messaging_optins',
  'messaging_referrals',
  'messaging_handovers',
  'standby',
  'messaging_account_linking',
  'messaging_policy_enforcement',
  'messaging_feedback',
  'messaging_game_plays',
  'messenger_template_status_update',
  'response_feedback',
  'send_cart',
] as const;

export type MessengerField = (typeof MESSENGER_FIELDS)[number];

const KNOWN = new Set<string>(MESSENGER_FIELDS);

export function isMessengerField(name: string): name is MessengerField {
  return KNOWN.has(name);
}

// Graph takes lists as `a,b,c` or as a JSON array; both arrive here as one value.
export function parseFieldList(value: unknown): string[] | null {
  if (Array.isArray(value)) return value.every((v) => typeof v === 'string') ? value.map((v) => v.trim()) : null;
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  if (trimmed.startsWith('[')) {
    try {
      return parseFieldList(JSON.parse(trimmed));
    } catch {
      return null;
    }
  }
  return trimmed
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

// First unknown field name, for Graph's (#100) message.
export function firstUnknownField(fields: string[]): { index: number; name: string } | null {
  const index = fields.findIndex((f) => !isMessengerField(f));
  return index < 0 ? null : { index, name: fields[index] };
}

// A Graph field-list parameter, checked: Graph's (#100) error names the first unknown entry.
export function requireMessengerFields(value: unknown, param: string): MessengerField[] {
  const fields = parseFieldList(value);
  if (!fields || !fields.length) throw GraphErrors.invalidParameter(`(#100) The parameter ${param} is required`);
  const unknown = firstUnknownField(fields);
  if (unknown) {
    throw GraphErrors.invalidParameter(
      `(#100) Param ${param}[${unknown.index}] must be one of {${MESSENGER_FIELDS.join(', ')}} - got "${unknown.name}"`,
    );
  }
  return [...new Set(fields)] as MessengerField[];
}
