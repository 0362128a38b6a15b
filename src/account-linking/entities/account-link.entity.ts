import { Column, Entity, PrimaryColumn } from 'typeorm';

// A thread whose person linked their account with the business (Messenger's account linking); unlinking deletes it.
@Entity('account_links')
export class AccountLinkEntity {
  @PrimaryColumn({ name: 'thread_id', type: 'varchar', length: 20 })
  threadId: string;

  // Epoch ms.
  @Column({ name: 'linked_at', type: 'bigint' })
  linkedAt: string;
}
