import { AvatarUrlSigner, avatarSvg, initialsOf } from './avatar';

describe('avatars', () => {
  const secret = Buffer.alloc(32, 7);

  it('signs URLs that verify until they expire, and refuses any other page, psid or signature', () => {
    let now = 1_700_000_000_000;
    const signer = new AvatarUrlSigner(secret, 60, () => now);
    const url = new URL(signer.sign('101', '1234567890123456'), 'http://x');
    expect(url.pathname).toBe('/avatars/101/1234567890123456');
    const exp = url.searchParams.get('exp')!;
    const sig = url.searchParams.get('sig')!;
    expect(exp).toBe(String(1_700_000_060));
    expect(signer.verify('101', '1234567890123456', exp, sig)).toBe('ok');
    expect(signer.verify('102', '1234567890123456', exp, sig)).toBe('bad_signature');
    expect(signer.verify('101', '1234567890123457', exp, sig)).toBe('bad_signature');
    expect(signer.verify('101', '1234567890123456', String(Number(exp) + 1), sig)).toBe('bad_signature');
    expect(new AvatarUrlSigner(Buffer.alloc(32, 8), 60, () => now).verify('101', '1234567890123456', exp, sig)).toBe('bad_signature');
    now += 60_000;
    expect(signer.verify('101', '1234567890123456', exp, sig)).toBe('ok');
    now += 1000;
    expect(signer.verify('101', '1234567890123456', exp, sig)).toBe('expired');
  });

  it.each([
    ['Ada Lovelace', 'AL'],
    ['  grace   brewster murray hopper ', 'GH'],
    ['Plato', 'P'],
    ['', '?'],
    ['😀 Smile', '😀S'],
    ['名 字', '名字'],
  ])('initials of %j are %j', (name, initials) => {
    expect(initialsOf(name)).toBe(initials);
  });

  it('draws the same picture for the same person, and escapes what it draws', () => {
    expect(avatarSvg('Ada Lovelace', 'u1')).toBe(avatarSvg('Ada Lovelace', 'u1'));
    expect(avatarSvg('Ada Lovelace', 'u1')).toContain('>AL</text>');
    const svg = avatarSvg('<script> &amp', 'u2');
    expect(svg).toContain('>&lt;&amp;</text>');
    expect(svg).not.toContain('<script');
  });
});
