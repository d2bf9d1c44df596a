import type { Backend } from '../../server/db/database.ts';
import { loadConfig } from '../../server/config.ts';
import { start, type Running } from '../../server/main.ts';
import { openDemoDatabase } from './db.ts';

/** The real HTTP server on a free port, over a fresh copy of the demo database of the given backend. */
export async function startDemoServer(backend: Backend): Promise<Running> {
  const database = await openDemoDatabase(backend);
  return start(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TERRINUM_DATA_DIR: 'memory://' }), { database });
}

export async function getJson<T = any>(running: Running, path: string): Promise<{ status: number; type: string | null; body: T }> {
  const response = await fetch(new URL(path, running.url));
  return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as T };
}
