import type { Writable } from 'node:stream';

/** Writers waiting for a stream to drain, released by the one 'drain'/'close' listener pair of that stream. */
const waiting = new WeakMap<Writable, Set<() => void>>();

/**
 * Resolves when `out` drains or closes. One listener pair per stream for its whole life, never one per wait:
 * compression() hands 'drain' listeners to its gzip stream but not their removal, so a listener added and
 * removed per wait piled up there (a MaxListenersExceededWarning after ten waits of a compressed export).
 */
function drained(out: Writable): Promise<void> {
  let waiters = waiting.get(out);
  if (!waiters) {
    const set = new Set<() => void>();
    const release = () => {
      for (const resolve of [...set]) resolve();
      set.clear();
    };
    out.on('drain', release);
    out.on('close', release);
    waiting.set(out, set);
    waiters = set;
  }
  const set = waiters;
  return new Promise<void>((resolve) => set.add(resolve));
}

/**
 * Writes a chunk and waits while the client is slower than the database (backpressure), so a large export
 * never piles up in memory. Returns false once the client has gone: the caller stops reading the database.
 */
export async function writeChunk(out: Writable, chunk: string | Uint8Array): Promise<boolean> {
  if (out.destroyed || out.writableEnded) return false;
  if (out.write(chunk)) return true;
  if (out.destroyed) return false;
  await drained(out);
  return !out.destroyed;
}
