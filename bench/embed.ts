/**
 * Embed benchmark (issue #6): bundle sizes and time to first complete render of an EPCI embed in headless
 * Debian Chromium (WebGL2 on SwiftShader), over the demo territory on the embedded backend.
 *
 * Sizes (gzip -6, as a web server would compress them): every file the embed page loads before its first
 * render (entry, static imports, CSS, MapLibre's worker), split by origin with the source maps: terrinum's own
 * code vs maplibre-gl vs deck.gl (luma.gl, loaders.gl, math.gl, probe.gl); what the access view loads on demand
 * (deck.gl); embed.js. Budget: the embed bundle without maplibre-gl and deck.gl ≤ 350 KB gzipped.
 * Baseline in the same run: the planners' map (index.html) measured the same way.
 *
 * Render: cold (new browser context: empty cache) and warm (reload), N runs each, of
 * `/embed?indicator=fibre_coverage&within=epci:XE01` opened directly, and of the same embed through
 * `<terrinum-map>` on a page of another origin (from the host page's navigation start to the frame's render).
 * "First complete render" = body[data-state=idle]: data fetched, territory drawn, every tile and colour on
 * screen (MapLibre idle). Goal: ≤ 1.5 s. Baseline in the same run: the planners' map's first render, same
 * server, same browser, measured from navigation start to its own idle state.
 *
 *   npx tsx bench/embed.ts [--runs N] [--no-build]
 */
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { elementSnippet } from '../client/src/embed/params.ts';
import { loadConfig } from '../server/config.ts';
import { start, type Running } from '../server/main.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/e2e/chromium.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '7' }, 'no-build': { type: 'boolean', default: false } } });
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 100) throw new Error(`--runs must be a whole number from 1 to 100, got "${args.runs}"`);

const ROOT = path.resolve(import.meta.dirname, '..');
const DIST = path.join(ROOT, 'dist', 'client');
const BUDGET_KB = 350;
const GOAL_MS = 1500;
const EMBED_QUERY = 'indicator=fibre_coverage&within=epci:XE01';

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)]!;
const gzip = (data: Buffer | string) => zlib.gzipSync(data, { level: 6 }).length;

// ---------- Sizes ----------

type Origin = 'terrinum' | 'maplibre-gl' | 'deck.gl' | 'other vendor';
const ORIGINS: Origin[] = ['terrinum', 'maplibre-gl', 'deck.gl', 'other vendor'];

function originOf(source: string): Origin {
  if (!source.includes('node_modules/')) return 'terrinum';
  if (/node_modules\/(maplibre-gl|@maplibre)\//.test(source)) return 'maplibre-gl';
  if (/node_modules\/(deck\.gl|@deck\.gl|@luma\.gl|@loaders\.gl|@math\.gl|@probe\.gl)\//.test(source)) return 'deck.gl';
  return 'other vendor';
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Generated characters of a chunk per source file, from its source map's mappings (VLQ decoded by hand). */
function bytesBySource(code: string, map: { sources: string[]; mappings: string }): Map<string, number> {
  const lines = code.split('\n');
  const out = new Map<string, number>();
  let source = 0;
  map.mappings.split(';').forEach((line, row) => {
    const text = lines[row] ?? '';
    const segments: { column: number; source: number | null }[] = [];
    let column = 0;
    for (const segment of line.split(',')) {
      if (!segment) continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0]!;
      if (fields.length >= 4) source += fields[1]!;
      segments.push({ column, source: fields.length >= 4 ? source : null });
      // the other fields (original line, column, name) are relative too, but not needed here
    }
    segments.forEach((s, i) => {
      const end = segments[i + 1]?.column ?? text.length;
      const name = s.source === null ? '(generated)' : (map.sources[s.source] ?? '(unknown)');
      out.set(name, (out.get(name) ?? 0) + Math.max(0, end - s.column));
    });
  });
  return out;
}

interface FileSize {
  file: string;
  raw: number;
  gzip: number;
  /** gzip bytes attributed to each origin (in proportion to the generated bytes of each). */
  by: Record<Origin, number>;
}

function sizeOf(file: string, origin?: Origin): FileSize {
  const full = path.join(DIST, file);
  const data = fs.readFileSync(full);
  const zipped = gzip(data);
  const by = Object.fromEntries(ORIGINS.map((o) => [o, 0])) as Record<Origin, number>;
  const mapFile = `${full}.map`;
  if (!origin && fs.existsSync(mapFile)) {
    const parts = bytesBySource(data.toString('utf8'), JSON.parse(fs.readFileSync(mapFile, 'utf8')));
    const total = [...parts.values()].reduce((a, b) => a + b, 0) || 1;
    for (const [source, bytes] of parts) by[source === '(generated)' ? 'terrinum' : originOf(source)] += (zipped * bytes) / total;
  } else {
    // CSS and workers have no source map: MapLibre's stylesheet and worker are recognised by their content
    const text = data.toString('utf8');
    by[origin ?? (/\.maplibregl-map|maplibre/i.test(text.slice(0, 4000)) || file.includes('maplibre-gl-worker') ? 'maplibre-gl' : 'terrinum')] = zipped;
  }
  return { file, raw: data.length, gzip: zipped, by };
}

/**
 * Files a page loads before its first render: its HTML's scripts, preloads and styles, their static imports,
 * MapLibre's worker; with `entryImports`, also what its entry imports at once with import() (both entries load
 * the map's code so, right after sending their API requests: client/src/embed/main.ts, client/src/boot.ts).
 */
function initialFiles(html: string, entryImports = false): string[] {
  const page = fs.readFileSync(path.join(DIST, html), 'utf8');
  const queue = [...page.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
  if (entryImports) {
    const entry = /<script type="module"[^>]*src="\/(assets\/[^"]+\.js)"/.exec(page)![1]!;
    const deps = /m\.f=\[([^\]]*)\]/.exec(fs.readFileSync(path.join(DIST, entry), 'utf8'))?.[1] ?? '';
    queue.push(...[...deps.matchAll(/"(assets\/[^"]+)"/g)].map((m) => m[1]!));
  }
  const seen = new Set<string>();
  while (queue.length) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.endsWith('.js')) continue;
    const code = fs.readFileSync(path.join(DIST, file), 'utf8');
    // static imports only (`import{a}from"./x.js"`, `import"./x.js"`); import("./x.js") is on demand
    for (const m of code.matchAll(/(?:^|[;\s}])(?:import|export)\s*(?:[\w$*{}\s,]+from\s*)?["'`]\.\/([^"'`]+\.js)["'`]/g)) queue.push(`assets/${m[1]}`);
    // files a chunk refers to by URL (MapLibre's worker, CSS)
    for (const m of code.matchAll(/["'`](?:\/|\.\/)?(?:assets\/)?([\w.-]+\.(?:mjs|css))["'`]/g)) if (fs.existsSync(path.join(DIST, 'assets', m[1]!))) queue.push(`assets/${m[1]}`);
  }
  return [...seen];
}

/** Chunks reachable from `files` only through dynamic import(): loaded on demand (the access view's deck.gl). */
function onDemandFiles(files: string[]): string[] {
  const initial = new Set(files);
  const queue = files.filter((f) => f.endsWith('.js'));
  const found = new Set<string>();
  while (queue.length) {
    const code = fs.readFileSync(path.join(DIST, queue.shift()!), 'utf8');
    for (const m of code.matchAll(/["'`]\.\/([\w.-]+\.js)["'`]/g)) {
      const file = `assets/${m[1]}`;
      if (initial.has(file) || found.has(file) || !fs.existsSync(path.join(DIST, file))) continue;
      found.add(file);
      queue.push(file);
    }
  }
  return [...found];
}

function total(sizes: FileSize[]): Record<Origin | 'all', number> {
  const sum = Object.fromEntries([...ORIGINS, 'all'].map((o) => [o, 0])) as Record<Origin | 'all', number>;
  for (const size of sizes) {
    sum.all += size.gzip;
    for (const origin of ORIGINS) sum[origin] += size.by[origin];
  }
  return sum;
}

// ---------- Render ----------

const CLOCK_TICKS = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

/**
 * CPU time used so far by this process and its descendants (Chromium's processes, live or ended), in ms: a
 * figure the other processes of a busy machine do not inflate, unlike wall time. Linux /proc only.
 */
/** The same, by kind of process: this Node process (server, PGlite), Chromium's browser, renderer, GPU, utility processes. */
function treeCpuByKind(root = process.pid): Record<string, number> {
  const processes = new Map<number, { parent: number; ticks: number; kind: string }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // after the name: state, ppid, …, utime (12th), stime, cutime (children waited for), cstime
      const command = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      // renderers that ended are counted by the zygote that forked them (its children's time)
      const type = /--type=([\w-]+)/.exec(command)?.[1];
      const kind = Number(entry) === root ? 'node (server)' : type === 'zygote' ? 'ended renderers (via zygote)' : (type ?? 'browser');
      processes.set(Number(entry), { parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]), kind });
    } catch {
      // ended meanwhile
    }
  }
  const inTree = (pid: number): boolean => {
    for (let current = pid, hops = 0; current > 1 && hops < 64; hops++) {
      if (current === root) return true;
      current = processes.get(current)?.parent ?? 0;
    }
    return false;
  };
  const byKind: Record<string, number> = {};
  for (const [pid, info] of processes) if (inTree(pid)) byKind[info.kind] = (byKind[info.kind] ?? 0) + (info.ticks * 1000) / CLOCK_TICKS;
  return byKind;
}

/** Runs `run`, returning its result and the CPU milliseconds the whole process tree spent meanwhile. */
async function withCpu<T>(run: () => Promise<T>, byKind?: Record<string, number[]>): Promise<[T, number]> {
  const before = treeCpuByKind();
  const result = await run();
  const after = treeCpuByKind();
  let used = 0;
  for (const kind of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const delta = (after[kind] ?? 0) - (before[kind] ?? 0);
    used += delta;
    if (byKind) (byKind[kind] ??= []).push(delta);
  }
  return [result, used];
}

async function goIdle(page: Page, url: string, ready: () => boolean): Promise<number> {
  const started = performance.now();
  await page.goto(url);
  await page.waitForFunction(ready, null, { timeout: 120_000, polling: 16 });
  return performance.now() - started;
}

interface EmbedRun {
  inPage: number;
  wall: number;
  /** Milliseconds from navigation start to each step (client/src/embed/main.ts), and the document's own milestones. */
  steps: Record<string, number>;
}

async function embedRun(browser: Browser, url: string, warm: boolean): Promise<EmbedRun> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 640 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const idle = () => document.body?.dataset.state === 'idle' || document.body?.dataset.state === 'error';
  let wall = await goIdle(page, url, idle);
  if (warm) wall = await goIdle(page, url, idle);
  const { state, inPage, steps } = await page.evaluate(() => {
    const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return {
      state: document.body.dataset.state,
      inPage: window.terrinumEmbed.firstRenderMs ?? NaN,
      steps: { html: Math.round(navigation.responseEnd), ...window.terrinumEmbed.steps },
    };
  });
  if (state !== 'idle') throw new Error(`the embed failed: ${await page.locator('#status').textContent()}`);
  await context.close();
  return { inPage, wall, steps };
}

/** Host page (another origin) with <terrinum-map>: from the host's navigation start to the frame's first render. */
async function elementRun(browser: Browser, hostUrl: string): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await page.goto(hostUrl);
  const frame = await (await page.locator('terrinum-map iframe').elementHandle())!.contentFrame();
  await frame!.waitForFunction(() => document.body?.dataset.state === 'idle', null, { timeout: 120_000, polling: 16 });
  const hostOrigin = await page.evaluate(() => performance.timeOrigin);
  const frameDone = await frame!.evaluate(() => performance.timeOrigin + (window.terrinumEmbed.firstRenderMs ?? NaN));
  await context.close();
  return frameDone - hostOrigin;
}

async function mainMapRun(browser: Browser, url: string): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 640 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const wall = await goIdle(page, url, () => document.body?.dataset.state === 'idle' || document.body?.dataset.state === 'error');
  if ((await page.evaluate(() => document.body.dataset.state)) !== 'idle') throw new Error('the planners’ map failed');
  await context.close();
  return wall;
}

function stats(values: number[]): string {
  return `median ${Math.round(median(values))} ms · p90 ${Math.round(quantile(values, 0.9))} ms · min ${Math.round(Math.min(...values))} ms (${values.length} runs)`;
}

// ---------- Run ----------

if (!args['no-build']) {
  const started = performance.now();
  process.env.NODE_ENV = 'production';
  await build({ configFile: path.join(ROOT, 'client', 'vite.config.ts'), logLevel: 'warn', mode: 'production' });
  console.log(`client built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

console.log(`\n# Bundle sizes (gzip -6)\n`);
const embedFiles = initialFiles('embed.html', true);
const embedSizes = embedFiles.map((file) => sizeOf(file));
embedSizes.push(sizeOf('embed.html', 'terrinum'));
for (const size of embedSizes.sort((a, b) => b.gzip - a.gzip)) {
  const split = ORIGINS.filter((o) => size.by[o] >= 512).map((o) => `${o} ${kb(size.by[o])}`).join(', ');
  console.log(`  ${size.file.padEnd(44)} ${kb(size.raw).padStart(10)} raw ${kb(size.gzip).padStart(9)} gzip   ${split}`);
}
const embedTotal = total(embedSizes);
const ownEmbed = embedTotal.all - embedTotal['maplibre-gl'] - embedTotal['deck.gl'];
const loader = sizeOf('embed.js', 'terrinum');
const onDemand = onDemandFiles(embedFiles).map((file) => sizeOf(file));
const onDemandTotal = total(onDemand);
const mainFiles = initialFiles('index.html', true);
const mainTotal = total([...mainFiles.map((file) => sizeOf(file)), sizeOf('index.html', 'terrinum')]);
const ownMain = mainTotal.all - mainTotal['maplibre-gl'] - mainTotal['deck.gl'];
console.log(`
  embed page, first render: ${kb(embedTotal.all)} gzip in ${embedSizes.length} files
    terrinum ${kb(embedTotal.terrinum)} · maplibre-gl ${kb(embedTotal['maplibre-gl'])} · deck.gl ${kb(embedTotal['deck.gl'])} · other vendor ${kb(embedTotal['other vendor'])}
    without maplibre-gl and deck.gl: ${kb(ownEmbed)} — budget ${BUDGET_KB} KB: ${ownEmbed <= BUDGET_KB * 1024 ? 'PASS' : 'FAIL'} (${((100 * ownEmbed) / (BUDGET_KB * 1024)).toFixed(1)} % of it)
  embed.js (<terrinum-map> loader): ${kb(loader.raw)} raw, ${kb(loader.gzip)} gzip
  on demand (access view: places, deck.gl): ${kb(onDemandTotal.all)} gzip in ${onDemand.length} files (deck.gl ${kb(onDemandTotal['deck.gl'])}, terrinum ${kb(onDemandTotal.terrinum)}, other ${kb(onDemandTotal['other vendor'] + onDemandTotal['maplibre-gl'])})
  baseline, planners' map first load: ${kb(mainTotal.all)} gzip (without maplibre-gl and deck.gl ${kb(ownMain)})
  ratio embed / planners' map: ${(embedTotal.all / mainTotal.all).toFixed(2)} (all), ${(ownEmbed / ownMain).toFixed(2)} (without maplibre-gl and deck.gl)`);

console.log(`\n# Time to first complete render (${RUNS} runs each)\n`);
const serverStarted = performance.now();
const app: Running = await start(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', TERRINUM_DATA_DIR: 'memory://', TERRINUM_FRAME_ANCESTORS: "'self' http://localhost:*" }));
console.log(`  server (embedded, demo territory loaded) started in ${((performance.now() - serverStarted) / 1000).toFixed(1)} s`);
const terrinum = app.url.replace(/\/$/, '');
const host = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><meta charset="utf-8"><title>host</title><body style="margin:0">${elementSnippet(terrinum, { indicator: 'fibre_coverage', within: 'epci:XE01' })}</body>`);
});
await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
const hostUrl = `http://localhost:${(host.address() as AddressInfo).port}/`;
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
try {
  const embedUrl = `${terrinum}/embed?${EMBED_QUERY}`;
  // one unmeasured run: the server's first queries, Chromium's shader caches
  await embedRun(browser, embedUrl, false);
  await mainMapRun(browser, `${terrinum}/`);
  const cold: EmbedRun[] = [];
  const warm: EmbedRun[] = [];
  const element: number[] = [];
  const main: number[] = [];
  const cpu = { cold: [] as number[], main: [] as number[], coldByKind: {} as Record<string, number[]> };
  for (let i = 0; i < RUNS; i++) {
    const [run, used] = await withCpu(() => embedRun(browser, embedUrl, false), cpu.coldByKind);
    cold.push(run);
    cpu.cold.push(used);
    warm.push(await embedRun(browser, embedUrl, true));
    element.push(await elementRun(browser, hostUrl));
    const [mainRun, mainUsed] = await withCpu(() => mainMapRun(browser, `${terrinum}/`));
    main.push(mainRun);
    cpu.main.push(mainUsed);
  }
  const coldMedian = median(cold.map((r) => r.inPage));
  console.log(`  EPCI embed, cold cache  (in page, navigation start → idle): ${stats(cold.map((r) => r.inPage))}`);
  console.log(`  EPCI embed, cold cache  (wall, goto → idle seen):          ${stats(cold.map((r) => r.wall))}`);
  const steps = (runs: EmbedRun[]) => Object.keys(runs[0]!.steps).map((step) => `${step} ${Math.round(median(runs.map((r) => r.steps[step]!)))}`).join(' → ');
  console.log(`    steps, cold (ms since navigation start, medians): ${steps(cold)} → idle ${Math.round(coldMedian)}`);
  console.log(`  EPCI embed, warm cache  (in page):                         ${stats(warm.map((r) => r.inPage))}`);
  console.log(`    steps, warm: ${steps(warm)}`);
  console.log(`  <terrinum-map> on another origin (host navigation → frame idle): ${stats(element)}`);
  console.log(`  baseline, planners' map first render (wall, goto → idle seen):  ${stats(main)}`);
  console.log(`  ratio embed / planners' map (wall, medians): ${(median(cold.map((r) => r.wall)) / median(main)).toFixed(2)}`);
  console.log(
    `  CPU time per cold render, browser and server together (load-independent): embed median ${Math.round(median(cpu.cold))} ms, ` +
      `planners' map ${Math.round(median(cpu.main))} ms, ratio ${(median(cpu.cold) / median(cpu.main)).toFixed(2)}`,
  );
  const kinds = Object.entries(cpu.coldByKind).map(([kind, values]) => [kind, median(values)] as const).filter(([, ms]) => ms >= 5).sort((a, b) => b[1] - a[1]);
  console.log(`    embed, by process (medians): ${kinds.map(([kind, ms]) => `${kind} ${Math.round(ms)} ms`).join(' · ')}`);
  console.log(`  goal ≤ ${GOAL_MS} ms (cold, in page, median): ${coldMedian <= GOAL_MS ? 'PASS' : 'FAIL'}`);
} finally {
  await browser.close();
  host.close();
  await app.close();
}
const [load1] = os.loadavg();
console.log(`\n  machine: ${os.cpus().length} cores, load average ${load1!.toFixed(2)} at the end (other processes share the cores: figures are upper bounds)`);
