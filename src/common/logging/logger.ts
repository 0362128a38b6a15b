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
    // Request lines (debug and trace) carry the URL, query string included: its secrets are masked there too.
    // The shape is Fastify's own request serializer's, which this one replaces.
    serializers: {
      req: (req: { method?: unknown; url?: unknown; host?: unknown; hostname?: unknown; ip?: unknown; socket?: { remotePort?: unknown } }) =>
        req && typeof req === 'object'
          ? {
              method: req.method,
              url: typeof req.url === 'string' ? maskUrlSecrets(req.url) : undefined,
              host: req.host ?? req.hostname,
              remoteAddress: req.ip,
              remotePort: req.socket?.remotePort,
            }
          : req,
    },
  });
}

// Query parameters that carry a credential: a token, an app secret, a proof, a signature, account linking's token
// and the business's authorization code (the login page's return carries both in its URL).
const SECRET_PARAMS = /([?&](?:access_token|client_secret|appsecret_proof|sig|hub\.verify_token|account_linking_token|authorization_code)=)[^&#]*/gi;

export function maskUrlSecrets(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[redacted]');
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
