// Every queue the platform uses, with its payload. Payloads carry ids only: Postgres holds the truth.
export interface JobPayloads {
  // One delivery (a retry batch, or a backstop), or an app's wake-up after new events (QueuePort.trigger).
  'webhook-delivery': { deliveryId: string } | { appId: string };
  // A delivery whose target is a hosted script (src/sandbox).
  'script-invocation': { deliveryId: string };
}

export type JobName = keyof JobPayloads;

export const JOB_NAMES: JobName[] = ['webhook-delivery', 'script-invocation'];
