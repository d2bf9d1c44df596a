import cliProgress from 'cli-progress';

/** Progress of a long import: a bar on a terminal, a plain line every few seconds otherwise, nothing in tests. */
export interface Progress {
  tick(count?: number): void;
  done(): void;
}

export const silentProgress: Progress = { tick() {}, done() {} };

export function createProgress(label: string, total: number | null, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY && total !== null) {
    const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {percentage}% {value}/{total} {eta_formatted}`, stream, hideCursor: true }, cliProgress.Presets.shades_classic);
    bar.start(total, 0);
    return { tick: (count = 1) => bar.increment(count), done: () => bar.stop() };
  }
  let value = 0;
  let last = Date.now();
  return {
    tick(count = 1) {
      value += count;
      if (Date.now() - last > 5000) {
        last = Date.now();
        stream.write(`${label}: ${value}${total !== null ? `/${total}` : ''}\n`);
      }
    },
    done() {
      stream.write(`${label}: ${value} done\n`);
    },
  };
}
