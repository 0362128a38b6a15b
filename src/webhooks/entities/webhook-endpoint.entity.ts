import { Column, Entity, PrimaryColumn } from 'typeorm';

// Delivery health of one app's callback: drives the warning, the pause, the probe and the slow-start ramp.
@Entity('webhook_endpoints')
export class WebhookEndpointEntity {
  @PrimaryColumn({ name: 'app_id', type: 'varchar', length: 20 })
  appId: string;

  // Start of the current run of failures; any success clears it.
  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince: Date | null;

  @Column({ name: 'warned_at', type: 'timestamptz', nullable: true })
  warnedAt: Date | null;

  // While set nothing is sent except a periodic probe; every event stays pending.
  @Column({ name: 'paused_at', type: 'timestamptz', nullable: true })
  pausedAt: Date | null;

  @Column({ name: 'pause_reason', type: 'text', nullable: true })
  pauseReason: string | null;

  @Column({ name: 'last_probe_at', type: 'timestamptz', nullable: true })
  lastProbeAt: Date | null;

  // Slow start after a resume: requests in flight allowed now (doubles on success); null = the full cap.
  @Column({ name: 'ramp_limit', type: 'int', nullable: true })
  rampLimit: number | null;

  @Column({ name: 'last_success_at', type: 'timestamptz', nullable: true })
  lastSuccessAt: Date | null;

  @Column({ name: 'last_error_at', type: 'timestamptz', nullable: true })
  lastErrorAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;
}
