import { MAX_BODY_DEPTH, tooDeeplyNested } from '../../common/errors/nesting-depth';

// Frame types the gateway handles; anything else is routed to FRAME_UNKNOWN, so it is answered, not dropped.
export const PERSON_FRAME_TYPES = new Set(['ping', 'send', 'watch_inbox', 'unwatch_inbox']);
export const FRAME_UNKNOWN = 'frame:unknown';
export const FRAME_NOT_JSON = 'frame:not-json';
export const FRAME_TOO_DEEP = 'frame:too-deep';
export const MAX_FRAME_DEPTH = MAX_BODY_DEPTH;

// A frame's `ref`, echoed in its answer: a string of at most MAX_REF_LENGTH characters or a number, or nothing.
// Anything else (an object nested 30,000 deep fits in a frame) would be serialised back by the adapter, where it
// overflowed the stack and killed the process; a long string would make every answer as big as the frame.
export const MAX_REF_LENGTH = 256;
export const refOf = (ref: unknown): string | number | null =>
  (typeof ref === 'string' && ref.length <= MAX_REF_LENGTH) || typeof ref === 'number' ? ref : null;

// The person's protocol names a frame's handler by `type` ({"type":"send",…}), where Nest's default expects
// {"event","data"}. Binary frames are ignored (no handler), as before the gateway moved onto Nest.
export function parsePersonFrame(data: unknown): { event: string; data: Record<string, unknown> } | void {
  if (typeof data !== 'string') return;
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch {
    return { event: FRAME_NOT_JSON, data: {} };
  }
  if (!frame || typeof frame !== 'object' || Array.isArray(frame)) return { event: FRAME_UNKNOWN, data: { ref: null } };
  const body = frame as Record<string, unknown>;
  // Nothing we handle nests deeply; a deep frame is answered without being walked again (JSON.parse itself is flat).
  if (tooDeeplyNested(body, MAX_FRAME_DEPTH)) return { event: FRAME_TOO_DEEP, data: { ref: refOf(body.ref) } };
  const type = typeof body.type === 'string' && PERSON_FRAME_TYPES.has(body.type) ? body.type : FRAME_UNKNOWN;
  // An unknown frame is answered with its ref alone: nothing else of it is kept or echoed.
  return { event: type, data: type === FRAME_UNKNOWN ? { ref: refOf(body.ref) } : body };
}
