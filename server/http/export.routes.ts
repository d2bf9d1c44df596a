import { Router } from 'express';
import type { ApiDeps } from './api.routes.ts';

/** Placeholder: filled in by the export work (issue #5). */
export function exportRouter(_deps: ApiDeps): Router {
  return Router();
}
