import type { PersonEvent } from '../person-events';
import { OrderedEventStream } from './ordered-stream';

const ev = (cursor: number): PersonEvent => ({
  type: 'read',
  by: 'page',
  watermark: cursor,
  thread_id: 't',
  page_id: 'p',
  seq: cursor,
  cursor,
});

function harness(stored: number[], lastSent: number, catchUp: boolean) {
  const sent: (number | undefined)[] = [];
  const db = [...stored];
  const stream = new OrderedEventStream(
    lastSent,
    {
      fetchAfter: async (after, limit) => db.filter((c) => c > after).slice(0, limit).map(ev),
      send: (e) => {
        sent.push(e.cursor);
        return true;
      },
    },
    { batch: 3 },
  );
  stream.start(catchUp);
  return { stream, sent, db };
}

const settle = async (s: OrderedEventStream) => {
  for (let i = 0; i < 5; i++) {
    await s.drained();
    await new Promise((r) => setImmediate(r));
  }
};

describe('OrderedEventStream', () => {
  it('re-reads the database on resync, when live events may have been lost, and sends each event once', async () => {
    const { stream, sent, db } = harness([1, 2], 0, true);
    await settle(stream);
    expect(sent).toEqual([1, 2]);
    // Stored while the bus was down: no live event announced them.
    db.push(3, 4, 5, 6);
    await settle(stream);
    expect(sent).toEqual([1, 2]);
    stream.resync();
    stream.push(ev(5));
    await settle(stream);
    expect(sent).toEqual([1, 2, 3, 4, 5, 6]);
    stream.stop();
    stream.resync();
    db.push(99);
    await settle(stream);
    expect(sent).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads again when a resync comes while a read is running (that read may predate what was lost)', async () => {
    const db = [1, 2];
    const sent: (number | undefined)[] = [];
    let release!: () => void;
    let reads = 0;
    const stream = new OrderedEventStream(0, {
      fetchAfter: async (after) => {
        const snapshot = db.filter((c) => c > after).map(ev);
        if (++reads === 1) await new Promise<void>((r) => (release = r));
        return snapshot;
      },
      send: (e) => {
        sent.push(e.cursor);
        return true;
      },
    });
    stream.start(true);
    await new Promise((r) => setImmediate(r));
    // The first read's snapshot is taken; then the bus drops, 3 is stored, and the resync comes mid-read.
    db.push(3);
    stream.resync();
    release();
    await settle(stream);
    expect(sent).toEqual([1, 2, 3]);
    expect(reads).toBe(2);
  });

  it('catches up from the database in batches, then follows live events', async () => {
    const h = harness([1, 2, 3, 4, 5, 6, 7], 2, true);
    await settle(h.stream);
    h.stream.push(ev(8));
    await settle(h.stream);
    expect(h.sent).toEqual([3, 4, 5, 6, 7, 8]);
  });

  it('drops duplicates and live events already covered by the catch-up', async () => {
    const h = harness([1, 2, 3], 0, true);
    h.stream.push(ev(2));
    h.stream.push(ev(3));
    await settle(h.stream);
    h.stream.push(ev(3));
    await settle(h.stream);
    expect(h.sent).toEqual([1, 2, 3]);
  });

  it('fills a gap from the database when a later event arrives first', async () => {
    const h = harness([1, 2, 3, 4], 1, false);
    h.stream.push(ev(4));
    await settle(h.stream);
    h.stream.push(ev(2));
    h.stream.push(ev(3));
    await settle(h.stream);
    expect(h.sent).toEqual([2, 3, 4]);
  });

  it('holds live events until started', async () => {
    const sent: (number | undefined)[] = [];
    const s = new OrderedEventStream(0, { fetchAfter: async (a) => [1, 2].filter((c) => c > a).map(ev), send: (e) => (sent.push(e.cursor), true) });
    s.push(ev(2));
    await settle(s);
    expect(sent).toEqual([]);
    s.start();
    await settle(s);
    expect(sent).toEqual([1, 2]);
  });

  it('stops after a failed read and reports it once', async () => {
    const errors: unknown[] = [];
    const s = new OrderedEventStream(0, {
      fetchAfter: async () => {
        throw new Error('db down');
      },
      send: () => true,
      onError: (e) => errors.push(e),
    });
    s.start();
    s.push(ev(5));
    await settle(s);
    s.push(ev(6));
    await settle(s);
    expect(errors).toHaveLength(1);
  });

  it('passes ephemeral events through and stops when the consumer is gone', async () => {
    const sent: unknown[] = [];
    const s = new OrderedEventStream(0, { fetchAfter: async () => [], send: (e) => (sent.push(e.type), sent.length < 2) });
    s.start(false);
    const typing: PersonEvent = { type: 'typing', on: true, thread_id: 't', page_id: 'p', seq: 0 };
    s.push(typing);
    s.push(ev(1));
    s.push(ev(2));
    await settle(s);
    expect(sent).toEqual(['typing', 'read']);
  });

  it('drops a typing_on that a message of its thread already ended: reordered behind a catch-up read, it would outlive the reply', async () => {
    const sent: string[] = [];
    const reply: PersonEvent = {
      type: 'message',
      thread_id: 't',
      page_id: 'p',
      seq: 5,
      cursor: 1,
      message: { mid: 'm_1', seq: 5, sender: 'page', timestamp: 1, text: 'the reply' } as never,
    };
    let release!: () => void;
    const reading = new Promise<void>((r) => (release = r));
    const s = new OrderedEventStream(0, {
      // The catch-up read is slow: the live typing_on (sent before the reply, seq 4) queues meanwhile.
      fetchAfter: async (after) => (await reading, after < 1 ? [reply] : []),
      send: (e) => (sent.push(e.type === 'typing' ? `typing ${e.on} ${e.thread_id}` : `${e.type} ${e.seq}`), true),
    });
    s.start(true);
    s.push({ type: 'typing', on: true, thread_id: 't', page_id: 'p', seq: 4 });
    // Another thread's typing, and a typing_off, are not affected.
    s.push({ type: 'typing', on: true, thread_id: 'u', page_id: 'p', seq: 9 });
    s.push({ type: 'typing', on: false, thread_id: 't', page_id: 'p', seq: 4 });
    release();
    await settle(s);
    expect(sent).toEqual(['message 5', 'typing true u', 'typing false t']);
    // A typing_on after the reply (seq 5) shows.
    s.push({ type: 'typing', on: true, thread_id: 't', page_id: 'p', seq: 5 });
    await settle(s);
    expect(sent[sent.length - 1]).toBe('typing true t');
  });
});

