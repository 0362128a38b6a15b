import * as net from 'node:net';

// A port nothing listens on right now, chosen by the OS, for a private server a test starts (redis-server,
// postgres). A random pick in the ephemeral range can collide with one of the many client sockets a test run has
// open, and the server then fails to bind.
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
