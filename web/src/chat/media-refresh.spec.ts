import { describe, expect, it } from '@jest/globals';
import type { MessageView } from '../api';
import {
  dueForRefresh,
  FAILED_RETRY_MS,
  markRefreshed,
  markRefreshing,
  mayRefreshAfterError,
  MIN_REFRESH_GAP_MS,
  mediaUrls,
  messageExpiry,
  planFetches,
  REFRESH_LEAD_MS,
  RefreshLedger,
  signedExpiry,
  swapMedia,
} from './media-refresh';

const signed = (id: string, variant: string, expS: number) =>
  `http://h/media/${id}/${variant}?exp=${expS}&sig=s${expS}`;
const photo = (seq: number, expS: number): MessageView => ({
  mid: `m_${seq}`,
  seq,
  sender: 'person',
  timestamp: seq,
  kind: 'message',
  attachments: [
    {
      type: 'image',
      payload: {
        media_id: `${seq}`,
        url: signed(`${seq}`, 'display.webp', expS),
        thumbnail_url: signed(`${seq}`, 'thumb.webp', expS),
      },
    },
  ],
});
const asPersona = (m: MessageView, expS: number): MessageView => ({
  ...m,
  persona: { id: '5', name: 'Ada (support)', profile_picture_url: signed('77', 'thumb.webp', expS) },
});
const text = (seq: number): MessageView => ({
  mid: `m_${seq}`,
  seq,
  sender: 'page',
  timestamp: seq,
  kind: 'message',
  text: 'hi',
});

describe('signed media URLs', () => {
  it('reads the expiry of our signed URLs only, absolute or relative', () => {
    expect(signedExpiry(signed('1', 'thumb.webp', 1_800_000_000))).toBe(1_800_000_000_000);
    expect(signedExpiry('/media/1/display.jpg?exp=100&sig=x')).toBe(100_000);
    // A bot's own host, an unsigned path, garbage.
    expect(signedExpiry('https://shop.example.com/red.png?exp=100')).toBeUndefined();
    expect(signedExpiry('/media/1/display.jpg?exp=100')).toBeUndefined();
    expect(signedExpiry('/media/1/display.jpg?exp=soon&sig=x')).toBeUndefined();
    expect(signedExpiry(undefined)).toBeUndefined();
  });
  it('finds every URL a message draws, and the first to expire', () => {
    const bot: MessageView = {
      ...text(2),
      attachment: {
        type: 'template',
        payload: { template_type: 'media', elements: [{ media_type: 'image', url: signed('9', 'display.jpg', 50) }] },
      } as MessageView['attachment'],
    };
    expect(mediaUrls(bot)).toEqual([signed('9', 'display.jpg', 50)]);
    expect(messageExpiry(bot)).toBe(50_000);
    const mixed = photo(3, 70);
    mixed.attachments!.push({ type: 'file', payload: { url: signed('4', 'original', 60) } });
    expect(messageExpiry(mixed)).toBe(60_000);
    // A generic template's images are the bot's: nothing to refresh.
    const generic: MessageView = {
      ...text(4),
      attachment: {
        type: 'template',
        payload: { template_type: 'generic', elements: [{ title: 'x', image_url: signed('1', 'thumb.webp', 1) }] },
      } as MessageView['attachment'],
    };
    expect(messageExpiry(generic)).toBeUndefined();
    expect(messageExpiry(text(5))).toBeUndefined();
  });
  it('counts the picture of the persona a message was sent as', () => {
    const ada = asPersona(text(6), 40);
    expect(mediaUrls(ada)).toEqual([signed('77', 'thumb.webp', 40)]);
    expect(messageExpiry(ada)).toBe(40_000);
    expect(messageExpiry({ ...asPersona(photo(7, 90), 40) })).toBe(40_000);
    // A persona whose picture the server could not sign has nothing to refresh.
    expect(messageExpiry({ ...text(8), persona: { id: '5', name: 'Ada' } })).toBeUndefined();
    expect(mayRefreshAfterError(ada, new Map(), 0)).toBe(true);
  });
});

describe('when to re-fetch', () => {
  it('re-fetches a message once its URLs are (about to be) expired, not before, not text', () => {
    const ledger: RefreshLedger = new Map();
    const m = photo(1, 1000);
    expect(dueForRefresh([m, text(2)], ledger, 1000_000 - REFRESH_LEAD_MS - 1)).toEqual([]);
    expect(dueForRefresh([m, text(2)], ledger, 1000_000 - REFRESH_LEAD_MS)).toEqual([m]);
  });
  it('re-fetches at most once per expiry: not again while on its way, then at the new URLs’ expiry', () => {
    const ledger: RefreshLedger = new Map();
    const old = photo(1, 1000);
    let now = 1000_000;
    markRefreshing(ledger, [old.mid]);
    expect(dueForRefresh([old], ledger, now)).toEqual([]);
    expect(mayRefreshAfterError(old, ledger, now)).toBe(false);
    const fresh = photo(1, 1000 + 3600);
    markRefreshed(ledger, [old.mid], [fresh], now);
    // The new URLs fail to load too (the media is gone): no loop.
    expect(mayRefreshAfterError(fresh, ledger, now + 1000)).toBe(false);
    expect(dueForRefresh([fresh], ledger, now + 1000)).toEqual([]);
    now = (1000 + 3600) * 1000 - REFRESH_LEAD_MS;
    expect(dueForRefresh([fresh], ledger, now)).toEqual([fresh]);
  });
  it('waits at least a minute between re-fetches, even when the answer looks expired already (clock skew)', () => {
    const ledger: RefreshLedger = new Map();
    const now = 5000_000;
    // The device's clock is an hour ahead of the server's: fresh URLs look expired at once.
    const fresh = photo(1, 5000 - 3600 + 60);
    markRefreshing(ledger, [fresh.mid]);
    markRefreshed(ledger, [fresh.mid], [fresh], now);
    expect(dueForRefresh([fresh], ledger, now + 1)).toEqual([]);
    expect(dueForRefresh([fresh], ledger, now + MIN_REFRESH_GAP_MS - 1)).toEqual([]);
    expect(dueForRefresh([fresh], ledger, now + MIN_REFRESH_GAP_MS)).toEqual([fresh]);
  });
  it('after a load error: once, for messages with signed URLs only', () => {
    const ledger: RefreshLedger = new Map();
    const m = photo(1, 9_999_999_999);
    expect(mayRefreshAfterError(m, ledger, 0)).toBe(true);
    expect(
      mayRefreshAfterError(
        { ...text(2), attachment: { type: 'image', payload: { url: 'https://bot.example/a.png' } } },
        ledger,
        0,
      ),
    ).toBe(false);
  });
  it('tries a failed re-fetch again later, not at once', () => {
    const ledger: RefreshLedger = new Map();
    const m = photo(1, 10);
    markRefreshing(ledger, [m.mid]);
    markRefreshed(ledger, [m.mid], [], 20_000);
    expect(dueForRefresh([m], ledger, 20_000 + FAILED_RETRY_MS - 1)).toEqual([]);
    expect(dueForRefresh([m], ledger, 20_000 + FAILED_RETRY_MS)).toEqual([m]);
  });
});

describe('re-fetching', () => {
  it('covers the seqs with few requests of at most 100', () => {
    expect(planFetches([7])).toEqual([{ after_seq: 6, limit: 1 }]);
    expect(planFetches([9, 3, 3, 5])).toEqual([{ after_seq: 2, limit: 7 }]);
    expect(planFetches([1, 100, 101, 250])).toEqual([
      { after_seq: 0, limit: 100 },
      { after_seq: 100, limit: 1 },
      { after_seq: 249, limit: 1 },
    ]);
    expect(planFetches([])).toEqual([]);
  });
  it('swaps in the fresh media only, and keeps the list when nothing changed', () => {
    const a = { ...photo(1, 10), text: 'beach' };
    const b = text(2);
    const list = [a, b];
    const fresh = photo(1, 4000);
    const out = swapMedia(list, [fresh, { ...b, text: 'edited?' }]);
    expect(out[0]).toEqual({ ...a, attachments: fresh.attachments });
    expect(out[0].text).toBe('beach');
    expect(out[1]).toBe(b);
    expect(swapMedia(list, [photo(1, 10)])).toBe(list);
  });
  it("swaps in the persona's fresh picture", () => {
    const old = { ...asPersona(text(3), 10), text: 'Ada here' };
    const list = [old];
    const fresh = asPersona(text(3), 4000);
    const out = swapMedia(list, [{ ...fresh, text: 'changed?' }]);
    expect(out[0]).toEqual({ ...old, persona: fresh.persona });
    expect(swapMedia(list, [asPersona(text(3), 10)])).toBe(list);
  });
});
