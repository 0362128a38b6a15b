import { parsePlatformMediaUrl } from './index';

describe('parsePlatformMediaUrl', () => {
  it('reads the id, variant, exp and sig of a signed media URL', () => {
    expect(parsePlatformMediaUrl('https://sb.example:8443/media/42/thumb.webp?exp=1700000000&sig=Zm9v-_')).toEqual({
      mediaId: '42',
      variant: 'thumb.webp',
      exp: '1700000000',
      sig: 'Zm9v-_',
    });
  });

  it.each([
    ['not a string', 42],
    ['not a URL', '/media/1/display.jpg?exp=1&sig=x'],
    ['another path', 'https://sb.example/files/1/display.jpg?exp=1&sig=x'],
    ['an exp of 13 digits', 'https://sb.example/media/1/display.jpg?exp=1234567890123&sig=x'],
    ['a sig with other characters', 'https://sb.example/media/1/display.jpg?exp=1&sig=a%2Bb'],
    ['an empty sig', 'https://sb.example/media/1/display.jpg?exp=1&sig='],
  ])('is null for %s', (_name, url) => {
    expect(parsePlatformMediaUrl(url)).toBeNull();
  });
});
