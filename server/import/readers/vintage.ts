/** A vintage as stored: a year, a quarter or a month (the schema's vintage_end() compares them). */
export const VINTAGE_PATTERN = /^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$/;

export type VintageCell = { vintage: string } | { date: { year: number; month: number; day: number } };

/**
 * Reads a vintage cell: `2019`, `2018-Q1`, `2018-T1` or `T1 2018` (French trimestre), `2018-03`, or a date
 * `2018-03-31` / `31/03/2018` (ISO, optionally with a time, or French). Returns null when it is none of these.
 */
export function parseVintageCell(cell: string | number): VintageCell | null {
  const text = String(cell).trim();
  if (VINTAGE_PATTERN.test(text)) return { vintage: text };
  const quarter = /^(\d{4})[- ]?[QT]([1-4])$/i.exec(text);
  if (quarter) return { vintage: `${quarter[1]}-Q${quarter[2]}` };
  const quarterFirst = /^[QT]([1-4])[- ](\d{4})$/i.exec(text);
  if (quarterFirst) return { vintage: `${quarterFirst[2]}-Q${quarterFirst[1]}` };
  let match: RegExpExecArray | null;
  let year: number, month: number, day: number;
  if ((match = /^(\d{4})-(\d{2})-(\d{2})([T ][\d:.]+Z?)?$/.exec(text))) [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  else if ((match = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text))) [year, month, day] = [Number(match[3]), Number(match[2]), Number(match[1])];
  else return null;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return { date: { year, month, day } };
}

const QUARTER_ENDS = new Set(['3-31', '6-30', '9-30', '12-31']);

/**
 * Turns the dates of one series into vintages: quarters (`2017-12-31` → `2017-Q4`) when every date is a
 * quarter end, months (`2020-01-31` → `2020-01`) otherwise. Dates are the end (or any day) of their period.
 */
export function datesToVintages(dates: readonly { year: number; month: number; day: number }[]): string[] {
  const quarterly = dates.every((d) => QUARTER_ENDS.has(`${d.month}-${d.day}`));
  return dates.map((d) => (quarterly ? `${d.year}-Q${d.month / 3}` : `${d.year}-${String(d.month).padStart(2, '0')}`));
}
