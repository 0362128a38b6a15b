import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { RedisPubSub } from '../../src/infra/pubsub/pubsub.port';
import { connectRedis } from '../../src/infra/redis/redis-connection';
import { TEST_REDIS_URL } from '../support/services';
import { waitFor } from '../support/wait-for';

// The api's fan-out over a real Redis: what every process subscribes to at boot must hold.
describe('Redis pub/sub between processes', () => {
  const opened: Redis[] = [];
  const errors: Error[] = [];

  function connection(name: string): Redis {
    const redis = connectRedis(TEST_REDIS_URL, name);
    redis.on('error', (err: Error) => errors.push(err));
    opened.push(redis);
    return redis;
  }

  const warnings: string[] = [];

  function pubsub(): { bus: RedisPubSub; subName: string; sub: Redis; prefix: string } {
    const subName = `pubsub-test-sub-${randomUUID()}`;
    const sub = connection(subName);
    const prefix = `pubsub-test-${randomUUID()}`;
    return { bus: new RedisPubSub(connection('pubsub-test-pub'), sub, prefix, { warn: (m) => warnings.push(m) }), subName, sub, prefix };
  }

  afterEach(() => {
    for (const redis of opened.splice(0)) redis.disconnect();
    errors.length = 0;
    warnings.length = 0;
  });

  it('drops a message that is not JSON, and a handler that throws, with a warning: the process and the other handlers carry on', async () => {
    const { bus, prefix } = pubsub();
    const got: unknown[] = [];
    await bus.subscribe('hostile', () => {
      throw new TypeError('a handler bug');
    });
    await bus.subscribe('hostile', (m) => got.push(m));
    // Anyone who can write to Redis (an operator's redis-cli, say) reaches every api process's subscriber: this
    // used to throw out of ioredis's socket handler and kill the process.
    await connection('pubsub-test-admin').publish(`${prefix}:hostile`, 'not json');
    await bus.publish('hostile', { n: 1 });
    await waitFor('the next message', () => got.length === 1);
    expect(got).toEqual([{ n: 1 }]);
    expect(warnings).toEqual([
      expect.stringMatching(/^a message on .*:hostile that is not JSON was dropped/),
      expect.stringMatching(/^a handler of .*:hostile failed: a handler bug/),
    ]);
  });

  it('subscribes made while the connection is still in its handshake work, with no error (ioredis #2037)', async () => {
    const { bus, sub } = pubsub();
    const got: unknown[] = [];
    // 'connect' comes before ioredis's own handshake commands and ready check: the window
    // in which a SUBSCRIBE written at once made the ready check fail and the boot crash.
    const inHandshake = new Promise<unknown>((resolve) =>
      sub.once('connect', () => resolve(bus.subscribe('in-handshake', (m) => got.push(m)))),
    );
    const beforeConnect = bus.subscribe('before-connect', (m) => got.push(m));
    expect(sub.status).toBe('connecting');
    await Promise.all([inHandshake, beforeConnect]);

    await bus.publish('in-handshake', { n: 1 });
    await bus.publish('before-connect', { n: 2 });
    await waitFor('both messages', () => got.length === 2);
    expect(got).toEqual([{ n: 1 }, { n: 2 }]);
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  it('a second subscriber to a channel is live when its subscribe resolves, and each stops alone', async () => {
    const { bus } = pubsub();
    const first: unknown[] = [];
    const second: unknown[] = [];
    const [stopFirst, stopSecond] = await Promise.all([
      bus.subscribe('shared', (m) => first.push(m)),
      bus.subscribe('shared', (m) => second.push(m)),
    ]);
    await bus.publish('shared', 'one');
    await waitFor('both subscribers get it', () => first.length === 1 && second.length === 1);

    await stopFirst();
    await bus.publish('shared', 'two');
    await waitFor('the second gets the next one', () => second.length === 2);
    expect(first).toEqual(['one']);

    await stopSecond();
    const again: unknown[] = [];
    await bus.subscribe('shared', (m) => again.push(m));
    await bus.publish('shared', 'three');
    await waitFor('a new subscriber after both left', () => again.length === 1);
    expect(second).toEqual(['one', 'two']);
  });

  it('after Redis drops the subscriber connection, it reconnects and hears the channel again', async () => {
    const { bus, subName } = pubsub();
    const got: unknown[] = [];
    await bus.subscribe('after-kill', (m) => got.push(m));
    const admin = connection('pubsub-test-admin');
    const clients = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
    const line = clients.split('\n').find((l) => l.includes(` name=${subName} `));
    expect(line).toBeDefined();
    expect(await admin.call('CLIENT', 'KILL', 'ID', /\bid=(\d+)/.exec(line!)![1])).toBe(1);
    await waitFor('the subscriber back and subscribed', async () => {
      await bus.publish('after-kill', 'ping');
      return got.length > 0;
    });
    expect(got[0]).toBe('ping');
  });

  it('tells its listeners once the channels hold again after a drop, and not at the first connect', async () => {
    const { bus, subName } = pubsub();
    const got: unknown[] = [];
    await bus.subscribe('resubscribed', (m) => got.push(m));
    let calls = 0;
    // Published the moment the listener runs: heard only if the channel is subscribed again by then.
    const published = new Promise<void>((resolve) =>
      bus.onResubscribed(() => {
        calls++;
        void bus.publish('resubscribed', 'right away').then(resolve);
      }),
    );
    await bus.publish('resubscribed', 'before');
    await waitFor('the first message', () => got.length === 1);
    expect(calls).toBe(0);
    const admin = connection('pubsub-test-admin');
    const clients = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
    const line = clients.split('\n').find((l) => l.includes(` name=${subName} `))!;
    await admin.call('CLIENT', 'KILL', 'ID', /\bid=(\d+)/.exec(line)![1]);
    await published;
    await waitFor('the message published by the listener', () => got.length === 2);
    expect(got).toEqual(['before', 'right away']);
    expect(calls).toBe(1);
  });

  it('says it is not connected from the moment its subscriber drops until it is ready again, and is at boot', async () => {
    const { bus, subName, sub } = pubsub();
    // Before the first ready a subscription just waits its turn (the boot), so that is not an outage.
    expect([sub.status, bus.connected]).toEqual(['connecting', true]);
    await bus.subscribe('connected', () => undefined);
    const seenAtClose = new Promise<boolean>((resolve) => sub.once('close', () => resolve(bus.connected)));
    const admin = connection('pubsub-test-admin');
    const clients = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
    const line = clients.split('\n').find((l) => l.includes(` name=${subName} `))!;
    await admin.call('CLIENT', 'KILL', 'ID', /\bid=(\d+)/.exec(line)![1]);
    expect(await seenAtClose).toBe(false);
    await waitFor('connected again', () => bus.connected && sub.status === 'ready');
  });
});
