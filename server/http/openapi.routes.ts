import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Router } from 'express';
import type { ApiDeps } from './api.routes.ts';
import { openApiDocument } from './openapi.ts';
import { operation } from './validation.ts';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };
/** Swagger UI's prebuilt files, served from node_modules: the docs page works without internet. */
const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

operation({
  method: 'get',
  path: '/api/openapi.json',
  operationId: 'getOpenApi',
  tags: ['meta'],
  summary: 'This OpenAPI 3.1 document',
  responses: { '200': { description: 'OpenAPI 3.1 document of every operation.', content: { 'application/json': null } } },
});

operation({
  method: 'get',
  path: '/api/docs',
  operationId: 'getDocs',
  tags: ['meta'],
  summary: 'Readable API documentation (Swagger UI, works offline)',
  responses: { '200': { description: 'HTML page.', content: { 'text/html': null } } },
});

const DOCS_PAGE = `<!doctype html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>terrinum — documentation de l’API</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="docs/swagger-ui.css">
  <link rel="stylesheet" href="docs/docs.css">
</head>
<body>
  <header class="intro">
    <h1>terrinum — documentation de l’API</h1>
    <p>Cette API sert les indicateurs de terrinum (couverture fibre, usages numériques, médiation numérique) par commune,
      intercommunalité (EPCI), département et région : valeurs avec leurs numérateurs, dénominateurs, millésimes et sources,
      analyses (disparités internes, clusters LISA, tendances, accès à la médiation), recherche de territoires, tuiles
      vectorielles, OGC API – Features et exports pour les SIG.</p>
    <p>Les niveaux, indicateurs et millésimes disponibles sont listés par <a href="indicators"><code>/api/indicators</code></a>
      et <a href="meta"><code>/api/meta</code></a>. Toute requête invalide reçoit une réponse
      <code>application/problem+json</code> (RFC 9457) dont le champ <code>parameter</code> nomme le paramètre en cause.
      Le document OpenAPI 3.1 est à <a href="openapi.json"><code>/api/openapi.json</code></a> (à importer dans QGIS, Postman…).</p>
    <p lang="en"><em>English:</em> terrinum’s indicators, analyses, search, tiles, OGC API – Features and exports. Every
      invalid request gets an <code>application/problem+json</code> answer naming the parameter at fault. The OpenAPI 3.1
      document is at <code>/api/openapi.json</code>.</p>
  </header>
  <main id="swagger-ui" data-spec="openapi.json"></main>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/init.js"></script>
</body>
</html>
`;

// External script, not inline: the Content-Security-Policy allows scripts from this origin only.
const DOCS_INIT = `window.addEventListener('load', function () {
  var root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: new URL(root.dataset.spec, document.baseURI).href,
    domNode: root,
    deepLinking: true,
    // no call to an online validator: the page must work offline
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

const DOCS_CSS = `body { margin: 0; font-family: system-ui, sans-serif; }
.intro { max-width: 1400px; margin: 0 auto; padding: 1rem 20px 0; line-height: 1.45; color: #1f2933; }
.intro h1 { font-size: 1.6rem; margin: 0.5rem 0; }
`;

/** `/api/openapi.json` (generated on each request from the operation registry) and `/api/docs`. */
export function openapiRouter(_deps: ApiDeps): Router {
  const router = Router();

  router.get('/openapi.json', (_req, res) => {
    res.set('Cache-Control', 'no-cache').json(openApiDocument({ version }));
  });

  router.get('/docs', (req, res) => {
    // the page's relative links resolve against /api/, which /api/docs/ would break
    if (req.path !== '/docs') return res.redirect(301, `${req.baseUrl}/docs`);
    res.type('html').send(DOCS_PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'no-cache').send(DOCS_INIT);
  });
  router.get('/docs/docs.css', (_req, res) => {
    res.type('text/css').send(DOCS_CSS);
  });
  for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
    if (!fs.existsSync(path.join(SWAGGER_UI_DIR, file))) continue;
    router.get(`/docs/${file}`, (_req, res) => {
      res.sendFile(path.join(SWAGGER_UI_DIR, file), { maxAge: '1d' });
    });
  }
  return router;
}
