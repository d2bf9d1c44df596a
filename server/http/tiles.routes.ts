import { Router } from 'express';
import type { ApiDeps } from './api.routes.ts';

/** Placeholder: filled in by the tiles work (issue #5). */
export function tilesRouter(_deps: ApiDeps): Router {
  return Router();
}
