import { FRAME_NOT_JSON, FRAME_TOO_DEEP, FRAME_UNKNOWN, MAX_REF_LENGTH, parsePersonFrame } from './person-frames';

describe('parsePersonFrame', () => {
  it('routes a known type to its handler with the whole frame', () => {
    const frame = { type: 'send', ref: 'r1', thread_id: '7', text: 'hi', client_message_id: 'c1' };
    expect(parsePersonFrame(JSON.stringify(frame))).toEqual({ event: 'send', data: frame });
    expect(parsePersonFrame('{"type":"ping"}')).toEqual({ event: 'ping', data: { type: 'ping' } });
  });

  it('routes unknown types, non-objects and missing types to the unknown handler, keeping the ref', () => {
    expect(parsePersonFrame('{"type":"dance","ref":5,"big":"x"}')).toEqual({ event: FRAME_UNKNOWN, data: { ref: 5 } });
    expect(parsePersonFrame('{"type":"frame:not-json"}')).toMatchObject({ event: FRAME_UNKNOWN });
    expect(parsePersonFrame('{"type":"toString"}')).toMatchObject({ event: FRAME_UNKNOWN });
    for (const raw of ['[]', 'null', '3', '"send"', '{}']) expect(parsePersonFrame(raw)).toMatchObject({ event: FRAME_UNKNOWN });
  });

  it('routes text that is not JSON to the closing handler, and ignores binary frames', () => {
    expect(parsePersonFrame('not json')).toEqual({ event: FRAME_NOT_JSON, data: {} });
    expect(parsePersonFrame(Buffer.from('{"type":"ping"}'))).toBeUndefined();
  });

  it('keeps only a string (up to 256 characters) or number ref of an unknown frame, and routes a deep frame aside unwalked', () => {
    expect(parsePersonFrame(JSON.stringify({ type: 'x', ref: { a: 1 } }))).toEqual({ event: FRAME_UNKNOWN, data: { ref: null } });
    expect(parsePersonFrame(JSON.stringify({ type: 'x', ref: 'r'.repeat(MAX_REF_LENGTH + 1) }))).toEqual({ event: FRAME_UNKNOWN, data: { ref: null } });
    expect(parsePersonFrame(JSON.stringify({ type: 'x', ref: 'r'.repeat(MAX_REF_LENGTH) }))).toEqual({ event: FRAME_UNKNOWN, data: { ref: 'r'.repeat(MAX_REF_LENGTH) } });
    const deep = '{"type":"send","ref":"d","text":' + '['.repeat(30_000) + ']'.repeat(30_000) + '}';
    expect(parsePersonFrame(deep)).toEqual({ event: FRAME_TOO_DEEP, data: { ref: 'd' } });
    const deepRef = '{"type":"x","ref":' + '['.repeat(30_000) + ']'.repeat(30_000) + '}';
    expect(parsePersonFrame(deepRef)).toEqual({ event: FRAME_TOO_DEEP, data: { ref: null } });
  });
});
