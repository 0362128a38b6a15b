import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

// A local "CDN" on loopback answering fixed paths (a persona's picture, an image to send by URL); anything else 404.
export async function startStaticServer(files: Record<string, { type: string; body: Buffer }>): Promise<StaticServer> {
  const server = http.createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (file) return res.writeHead(200, { 'content-type': file.type }).end(file.body);
    res.writeHead(404).end('no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
