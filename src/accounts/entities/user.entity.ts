import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity('users')
// The Page Inbox's name search (lower(name) LIKE '%…%', src/messaging pageThreads): a pg_trgm GIN index on
// lower(name), which TypeORM cannot describe; the PersonNameSearch migration builds it, synchronize false keeps it.
@Index('users_name_trgm_idx', { synchronize: false })
export class UserEntity {
  @PrimaryColumn({ type: 'varchar', length: 20 })
  id: string;

  // Stored lower-cased: usernames are unique regardless of case.
  @Column({ type: 'varchar', length: 32, unique: true })
  username: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
