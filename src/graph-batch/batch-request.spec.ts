import { MAX_BATCH_OPERATIONS, parseBatch, withCredentials } from './batch-request';

describe('Graph batch parsing', () => {
  it('reads operations from a JSON string or an array, methods in any case, versions and leading slashes dropped', () => {
    const parsed = parseBatch(
      JSON.stringify([
        { method: 'post', relative_url: 'me/messages', body: 'recipient=%7B%22id%22%3A%221%22%7D' },
        { method: 'GET', relative_url: '/v25.0/me/thread_owner?recipient=1' },
        { method: 'DELETE', relative_url: '123' },
      ]),
    );
    expect(parsed).toEqual({
      ok: true,
      operations: [
        { method: 'POST', relativeUrl: 'me/messages', body: 'recipient=%7B%22id%22%3A%221%22%7D' },
        { method: 'GET', relativeUrl: 'me/thread_owner?recipient=1' },
        { method: 'DELETE', relativeUrl: '123' },
      ],
    });
  });

  it('refuses what is not a list of at most 50 operations', () => {
    for (const bad of ['[', '{}', '[]', 7, null, JSON.stringify(Array(MAX_BATCH_OPERATIONS + 1).fill({ method: 'GET', relative_url: 'me' }))]) {
      expect(parseBatch(bad).ok).toBe(false);
    }
  });

  it('refuses paths that leave Graph, climb, nest a batch or depend on another result', () => {
    for (const relative_url of ['', '/', 'v25.0/', 'https://evil.example/x', '//evil.example/x', 'me/../admin', 'me\\x', 'me/messages\n', '?batch=[]',
      '%2e%2e/health', 'me/%2E%2e/%2e%2e/metrics', '.?batch=[]', 'me/./x', '%2e', 'me%2F..%2Fhealth', 'me/%5C..', 'me/%zz', 'v25.0?batch=[]', 'v2.6#x']) {
      expect(parseBatch([{ method: 'GET', relative_url }]).ok).toBe(false);
    }
    expect(parseBatch([{ method: 'GET', relative_url: 'me/{result=first:$.id}' }])).toMatchObject({ ok: false, message: expect.stringContaining('dependency') });
    expect(parseBatch([{ method: 'PUT', relative_url: 'me' }]).ok).toBe(false);
    expect(parseBatch([{ method: 'POST', relative_url: 'me/messages', body: 5 }]).ok).toBe(false);
  });

  it("adds the batch's credentials only to operations that name no token", () => {
    const creds = { access_token: 'T', appsecret_proof: 'P' };
    expect(withCredentials({ method: 'GET', relativeUrl: 'me/personas?limit=5' }, creds).relativeUrl).toBe('me/personas?limit=5&access_token=T&appsecret_proof=P');
    const own = { method: 'POST' as const, relativeUrl: 'me/messages', body: 'access_token=MINE&message=x' };
    expect(withCredentials(own, creds)).toBe(own);
    expect(withCredentials({ method: 'GET', relativeUrl: 'me?access_token=MINE' }, creds).relativeUrl).toBe('me?access_token=MINE');
  });
});
