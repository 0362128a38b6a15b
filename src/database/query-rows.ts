// TypeORM's query() answers UPDATE … RETURNING (and DELETE) as [rows, count], SELECT and INSERT as rows: the rows either way.
export function rowsOf<T>(res: unknown): T[] {
  if (Array.isArray(res) && res.length === 2 && Array.isArray(res[0]) && typeof res[1] === 'number') return res[0] as T[];
  return res as T[];
}
