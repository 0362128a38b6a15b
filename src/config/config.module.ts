import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';

// The validated env, read once in main.ts, is handed in so every module sees the same object.
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: AppConfig, useValue: config }],
      exports: [AppConfig],
    };
  }
}
