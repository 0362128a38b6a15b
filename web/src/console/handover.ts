// Handover roles of a Page's connected apps (src/handover/README.md): what the console's role control offers and
// what it says after a change. Pure, no DOM: handover.spec.ts.
import type { HandoverRole, PageApp } from '../api';

export const ROLE_OPTIONS: { value: '' | HandoverRole; label: string }[] = [
  { value: '', label: 'None' },
  { value: 'primary', label: 'Primary' },
  { value: 'secondary', label: 'Secondary' },
];

// The select's value as the PUT body's role: '' is none (null).
export function roleFromSelect(value: string): HandoverRole | null {
  return value === 'primary' || value === 'secondary' ? value : null;
}

const said = (role: HandoverRole | null) => (role ? `is now ${role}` : 'has no role now');

// What a change did, from the list before and after it: the app changed first, then the others the server moved
// (naming a new primary makes the previous one secondary). Null when nothing changed.
export function roleChanges(before: PageApp[], after: PageApp[], changedAppId: string): string | null {
  const was = new Map(before.map((a) => [a.app_id, a.handover_role]));
  const moved = after.filter((a) => was.has(a.app_id) && was.get(a.app_id) !== a.handover_role);
  if (!moved.length) return null;
  moved.sort((a, b) => Number(b.app_id === changedAppId) - Number(a.app_id === changedAppId));
  return `${moved.map((a) => `${a.name} ${said(a.handover_role)}`).join('; ')}.`;
}

// With a primary, an app gets the conversations it does not control only under the `standby` field: the apps
// this Page does not subscribe to it would get nothing of them.
export function withoutStandby(apps: PageApp[]): string[] {
  if (!apps.some((a) => a.handover_role === 'primary')) return [];
  return apps.filter((a) => !a.subscribed_fields.includes('standby')).map((a) => a.name);
}
