/** Where in an input file a problem is: the file, and a line (text files) or feature index (GeoJSON), and a column. */
export interface InputLocation {
  file: string;
  line?: number;
  feature?: number;
  column?: string;
}

/**
 * An input the user can fix: the message names the file, line or feature, column, what was expected and what
 * was found. The CLI prints it as one line and exits non-zero; nothing was written.
 */
export class ImportError extends Error {
  override name = 'ImportError';
  constructor(
    readonly location: InputLocation,
    readonly problem: string,
  ) {
    super(`${formatLocation(location)}: ${problem}`);
  }
}

export function formatLocation({ file, line, feature, column }: InputLocation): string {
  return [file, line !== undefined ? `line ${line}` : undefined, feature !== undefined ? `feature ${feature}` : undefined, column !== undefined ? `column "${column}"` : undefined]
    .filter(Boolean)
    .join(', ');
}
