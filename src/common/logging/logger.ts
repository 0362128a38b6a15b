import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

// One pino instance for Fastify's request logs (each carries its reqId) and Nest's own. A route's failure is
// logged under its request id by the exception filter. No AsyncLocalStorage to tag every line: on Node 20 it
// hooks every promise in the process, which cost about 10% of the Send API's CPU (npm run bench:send).
export function createRootLogger(level: string, role: string): Logger {
  return pino({
    level,
    base: { role, pid: process.pid },
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
