// Preloaded into the platform by `LOOP_BENCH_REQUIRE=dist/test/bench/round-trips.js` (or `node --require` on any
// process): counts every SQL statement and Redis command the process sends, by statement text and command, and
// writes the running totals to ROUND_TRIPS_DIR (default /tmp/sb-round-trips) every ROUND_TRIPS_EVERY_MS (5 s).
// The difference of two snapshots inside one phase, divided by its loops, is that phase's round trips per loop.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import Redis from 'ioredis';

const dir = process.env.ROUND_TRIPS_DIR ?? '/tmp/sb-round-trips';
const every = Number(process.env.ROUND_TRIPS_EVERY_MS ?? 5000);
const counts = new Map<string, number>();
const bump = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

type QueryFn = (config: unknown, ...rest: unknown[]) => unknown;
const clientProto = Client.prototype as unknown as { query: QueryFn };
const query = clientProto.query;
clientProto.query = function (this: unknown, config: unknown, ...rest: unknown[]) {
  const text = typeof config === 'string' ? config : (config as { text?: string } | null)?.text;
  bump(`pg ${String(text).replace(/\s+/g, ' ').slice(0, 120)}`);
  return query.call(this, config, ...rest);
};

type SendFn = (command: { name: string; args: unknown[] }, ...rest: unknown[]) => unknown;
const redisProto = Redis.prototype as unknown as { sendCommand: SendFn };
const send = redisProto.sendCommand;
redisProto.sendCommand = function (this: unknown, command: { name: string; args: unknown[] }, ...rest: unknown[]) {
  // Scripts by their sha and key count; channels with ids folded, so a phase shows a handful of keys.
  const detail =
    command.name === 'evalsha' || command.name === 'eval'
      ? ` ${String(command.args[0]).slice(0, 12)} keys=${String(command.args[1])}`
      : command.name === 'publish'
        ? ` ${String(command.args[0]).replace(/[0-9a-f-]{8,}|\d{6,}/g, 'X')}`
        : '';
  bump(`redis ${command.name}${detail}`);
  return send.call(this, command, ...rest);
};

fs.mkdirSync(dir, { recursive: true });
setInterval(() => {
  fs.writeFileSync(path.join(dir, `${process.pid}-${Date.now()}.json`), JSON.stringify(Object.fromEntries(counts)));
}, every).unref();
