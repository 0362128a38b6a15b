import { FRAME_NOT_JSON, FRAME_UNKNOWN, parsePersonFrame } from './person-frames';

describe('parsePersonFrame', () => {
  it('routes a known type to its handler with the whole frame', () => {
    const frame = { type: 'send', ref: 'r1', thread_id: '7', text: 'hi', client_message_id: 'c1' };
    expect(parsePersonFrame(JSON.stringify(frame))).toEqual({ event: 'send', data: frame });
    expect(parsePersonFrame('{"type":"ping"}')).toEqual({ event: 'ping', data: { type: 'ping' } });
  });

  it('routes unknown types, non-objects and missing types to the unknown handler, keeping the ref', () => {
    expect(parsePersonFrame('{"type":"dance","ref":5}')).toEqual({ event: FRAME_UNKNOWN, data: { type: 'dance', ref: 5 } });
    expect(parsePersonFrame('{"type":"frame:not-json"}')).toMatchObject({ event: FRAME_UNKNOWN });
    expect(parsePersonFrame('{"type":"toString"}')).toMatchObject({ event: FRAME_UNKNOWN });
    for (const raw of ['[]', 'null', '3', '"send"', '{}']) expect(parsePersonFrame(raw)).toMatchObject({ event: FRAME_UNKNOWN });
  });

  it('routes text that is not JSON to the closing handler, and ignores binary frames', () => {
    expect(parsePersonFrame('not json')).toEqual({ event: FRAME_NOT_JSON, data: {} });
    expect(parsePersonFrame(Buffer.from('{"type":"ping"}'))).toBeUndefined();
  });
});
