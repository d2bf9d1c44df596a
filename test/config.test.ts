import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analysisSettings, ConfigError, loadConfig } from '../server/config.ts';

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

describe('analysis settings', () => {
  it('default to a 30-point disparity threshold and the conservative LISA tie rule', () => {
    expect(loadConfig({})).toMatchObject({ disparityThreshold: 30, lisaTies: 'conservative' });
    expect(analysisSettings({})).toEqual({ disparityThreshold: 30, lisaTies: 'conservative' });
  });

  it('read TERRINUM_DISPARITY_THRESHOLD (0–100 points, decimals allowed) and TERRINUM_LISA_TIES', () => {
    expect(loadConfig({ TERRINUM_DISPARITY_THRESHOLD: '25', TERRINUM_LISA_TIES: 'geoda' })).toMatchObject({ disparityThreshold: 25, lisaTies: 'geoda' });
    expect(analysisSettings({ TERRINUM_DISPARITY_THRESHOLD: ' 0 ' }).disparityThreshold).toBe(0);
    expect(analysisSettings({ TERRINUM_DISPARITY_THRESHOLD: '100' }).disparityThreshold).toBe(100);
    expect(analysisSettings({ TERRINUM_DISPARITY_THRESHOLD: '12.5' }).disparityThreshold).toBe(12.5);
  });

  it.each([
    [{ TERRINUM_DISPARITY_THRESHOLD: '101' }, /TERRINUM_DISPARITY_THRESHOLD must be a number of points from 0 to 100/],
    [{ TERRINUM_DISPARITY_THRESHOLD: '-5' }, /TERRINUM_DISPARITY_THRESHOLD/],
    [{ TERRINUM_DISPARITY_THRESHOLD: '30%' }, /TERRINUM_DISPARITY_THRESHOLD/],
    [{ TERRINUM_DISPARITY_THRESHOLD: 'NaN' }, /TERRINUM_DISPARITY_THRESHOLD/],
    [{ TERRINUM_LISA_TIES: 'both' }, /TERRINUM_LISA_TIES must be one of conservative, geoda/],
  ])('rejects %o naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => analysisSettings(env)).toThrow(message);
  });
});
