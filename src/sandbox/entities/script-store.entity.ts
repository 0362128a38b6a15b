import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

// ctx.store: JSON values per Page, bounded by SCRIPT_STORE_QUOTA_BYTES (key + value bytes).
@Entity('script_store')
export class ScriptStoreEntity {
  @PrimaryColumn({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @PrimaryColumn({ type: 'varchar', length: 256 })
  key: string;

  @Column({ type: 'jsonb' })
  value: unknown;

  @Column({ type: 'int' })
  bytes: number;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
