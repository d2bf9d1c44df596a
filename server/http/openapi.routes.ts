import { Router } from 'express';
import type { ApiDeps } from './api.routes.ts';

/** Placeholder: filled in by the openapi work (issue #5). */
export function openapiRouter(_deps: ApiDeps): Router {
  return Router();
}
