import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';

// Facebook's PHP SDK sends a multipart call's access_token and appsecret_proof as fields, before the file
// (RequestBodyMultipart writes every param, then the files). The Graph guard reads those leading fields before it
// knows who calls; the handler's parts are then those fields again, the held file part, and the rest of the body.
interface MultipartLead {
  fields: Record<string, string>;
  read: Multipart[];
  rest: AsyncIterator<Multipart>;
  done: boolean;
  error?: unknown;
}

const LEAD = Symbol('multipartLead');
type WithLead = FastifyRequest & { [LEAD]?: MultipartLead };

// The fields before the first file (the first value of a repeated name). A body busboy refuses ends the read; its
// error is thrown to the handler, where the parts are read, not to the guard.
export async function readMultipartLead(req: FastifyRequest): Promise<Record<string, string>> {
  const own = req as WithLead;
  if (own[LEAD]) return own[LEAD].fields;
  const lead: MultipartLead = { fields: {}, read: [], rest: req.parts()[Symbol.asyncIterator](), done: false };
  own[LEAD] = lead;
  try {
    for (;;) {
      const next = await lead.rest.next();
      if (next.done) {
        lead.done = true;
        break;
      }
      lead.read.push(next.value);
      if (next.value.type === 'file') break;
      if (typeof next.value.value === 'string' && !Object.hasOwn(lead.fields, next.value.fieldname)) {
        Object.defineProperty(lead.fields, next.value.fieldname, { value: next.value.value, enumerable: true });
      }
    }
  } catch (err) {
    lead.error = err;
    lead.done = true;
  }
  return lead.fields;
}

// The leading fields, if the guard read them.
export function multipartLeadFields(req: FastifyRequest): Record<string, string> | undefined {
  return (req as WithLead)[LEAD]?.fields;
}

// Every part of a multipart body, whether or not the guard read its lead. Use this, never req.parts(): the body's
// iterator can be made only once.
export async function* multipartParts(req: FastifyRequest): AsyncGenerator<Multipart> {
  const lead = (req as WithLead)[LEAD];
  if (!lead) {
    yield* req.parts();
    return;
  }
  yield* lead.read;
  if (lead.error) throw lead.error;
  if (lead.done) return;
  for (;;) {
    const next = await lead.rest.next();
    if (next.done) return;
    yield next.value;
  }
}

// Once the answer is sent: a file the guard held and no handler read (a call refused before its handler ran) is let
// through, so busboy reads the body to its end and the connection is reused, not stalled behind a paused stream.
export function releaseMultipartLead(req: FastifyRequest): void {
  for (const part of (req as WithLead)[LEAD]?.read ?? []) if (part.type === 'file') part.file.resume();
}
