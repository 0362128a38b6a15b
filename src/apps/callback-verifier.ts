import { Inject, Injectable } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { GraphErrors } from '../common/errors/graph.exception';
import { AppConfig } from '../config/app-config';
import { SafeHttpClient } from '../../libs/safe-http';
import { WEBHOOK_HTTP } from '../infra/http/outbound-http';

// Graph's handshake: GET callback?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…, expecting the challenge back.
@Injectable()
export class CallbackVerifier {
  constructor(
    private readonly config: AppConfig,
    @Inject(WEBHOOK_HTTP) private readonly http: SafeHttpClient,
  ) {}

  async verify(callbackUrl: string, verifyToken: string): Promise<void> {
    const checked = await this.http.assertSafeUrl(callbackUrl);
    if (!checked.ok) {
      throw GraphErrors.webhookVerification(`(#2200) Callback verification failed: ${checked.message} (${checked.reason})`);
    }
    const challenge = String(randomInt(1_000_000_000, 2_147_483_647));
    const url = new URL(callbackUrl);
    url.searchParams.set('hub.mode', 'subscribe');
    url.searchParams.set('hub.verify_token', verifyToken);
    url.searchParams.set('hub.challenge', challenge);
    let status: number;
    let body: string;
    try {
      const res = await this.http.request({
        method: 'GET',
        url: url.toString(),
        timeoutMs: this.config.env.WEBHOOK_VERIFY_TIMEOUT_MS,
        maxResponseBytes: 1024,
      });
      status = res.status;
      body = res.body.toString('utf8').trim();
    } catch (err) {
      throw GraphErrors.webhookVerification(
        `(#2200) Callback verification failed: could not reach the callback URL (${(err as Error).message})`,
      );
    }
    if (status !== 200) {
      throw GraphErrors.webhookVerification(
        `(#2200) Callback verification failed: the URL answered HTTP ${status}; expected 200 with the challenge`,
      );
    }
    if (body !== challenge) {
      throw GraphErrors.webhookVerification(
        "(#2200) Callback verification failed: the response didn't match the challenge",
      );
    }
  }
}
