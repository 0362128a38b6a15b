// Frame types the gateway handles; anything else is routed to FRAME_UNKNOWN, so it is answered, not dropped.
export const PERSON_FRAME_TYPES = new Set(['ping', 'send']);
export const FRAME_UNKNOWN = 'frame:unknown';
export const FRAME_NOT_JSON = 'frame:not-json';

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
  if (!frame || typeof frame !== 'object' || Array.isArray(frame)) return { event: FRAME_UNKNOWN, data: {} };
  const body = frame as Record<string, unknown>;
  const type = typeof body.type === 'string' && PERSON_FRAME_TYPES.has(body.type) ? body.type : FRAME_UNKNOWN;
  return { event: type, data: body };
}
