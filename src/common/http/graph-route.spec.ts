import { isGraphPath, withGraphVersion } from './graph-route';

describe('withGraphVersion', () => {
  it.each([
    ['/me/messages', '/v25.0/me/messages'],
    ['/me/messages?access_token=x', '/v25.0/me/messages?access_token=x'],
    ['/123456789012345/subscribed_apps', '/v25.0/123456789012345/subscribed_apps'],
    ['/123456789012345', '/v25.0/123456789012345'],
    ['/oauth/access_token?client_id=1', '/v25.0/oauth/access_token?client_id=1'],
  ])('runs the unversioned Graph call %s as %s', (url, rewritten) => {
    expect(withGraphVersion(url)).toBe(rewritten);
    expect(isGraphPath(withGraphVersion(url))).toBe(true);
  });

  it("runs Graph's batch (POST /) as the default version, and leaves GET / to the chat app", () => {
    expect(withGraphVersion('/', 'POST')).toBe('/v25.0');
    expect(withGraphVersion('/?batch=%5B%5D', 'POST')).toBe('/v25.0?batch=%5B%5D');
    expect(isGraphPath(withGraphVersion('/?batch=%5B%5D', 'POST'))).toBe(true);
    expect(withGraphVersion('/v2.6/?x=1', 'POST')).toBe('/v2.6?x=1');
    expect(withGraphVersion('/v2.6', 'POST')).toBe('/v2.6');
    expect(withGraphVersion('/', 'GET')).toBe('/');
    expect(withGraphVersion('/threads', 'POST')).toBe('/threads');
  });

  it.each(['/v25.0/me/messages', '/v2.6/me', '/me', '/me?fields=name', '/', '/threads', '/pages/123/apps', '/media/1/display.jpg', '/mess', '/me2/x', '/12a/x', '/console/apps/1', '/docs', '/oauth/other'])(
    'leaves %s alone',
    (url) => expect(withGraphVersion(url)).toBe(url),
  );
});
