import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { AuthService } from '../auth/auth.service';
import { AppException, conflict, unauthorized, notFound } from '../common/errors/app.exception';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../common/crypto/passwords';
import { numericId } from '../common/crypto/tokens';
import { AppConfig } from '../config/app-config';
import { isUniqueViolation } from '../database/pg-errors';
import { RATE_LIMITER, RateLimiterPort } from '../infra/rate-limit/rate-limiter.port';
import { UserEntity } from './entities/user.entity';

@Injectable()
export class AccountsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly auth: AuthService,
    private readonly config: AppConfig,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiterPort,
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
    const lower = username.toLowerCase();
    // Every attempt on a username spends its bucket, before the password is checked: guessing is bounded (and so is
    // the hashing it costs), whoever guesses, and a username no one has is limited alike.
    const env = this.config.env;
    const bucket = await this.limiter.consume(`login:${lower}`, {
      capacity: env.LOGIN_ATTEMPTS_BURST,
      refillPerSecond: env.LOGIN_ATTEMPTS_PER_MINUTE / 60,
    });
    if (!bucket.allowed) {
      throw new AppException(HttpStatus.TOO_MANY_REQUESTS, 'AUTH.LOGIN_RATE_LIMITED', 'Too many login attempts for this username: try again later', undefined, {
        'retry-after': String(Math.max(1, Math.ceil(bucket.retryAfterMs / 1000))),
      });
    }
    const user = await this.users.findOneBy({ username: lower });
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
