import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';

const toBool = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : ['1', 'true', 'yes', 'on'].includes(String(value).toLowerCase());
const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

// Every variable the platform reads. Defaults live here so `.env.example` and the code cannot disagree.
export class EnvSchema {
  // --- process ---
  @IsIn(['development', 'production', 'test']) NODE_ENV: 'development' | 'production' | 'test' = 'development';
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT = 3000;
  @IsString() HOST = '0.0.0.0';
  // Role worker only (it has no API): /metrics and /health on this port. 0 picks a free one, -1 serves none.
  @Transform(toInt) @IsInt() @Min(-1) @Max(65535) WORKER_HTTP_PORT = 9464;
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL = 'info';
  @IsString() DATA_DIR = './.data';
  @Transform(emptyToUndefined) @IsOptional() @Matches(/^https?:\/\/[^\s]+$/) PUBLIC_BASE_URL?: string;

  // --- HTTP ---
  @Transform(toInt) @IsInt() @Min(1024) BODY_LIMIT_BYTES = 1_048_576;
  @Transform(emptyToUndefined) @IsOptional() @IsString() TLS_CERT_FILE?: string;
  @Transform(emptyToUndefined) @IsOptional() @IsString() TLS_KEY_FILE?: string;

  // --- Postgres: absent means the embedded PGlite default ---
  @Transform(emptyToUndefined) @IsOptional() @Matches(/^postgres(ql)?:\/\//) DATABASE_URL?: string;
  @Transform(toInt) @IsInt() @Min(1) @Max(200) DATABASE_POOL_SIZE = 10;
  // How long a query may wait on Postgres before the request gets 503 and the connection is dropped (a server or
  // network that hangs); 0 waits however long. Migrations have no bound.
  @Transform(toInt) @IsInt() @Min(0) DATABASE_QUERY_TIMEOUT_MS = 30_000;
  // Hot-path statements are prepared by name on each connection. Turn off behind a pooler in transaction mode
  // (PgBouncer < 1.21), which can't keep a prepared statement on one server connection.
  @Transform(toBool) @IsBoolean() DATABASE_PREPARED_STATEMENTS = true;
  @Transform(toBool) @IsBoolean() MIGRATIONS_RUN = true;

  // --- Redis: absent means in-process stand-ins ---
  @Transform(emptyToUndefined) @IsOptional() @Matches(/^rediss?:\/\//) REDIS_URL?: string;
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/) REDIS_PREFIX = 'sb';
  // How long a request waits on Redis (rate limits, publishes, triggers) before it is answered 503; 0 waits for
  // Redis to come back, however long. Queue workers have their own connections and wait.
  @Transform(toInt) @IsInt() @Min(0) REDIS_COMMAND_TIMEOUT_MS = 2000;

  // --- security ---
  @Transform(emptyToUndefined) @IsOptional() @IsString() @MinLength(24) ADMIN_TOKEN?: string;
  // When set, /metrics (the api's and a worker's) answers only `Authorization: Bearer <METRICS_TOKEN>`.
  @Transform(emptyToUndefined) @IsOptional() @IsString() @MinLength(24) METRICS_TOKEN?: string;
  // 32 bytes, base64 or hex: encrypts app secrets at rest (HMAC signing needs the secret itself).
  @Transform(emptyToUndefined) @IsOptional() @Matches(/^([A-Fa-f0-9]{64}|[A-Za-z0-9+/]{43}=)$/) SECRETS_KEY?: string;
  @Transform(toInt) @IsInt() @Min(60) PERSON_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
  // Login attempts per username (right or wrong, all clients together): a token bucket of LOGIN_ATTEMPTS_BURST
  // refilled at LOGIN_ATTEMPTS_PER_MINUTE; over it, 429 AUTH.LOGIN_RATE_LIMITED with Retry-After.
  @Transform(toInt) @IsInt() @Min(1) LOGIN_ATTEMPTS_BURST = 10;
  @Transform(toInt) @IsInt() @Min(1) LOGIN_ATTEMPTS_PER_MINUTE = 2;
  // How long a process trusts a verified token or an app's live secrets before reading them again (0: never
  // cache). Revocation, suspension and rotation empty every process's cache at once; this only bounds a lost message.
  @Transform(toInt) @IsInt() @Min(0) @Max(60_000) AUTH_CACHE_TTL_MS = 1000;
  @Transform(toInt) @IsInt() @Min(0) APP_SECRET_GRACE_SECONDS = 24 * 3600;

  // --- outgoing HTTP (webhooks, URL fetches) ---
  @Transform(toBool) @IsOptional() @IsBoolean() ALLOW_INSECURE_WEBHOOKS?: boolean;
  // Comma list of CIDRs that outgoing calls may reach although private (development and tests: 127.0.0.0/8,::1/128).
  @IsString() OUTBOUND_ALLOWLIST = '';
  @Transform(toInt) @IsInt() @Min(100) @Max(60000) WEBHOOK_VERIFY_TIMEOUT_MS = 5000;

  // --- webhook delivery ---
  @Transform(toInt) @IsInt() @Min(100) @Max(60000) WEBHOOK_TIMEOUT_MS = 5000;
  // Seconds before each attempt: the first is immediate; after the last, its interval repeats until the max age.
  @Matches(/^\d+(,\d+)*$/) WEBHOOK_RETRY_SCHEDULE = '0,5,30,120,600,1800,3600,10800,21600';
  @Transform(toInt) @IsInt() @Min(60) WEBHOOK_MAX_AGE_SECONDS = 86400;
  @Transform(toInt) @IsInt() @Min(1) @Max(1000) WEBHOOK_CONCURRENCY = 32;
  @Transform(toInt) @IsInt() @Min(100) WEBHOOK_RECONCILE_INTERVAL_MS = 2000;
  @Transform(toInt) @IsInt() @Min(0) @Max(1048576) WEBHOOK_RESPONSE_BODY_MAX_BYTES = 4096;
  // Events for one endpoint that are due together go in one POST (Messenger allows up to 1000 entries).
  @Transform(toInt) @IsInt() @Min(1) @Max(1000) WEBHOOK_MAX_BATCH = 100;
  // Requests in flight per callback origin, across every worker process: one slow bot cannot hold the others.
  @Transform(toInt) @IsInt() @Min(1) @Max(1000) WEBHOOK_ENDPOINT_MAX_IN_FLIGHT = 8;
  // Sustained failure: a warning after this long, a pause (events kept) after that long.
  @Transform(toInt) @IsInt() @Min(1) WEBHOOK_WARN_AFTER_SECONDS = 900;
  @Transform(toInt) @IsInt() @Min(1) WEBHOOK_PAUSE_AFTER_SECONDS = 3600;
  // While paused, the oldest pending delivery is tried this often; a success resumes with a slow start.
  @Transform(toInt) @IsInt() @Min(1) WEBHOOK_PROBE_INTERVAL_SECONDS = 300;
  // Upper bound on a bot's Retry-After; a lower value than our own schedule is ignored.
  @Transform(toInt) @IsInt() @Min(1) WEBHOOK_RETRY_AFTER_MAX_SECONDS = 3600;
  // Finished deliveries (delivered, acknowledged by a pull cursor, or failed), their attempts and then their events
  // are kept this long: the attempt log, retry and replay reach back this far. A worker deletes older ones every
  // WEBHOOK_PRUNE_INTERVAL_MS. A delivery not finished (pending, in flight, not yet pulled) stays whatever its age.
  @Transform(toInt) @IsInt() @Min(60) WEBHOOK_RETENTION_SECONDS = 30 * 86400;
  @Transform(toInt) @IsInt() @Min(100) WEBHOOK_PRUNE_INTERVAL_MS = 10 * 60 * 1000;

  // --- realtime (WebSocket /ws, long-poll /events) ---
  // A socket whose unsent bytes pass this is closed with 1013 and a reason instead of buffering without bound.
  @Transform(toInt) @IsInt() @Min(1024) WS_MAX_BUFFERED_BYTES = 1_048_576;
  // How long a socket may stay over that bound (a catch-up burst) before it counts as too slow.
  @Transform(toInt) @IsInt() @Min(0) WS_SLOW_GRACE_MS = 5000;
  // Ping interval; a socket that missed the previous pong is terminated.
  @Transform(toInt) @IsInt() @Min(100) WS_HEARTBEAT_MS = 30_000;
  // How often each process asks Postgres whether its sockets' tokens still hold: the backstop for a revocation
  // whose message was lost (published while the revoking process was cut off from Redis).
  @Transform(toInt) @IsInt() @Min(100) WS_TOKEN_RECHECK_MS = 60_000;
  // How often each process compares its sockets' and long-polls' cursors with Postgres (one query): the backstop for
  // an event whose writer died between its commit and its publish.
  @Transform(toInt) @IsInt() @Min(100) REALTIME_RESYNC_MS = 30_000;
  // A person's devices each hold a socket (or a waiting long-poll): per process, past these the next is refused 429.
  @Transform(toInt) @IsInt() @Min(1) WS_MAX_SOCKETS_PER_PERSON = 20;
  @Transform(toInt) @IsInt() @Min(1) LONG_POLLS_MAX_PER_PERSON = 5;
  // permessage-deflate compresses frames from this size up: below about 1 KB the CPU costs more than the bytes saved.
  @Transform(toInt) @IsInt() @Min(0) WS_DEFLATE_THRESHOLD_BYTES = 1024;
  // How long a bot's typing_on shows without typing_off or a message.
  @Transform(toInt) @IsInt() @Min(100) TYPING_TIMEOUT_MS = 20_000;

  // --- hosted bot scripts (src/sandbox) ---
  // Forked sandbox worker processes per worker-role process; the api role starts SANDBOX_DRY_RUN_WORKERS on first use.
  @Transform(toInt) @IsInt() @Min(1) @Max(64) SANDBOX_WORKERS = 2;
  @Transform(toInt) @IsInt() @Min(1) @Max(16) SANDBOX_DRY_RUN_WORKERS = 1;
  // Script invocations in flight per worker process.
  @Transform(toInt) @IsInt() @Min(1) @Max(1000) SCRIPT_CONCURRENCY = 16;
  // How often pending script deliveries are looked for (new events, retries, resumed scripts, lapsed claims).
  @Transform(toInt) @IsInt() @Min(20) SCRIPT_POLL_INTERVAL_MS = 250;
  // Consecutive failed invocations that pause a Page's script until its admin resumes it or activates a version.
  @Transform(toInt) @IsInt() @Min(1) @Max(1000) SCRIPT_BREAKER_THRESHOLD = 5;
  // ctx.store bytes (keys + JSON values) per Page.
  @Transform(toInt) @IsInt() @Min(1024) SCRIPT_STORE_QUOTA_BYTES = 1_048_576;
  // script_logs rows kept per Page; older ones are deleted.
  @Transform(toInt) @IsInt() @Min(10) @Max(1_000_000) SCRIPT_LOG_RETENTION_PER_PAGE = 2000;
  // ctx.fetch bounds: calls per event, time per call, response bytes kept.
  @Transform(toInt) @IsInt() @Min(0) @Max(100) SCRIPT_FETCH_MAX_PER_EVENT = 5;
  @Transform(toInt) @IsInt() @Min(100) @Max(60000) SCRIPT_FETCH_TIMEOUT_MS = 1500;
  @Transform(toInt) @IsInt() @Min(0) @Max(1_048_576) SCRIPT_FETCH_MAX_BYTES = 32_768;
  // Static routes for ctx.fetch, like curl's --connect-to: host:port:address:port,... (IP addresses only, no lookup;
  // still subject to OUTBOUND_ALLOWLIST). For a private mirror of a public API, and for local tests.
  @IsString() SCRIPT_FETCH_CONNECT_TO = '';
  // PEM file of CA certificates ctx.fetch trusts besides the public roots (a private CA).
  @Transform(emptyToUndefined) @IsOptional() @IsString() SCRIPT_FETCH_CA_FILE?: string;

  // The person's event log (what sockets and long-polls replay) keeps this long; older rows are deleted by a
  // worker every USER_EVENTS_PRUNE_INTERVAL_MS. A client back with an older cursor is told to reset.
  @Transform(toInt) @IsInt() @Min(1) USER_EVENTS_RETENTION_SECONDS = 7 * 86400;
  @Transform(toInt) @IsInt() @Min(100) USER_EVENTS_PRUNE_INTERVAL_MS = 10 * 60 * 1000;
  // How often worker processes delete expired account linking tokens (Log In taps live 15 minutes).
  @Transform(toInt) @IsInt() @Min(100) ACCOUNT_LINKING_SWEEP_INTERVAL_MS = 10 * 60 * 1000;

  // What one person may send (messages, postbacks and uploads, all threads and devices together): a token bucket of
  // PERSON_SEND_BURST refilled at PERSON_SEND_RATE_PER_SECOND; over it, 429 THREAD.RATE_LIMITED with Retry-After.
  @Transform(toInt) @IsInt() @Min(1) PERSON_SEND_RATE_PER_SECOND = 5;
  @Transform(toInt) @IsInt() @Min(1) PERSON_SEND_BURST = 30;

  // --- Send API ---
  // RESPONSE and UPDATE are allowed this long after the person's last message (Messenger: 24 h).
  @Transform(toInt) @IsInt() @Min(1) MESSAGING_WINDOW_SECONDS = 86400;
  // MESSAGE_TAG HUMAN_AGENT and CUSTOMER_FEEDBACK are allowed this long after it (Messenger: 7 days).
  @Transform(toInt) @IsInt() @Min(1) HUMAN_AGENT_WINDOW_SECONDS = 604800;
  // Token bucket per Page (burst = rate); over it Graph answers 613.
  @Transform(toInt) @IsInt() @Min(1) SEND_RATE_PER_PAGE_PER_SECOND = 300;
  // Ceiling per app across all its Pages; over it Graph answers 4.
  @Transform(toInt) @IsInt() @Min(1) SEND_RATE_PER_APP_PER_SECOND = 3000;
  // How long an Idempotency-Key on the Send API replays its first answer.
  @Transform(toInt) @IsInt() @Min(60) SEND_IDEMPOTENCY_TTL_SECONDS = 86400;
  // Messenger Profile API calls (POST, GET, DELETE) per Page: Messenger allows 10 per 10 minutes; over it, 613.
  @Transform(toInt) @IsInt() @Min(1) MESSENGER_PROFILE_RATE_CALLS = 10;
  @Transform(toInt) @IsInt() @Min(1) MESSENGER_PROFILE_RATE_WINDOW_SECONDS = 600;
  // How long the User Profile API's profile_pic URL (a signed avatar) stays valid.
  @Transform(toInt) @IsInt() @Min(60) PROFILE_PIC_URL_TTL_SECONDS = 86400;

  // --- handover protocol (src/handover) ---
  // A thread an app (or the Page Inbox) controls goes idle, back to the primary receiver, after this long without a
  // message or a change of control (Messenger: 24 h). 0 turns expiry off: control stays until passed, taken or released.
  @Transform(toInt) @IsInt() @Min(0) @Max(365 * 86400) HANDOVER_IDLE_TIMEOUT_SECONDS = 86400;
  // How often worker-role processes look for threads whose control has expired.
  @Transform(toInt) @IsInt() @Min(100) @Max(3_600_000) HANDOVER_IDLE_SWEEP_INTERVAL_MS = 60_000;

  // --- media (src/media) ---
  // Per file, people and bots alike; an image fetched by URL has its own, smaller cap.
  @Transform(toInt) @IsInt() @Min(1024) MEDIA_MAX_BYTES = 25 * 1024 * 1024;
  @Transform(toInt) @IsInt() @Min(1024) MEDIA_URL_IMAGE_MAX_BYTES = 8 * 1024 * 1024;
  @IsIn(['fs', 's3']) MEDIA_STORAGE: 'fs' | 's3' = 'fs';
  // fs storage root; defaults to DATA_DIR/media.
  @Transform(emptyToUndefined) @IsOptional() @IsString() MEDIA_DIR?: string;
  // Images: also keep the upload byte for byte (EXIF and GPS included) as variant "original".
  @Transform(toBool) @IsBoolean() MEDIA_KEEP_ORIGINAL = false;
  // How long a signed media URL in a webhook or the person API stays valid.
  @Transform(toInt) @IsInt() @Min(60) MEDIA_URL_TTL_SECONDS = 3600;
  // 32 bytes, hex or base64; defaults to a key derived from SECRETS_KEY. Set it to share URLs across key rotations.
  @Transform(emptyToUndefined) @IsOptional() @Matches(/^([A-Fa-f0-9]{64}|[A-Za-z0-9+/]{43}=)$/) MEDIA_URL_KEY?: string;
  // Uploads never sent in a message (and not kept as a reusable attachment_id) are deleted after this long, by a
  // job in worker-role processes every MEDIA_GC_INTERVAL_MS.
  @Transform(toInt) @IsInt() @Min(1) MEDIA_ORPHAN_TTL_SECONDS = 86400;
  @Transform(toInt) @IsInt() @Min(100) MEDIA_GC_INTERVAL_MS = 15 * 60 * 1000;
  // MEDIA_STORAGE=s3: an S3-compatible service, path-style requests.
  @Transform(emptyToUndefined) @IsOptional() @Matches(/^https?:\/\/[^/\s]+$/) S3_ENDPOINT?: string;
  @IsString() S3_REGION = 'us-east-1';
  @Transform(emptyToUndefined) @IsOptional() @IsString() S3_BUCKET?: string;
  @Transform(emptyToUndefined) @IsOptional() @IsString() S3_ACCESS_KEY_ID?: string;
  @Transform(emptyToUndefined) @IsOptional() @IsString() S3_SECRET_ACCESS_KEY?: string;
  @IsString() S3_PREFIX = 'media/';
  // Connecting to S3, then its response's headers: a stat under a media hash's lock holds a database connection.
  @Transform(toInt) @IsInt() @Min(100) S3_TIMEOUT_MS = 30_000;
}

export type Env = EnvSchema;
