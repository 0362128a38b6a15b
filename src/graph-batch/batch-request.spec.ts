import { BatchOperation, MAX_BATCH_OPERATIONS, MAX_REFERENCES_PER_OPERATION, parseBatch, parseJsonPath, resolveReferences, selectJsonPath, withCredentials } from './batch-request';

describe('Graph batch parsing', () => {
  it('reads operations from a JSON string or an array, methods in any case, versions and leading slashes dropped', () => {
    const parsed = parseBatch(
      JSON.stringify([
        { method: 'post', relative_url: 'me/messages', body: 'recipient=%7B%22id%22%3A%221%22%7D' },
        { method: 'GET', relative_url: '/v25.0/me/thread_owner?recipient=1' },
        { method: 'DELETE', relative_url: '123' },
      ]),
    );
    const plain = { dependsOn: [], omitResponseOnSuccess: true };
    expect(parsed).toEqual({
      ok: true,
      operations: [
        { method: 'POST', relativeUrl: 'me/messages', body: 'recipient=%7B%22id%22%3A%221%22%7D', ...plain },
        { method: 'GET', relativeUrl: 'me/thread_owner?recipient=1', ...plain },
        { method: 'DELETE', relativeUrl: '123', ...plain },
      ],
    });
  });

  it('refuses what is not a list of at most 50 operations', () => {
    for (const bad of ['[', '{}', '[]', 7, null, JSON.stringify(Array(MAX_BATCH_OPERATIONS + 1).fill({ method: 'GET', relative_url: 'me' }))]) {
      expect(parseBatch(bad).ok).toBe(false);
    }
  });

  it('refuses paths that leave Graph, climb or nest a batch', () => {
    for (const relative_url of ['', '/', 'v25.0/', 'https://evil.example/x', '//evil.example/x', 'me/../admin', 'me\\x', 'me/messages\n', '?batch=[]',
      '%2e%2e/health', 'me/%2E%2e/%2e%2e/metrics', '.?batch=[]', 'me/./x', '%2e', 'me%2F..%2Fhealth', 'me/%5C..', 'me/%zz', 'v25.0?batch=[]', 'v2.6#x']) {
      expect(parseBatch([{ method: 'GET', relative_url }]).ok).toBe(false);
    }
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

  describe('dependencies ({result=name:$.path}, depends_on)', () => {
    const op = (over: Partial<BatchOperation>): BatchOperation => ({ method: 'GET', relativeUrl: 'me', dependsOn: [], omitResponseOnSuccess: true, ...over });

    it('reads names, references and depends_on, and refuses what names no earlier operation', () => {
      const parsed = parseBatch([
        { method: 'GET', relative_url: '1234?fields=first_name', name: 'profile' },
        { method: 'POST', relative_url: 'me/messages', body: 'recipient={"id":"{result=profile:$.id}"}', omit_response_on_success: false, name: 'send' },
        { method: 'GET', relative_url: 'me', depends_on: 'send' },
      ]);
      expect(parsed.ok && parsed.operations.map((o) => [o.name, o.dependsOn, o.omitResponseOnSuccess])).toEqual([
        ['profile', [], true],
        ['send', ['profile'], false],
        [undefined, ['send'], true],
      ]);
      const refusals: unknown[][] = [
        [{ method: 'GET', relative_url: 'me/{result=later:$.id}' }, { method: 'GET', relative_url: 'me', name: 'later' }],
        [{ method: 'GET', relative_url: 'me', name: 'a' }, { method: 'GET', relative_url: 'me', name: 'a' }],
        [{ method: 'GET', relative_url: 'me', name: 'has space' }],
        [{ method: 'GET', relative_url: 'me', name: 'a' }, { method: 'GET', relative_url: 'me/{result=a:$..id}' }],
        [{ method: 'GET', relative_url: 'me', name: 'a' }, { method: 'GET', relative_url: 'me/{result=a:$.data[?(@.x)]}' }],
        [{ method: 'GET', relative_url: 'me', name: 'a' }, { method: 'GET', relative_url: 'me/{result=a}' }],
        [{ method: 'GET', relative_url: 'me', depends_on: 'nobody' }],
        [{ method: 'GET', relative_url: 'me', name: 'a', omit_response_on_success: 'no' }],
      ];
      for (const batch of refusals) expect([JSON.stringify(batch), parseBatch(batch).ok]).toEqual([JSON.stringify(batch), false]);
    });

    it('selects with plain JSONPath steps only', () => {
      const doc = { id: '7', data: [{ id: 'a', tags: ['x'] }, { id: 'b' }], 'odd-key': 1 };
      const pick = (path: string) => selectJsonPath(doc, parseJsonPath(path)!);
      expect(pick('$.id')).toEqual(['7']);
      expect(pick('$.data[1].id')).toEqual(['b']);
      expect(pick('$.data.*.id')).toEqual(['a', 'b']);
      expect(pick('$.data[*].tags[0]')).toEqual(['x']);
      expect(pick("$['odd-key']")).toEqual([1]);
      expect(pick('$.missing')).toEqual([]);
      expect(pick('$.constructor')).toEqual([]);
      for (const bad of ['id', '$..id', '$.data[?(@.id)]', '$.data[(@.length-1)]', '$.a b']) expect(parseJsonPath(bad)).toBeNull();
    });

    it('puts values in, URL-encoded where a URL or form body reads them, and refuses what a failed or empty parent leaves', () => {
      const answers = new Map([
        ['profile', { code: 200, json: { id: '1234', first_name: 'Ada & co', data: [{ id: 'a' }, { id: 'b' }] } }],
        ['broken', { code: 400, json: { error: {} } }],
      ]);
      const resolved = resolveReferences(
        op({ relativeUrl: 'me/messages?ids={result=profile:$.data.*.id}', body: 'text=Hi {result=profile:$.first_name}', dependsOn: ['profile'] }),
        answers,
      );
      expect(resolved).toMatchObject({ relativeUrl: 'me/messages?ids=a%2Cb', body: 'text=Hi Ada%20%26%20co' });
      expect(new URLSearchParams((resolved as BatchOperation).body as string).get('text')).toBe('Hi Ada & co');
      const json = resolveReferences(op({ body: { recipient: '{"id":"{result=profile:$.id}"}' }, dependsOn: ['profile'] }), answers);
      expect((json as BatchOperation).body).toEqual({ recipient: '{"id":"1234"}' });
      expect(resolveReferences(op({ relativeUrl: 'me/{result=broken:$.id}', dependsOn: ['broken'] }), answers)).toMatch(/depends on operation "broken", which failed/);
      expect(resolveReferences(op({ relativeUrl: 'me?x={result=profile:$.nope}', dependsOn: ['profile'] }), answers)).toMatch(/selects nothing/);
      // A value can't make the path climb out of Graph.
      const climbing = new Map([['p', { code: 200, json: { id: '..' } }]]);
      expect(resolveReferences(op({ relativeUrl: 'me/{result=p:$.id}/x', dependsOn: ['p'] }), climbing)).toMatch(/relative Graph path/);
    });

    it('bounds what references cost: how many an operation holds, and how long they make it', () => {
      const many = `me?x=${'{result=a:$.id}'.repeat(MAX_REFERENCES_PER_OPERATION + 1)}`;
      expect(parseBatch([{ method: 'GET', relative_url: 'me', name: 'a' }, { method: 'GET', relative_url: many }])).toMatchObject({
        ok: false,
        message: expect.stringContaining(`more than ${MAX_REFERENCES_PER_OPERATION}`),
      });
      // A large answer filled in many times: refused as it grows, not built.
      const big = new Map([['a', { code: 200, json: { v: 'x'.repeat(200_000) } }]]);
      const refs = '{result=a:$.v}'.repeat(MAX_REFERENCES_PER_OPERATION);
      expect(resolveReferences(op({ relativeUrl: `me?x=${refs}`, dependsOn: ['a'] }), big)).toMatch(/longer than 65536/);
      expect(resolveReferences(op({ body: `x=${refs}`, dependsOn: ['a'] }), big)).toMatch(/longer than 1048576/);
      expect(resolveReferences(op({ body: { a: refs, b: refs }, dependsOn: ['a'] }), big)).toMatch(/longer than/);
      // Within the bounds it is filled in.
      expect(resolveReferences(op({ body: { a: '{result=a:$.v}' }, dependsOn: ['a'] }), big)).toMatchObject({ body: { a: 'x'.repeat(200_000) } });
    });
  });
});
