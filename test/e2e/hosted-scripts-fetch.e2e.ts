import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson, PersonSocket } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { conversation, personSays } from '../factories/messaging.factory';

// ctx.fetch's success path without DNS or traffic leaving the machine: the operator's static route
// (SCRIPT_FETCH_CONNECT_TO, like curl --connect-to) sends api.example.test:443 to a local https server whose
// self-signed certificate is trusted through SCRIPT_FETCH_CA_FILE. The script's URL stays https://api.example.test/.
describe('ctx.fetch to a declared host, routed to a local https server', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-fetch-'));
  let server: Server;
  const sockets = new Set<Socket>();
  const seen: { url: string; host: string; servername: string; localAddress: string }[] = [];
  let connections = 0;
  let t: TestPlatform;
  let api: HttpClient;
  const persons: PersonSocket[] = [];

  beforeAll(async () => {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '2',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        '/CN=api.example.test',
        '-addext',
        'subjectAltName=DNS:api.example.test',
      ],
      { stdio: 'ignore' },
    );
    server = createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
      const tls = req.socket as import('node:tls').TLSSocket;
      seen.push({
        url: req.url ?? '',
        host: req.headers.host ?? '',
        servername: String(tls.servername),
        localAddress: req.socket.localAddress ?? '',
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ symbol: new URL(req.url ?? '/', 'https://x').searchParams.get('symbol'), price: 42.5 }));
    });
    server.on('connection', (s: Socket) => {
      connections += 1;
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    t = await startTestPlatform({
      env: {
        SCRIPT_POLL_INTERVAL_MS: '100',
        // Only the server's address is reachable although private; blocked.example.test is routed to another
        // loopback address (where nothing listens), so a check that let it through would fail loudly, locally.
        OUTBOUND_ALLOWLIST: '127.0.0.1/32',
        SCRIPT_FETCH_CONNECT_TO: `api.example.test:443:127.0.0.1:${port},blocked.example.test:443:127.0.0.2:${port}`,
        SCRIPT_FETCH_CA_FILE: cert,
      },
    });
    api = httpClient(t.url);
  });
  afterAll(async () => {
    await Promise.all(persons.map((p) => p.close()));
    await t?.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fetches JSON from the declared host and sends the result; undeclared and unallowed addresses stay refused', async () => {
    const c = await conversation(api);
    const sock = await connectPerson(t.url, c.person.token);
    persons.push(sock);
    const source = `
      export default {
        async onMessage(event, ctx) {
          const to = { id: event.sender.id };
          if (event.message.text === 'quote') {
            const res = await ctx.fetch('https://api.example.test/quote?symbol=SB', { headers: { accept: 'application/json' } });
            const data = await res.json();
            await ctx.send({ recipient: to, messaging_type: 'RESPONSE', message: { text: res.status + ' ' + data.symbol + ' ' + data.price } });
            return;
          }
          const out = [];
          for (const url of ['https://blocked.example.test/x', 'https://undeclared.example.test/x', 'https://127.0.0.1/x', 'https://api.example.test:8443/x']) {
            try { await ctx.fetch(url); out.push('fetched ' + url); } catch (e) { out.push(e.code + ': ' + e.message); }
          }
          await ctx.send({ recipient: to, messaging_type: 'RESPONSE', message: { text: out.join(' | ') } });
        },
      };`;
    const up = await api.post(
      `/pages/${c.page.id}/scripts`,
      { source, allowed_hosts: ['api.example.test', 'blocked.example.test'] },
      { token: c.owner.token },
    );
    expect(up.status).toBe(201);
    expect(
      (await api.post(`/pages/${c.page.id}/scripts/${up.body.version}/activate`, {}, { token: c.owner.token })).status,
    ).toBe(200);
    const fromPage = (pred: (text: string) => boolean) =>
      sock.waitFor(
        'the page reply',
        (e) => e.type === 'message' && e.message?.sender === 'page' && pred(e.message.text ?? ''),
      );

    await personSays(api, c.person, c.thread.id, 'quote');
    await fromPage((text) => text === '200 SB 42.5');
    // The URL's name was kept for the Host header, SNI and the certificate; the socket went to the routed address.
    expect(seen).toEqual([
      { url: '/quote?symbol=SB', host: 'api.example.test', servername: 'api.example.test', localAddress: '127.0.0.1' },
    ]);

    const before = connections;
    await personSays(api, c.person, c.thread.id, 'refusals');
    const reply = await fromPage((text) => text.includes('|'));
    const [blocked, undeclared, literal, otherPort] = reply.message.text.split(' | ');
    // Routed, declared, but the address is not on OUTBOUND_ALLOWLIST: refused at connect time.
    // Without the address it is routed to: a script must not learn where private names point.
    expect(blocked).toBe('fetch_failed: ssrf_blocked: blocked.example.test:443 is routed to an address in a refused range (loopback)');
    expect(undeclared).toBe("fetch_refused: undeclared.example.test is not among the script's allowed_hosts");
    expect(literal).toBe("fetch_refused: 127.0.0.1 is not among the script's allowed_hosts");
    expect(otherPort).toBe('fetch_refused: only the default https port may be fetched');
    expect(connections).toBe(before);
    expect(seen).toHaveLength(1);

    // A dry run goes through the same client and policy (it sends nothing to the person).
    const dry = await api.post(
      `/pages/${c.page.id}/scripts/${up.body.version}/test`,
      {
        event: {
          sender: { id: '1' },
          recipient: { id: c.page.id },
          timestamp: 1,
          message: { mid: 'm_1', text: 'quote' },
        },
      },
      { token: c.owner.token },
    );
    expect(dry.body).toMatchObject({
      outcome: 'ok',
      sends: [{ message: { message: { text: '200 SB 42.5' } }, error: null }],
    });
  });
});
