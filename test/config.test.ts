import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../server/config.ts';

describe('loadConfig', () => {
  it('defaults to the embedded database under the working directory, port 3000, demo on', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({ port: 3000, databaseUrl: null, dataDir: path.join('/srv/app', '.terrinum', 'db'), demo: true, logLevel: 'info' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable', () => {
    const config = loadConfig(
      { PORT: '8080', DATABASE_URL: 'postgres://u@db:5432/terrinum', TERRINUM_DATA_DIR: 'var/db', TERRINUM_DEMO: 'false', LOG_LEVEL: 'warn', HOST: '127.0.0.1' },
      '/srv/app',
    );
    expect(config).toMatchObject({ port: 8080, databaseUrl: 'postgres://u@db:5432/terrinum', dataDir: '/srv/app/var/db', demo: false, logLevel: 'warn', host: '127.0.0.1' });
  });

  it('keeps memory:// as the in-memory embedded database', () => {
    expect(loadConfig({ TERRINUM_DATA_DIR: 'memory://' }).dataDir).toBe('memory://');
  });

  it.each([
    [{ PORT: 'abc' }, /PORT must be a number/],
    [{ PORT: '70000' }, /PORT must be a number/],
    [{ DATABASE_URL: 'mysql://x@y/z' }, /DATABASE_URL must start with postgres/],
    [{ DATABASE_URL: 'not a url' }, /DATABASE_URL is not a valid URL/],
    [{ TERRINUM_DEMO: 'maybe' }, /TERRINUM_DEMO must be true or false/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
  ])('rejects %o naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
