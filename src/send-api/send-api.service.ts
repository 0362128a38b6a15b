import { Injectable } from '@nestjs/common';
import { parseGraphParams, validateSendRequest } from '../../libs/templates';
import type { PagePrincipal } from '../auth/principal';
import { MessagingService } from '../messaging/messaging.service';
import { SendApiErrors } from './send-api.errors';

export type SendResult = { recipient_id: string; message_id?: string };

@Injectable()
export class SendApiService {
  constructor(private readonly messaging: MessagingService) {}

  async send(who: PagePrincipal, query: Record<string, unknown>, body: unknown): Promise<SendResult> {
    const params = mergeParams(query, body);
    const parsed = parseGraphParams(params);
    if (!parsed.ok) throw SendApiErrors.invalid(parsed.error.message);
    const valid = validateSendRequest(parsed.value);
    if (!valid.ok) throw SendApiErrors.invalid(valid.error.message);
    const req = valid.value;

    const thread = await this.messaging.findThreadByPsid(who.pageId, req.recipient.id);
    if (!thread) throw SendApiErrors.noMatchingUser();

    if (req.sender_action) {
      if (req.sender_action === 'mark_seen') await this.messaging.pageMarkSeen(thread);
      else await this.messaging.pageTyping(thread, req.sender_action === 'typing_on');
      // Graph answers a sender action with the recipient only.
      return { recipient_id: thread.psid };
    }
    const sent = await this.messaging.sendPageMessage(thread, who.appId, req.message!);
    return { recipient_id: thread.psid, message_id: sent.mid };
  }
}

// Body params win over query params; a body that is not an object is left for the validator to name.
function mergeParams(query: Record<string, unknown>, body: unknown): unknown {
  const q = query && typeof query === 'object' ? query : {};
  if (body === undefined || body === null || body === '') return { ...q };
  if (typeof body !== 'object' || Array.isArray(body)) return body;
  return { ...q, ...(body as Record<string, unknown>) };
}
