import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../app.module';
import { AppConfig } from '../config/app-config';
import { loadEnv } from '../config/load-env';
import { buildOpenApiDocument } from './swagger';

// Preview mode builds the module graph without instantiating providers: no database is needed.
export async function generateOpenApiJson(): Promise<string> {
  const env = loadEnv({ SECRETS_KEY: '0'.repeat(64), DATA_DIR: '/nonexistent', NODE_ENV: 'test' });
  const config = new AppConfig(env, 'api');
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ config, databaseUrl: 'postgres://unused@127.0.0.1:1/unused' }),
    new FastifyAdapter(),
    { preview: true, logger: false, abortOnError: false },
  );
  const doc = buildOpenApiDocument(app);
  await app.close();
  return `${JSON.stringify(doc, null, 2)}\n`;
}
