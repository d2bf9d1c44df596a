#!/usr/bin/env node
// terrinum's command line: the TypeScript sources run through tsx's loader (Node 20 has no type stripping).
import { register } from 'tsx/esm/api';

register();
await import('../server/cli.ts');
