import { errorOf, valueOf } from './fixtures';
import { validatePersona } from './index';

describe('validatePersona', () => {
  it('takes a name and a picture URL, ignoring Graph transport params', () => {
    expect(valueOf(validatePersona({ name: 'Ada (agent)', profile_picture_url: 'https://cdn.example.com/ada.png', access_token: 'EAAB' }))).toEqual({
      name: 'Ada (agent)',
      profile_picture_url: 'https://cdn.example.com/ada.png',
    });
  });
  it('names the first failing param as Graph error 100', () => {
    expect(errorOf(validatePersona({ profile_picture_url: 'https://x.example/a.png' }))).toEqual({ code: 100, param: 'name', message: 'param name is required' });
    expect(errorOf(validatePersona({ name: '   ', profile_picture_url: 'https://x.example/a.png' })).message).toBe('param name must not be blank');
    expect(errorOf(validatePersona({ name: 'x'.repeat(201), profile_picture_url: 'https://x.example/a.png' })).param).toBe('name');
    expect(errorOf(validatePersona({ name: 'Ada', profile_picture_url: 'ftp://x.example/a.png' }))).toMatchObject({ param: 'profile_picture_url', message: 'param profile_picture_url must be a valid URL' });
    expect(errorOf(validatePersona({ name: 'Ada', profile_picture_url: 'https://x.example/a.png', role: 'admin' })).param).toBe('role');
  });
});
