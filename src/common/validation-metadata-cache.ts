import { getMetadataStorage } from 'class-validator';

type Storage = Record<string, unknown> & {
  getTargetValidationMetadatas: (...args: unknown[]) => unknown[];
  groupByPropertyName: (metadatas: unknown[]) => Record<string, unknown[]>;
};

const INSTALLED = Symbol.for('switchboard.validation-metadata-cache');
// What registers metadata: each clears the cache, so a class decorated later (a lazily loaded module) is seen.
const WRITERS = ['addValidationSchema', 'addValidationMetadata', 'addConstraintMetadata'];

// class-validator looks up a class's rules on every validate() call by filtering its metadata and testing the class
// against every decorated class of the process (`prototype instanceof`), then regroups them by property: on the
// Send API that was most of class-validator's own time for a three-field body. The answer only changes when
// metadata is added, so it is kept per class until then. Group-filtered lookups (none here) are not cached.
export function cacheValidationMetadata(): void {
  const storage = getMetadataStorage() as unknown as Storage;
  if (storage[INSTALLED as unknown as string]) return;
  const lookup = storage.getTargetValidationMetadatas;
  const group = storage.groupByPropertyName;
  if (typeof lookup !== 'function' || typeof group !== 'function' || WRITERS.some((w) => typeof storage[w] !== 'function')) {
    return; // another class-validator: leave it as it is
  }
  let byTarget = new Map<unknown, Map<string, unknown[]>>();
  let grouped = new WeakMap<unknown[], Record<string, unknown[]>>();
  for (const name of WRITERS) {
    const write = storage[name] as (...args: unknown[]) => unknown;
    storage[name] = function (this: unknown, ...args: unknown[]) {
      byTarget = new Map();
      grouped = new WeakMap();
      return write.apply(this, args);
    };
  }
  storage.getTargetValidationMetadatas = function (this: unknown, target, schema, always, strictGroups, groups) {
    if (Array.isArray(groups) && groups.length > 0) return lookup.call(this, target, schema, always, strictGroups, groups);
    const key = `${String(schema)}|${Boolean(always)}|${Boolean(strictGroups)}|${groups === undefined ? 'u' : 'e'}`;
    let forTarget = byTarget.get(target);
    if (!forTarget) byTarget.set(target, (forTarget = new Map()));
    let hit = forTarget.get(key);
    if (!hit) forTarget.set(key, (hit = lookup.call(this, target, schema, always, strictGroups, groups)));
    return hit;
  };
  // Only the cached arrays are reused, so keying on the array's identity is exact.
  storage.groupByPropertyName = function (this: unknown, metadatas: unknown[]) {
    let hit = grouped.get(metadatas);
    if (!hit) grouped.set(metadatas, (hit = group.call(this, metadatas)));
    return hit;
  };
  storage[INSTALLED as unknown as string] = true;
}
