import type { EnvSchema } from '../config/env.schema';
import type { RateLimiterPort } from '../infra/rate-limit/rate-limiter.port';
import { SendApiErrors } from './send-api.errors';

// One Graph call that makes the platform write for a Page (a send, a handover notice, an unlink) spends a token of
// the Page's Send API bucket, and of the calling app's: refused with Graph's rate-limit error when either is empty.
export async function spendSendBudget(limiter: RateLimiterPort, env: EnvSchema, pageId: string, appId: string | null): Promise<void> {
  const pageRate = env.SEND_RATE_PER_PAGE_PER_SECOND;
  const appRate = env.SEND_RATE_PER_APP_PER_SECOND;
  const page = { key: `send:page:${pageId}`, spec: { capacity: pageRate, refillPerSecond: pageRate } };
  const buckets = appId ? [page, { key: `send:app:${appId}`, spec: { capacity: appRate, refillPerSecond: appRate } }] : [page];
  const [pageResult, app] = await limiter.consumeEach(buckets);
  if (app && !app.allowed) throw SendApiErrors.appRateLimited(app.retryAfterMs);
  if (!pageResult.allowed) throw SendApiErrors.pageRateLimited(pageResult.retryAfterMs);
}
