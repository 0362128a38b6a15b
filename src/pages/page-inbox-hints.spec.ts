import { MemoryPubSub } from '../infra/pubsub/pubsub.port';
import { INBOX_HINT_WINDOW_MS, InboxHint, PageInboxHints } from './page-inbox-hints';

// The hub over the in-process bus (the embedded default's stand-in for Redis pub/sub): what a watcher hears.
describe('PageInboxHints', () => {
  const make = (bus = new MemoryPubSub()) => new PageInboxHints(bus, 1000, { warn: () => undefined });
  const tick = () => new Promise((r) => setImmediate(r));
  const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

  function watcher() {
    const hints: InboxHint[] = [];
    const revoked: string[] = [];
    return { hints, revoked, w: { hint: (h: InboxHint) => hints.push(h), revoked: (u: string) => revoked.push(u) } };
  }

  it("merges a window's changes into one hint per Page, the first on the next tick", async () => {
    const hub = make();
    const a = watcher();
    const b = watcher();
    const stopA = await hub.watch('1', a.w);
    await hub.watch('2', b.w);
    hub.touch('1', 't1');
    await tick();
    expect(a.hints).toEqual([{ type: 'inbox', page_id: '1', thread_ids: ['t1'] }]);
    // Within the window: held, then merged.
    hub.touch('1', 't2');
    hub.touch('1', 't3');
    hub.touch('1', 't2');
    await tick();
    expect(a.hints).toHaveLength(1);
    await later(INBOX_HINT_WINDOW_MS + 50);
    expect(a.hints[1]).toEqual({ type: 'inbox', page_id: '1', thread_ids: ['t2', 't3'] });
    // "Any thread" wins over names; another Page's watcher hears nothing of this one.
    await later(INBOX_HINT_WINDOW_MS + 50);
    hub.touch('1', 't4');
    hub.touch('1', null);
    await later(INBOX_HINT_WINDOW_MS + 50);
    expect(a.hints.at(-1)).toEqual({ type: 'inbox', page_id: '1', thread_ids: null });
    expect(b.hints).toEqual([]);
    stopA();
  });

  it('tells watchers of a revoked admin, and drops a subscription with its last watcher', async () => {
    const bus = new MemoryPubSub();
    const hub = make(bus);
    const a = watcher();
    const b = watcher();
    const stopA = await hub.watch('1', a.w);
    const stopB = await hub.watch('1', b.w);
    expect(hub.watchedPageCount).toBe(1);
    await hub.revoke('1', 'u9');
    expect(a.revoked).toEqual(['u9']);
    expect(b.revoked).toEqual(['u9']);
    stopA();
    stopA();
    expect(hub.watchedPageCount).toBe(1);
    stopB();
    expect(hub.watchedPageCount).toBe(0);
    hub.touch('1', 't1');
    await tick();
    expect(a.hints).toEqual([]);
  });
});
