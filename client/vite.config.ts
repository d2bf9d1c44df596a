import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { embedLoader } from './src/embed/build.ts';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The planners' map. Built into dist/client at the repository root, served by the server at `/`. */
export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('../dist/client', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // maplibre-gl and deck.gl are large by nature; one vendor chunk each keeps caching useful.
    chunkSizeWarningLimit: 2000,
    // the planners' map, its printable fact sheet (fiche.html?level=&code=) and the embed page (GET /embed);
    // embedLoader() adds embed.js (<terrinum-map>)
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('index.html', import.meta.url)),
        fiche: fileURLToPath(new URL('fiche.html', import.meta.url)),
        embed: fileURLToPath(new URL('embed.html', import.meta.url)),
      },
    },
  },
  plugins: [embedLoader()],
  server: {
    proxy: {
      '/api': 'http://localhost:3000',
      '/tiles': 'http://localhost:3000',
    },
  },
});
