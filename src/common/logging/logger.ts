import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { currentRequestId } from './request-context';

// One pino instance for Fastify's request logs and Nest's own; every line carries the request id when there is one.
export function createRootLogger(level: string, role: string): Logger {
  return pino({
    level,
    base: { role, pid: process.pid },
    mixin: () => {
      const requestId = currentRequestId();
      return requestId ? { requestId } : {};
    },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.query.access_token'], remove: true },
  });
}

export class PinoNestLogger implements LoggerService {
  constructor(private readonly root: Logger) {}
  private child(context?: unknown) {
    return typeof context === 'string' ? this.root.child({ context }) : this.root;
  }
  log(message: unknown, context?: unknown) {
    this.child(context).info(message as string);
  }
  error(message: unknown, trace?: unknown, context?: unknown) {
    this.child(context).error({ trace }, message as string);
  }
  warn(message: unknown, context?: unknown) {
    this.child(context).warn(message as string);
  }
  debug(message: unknown, context?: unknown) {
    this.child(context).debug(message as string);
  }
  verbose(message: unknown, context?: unknown) {
    this.child(context).trace(message as string);
  }
  fatal(message: unknown, context?: unknown) {
    this.child(context).fatal(message as string);
  }
}
