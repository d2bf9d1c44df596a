/** Thousands separators seen in French open data: space, no-break space (U+00A0), narrow no-break space (U+202F). */
const THOUSANDS = /[\s\u00a0\u202f]/g;

/**
 * Reads a number as French and English spreadsheets write it: `18,7`, `18.7`, `3 346` (any space kind as
 * thousands separator), `1.234,5`, `1,234.5`. A lone comma is a decimal comma (`1,234` is 1.234: the files
 * are French). Returns null when the text is not a number.
 */
export function parseLocaleNumber(cell: string | number): number | null {
  if (typeof cell === 'number') return Number.isFinite(cell) ? cell : null;
  let text = cell.replace(THOUSANDS, '');
  if (text === '') return null;
  const comma = text.lastIndexOf(',');
  const point = text.lastIndexOf('.');
  if (comma >= 0 && point >= 0) {
    // both present: the last one is the decimal separator, the other groups thousands
    text = comma > point ? text.replace(/\./g, '').replace(',', '.') : text.replace(/,/g, '');
  } else if (comma >= 0) {
    if (text.indexOf(',') !== comma) return null;
    text = text.replace(',', '.');
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** Markers of a missing value when --null-values is not given; an empty cell is always missing. */
export const DEFAULT_NULL_VALUES = ['NA', 'N/A', 'ND', 'n.d.', '-'];

/**
 * A test for missing values: empty cells, plus the given markers, compared as numbers when they are
 * numbers (`0` matches `0,00`) and as trimmed case-insensitive text otherwise.
 */
export function createNullTest(markers: readonly string[] = DEFAULT_NULL_VALUES): (cell: string | number | null) => boolean {
  const numbers = new Set<number>();
  const texts = new Set<string>();
  for (const marker of markers) {
    const trimmed = marker.trim();
    const asNumber = parseLocaleNumber(trimmed);
    if (asNumber !== null) numbers.add(asNumber);
    else texts.add(trimmed.toLowerCase());
  }
  return (cell) => {
    if (cell === null) return true;
    if (typeof cell === 'number') return numbers.has(cell);
    const trimmed = cell.trim();
    if (trimmed === '') return true;
    if (texts.has(trimmed.toLowerCase())) return true;
    if (numbers.size === 0) return false;
    const asNumber = parseLocaleNumber(trimmed);
    return asNumber !== null && numbers.has(asNumber);
  };
}
