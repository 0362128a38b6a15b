// What busboy (under @fastify/multipart) throws for a body that is not well-formed multipart/form-data: a boundary
// missing, empty or over its 256 characters, or the body ending before its closing boundary (a client that gave
// up mid-upload). The client's fault, so a 400; anything else keeps its own meaning.
const MALFORMED = [
  /^Multipart: Boundary not found$/,
  /^Boundary required$/,
  /^The needle cannot (be an empty|have a length bigger)/,
  /unexpected end of multipart data$/i,
];

export function malformedMultipartReason(err: unknown): string | null {
  const message = (err as { message?: unknown })?.message;
  if (typeof message !== 'string') return null;
  if (!MALFORMED.some((re) => re.test(message))) return null;
  return /needle/.test(message) ? 'the boundary must be 1 to 256 characters' : message.replace(/^Multipart: /, '').toLowerCase();
}
