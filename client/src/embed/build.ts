/**
 * Vite plugin (used by client/vite.config.ts, at build time only): builds the `<terrinum-map>` loader
 * (loader.ts) as `embed.js`, one classic script (IIFE, no import, no global but the element), at a fixed name
 * that council websites can link to. The pages' entries are ES modules with hashed names and shared chunks,
 * which a `<script src>` on another site cannot load: hence this separate, self-contained build.
 */
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'vite';

const ENTRY = fileURLToPath(new URL('./loader.ts', import.meta.url));
const BANNER = '/* terrinum embed.js: defines <terrinum-map>, an iframe of this host\'s /embed page */\n';

export function embedLoader(): Plugin {
  return {
    name: 'terrinum-embed-loader',
    apply: 'build',
    async generateBundle() {
      const result = await build({
        configFile: false,
        envDir: false,
        logLevel: 'warn',
        publicDir: false,
        build: {
          write: false,
          target: 'es2022',
          minify: true,
          sourcemap: false,
          modulePreload: false,
          copyPublicDir: false,
          rollupOptions: { input: ENTRY, output: { format: 'iife', entryFileNames: 'embed.js' } },
        },
      });
      const outputs = Array.isArray(result) ? result : [result];
      const chunks = outputs.flatMap((output) => ('output' in output ? output.output : [])).filter((item) => item.type === 'chunk');
      if (chunks.length !== 1) throw new Error(`embed.js: expected one chunk, the build gave ${chunks.length}`);
      this.emitFile({ type: 'asset', fileName: 'embed.js', source: BANNER + chunks[0]!.code });
    },
  };
}
