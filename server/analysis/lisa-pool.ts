/**
 * Worker threads for the LISA permutations, so that they run on the other cores while the main thread (or the
 * database server) goes on with the later analysis steps. Each worker runs the same `computeLisa` as the main
 * thread: results do not depend on which thread computed them.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LisaOptions, LisaResult, Neighbours } from './lisa-kernel.ts';

interface Task {
  values: Float64Array;
  neighbours: Neighbours;
  options: LisaOptions;
  resolve(result: LisaResult): void;
  reject(error: Error): void;
}

// Node 20 cannot load TypeScript by itself, and a worker does not inherit loader hooks registered in code
// (bin/terrinum.js, vitest): the worker loads lisa-kernel.ts (no database code) through tsx's scoped tsImport.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const kernel = import(workerData.tsx).then(({ tsImport }) => tsImport(workerData.module, workerData.module));
parentPort.on('message', async ({ values, offsets, indices, options }) => {
  try {
    const { computeLisa } = await kernel;
    const result = computeLisa(values, { offsets, indices }, options);
    parentPort.postMessage({ result }, [result.localI.buffer, result.localP.buffer]);
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.stack) || error) });
  }
});
`;

function workerData() {
  const require = createRequire(import.meta.url);
  // the ESM build of the API (the package's "import" condition), whichever condition require.resolve took
  const tsx = pathToFileURL(require.resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  return { tsx, module: new URL('./lisa-kernel.ts', import.meta.url).href };
}

/** A fixed set of worker threads taking LISA computations in order; close() when done. */
export class LisaPool {
  private readonly queue: Task[] = [];
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Task>();
  private closed = false;

  constructor(threads: number) {
    const data = workerData();
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: data });
      // an abandoned pool must not keep the process alive
      worker.unref();
      worker.on('message', (message: { result?: LisaResult; error?: string }) => {
        const task = this.busy.get(worker)!;
        this.busy.delete(worker);
        if (message.result) task.resolve(message.result);
        else task.reject(new Error(`LISA worker: ${message.error}`));
        this.idle.push(worker);
        this.next();
      });
      worker.on('error', (error) => {
        this.busy.get(worker)?.reject(error);
        this.busy.delete(worker);
      });
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  /** Local and global Moran's I of one indicator × vintage, computed by the next free worker. */
  compute(values: Float64Array, neighbours: Neighbours, options: LisaOptions): Promise<LisaResult> {
    if (this.closed) return Promise.reject(new Error('the LISA worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ values, neighbours, options, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    while (this.idle.length && this.queue.length) {
      const worker = this.idle.pop()!;
      const task = this.queue.shift()!;
      this.busy.set(worker, task);
      const { values, neighbours, options } = task;
      worker.postMessage({ values, offsets: neighbours.offsets, indices: neighbours.indices, options });
    }
  }

  /** Stops every worker; computations still queued or running are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new Error('the LISA worker pool was closed');
    for (const task of this.queue.splice(0)) task.reject(error);
    for (const task of this.busy.values()) task.reject(error);
    this.busy.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
