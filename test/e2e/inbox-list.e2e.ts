import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { openThread, pageSays, personSays, psidOf } from '../factories/messaging.factory';
import { connectApp, createApp, createPage, Person, signupPerson } from '../factories/registry.factory';

// The order and paging of a Page's thread list (GET /pages/{id}/inbox, Graph's GET /me/conversations) over real
// Postgres: every filter combination walked a page at a time against a model of the threads, equal activity times,
// old cursors, and threads that move while someone pages.
describe('Page Inbox: the thread list', () => {
  let t: TestPlatform;
  let api: HttpClient;

  beforeAll(async () => {
    t = await startTestPlatform({ redis: false });
    api = httpClient(t.url);
  });
  afterAll(async () => t?.close());

  interface Conv {
    person: Person;
    name: string;
    thread: string;
    done: boolean;
    assignee: string | null;
  }

  // A Page with `names.length` conversations (each person wrote once) and a second admin, its Graph token.
  async function business(names: string[]) {
    const owner = await signupPerson(api, 'Owner');
    const helper = await signupPerson(api, 'Helper');
    const page = await createPage(api, owner, 'Shop');
    expect((await api.post(`/pages/${page.id}/admins`, { username: helper.username }, { token: owner.token })).status).toBe(201);
    const app = await createApp(api, owner, 'Agents tool');
    const pageToken = await connectApp(api, owner, page.id, app.id, ['messages']);
    const convs: Conv[] = [];
    for (const name of names) {
      const person = await signupPerson(api, name);
      const thread = (await openThread(api, person, page.id)).id;
      await personSays(api, person, thread, `hello from ${name}`);
      convs.push({ person, name, thread, done: false, assignee: null });
    }
    // Opened, never written in: never listed.
    await openThread(api, await signupPerson(api, 'Silent Ada'), page.id);
    const inbox = (query: string) => `/pages/${page.id}/inbox${query}`;
    const file = async (c: Conv, change: { done?: boolean; assignee_id?: string | null }) => {
      const res = await api.patch(inbox(`/${c.thread}`), change, { token: owner.token });
      expect(res.status).toBe(200);
      if (change.done !== undefined) c.done = change.done;
      if (change.assignee_id !== undefined) c.assignee = change.assignee_id;
    };
    return { owner, helper, page, pageToken, convs, inbox, file };
  }

  // A thread's place in the list as the platform promises it: last activity, then creation (µs), then id, each
  // newest (greatest) first.
  type Key = readonly [bigint, bigint, string];
  const after = (x: Key, y: Key) => {
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i];
    return false;
  };
  async function keys(convs: Conv[]): Promise<Map<string, Key>> {
    const rows = await t.db.query<{ id: string; ts: string; us: string }>(
      `SELECT id, last_timestamp::text AS ts, (extract(epoch FROM created_at) * 1000000)::bigint::text AS us FROM threads WHERE id = ANY($1)`,
      [convs.map((c) => c.thread)],
    );
    return new Map(rows.map((r) => [r.id, [BigInt(r.ts), BigInt(r.us), r.id] as const]));
  }
  async function ordered(convs: Conv[]): Promise<Conv[]> {
    const key = await keys(convs);
    return [...convs].sort((a, b) => (after(key.get(a.thread)!, key.get(b.thread)!) ? 1 : after(key.get(b.thread)!, key.get(a.thread)!) ? -1 : 0));
  }

  // Moves threads' last activity as a message would (the list's indexes hold its minute).
  const activeAt = (convs: Conv[], ts: number) =>
    t.db.query('UPDATE threads SET last_timestamp = $2, activity_minute = $2::bigint / 60000 WHERE id = ANY($1)', [convs.map((c) => c.thread), ts]);

  // Every thread of a read, a page at a time, each page no longer than asked.
  async function walk(path: (cursor: string | null) => string, token: string, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const res: { status: number; text: string; body: any } = await api.get(path(cursor), { token });
      expect([res.status, res.text.slice(0, 200)]).toEqual([200, expect.any(String)]);
      expect(res.body.data.length).toBeLessThanOrEqual(limit);
      ids.push(...res.body.data.map((r: { id: string }) => r.id));
      cursor = res.body.paging.next_cursor;
      if (!cursor) return ids;
      expect(res.body.data.length).toBe(limit);
    }
    throw new Error('more than 100 pages');
  }

  it('walks every filter combination a page at a time: each thread once, in order, equal times by creation then id', async () => {
    const b = await business(['Ada Lovelace', 'Brad Pitt', 'Cy Young', 'Dee Dee', 'Eve Adams', 'Fay Wray', 'Gus Grissom', 'Hal Adler', 'Ivy Lane']);
    const [ada, brad, cy, dee, eve, fay, gus, hal, ivy] = b.convs;
    await b.file(ada, { done: true });
    await b.file(cy, { done: true, assignee_id: b.helper.id });
    await b.file(dee, { assignee_id: b.helper.id });
    await b.file(eve, { assignee_id: b.owner.id });
    await b.file(fay, { done: true, assignee_id: b.owner.id });
    await b.file(hal, { done: true });
    // Ties: four conversations last active at the same ms, two of them created in the same µs (then by id).
    const tie = Date.now() - 60_000;
    await activeAt([brad, cy, dee, gus], tie);
    await t.db.query('UPDATE threads SET created_at = (SELECT created_at FROM threads WHERE id = $2) WHERE id = $1', [dee.thread, gus.thread]);
    await activeAt([eve, ivy], tie - 1);

    const all = await ordered(b.convs);
    // The ties come out in the model's order, not just any.
    const tied = all.filter((c) => [brad, cy, dee, gus].includes(c)).map((c) => c.thread);
    expect(tied.slice(0, 2).sort()).toEqual([dee.thread, gus.thread].sort());
    const folders = { inbox: (c: Conv) => !c.done, done: (c: Conv) => c.done, all: () => true };
    const assignees: Record<string, (c: Conv) => boolean> = {
      '': () => true,
      me: (c) => c.assignee === b.owner.id,
      none: (c) => c.assignee === null,
      [b.helper.id]: (c) => c.assignee === b.helper.id,
    };
    const names: Record<string, (c: Conv) => boolean> = { '': () => true, ad: (c) => c.name.toLowerCase().includes('ad'), zz: () => false };
    for (const [folder, inFolder] of Object.entries(folders)) {
      for (const [assignee, isAssigned] of Object.entries(assignees)) {
        for (const [q, named] of Object.entries(names)) {
          const query = `&folder=${folder}${assignee ? `&assignee=${assignee}` : ''}${q ? `&q=${q}` : ''}`;
          const expected = all.filter((c) => inFolder(c) && isAssigned(c) && named(c)).map((c) => c.thread);
          for (const limit of [1, 2, 50]) {
            const got = await walk((cursor) => b.inbox(`?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`), b.owner.token, limit);
            expect([query, limit, got]).toEqual([query, limit, expected]);
          }
        }
      }
    }
    // assignee=me is whoever asks.
    const helperWalk = await walk((cursor) => b.inbox(`?limit=2&folder=all&assignee=me${cursor ? `&cursor=${cursor}` : ''}`), b.helper.token, 2);
    expect(helperWalk).toEqual(all.filter((c) => c.assignee === b.helper.id).map((c) => c.thread));

    // Graph's conversations: its folders, one person's (user_id), a page at a time with its own cursors.
    const graph = (query: string, limit: number) => async () => {
      const ids: string[] = [];
      let after: string | undefined;
      do {
        const res = await api.get(
          `/v25.0/me/conversations?limit=${limit}${query}${after ? `&after=${after}` : ''}&access_token=${encodeURIComponent(b.pageToken)}`,
        );
        expect(res.status).toBe(200);
        ids.push(...res.body.data.map((c: { id: string }) => c.id.slice(2)));
        after = res.body.paging.cursors.after;
      } while (after);
      return ids;
    };
    expect(await graph('', 2)()).toEqual(all.map((c) => c.thread));
    expect(await graph('&folder=inbox', 2)()).toEqual(all.filter((c) => !c.done).map((c) => c.thread));
    expect(await graph('&folder=page_done', 1)()).toEqual(all.filter((c) => c.done).map((c) => c.thread));
    const cyPsid = await psidOf(t.db, cy.thread);
    expect(await graph(`&user_id=${cyPsid}`, 1)()).toEqual([cy.thread]);
    expect(await graph(`&user_id=${cyPsid}&folder=page_done`, 1)()).toEqual([cy.thread]);
    expect(await graph(`&user_id=${cyPsid}&folder=inbox`, 1)()).toEqual([]);
    const one = await api.get(`/v25.0/t_${cy.thread}?access_token=${encodeURIComponent(b.pageToken)}`);
    expect(one.body.id).toBe(`t_${cy.thread}`);

    // A cursor as every release has written it (`last_timestamp.created_at in µs.id`): the rest, from there.
    const [mid] = await t.db.query<{ cursor: string }>(
      `SELECT last_timestamp || '.' || (extract(epoch FROM created_at) * 1000000)::bigint || '.' || id AS cursor FROM threads WHERE id = $1`,
      [all[3].thread],
    );
    const rest = await api.get(b.inbox(`?folder=all&cursor=${mid.cursor}`), { token: b.owner.token });
    expect(rest.body.data.map((r: { id: string }) => r.id)).toEqual(all.slice(4).map((c) => c.thread));
    // One that names no thread still says where to go on from: what sorts after it.
    const key = await keys(all);
    for (const c of all) {
      const [ts, us] = key.get(c.thread)!;
      const gap = await api.get(b.inbox(`?folder=all&cursor=${ts}.${us}.0`), { token: b.owner.token });
      expect(gap.body.data.map((r: { id: string }) => r.id)).toEqual(all.filter((x) => after(key.get(x.thread)!, [ts, us, '0'])).map((x) => x.thread));
    }
    // A malformed one is refused.
    for (const bad of ['1.2', '1.2.3.4', 'a.b.c', `${'9'.repeat(16)}.1.1`]) {
      expect((await api.get(b.inbox(`?cursor=${bad}`), { token: b.owner.token })).status).toBe(400);
    }
    const graphBad = await api.get(`/v25.0/me/conversations?after=${Buffer.from('1.2').toString('base64url')}&access_token=${encodeURIComponent(b.pageToken)}`);
    expect([graphBad.status, graphBad.body.error.code]).toEqual([400, 100]);
  });

  it('pages across minutes: many threads in one minute, ties, and the ms either side of its edges', async () => {
    const b = await business(['A0', 'A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7', 'A8', 'A9', 'B0', 'B1', 'B2', 'B3']);
    const c = b.convs;
    const m = Math.floor(Date.now() / 60_000) - 5;
    // Minute m holds ten threads: its first and last ms, ties among them, the rest spread; the minutes either side
    // hold a thread each at the ms next to m's edges, and two more further out.
    const at: [number, number[]][] = [
      [m * 60_000 - 1, [10]],
      [m * 60_000, [0, 1]],
      [m * 60_000 + 7, [2]],
      [m * 60_000 + 30_000, [3, 4, 5]],
      [m * 60_000 + 45_123, [6, 7]],
      [m * 60_000 + 59_999, [8, 9]],
      [(m + 1) * 60_000, [11]],
      [(m - 3) * 60_000 + 5, [12]],
      [(m + 2) * 60_000 + 59_999, [13]],
    ];
    for (const [ts, ix] of at) await activeAt(ix.map((i) => c[i]), ts);
    await b.file(c[1], { done: true });
    await b.file(c[4], { done: true, assignee_id: b.helper.id });
    await b.file(c[8], { assignee_id: b.helper.id });
    await b.file(c[10], { assignee_id: b.helper.id });
    await b.file(c[11], { done: true });
    const all = await ordered(c);
    const folders = { inbox: (x: Conv) => !x.done, done: (x: Conv) => x.done, all: () => true };
    for (const [folder, inFolder] of Object.entries(folders)) {
      for (const assignee of ['', b.helper.id, 'none']) {
        const query = `&folder=${folder}${assignee ? `&assignee=${assignee}` : ''}`;
        const assigned = (x: Conv) => (assignee === '' ? true : assignee === 'none' ? x.assignee === null : x.assignee === assignee);
        const expected = all.filter((x) => inFolder(x) && assigned(x)).map((x) => x.thread);
        for (const limit of [1, 2, 3, 5]) {
          const got = await walk((cursor) => b.inbox(`?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`), b.owner.token, limit);
          expect([query, limit, got]).toEqual([query, limit, expected]);
        }
      }
    }
    // A message moves a thread out of the crowded minute to the top, and the walk still meets the rest once.
    await personSays(api, c[5].person, c[5].thread, 'again');
    const inbox = (await ordered(c)).filter((x) => !x.done).map((x) => x.thread);
    expect(inbox[0]).toBe(c[5].thread);
    expect(await walk((cursor) => b.inbox(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`), b.owner.token, 2)).toEqual(inbox);
  });

  it('finds people by part of their name, any ASCII case: nobody, a few, many, 1–2 letters, a page at a time', async () => {
    const b = await business(['Ada Lovelace', 'Brad Pitt', 'Zoë Ådler', 'Hal ADLER', 'Rare Orchid', 'Eve ORCHIDEA', 'Ivy Lane', 'Max_Power 100%', 'Max Power 1000']);
    const [ada, , zoe, hal, orchid, eve] = b.convs;
    await b.file(ada, { done: true });
    await b.file(zoe, { assignee_id: b.helper.id });
    await b.file(hal, { done: true, assignee_id: b.helper.id });
    await b.file(orchid, { done: true });
    await b.file(eve, { assignee_id: b.helper.id });
    // Many more of the Page's people, written straight to the tables: 1,200 "Common Person n" (a name the planner
    // sees is everywhere: it reads the list's own index and checks each one) and 8 "Quixote n" (rare: it finds
    // them off the name's trigram index first), both with ties in activity and creation, some done or assigned;
    // and 20,000 people of the platform who are not (30 "Quixote Elsewhere n" write to another Page), so that
    // starting from the names is a choice, not a scan of a small table. On this data the planner takes each way in
    // (EXPLAIN when this was written): the trigram index then the threads by person (quixote, orchid, zoë, nobody),
    // the index's matches hashed against the Page's threads (common, person 11), a scan of the names (a, zq), the
    // folder's index in order (on). Whichever it takes, the pages must be the model's.
    const elsewhere = await createPage(api, b.owner, 'Elsewhere');
    await t.db.query(
      `WITH u AS (INSERT INTO users (id, username, password_hash, name)
                  SELECT '6' || lpad(i::text, 17, '0'), 'else_' || i || '_' || $1::text, 'x',
                         CASE WHEN i <= 30 THEN 'Quixote Elsewhere ' || i ELSE 'Someone Else ' || i END
                    FROM generate_series(1, 20000) i)
       INSERT INTO threads (id, page_id, user_id, psid, last_seq, last_timestamp, activity_minute, person_last_at)
       SELECT '5' || lpad(i::text, 17, '0'), $1, '6' || lpad(i::text, 17, '0'), '4' || lpad(i::text, 17, '0'), 1, 1e12, 1e12 / 60000, 1e12
         FROM generate_series(1, 30) i`,
      [elsewhere.id],
    );
    await t.db.query(
      `WITH p AS (
         SELECT i, CASE WHEN i <= 1200 THEN 'Common Person ' || i ELSE 'Quixote ' || (i - 1200) END AS name,
                (extract(epoch FROM now()) * 1000)::bigint - 3600000 - (i % 300) * 1000 AS ts
           FROM generate_series(1, 1208) i),
       u AS (INSERT INTO users (id, username, password_hash, name)
             SELECT '8' || lpad(i::text, 17, '0'), 'search_' || i || '_' || $2::text, 'x', name FROM p)
       INSERT INTO threads (id, page_id, user_id, psid, last_seq, last_timestamp, activity_minute, person_last_at,
                            page_done_seq, assignee_user_id, created_at)
       SELECT '9' || lpad(i::text, 17, '0'), $1, '8' || lpad(i::text, 17, '0'), '7' || lpad(i::text, 17, '0'), 1, ts, ts / 60000, ts,
              CASE WHEN i % 3 = 0 THEN 1 END, CASE WHEN i % 4 = 0 THEN $3 END,
              now() - interval '1 day' + (i / 2) * interval '1 ms'
         FROM p`,
      [b.page.id, b.page.id, b.helper.id],
    );
    await t.db.query('ANALYZE users, threads');

    // The model: the Page's threads with a message, by name, in the list's order (keys from the database).
    const rows = await t.db.query<{ id: string; name: string; done: boolean; assignee: string | null; ts: string; us: string }>(
      `SELECT t.id, u.name, t.page_done_seq IS NOT NULL AS done, t.assignee_user_id AS assignee, t.last_timestamp::text AS ts,
              (extract(epoch FROM t.created_at) * 1000000)::bigint::text AS us
         FROM threads t JOIN users u ON u.id = t.user_id WHERE t.page_id = $1 AND t.last_seq > 0`,
      [b.page.id],
    );
    const key = (r: (typeof rows)[number]): Key => [BigInt(r.ts), BigInt(r.us), r.id];
    const all = rows.sort((x, y) => (after(key(x), key(y)) ? 1 : after(key(y), key(x)) ? -1 : 0));
    expect(all.length).toBe(9 + 1208);
    const folders = { inbox: (r: (typeof rows)[number]) => !r.done, done: (r: (typeof rows)[number]) => r.done, all: () => true };
    // [q, pages to walk it in]: many walk 50 at a time; few, 1, 3 and 50 at a time (the cursor through the trigram
    // index's matches).
    const queries: [string, number[]][] = [
      ['nobody-is-called-this', [50]],
      ['quixote', [1, 3, 50]],
      ['qUiXoTe 7', [1, 50]],
      ['ORCHID', [1, 50]],
      ['zoë', [1, 50]],
      // % and _ are plain characters, not LIKE's.
      ['100%', [1, 50]],
      ['X_p', [1, 50]],
      ['common', [50]],
      ['PERSON 11', [7, 50]],
      // Too short for trigrams: 1–2 characters, a few, many, nobody.
      ['a', [2, 50]],
      ['dL', [1, 50]],
      ['on', [50]],
      ['zq', [50]],
      ['ë', [1]],
    ];
    for (const [q, limits] of queries) {
      for (const [folder, inFolder] of Object.entries(folders)) {
        for (const assignee of ['', b.helper.id]) {
          const query = `&folder=${folder}${assignee ? `&assignee=${assignee}` : ''}&q=${encodeURIComponent(q)}`;
          const expected = all
            .filter((r) => inFolder(r) && (!assignee || r.assignee === assignee) && r.name.toLowerCase().includes(q.toLowerCase()))
            .map((r) => r.id);
          for (const limit of limits) {
            const got = await walk((cursor) => b.inbox(`?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`), b.owner.token, limit);
            expect([query, limit, got]).toEqual([query, limit, expected]);
          }
        }
      }
    }
    // The cases above are what they say: nobody, few and many.
    const count = (q: string) => all.filter((r) => r.name.toLowerCase().includes(q)).length;
    expect([count('nobody-is-called-this'), count('quixote'), count('orchid'), count('common'), count('zq'), count('dl'), count('x_p')]).toEqual([
      0, 8, 2, 1200, 0, 2, 1,
    ]);
  }, 120_000);

  it('pages on from where it was when threads move meanwhile: what has not moved comes once, in order', async () => {
    const b = await business(['Ann', 'Ben', 'Cat', 'Dan', 'Eli', 'Flo', 'Gil', 'Hap']);
    const before = (await ordered(b.convs)).map((c) => c.thread);
    const byId = new Map(b.convs.map((c) => [c.thread, c]));
    const page = async (cursor: string | null) => {
      const res = await api.get(b.inbox(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`), { token: b.owner.token });
      return { ids: res.body.data.map((r: { id: string }) => r.id) as string[], next: res.body.paging.next_cursor as string | null };
    };
    const first = await page(null);
    expect(first.ids).toEqual(before.slice(0, 3));
    // Meanwhile: a thread already read gets a message (it moves to the top, behind the reader), one not read yet
    // too (it moves from ahead of the reader to behind it), a Page's reply lands on another one ahead, and one ahead
    // is filed done (it leaves the inbox folder).
    const [seen, unseen, answered, filed] = [before[1], before[5], before[4], before[6]];
    await personSays(api, byId.get(seen)!.person, seen, 'me again');
    await personSays(api, byId.get(unseen)!.person, unseen, 'still there?');
    expect((await pageSays(api, b.pageToken, await psidOf(t.db, answered), { text: 'On it' })).status).toBe(200);
    await b.file(byId.get(filed)!, { done: true });

    const rest: string[] = [];
    for (let cursor = first.next; cursor; ) {
      const next = await page(cursor);
      rest.push(...next.ids);
      cursor = next.next;
    }
    // The rest of the walk: what stayed where it was, once each, in order. The threads that moved above the cursor
    // (a new message either way) are not met again, those that left the folder are gone: the next read from the top
    // has them.
    expect(rest).toEqual(before.slice(3).filter((id) => ![unseen, answered, filed].includes(id)));
    expect([...first.ids, ...rest]).toEqual([...new Set([...first.ids, ...rest])]);
    const top = await page(null);
    expect(top.ids).toEqual((await ordered([seen, unseen, answered].map((id) => byId.get(id)!))).map((c) => c.thread));
    expect(top.ids.sort()).toEqual([seen, unseen, answered].sort());
  });
});
