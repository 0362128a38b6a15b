import { fillGreeting, splitName } from './profile-text';

describe('profile text', () => {
  it('splits a name into first and last', () => {
    expect(splitName('Ada King Lovelace')).toEqual({ first_name: 'Ada', last_name: 'King Lovelace' });
    expect(splitName('  Grace  ')).toEqual({ first_name: 'Grace', last_name: '' });
    expect(splitName('')).toEqual({ first_name: '', last_name: '' });
  });

  it('fills every greeting placeholder, each time it appears', () => {
    expect(fillGreeting('Hi {{user_first_name}} ({{user_first_name}} {{user_last_name}}), {{user_full_name}}', 'Ada Lovelace')).toBe(
      'Hi Ada (Ada Lovelace), Ada Lovelace',
    );
    expect(fillGreeting('No names, {{other}}', 'Ada')).toBe('No names, {{other}}');
  });
});
