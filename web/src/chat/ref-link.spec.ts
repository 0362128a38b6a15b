import { describe, expect, it } from '@jest/globals';
import { linkingReturn, linkTarget, withoutRef } from './ref-link';

describe('ref links', () => {
  it('name a Page, with or without a ref', () => {
    expect(linkTarget('?page=123&ref=summer-sale')).toEqual({ pageId: '123', ref: 'summer-sale' });
    expect(linkTarget('?ref=ad:42&page=123')).toEqual({ pageId: '123', ref: 'ad:42' });
    expect(linkTarget('?page=123')).toEqual({ pageId: '123' });
    expect(linkTarget('?page=123&transport=poll')).toEqual({ pageId: '123' });
  });

  it('name no Page without a numeric page id', () => {
    expect(linkTarget('')).toBeNull();
    expect(linkTarget('?ref=summer-sale')).toBeNull();
    expect(linkTarget('?page=acme&ref=x')).toBeNull();
    expect(linkTarget('?page=')).toBeNull();
    expect(linkTarget(`?page=${'1'.repeat(21)}`)).toBeNull();
  });

  it('keep a base64 ref as written, encoded or not', () => {
    expect(linkTarget('?page=1&ref=YWJj+/de=')?.ref).toBe('YWJj+/de=');
    expect(linkTarget('?page=1&ref=YWJj%2B%2Fde%3D')?.ref).toBe('YWJj+/de=');
  });

  it('open the Page without a ref the server would refuse', () => {
    expect(linkTarget('?page=1&ref=has%20space')).toEqual({ pageId: '1', badRef: 'has space' });
    expect(linkTarget('?page=1&ref=')).toEqual({ pageId: '1', badRef: '' });
    expect(linkTarget(`?page=1&ref=${'x'.repeat(251)}`)?.ref).toBeUndefined();
    expect(linkTarget(`?page=1&ref=${'x'.repeat(250)}`)?.ref).toBe('x'.repeat(250));
    expect(linkTarget('?page=1&ref=%E0%A4%A')).toEqual({ pageId: '1' });
  });

  it('lose their ref, and only it, once sent', () => {
    expect(withoutRef('?page=123&ref=summer-sale')).toBe('?page=123');
    expect(withoutRef('?ref=a&page=123&transport=poll')).toBe('?page=123&transport=poll');
    expect(withoutRef('?ref=a')).toBe('');
    expect(withoutRef('')).toBe('');
    expect(withoutRef('?page=1&r%65f=a&x=%2B')).toBe('?page=1&x=%2B');
  });

  it("read the account-linking return from the fragment, code or not", () => {
    expect(linkingReturn('#account_linking_token=alt_x&authorization_code=a%2Bb%20c')).toEqual({ token: 'alt_x', code: 'a+b c' });
    expect(linkingReturn('#account_linking_token=alt_x')).toEqual({ token: 'alt_x' });
    expect(linkingReturn('#account_linking_error=expired')).toEqual({ error: 'expired' });
    expect(linkingReturn('#account_linking_token=')).toBeNull();
    expect(linkingReturn('')).toBeNull();
  });
});
