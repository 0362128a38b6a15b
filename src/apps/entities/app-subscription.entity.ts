import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export interface SubscribedField {
  name: string;
  version: string;
}

// Where an app's webhooks go, per Graph object (only `page` today), verified by the hub.challenge handshake.
@Entity('app_subscriptions')
export class AppSubscriptionEntity {
  @PrimaryColumn({ name: 'app_id', type: 'varchar', length: 20 })
  appId: string;

  @PrimaryColumn({ type: 'varchar', length: 32 })
  object: string;

  @Column({ name: 'callback_url', type: 'text' })
  callbackUrl: string;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  fields: SubscribedField[];

  @Column({ type: 'boolean', default: true })
  active: boolean;

  // Why it was switched off (e.g. the callback answered 410 Gone); events are kept meanwhile.
  @Column({ name: 'inactive_reason', type: 'text', nullable: true })
  inactiveReason: string | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
