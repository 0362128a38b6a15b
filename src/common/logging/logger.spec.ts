import { Writable } from 'node:stream';
import pino from 'pino';
import { createRootLogger, maskUrlSecrets } from './logger';

describe('maskUrlSecrets', () => {
  it('masks every credential in a query string and keeps the rest', () => {
    expect(maskUrlSecrets('/v25.0/oauth/access_token?client_id=123&client_secret=abc&grant_type=client_credentials')).toBe(
      '/v25.0/oauth/access_token?client_id=123&client_secret=[redacted]&grant_type=client_credentials',
    );
    expect(maskUrlSecrets('/v25.0/me/messages?access_token=sbp_x&appsecret_proof=ff&pretty=0')).toBe(
      '/v25.0/me/messages?access_token=[redacted]&appsecret_proof=[redacted]&pretty=0',
    );
    expect(maskUrlSecrets('/media/1/display.jpg?exp=9&sig=AbC')).toBe('/media/1/display.jpg?exp=9&sig=[redacted]');
    expect(maskUrlSecrets('/threads?limit=5')).toBe('/threads?limit=5');
  });

  it("masks account linking's token and code (the login page's return, and a bot's GET /me?account_linking_token=)", () => {
    expect(maskUrlSecrets('/account-linking/complete?account_linking_token=alt_x&authorization_code=c0de&extra=1')).toBe(
      '/account-linking/complete?account_linking_token=[redacted]&authorization_code=[redacted]&extra=1',
    );
    expect(maskUrlSecrets('/v25.0/me?fields=recipient&account_linking_token=alt_y')).toBe('/v25.0/me?fields=recipient&account_linking_token=[redacted]');
  });

  it('applies to the request lines the root logger writes', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logger = createRootLogger('debug', 'api');
    const child = pino({ level: 'debug', serializers: (logger as unknown as { [k: symbol]: unknown })[pino.symbols.serializersSym] as never }, sink);
    child.debug({ req: { method: 'GET', url: '/oauth/access_token?client_id=1&client_secret=s3cret' } }, 'incoming request');
    expect(lines.join('')).not.toContain('s3cret');
    expect(lines.join('')).toContain('client_secret=[redacted]');
  });
});
