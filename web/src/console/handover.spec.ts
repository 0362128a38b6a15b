import { describe, expect, it } from '@jest/globals';
import type { HandoverRole, PageApp } from '../api';
import { roleChanges, roleFromSelect, ROLE_OPTIONS, withoutStandby } from './handover';

const app = (id: string, name: string, role: HandoverRole | null, fields = ['messages', 'standby']): PageApp => ({
  app_id: id,
  name,
  subscribed_fields: fields,
  handover_role: role,
});

describe('the handover role control', () => {
  it('offers none, primary and secondary, and sends none as null', () => {
    expect(ROLE_OPTIONS.map((o) => o.value)).toEqual(['', 'primary', 'secondary']);
    expect(roleFromSelect('')).toBeNull();
    expect(roleFromSelect('primary')).toBe('primary');
    expect(roleFromSelect('secondary')).toBe('secondary');
    expect(roleFromSelect('owner')).toBeNull();
  });
});

describe('what a role change did', () => {
  it('names the app changed first, then the previous primary the server made secondary', () => {
    const before = [app('1', 'Bot', 'primary'), app('2', 'Inbox', 'secondary'), app('3', 'Survey', null)];
    const after = [app('1', 'Bot', 'secondary'), app('2', 'Inbox', 'primary'), app('3', 'Survey', null)];
    expect(roleChanges(before, after, '2')).toBe('Inbox is now primary; Bot is now secondary.');
  });
  it('says when a role was taken away, and nothing when nothing changed', () => {
    const before = [app('1', 'Bot', 'primary'), app('2', 'Inbox', 'secondary')];
    expect(roleChanges(before, [app('1', 'Bot', null), app('2', 'Inbox', 'secondary')], '1')).toBe(
      'Bot has no role now.',
    );
    expect(roleChanges(before, before, '1')).toBeNull();
  });
  it('leaves out apps that were not listed before (connected meanwhile)', () => {
    const before = [app('1', 'Bot', null)];
    const after = [app('1', 'Bot', 'primary'), app('9', 'New', 'secondary')];
    expect(roleChanges(before, after, '1')).toBe('Bot is now primary.');
  });
});

describe('standby subscriptions', () => {
  it('matter only once the Page has a primary, for every app', () => {
    const noStandby = ['messages'];
    expect(withoutStandby([app('1', 'Bot', 'secondary', noStandby), app('2', 'Inbox', null, noStandby)])).toEqual([]);
    expect(
      withoutStandby([
        app('1', 'Bot', 'primary', noStandby),
        app('2', 'Inbox', 'secondary'),
        app('3', 'Survey', null, noStandby),
      ]),
    ).toEqual(['Bot', 'Survey']);
    expect(withoutStandby([])).toEqual([]);
  });
});
