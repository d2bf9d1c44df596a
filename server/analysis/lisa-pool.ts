/**
 * Worker threads for the LISA permutations, so that they run on the other cores while the main thread (or the
 * database server) goes on with the later analysis steps. Each worker runs the same `computeLisa` as the main
 * thread: results do not depend on which thread computed them.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LisaOptions, LisaResult, Neighbours } from './lisa-kernel.ts';

interface Pending {
  resolve(result: LisaResult): void;
  reject(error: Error): void;
  thread: Thread;
  size: number;
}

interface Thread {
  worker: Worker;
  /** Communes + neighbour links of the computations sent to it and not answered yet. */
  queued: number;
}

// Node 20 cannot load TypeScript by itself, and a worker does not inherit loader hooks registered in code
// (bin/terrinum.js, vitest): the worker loads lisa-kernel.ts (no database code) through tsx's scoped tsImport.
// Messages are handled one after the other, in order.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const kernel = import(workerData.tsx).then(({ tsImport }) => tsImport(workerData.module, workerData.module));
parentPort.on('message', async ({ id, values, offsets, indices, options }) => {
  try {
    const { computeLisa } = await kernel;
    const result = computeLisa(values, { offsets, indices }, options);
    parentPort.postMessage({ id, result }, [result.localI.buffer, result.localP.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.stack) || error) });
  }
});
`;

function workerData() {
  const require = createRequire(import.meta.url);
  // the ESM build of the API (the package's "import" condition), whichever condition require.resolve took
  const tsx = pathToFileURL(require.resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  return { tsx, module: new URL('./lisa-kernel.ts', import.meta.url).href };
}

/**
 * A fixed set of worker threads. Each computation is sent at once to the thread with the least work queued: the
 * threads never wait for the main thread to hand them the next one (PGlite keeps the main thread busy for seconds
 * at a time). close() when done.
 */
export class LisaPool {
  private readonly threads: Thread[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(count: number) {
    const data = workerData();
    for (let i = 0; i < count; i++) {
      const thread: Thread = { worker: new Worker(WORKER_SOURCE, { eval: true, workerData: data }), queued: 0 };
      // an abandoned pool must not keep the process alive
      thread.worker.unref();
      thread.worker.on('message', (message: { id: number; result?: LisaResult; error?: string }) => {
        const task = this.pending.get(message.id);
        if (!task) return;
        this.settle(message.id);
        if (message.result) task.resolve(message.result);
        else task.reject(new Error(`LISA worker: ${message.error}`));
      });
      thread.worker.on('error', (error) => {
        for (const [id, task] of this.pending) {
          if (task.thread !== thread) continue;
          this.settle(id);
          task.reject(error);
        }
      });
      this.threads.push(thread);
    }
  }

  /** Local and global Moran's I of one indicator × vintage, computed by a worker. */
  compute(values: Float64Array, neighbours: Neighbours, options: LisaOptions): Promise<LisaResult> {
    if (this.closed) return Promise.reject(new Error('the LISA worker pool is closed'));
    const thread = this.threads.reduce((least, t) => (t.queued < least.queued ? t : least));
    const size = values.length + neighbours.indices.length;
    thread.queued += size;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, thread, size });
      thread.worker.postMessage({ id, values, offsets: neighbours.offsets, indices: neighbours.indices, options });
    });
  }

  private settle(id: number): void {
    const task = this.pending.get(id)!;
    task.thread.queued -= task.size;
    this.pending.delete(id);
  }

  /** Stops every worker; computations not answered yet are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new Error('the LISA worker pool was closed');
    for (const task of this.pending.values()) task.reject(error);
    this.pending.clear();
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
