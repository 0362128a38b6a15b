import { CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity('page_admins')
@Index('page_admins_user_idx', ['userId'])
export class PageAdminEntity {
  @PrimaryColumn({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 20 })
  userId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
