import { randomBytes } from 'node:crypto';
import { parseGraphParams, validateSendRequest } from '../../libs/templates';
import type { FetchRequest, FetchResponse, HandoverCall, HostBridge, HostResult } from './runtime';
import { unstorableStoreEntry } from './script-host-bridge';

// A send, a handover call ({handover: {action, recipient, …}}, result {success: true}) or an unlink
// ({unlink_account: {psid}}, result {result: 'unlink account success'}), as the script made it.
export interface DrySend {
  message: unknown;
  result: { recipient_id?: string; message_id?: string } | { success: true } | { result: string } | null;
  error: string | null;
}

interface Session {
  sends: DrySend[];
  // Writes of this run, over the real store (read-through): nothing is persisted.
  overlay: Map<string, unknown>;
}

// ctx for a dry run: sends are validated by the Send API's schemas and recorded with fake message ids, never
// delivered; store writes stay in memory; fetch goes to the live bridge's policy (it sends nothing to the person).
export class DryRunBridge implements HostBridge {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly live: Pick<HostBridge, 'storeGet' | 'fetch' | 'handover'>) {}

  begin(pageId: string): Session {
    const s: Session = { sends: [], overlay: new Map() };
    this.sessions.set(pageId, s);
    return s;
  }

  end(pageId: string): void {
    this.sessions.delete(pageId);
  }

  private session(pageId: string): Session | undefined {
    return this.sessions.get(pageId);
  }

  async send(pageId: string, message: unknown): Promise<HostResult<unknown>> {
    const s = this.session(pageId);
    if (!s) return { ok: false, error: { code: 'send_failed', message: 'no dry run in progress' } };
    // As the live send reads it (parseGraphParams refuses text Postgres can't store), so a test run takes the same path.
    const parsed = parseGraphParams(message);
    const valid = parsed.ok ? validateSendRequest(parsed.value) : parsed;
    if (!valid.ok) {
      const error = `(#100) ${valid.error.message}`;
      s.sends.push({ message, result: null, error });
      return { ok: false, error: { code: 'send_failed', message: error } };
    }
    const result = {
      recipient_id: valid.value.recipient.id,
      ...(valid.value.sender_action ? {} : { message_id: `m_dryrun_${randomBytes(9).toString('base64url')}` }),
    };
    s.sends.push({ message, result, error: null });
    return { ok: true, result };
  }

  // Control changes are recorded beside the sends, not made; reading the thread's owner is real (it changes nothing).
  async handover(pageId: string, call: HandoverCall): Promise<HostResult<unknown>> {
    if (call.action === 'owner') return this.live.handover(pageId, call);
    const s = this.session(pageId);
    if (!s) return { ok: false, error: { code: 'handover_failed', message: 'no dry run in progress' } };
    const result = { success: true as const };
    s.sends.push({ message: { handover: call }, result, error: null });
    return { ok: true, result };
  }

  // Recorded beside the sends, not made: nobody is unlinked, no bot told.
  async unlinkAccount(pageId: string, psid: string): Promise<HostResult<unknown>> {
    const s = this.session(pageId);
    if (!s) return { ok: false, error: { code: 'unlink_failed', message: 'no dry run in progress' } };
    const result = { result: 'unlink account success' };
    s.sends.push({ message: { unlink_account: { psid } }, result, error: null });
    return { ok: true, result };
  }

  async storeGet(pageId: string, key: string): Promise<HostResult<unknown>> {
    const s = this.session(pageId);
    if (s?.overlay.has(key)) return { ok: true, result: s.overlay.get(key) ?? null };
    return this.live.storeGet(pageId, key);
  }

  async storeSet(pageId: string, key: string, value: unknown): Promise<HostResult<unknown>> {
    const refused = unstorableStoreEntry(key, value);
    if (refused) return refused;
    this.session(pageId)?.overlay.set(key, value ?? null);
    return { ok: true, result: null };
  }

  async storeDelete(pageId: string, key: string): Promise<HostResult<unknown>> {
    this.session(pageId)?.overlay.set(key, null);
    return { ok: true, result: null };
  }

  fetch(pageId: string, allowedHosts: readonly string[], req: FetchRequest): Promise<HostResult<FetchResponse>> {
    return this.live.fetch(pageId, allowedHosts, req);
  }
}
