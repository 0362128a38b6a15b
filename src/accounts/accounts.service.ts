import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { AuthService } from '../auth/auth.service';
import { conflict, unauthorized, notFound } from '../common/errors/app.exception';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../common/crypto/passwords';
import { numericId } from '../common/crypto/tokens';
import { isUniqueViolation } from '../database/pg-errors';
import { UserEntity } from './entities/user.entity';

@Injectable()
export class AccountsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly auth: AuthService,
  ) {}

  async signup(username: string, password: string, name: string) {
    const passwordHash = await hashPassword(password);
    const lower = username.toLowerCase();
    try {
      return await this.db.transaction(async (m) => {
        const user = m.create(UserEntity, { id: numericId(), username: lower, passwordHash, name });
        await m.insert(UserEntity, user);
        const accessToken = await this.auth.issuePersonToken(user.id, m);
        return { id: user.id, username: user.username, name: user.name, access_token: accessToken };
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('ACCOUNT.USERNAME_TAKEN', `The username ${lower} is taken`);
      throw err;
    }
  }

  async login(username: string, password: string) {
    const user = await this.users.findOneBy({ username: username.toLowerCase() });
    // Spend the same work whether or not the user exists.
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!user || !ok) throw unauthorized('Wrong username or password');
    return { access_token: await this.auth.issuePersonToken(user.id) };
  }

  async findById(id: string): Promise<UserEntity> {
    const user = await this.users.findOneBy({ id });
    if (!user) throw notFound('ACCOUNT.NOT_FOUND', 'No such person');
    return user;
  }

  async findManyByIds(ids: string[]): Promise<UserEntity[]> {
    if (!ids.length) return [];
    return this.users.createQueryBuilder('u').where('u.id IN (:...ids)', { ids }).getMany();
  }
}
