/**
 * Entry of the planners' map, kept small so that it runs at once: it sends the first API requests (early.ts),
 * then loads the map's code (main.ts, with MapLibre), whose download and parsing overlap the requests.
 */
import './style.css';
import { earlyRequests } from './early.ts';

earlyRequests();
import('./main.ts').catch((error: unknown) => {
  // the map's code did not load (network, deployment in progress): say so where main.ts would
  document.body.dataset.state = 'error';
  const status = document.getElementById('status');
  if (status) {
    status.hidden = false;
    status.textContent = String(error instanceof Error ? error.message : error);
  }
});
