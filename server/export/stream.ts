import type { Writable } from 'node:stream';

/**
 * Writes a chunk and waits while the client is slower than the database (backpressure), so a large export
 * never piles up in memory. Returns false once the client has gone: the caller stops reading the database.
 */
export async function writeChunk(out: Writable, chunk: string | Uint8Array): Promise<boolean> {
  if (out.destroyed || out.writableEnded) return false;
  if (out.write(chunk)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.once('drain', done);
    out.once('close', done);
  });
  return !out.destroyed;
}
