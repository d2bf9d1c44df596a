/**
 * Entry of the embed page (GET /embed), kept small so that it runs at once: it reads the configuration the
 * server wrote into the page, sends the API requests (prefetch.ts), then loads the map's code (page.ts, with
 * MapLibre) which draws. The requests and the download of the map's code overlap.
 */
import './embed.css';
import { readConfig } from './config.ts';
import { mark, showError } from './handle.ts';
import { prefetch } from './prefetch.ts';

/**
 * The embed never needs cookies: this page's own requests (API, places) go without credentials, whatever
 * cookies the browser may hold for terrinum's host. (MapLibre fetches tiles and outlines itself with
 * credentials "same-origin", its least; terrinum sets no cookie, so none is sent.)
 */
const nativeFetch = window.fetch.bind(window);
window.fetch = (input, init) => nativeFetch(input, { ...init, credentials: 'omit' });

const config = readConfig();
if (config) {
  mark('script');
  const early = prefetch(config);
  import('./page.ts').then(({ start }) => start(config, early)).catch((error) => showError(error, config));
} else {
  // Opened as /embed.html: the parameters must go through the server's validation at /embed.
  window.location.replace(`/embed${window.location.search}`);
}
