import { DynamicModule, Global, Module } from '@nestjs/common';
import { EnvSchema } from './env.schema';
import { AppConfig } from './app-config';

// The validated env, read once in main.ts, is handed in so every module sees the same object.
@Global()
@Module({})
export class ConfigModule {
  static forRoot(env: EnvSchema): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: AppConfig, useValue: new AppConfig(env) }],
      exports: [AppConfig],
    };
  }
}
