import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity('apps')
export class AppEntity {
  @PrimaryColumn({ type: 'varchar', length: 20 })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Index('apps_owner_idx')
  @Column({ name: 'owner_id', type: 'varchar', length: 20 })
  ownerId: string;

  // When set, every Graph call with this app's tokens must carry appsecret_proof.
  @Column({ name: 'require_appsecret_proof', type: 'boolean', default: false })
  requireAppsecretProof: boolean;

  // An internal app whose deliveries a hosted script runs (src/sandbox), not an HTTP callback.
  @Column({ type: 'boolean', default: false })
  hosted: boolean;

  @Column({ name: 'suspended_at', type: 'timestamptz', nullable: true })
  suspendedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
