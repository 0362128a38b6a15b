import * as net from 'node:net';

export interface TcpProxy {
  // host:port to connect to instead of the target.
  address: string;
  // Drops every connection through it and refuses new ones until `restore`: a network cut, for one client only.
  cut(): void;
  restore(): void;
  // Holds every byte in both directions, connections left open (a network that hangs rather than drops: no
  // client notices), until `flow`, which delivers what was held.
  stall(): void;
  // Holds only what the service answers: what a client sends is carried out (a query runs and commits), but
  // its answer waits, until `flow`. Pins a client between its request and the answer.
  holdReplies(): void;
  flow(): void;
  close(): Promise<void>;
}

// A TCP proxy in front of a real service (Redis, Postgres), so a test can cut one process off from it
// deterministically while the service and its other clients carry on.
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  const pairs = new Set<[net.Socket, net.Socket]>();
  let refusing = false;
  let stalled = false;
  let repliesHeld = false;
  const server = net.createServer((client) => {
    if (refusing) return client.destroy();
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    if (!stalled) client.pipe(upstream);
    if (!stalled && !repliesHeld) upstream.pipe(client);
    client.on('close', () => {
      upstream.destroy();
      pairs.delete(pair);
    });
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    cut() {
      refusing = true;
      for (const s of open) s.destroy();
    },
    restore() {
      refusing = false;
    },
    stall() {
      stalled = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    holdReplies() {
      repliesHeld = true;
      for (const [client, upstream] of pairs) {
        upstream.unpipe(client);
        upstream.pause();
      }
    },
    flow() {
      stalled = false;
      repliesHeld = false;
      for (const [client, upstream] of pairs) {
        // Whatever was held, each direction is piped once again.
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pipe(upstream);
        upstream.pipe(client);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
