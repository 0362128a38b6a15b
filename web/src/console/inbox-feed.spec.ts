import { describe, expect, it } from '@jest/globals';
import { FeedTimers, InboxFeed, SocketLike } from './inbox-feed';

// A socket the test speaks for: the server's frames are pushed in with `frame`, the client's are in `sent`.
class FakeSocket implements SocketLike {
  readyState = 1;
  onmessage: ((m: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  sent: any[] = [];
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code });
  }
  frame(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const timeouts: { fn: () => void; ms: number }[] = [];
  const timers: FeedTimers = {
    setTimeout: (fn, ms) => timeouts.push({ fn, ms }),
    clearTimeout: () => undefined,
    setInterval: () => 1,
    clearInterval: () => undefined,
  };
  const hints: (string[] | null)[] = [];
  const live: boolean[] = [];
  const feed = new InboxFeed({
    token: 'tok en',
    pageId: '42',
    url: 'ws://h/ws',
    onHint: (ids) => hints.push(ids),
    onLive: (l) => live.push(l),
    connect: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    timers,
  });
  return { feed, sockets, timeouts, hints, live, last: () => sockets[sockets.length - 1] };
}

describe('the inbox feed', () => {
  it('watches the Page once the socket says hello, then passes its hints on', () => {
    const h = harness();
    h.feed.start();
    expect(h.last().url).toBe('ws://h/ws?access_token=tok+en');
    h.last().frame({ type: 'hello', cursor: 3, heartbeat_ms: 30000 });
    expect(h.last().sent).toEqual([{ type: 'watch_inbox', ref: 'inbox-watch', page_id: '42' }]);
    h.last().frame({ type: 'watching', ref: 'inbox-watch', page_id: '42' });
    // Live, and a full re-read for whatever changed before the watch held.
    expect(h.live).toEqual([true]);
    expect(h.hints).toEqual([null]);
    h.last().frame({ type: 'inbox', page_id: '42', thread_ids: ['t1', 't2'] });
    h.last().frame({ type: 'inbox', page_id: '7', thread_ids: ['other'] });
    // The person's own chat events on the same socket are not the inbox's.
    h.last().frame({ type: 'message', thread_id: 't9', page_id: '42', cursor: 4 });
    h.last().frame({ type: 'inbox', page_id: '42', thread_ids: null });
    expect(h.hints).toEqual([null, ['t1', 't2'], null]);
  });

  it('reconnects with a growing pause after a drop, and re-reads everything once watching again', () => {
    const h = harness();
    h.feed.start();
    h.last().frame({ type: 'hello' });
    h.last().frame({ type: 'watching', ref: 'inbox-watch' });
    h.last().close(1006);
    expect(h.live).toEqual([true, false]);
    expect(h.timeouts.map((t) => t.ms)).toEqual([1000]);
    h.timeouts[0].fn();
    expect(h.sockets).toHaveLength(2);
    h.last().close(1006);
    expect(h.timeouts.map((t) => t.ms)).toEqual([1000, 2000]);
    h.timeouts[1].fn();
    h.last().frame({ type: 'hello' });
    h.last().frame({ type: 'watching', ref: 'inbox-watch' });
    expect(h.live).toEqual([true, false, true]);
    expect(h.hints).toEqual([null, null]);
    // A success resets the pause.
    h.last().close(1006);
    expect(h.timeouts[2].ms).toBe(1000);
  });

  it('gives up for good when the person is not an admin of the Page, or stops being one', () => {
    const refused = harness();
    refused.feed.start();
    refused.last().frame({ type: 'hello' });
    refused.last().frame({ type: 'error', ref: 'inbox-watch', code: 'PAGE.NOT_ADMIN', message: 'no' });
    expect(refused.last().readyState).toBe(3);
    expect(refused.timeouts).toEqual([]);

    const removed = harness();
    removed.feed.start();
    removed.last().frame({ type: 'hello' });
    removed.last().frame({ type: 'watching', ref: 'inbox-watch' });
    removed.last().frame({ type: 'unwatched', ref: null, page_id: '42', reason: 'PAGE.NOT_ADMIN' });
    expect(removed.live).toEqual([true, false]);
    expect(removed.timeouts).toEqual([]);

    // Any other refusal (the bus away) is tried again.
    const away = harness();
    away.feed.start();
    away.last().frame({ type: 'hello' });
    away.last().frame({ type: 'error', ref: 'inbox-watch', code: 'REALTIME.UNAVAILABLE', message: 'later' });
    expect(away.timeouts.map((t) => t.ms)).toEqual([1000]);
  });

  it('tells a stopped view nothing, and does not come back after a token ends', () => {
    const h = harness();
    h.feed.start();
    h.last().frame({ type: 'hello' });
    h.last().frame({ type: 'watching', ref: 'inbox-watch' });
    h.feed.stop();
    h.last().frame({ type: 'inbox', page_id: '42', thread_ids: ['t1'] });
    expect(h.live).toEqual([true]);
    expect(h.hints).toEqual([null]);
    expect(h.timeouts).toEqual([]);

    const ended = harness();
    ended.feed.start();
    ended.last().close(4401);
    expect(ended.timeouts).toEqual([]);
  });
});
