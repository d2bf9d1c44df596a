import { pino, type Logger } from 'pino';

/** Creates the process logger (JSON lines on stdout, as pino does). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { app: 'terrinum' } });
}

export type { Logger };
