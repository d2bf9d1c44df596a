import { HttpError } from './errors.ts';

type Query = Record<string, unknown>;

function integer(query: Query, name: string, min: number, max: number): number | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  // already validated by the operation's schema (a number), or straight from req.query (a string)
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= min && raw <= max) return raw;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new HttpError(400, 'invalid-parameter', `${name} must be a whole number between ${min} and ${max}, got "${String(raw)}"`, name);
  }
  return Number(raw);
}

/**
 * Sorts (`sort=field` or `sort=-field`, nulls last) and pages (`limit`, `offset`) result rows; the field must be
 * one of the rows' own fields. Returns the page and the total before paging.
 */
export function sortAndPage<Row extends object>(rows: Row[], query: Query, fields: readonly string[]): { rows: Row[]; total: number } {
  const sort = query.sort;
  let sorted = rows;
  if (sort !== undefined && sort !== '') {
    if (typeof sort !== 'string') throw new HttpError(400, 'invalid-parameter', 'sort must be given once', 'sort');
    const descending = sort.startsWith('-');
    const field = descending ? sort.slice(1) : sort;
    if (!fields.includes(field)) throw new HttpError(400, 'invalid-sort', `cannot sort by "${field}"; sortable fields: ${fields.join(', ')}`, 'sort');
    const sign = descending ? -1 : 1;
    sorted = [...rows].sort((a, b) => {
      const x = (a as Record<string, unknown>)[field];
      const y = (b as Record<string, unknown>)[field];
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * sign;
    });
  }
  const offset = integer(query, 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0;
  const limit = integer(query, 'limit', 1, 100_000);
  return { rows: sorted.slice(offset, limit === undefined ? undefined : offset + limit), total: rows.length };
}
