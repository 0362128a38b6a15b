import multipart from '@fastify/multipart';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fastifyStatic from '@fastify/static';
import { LogController, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { Logger as Pino } from 'pino';
import { AppModule } from '../app.module';
import { AllExceptionsFilter } from '../common/errors/all-exceptions.filter';
import { createValidationPipe } from '../common/errors/validation';
import { formDeclaredAsJson, suppressesHttpCode } from '../common/http/graph-params';
import { isGraphPath, withGraphVersion } from '../common/http/graph-route';
import { releaseMultipartLead } from '../common/http/multipart-lead';
import { PinoNestLogger } from '../common/logging/logger';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../health/metrics.service';
import { PersonSocketAdapter } from '../messaging/realtime/person-socket.adapter';
import { WsGateway } from '../messaging/realtime/ws.gateway';
import { setupSwagger } from './swagger';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export interface HttpAppOptions {
  config: AppConfig;
  databaseUrl: string;
  logger: Pino;
}

export function createFastifyAdapter(config: AppConfig, logger: Pino): FastifyAdapter {
  const { env } = config;
  const https =
    env.TLS_CERT_FILE && env.TLS_KEY_FILE
      ? { cert: fs.readFileSync(env.TLS_CERT_FILE), key: fs.readFileSync(env.TLS_KEY_FILE) }
      : undefined;
  return new FastifyAdapter({
    loggerInstance: logger,
    // Per-request log lines only at debug and trace.
    logController: new LogController({ disableRequestLogging: env.LOG_LEVEL !== 'debug' && env.LOG_LEVEL !== 'trace' }),
    bodyLimit: env.BODY_LIMIT_BYTES,
    // Graph calls without a version run as the default one, as on Graph.
    rewriteUrl: (req: { url?: string; method?: string }) => withGraphVersion(req.url ?? '/', req.method),
    // A caller's id is kept only when it is short and plain, so it cannot forge log lines.
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ...(https ? { https } : {}),
  } as ConstructorParameters<typeof FastifyAdapter>[0]) as FastifyAdapter;
}

export async function createHttpApp(opts: HttpAppOptions): Promise<NestFastifyApplication> {
  const { config, databaseUrl, logger } = opts;
  const adapter = createFastifyAdapter(config, logger);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ config, databaseUrl }), adapter, {
    rawBody: true,
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  configureHttpApp(app, config);
  await app.init();
  return app;
}

export function configureHttpApp(app: NestFastifyApplication, config: AppConfig): void {
  const fastify = app.getHttpAdapter().getInstance();
  const metrics = app.get(MetricsService);
  const tls = Boolean(config.env.TLS_CERT_FILE);
  // Uploads (src/media) stream through req.file(); one byte past the cap lets the media pipeline answer 413.
  void fastify.register(multipart, {
    limits: { fileSize: config.env.MEDIA_MAX_BYTES + 1, files: 1, fields: 32, fieldSize: 65_536, parts: 34 },
    throwFileSizeLimit: false,
  });

  fastify.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', String(req.id));
    if (tls) void reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    done();
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    releaseMultipartLead(req);
    const route = req.routeOptions?.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { method: req.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  // A Graph call with suppress_http_code=1 gets its error (any route's, the guard's, an unknown path's) with HTTP 200.
  fastify.addHook('onSend', (req, reply, payload, done) => {
    if (reply.statusCode >= 400 && isGraphPath(req.url) && suppressesHttpCode(req.query, req.body)) void reply.code(200);
    done(null, payload);
  });
  // JSON as Fastify parses it, but a Graph call's form body declared as JSON is read as a form (graph-params.ts).
  const json = fastify.getDefaultJsonParser(fastify.initialConfig.onProtoPoisoning ?? 'error', fastify.initialConfig.onConstructorPoisoning ?? 'error');
  app.useBodyParser<RawServerDefault>('application/json', { bodyLimit: config.env.BODY_LIMIT_BYTES }, (req, body, done) => {
    const form = formDeclaredAsJson(req.url, body);
    if (form) done(null, form);
    // Fastify's parser takes the bytes (as Nest's default hands them over) though typed for a string.
    else json(req, body as unknown as string, done);
  });
  // The person's socket (src/messaging/realtime): Nest's ws adapter with the gateway's boot-time options.
  app.useWebSocketAdapter(new PersonSocketAdapter(app, app.get(WsGateway).serverOptions()));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());
  setupSwagger(app);
  serveWeb(fastify);
}

// dist/src/bootstrap → <repo>/web/dist, built by `npm run build` (vite).
export const WEB_DIST = path.resolve(__dirname, '..', '..', '..', 'web', 'dist');

// The chat app at / and the console at /console, from web/dist. Only the built files get routes (no
// wildcard), so API routes and their 404s are untouched; paths under /console fall back to console.html.
function serveWeb(fastify: FastifyInstance): void {
  const pages = ['/', '/console', '/console/:a', '/console/:a/:b', '/console/*'];
  if (!fs.existsSync(path.join(WEB_DIST, 'index.html'))) {
    for (const url of pages) {
      fastify.get(url, (_req, reply) => {
        void reply.code(503).type('text/plain; charset=utf-8').send('The web app is not built: run `npm run build`.\n');
      });
    }
    return;
  }
  void fastify.register(fastifyStatic, {
    root: WEB_DIST,
    wildcard: false,
    index: false,
    // Hashed asset names never change; the HTML pages must be revalidated to pick up a new build.
    setHeaders: (res, file) => {
      const immutable = file.includes(`${path.sep}assets${path.sep}`);
      void res.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  void fastify.register(async (f) => {
    f.get('/', (_req, reply) => reply.sendFile('index.html'));
    f.get('/console', (_req, reply) => reply.sendFile('console.html'));
    // Explicit depths too: `/console/:a` must beat parametric Graph routes such as `/:graphVersion/:psid`.
    for (const url of ['/console/:a', '/console/:a/:b', '/console/*']) f.get(url, (_req, reply) => reply.sendFile('console.html'));
  });
}
