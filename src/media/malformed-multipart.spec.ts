import { malformedMultipartReason } from './malformed-multipart';

describe('malformedMultipartReason', () => {
  it("names busboy's errors for a body that is not well-formed multipart", () => {
    expect(malformedMultipartReason(new Error('Multipart: Boundary not found'))).toBe('boundary not found');
    expect(malformedMultipartReason(new TypeError('Boundary required'))).toBe('boundary required');
    expect(malformedMultipartReason(new Error('The needle cannot have a length bigger than 256.'))).toBe('the boundary must be 1 to 256 characters');
    expect(malformedMultipartReason(new Error('The needle cannot be an empty String/Buffer.'))).toBe('the boundary must be 1 to 256 characters');
    expect(malformedMultipartReason(new Error('Unexpected end of multipart data'))).toBe('unexpected end of multipart data');
    expect(malformedMultipartReason(new Error('Part terminated early due to unexpected end of multipart data'))).toBe(
      'part terminated early due to unexpected end of multipart data',
    );
  });

  it('names a client that hung up mid-body', () => {
    expect(malformedMultipartReason(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }))).toBe('the client closed the connection mid-upload');
  });

  it('leaves every other error alone, and one of ours that quotes the parser', () => {
    class Ours extends Error {}
    for (const err of [
      new Error('ENOSPC: no space left on device'),
      new Error('boundary'),
      { message: 42 },
      { message: 'Unexpected end of multipart data' },
      new Ours('(#100) The body is not well-formed multipart/form-data: unexpected end of multipart data'),
      null,
      undefined,
      'Unexpected end of multipart data',
    ]) {
      expect(malformedMultipartReason(err)).toBeNull();
    }
  });
});
