import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import * as path from 'node:path';
import { AppConfig } from '../config/app-config';
import { resolveSecretsKey } from '../config/secrets-key';
import { SecretBox } from '../common/crypto/secret-box';
import { MediaObjectEntity } from './entities/media-object.entity';
import { MediaGcProcessor } from './jobs/media-gc.processor';
import { MediaController } from './media.controller';
import { MEDIA_STORAGE, MEDIA_URL_SIGNER, MediaService } from './media.service';
import { MediaUrlSigner } from './media-url-signer';
import { FsMediaStorage, MediaStorage, S3MediaStorage } from './storage';

export function createMediaStorage(config: AppConfig): MediaStorage {
  const { env } = config;
  if (env.MEDIA_STORAGE === 's3') {
    const missing = (['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const).filter((k) => !env[k]);
    if (missing.length) throw new Error(`Invalid configuration: MEDIA_STORAGE=s3 needs ${missing.join(', ')}`);
    return new S3MediaStorage({
      endpoint: env.S3_ENDPOINT!,
      region: env.S3_REGION,
      bucket: env.S3_BUCKET!,
      accessKeyId: env.S3_ACCESS_KEY_ID!,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
      prefix: env.S3_PREFIX,
      timeoutMs: env.S3_TIMEOUT_MS,
      tempDir: path.join(config.dataDir, 'media-tmp'),
    });
  }
  return new FsMediaStorage({ rootDir: env.MEDIA_DIR ?? path.join(config.dataDir, 'media') });
}

function createSigner(config: AppConfig): MediaUrlSigner {
  const { env } = config;
  const secret = env.MEDIA_URL_KEY ? SecretBox.parseKey(env.MEDIA_URL_KEY) : resolveSecretsKey(env.SECRETS_KEY, config.dataDir).key;
  return new MediaUrlSigner(secret, env.MEDIA_URL_TTL_SECONDS);
}

@Module({
  imports: [TypeOrmModule.forFeature([MediaObjectEntity])],
  controllers: [MediaController],
  providers: [
    MediaService,
    MediaGcProcessor,
    { provide: MEDIA_STORAGE, inject: [AppConfig], useFactory: createMediaStorage },
    { provide: MEDIA_URL_SIGNER, inject: [AppConfig], useFactory: createSigner },
  ],
  exports: [MediaService],
})
export class MediaModule {}
