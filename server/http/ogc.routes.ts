import { Router } from 'express';
import type { ApiDeps } from './api.routes.ts';

/** Placeholder: filled in by the ogc work (issue #5). */
export function ogcRouter(_deps: ApiDeps): Router {
  return Router();
}
