import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthService } from './auth.service';
import { AccessTokenEntity } from './entities/access-token.entity';
import { AppSecretEntity } from './entities/app-secret.entity';
import { AdminGuard, GraphGuard, PersonGuard } from './guards/auth.guards';

@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AccessTokenEntity, AppSecretEntity])],
  providers: [AuthService, PersonGuard, GraphGuard, AdminGuard],
  exports: [AuthService, PersonGuard, GraphGuard, AdminGuard],
})
export class AuthModule {}
