import type { Button } from './types';

/** What a template button says: its title, or Messenger's own words for the two it draws itself. */
export function buttonLabel(b: Button): string {
  if (b.type === 'account_link') return 'Log In';
  if (b.type === 'account_unlink') return 'Log Out';
  return b.title;
}
