import { describe, expect, it } from 'vitest';
import { TileCache, type CachedTile } from '../server/tiles/cache.ts';
import { bandOf, bandTolerance, ZOOM_BANDS } from '../server/tiles/layers.ts';

const tile = (bytes: number, etag = 'W/"x"'): CachedTile => ({ raw: Buffer.alloc(bytes), gzip: null, etag });

describe('tile cache', () => {
  it('evicts the least recently used tiles past its byte budget', () => {
    // each entry counts its bytes plus 200 of bookkeeping
    const cache = new TileCache(3 * 1200);
    cache.set('a', tile(1000));
    cache.set('b', tile(1000));
    cache.set('c', tile(1000));
    expect(cache.stats).toEqual({ tiles: 3, bytes: 3600 });
    cache.get('a'); // a is now the most recent: b goes first
    cache.set('d', tile(1000));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.stats.tiles).toBe(3);
    expect(cache.stats.bytes).toBeLessThanOrEqual(cache.maxBytes);
  });

  it('counts gzipped bytes, replaces an entry of the same key, skips a tile larger than the budget, clears', () => {
    const cache = new TileCache(5000);
    cache.set('a', { raw: Buffer.alloc(1000), gzip: Buffer.alloc(300), etag: 'W/"a"' });
    expect(cache.stats.bytes).toBe(1500);
    cache.set('a', tile(100));
    expect(cache.stats).toEqual({ tiles: 1, bytes: 300 });
    cache.set('huge', tile(10_000));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    cache.clear();
    expect(cache.stats).toEqual({ tiles: 0, bytes: 0 });
  });
});

describe('zoom bands', () => {
  it('cover every zoom served, the tolerance halving with each band’s deepest zoom', () => {
    for (let z = 0; z <= 14; z++) {
      const band = ZOOM_BANDS[bandOf(z)]!;
      expect(z).toBeGreaterThanOrEqual(band.minzoom);
      expect(z).toBeLessThanOrEqual(band.maxzoom);
    }
    // one pixel of a 512-pixel tile at z14: 40,075,016.7 m / (512 × 2^14)
    expect(bandTolerance(bandOf(14))).toBeCloseTo(4.777, 3);
    expect(bandTolerance(bandOf(6)) / bandTolerance(bandOf(8))).toBeCloseTo(4, 10);
  });
});
