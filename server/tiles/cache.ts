/** A cached tile: its bytes, gzipped once, and its validator. */
export interface CachedTile {
  raw: Buffer;
  /** null for an empty tile (answered 204, nothing to compress). */
  gzip: Buffer | null;
  etag: string;
}

const size = (tile: CachedTile) => tile.raw.length + (tile.gzip?.length ?? 0) + 200;

/**
 * Least-recently-used cache bounded by bytes (raw + gzip bytes of every tile, plus a little per entry):
 * a Map keeps insertion order, so re-inserting on read makes its first key the least recently used.
 */
export class TileCache {
  private readonly entries = new Map<string, CachedTile>();
  private bytes = 0;

  constructor(readonly maxBytes: number) {}

  get(key: string): CachedTile | undefined {
    const tile = this.entries.get(key);
    if (tile) {
      this.entries.delete(key);
      this.entries.set(key, tile);
    }
    return tile;
  }

  set(key: string, tile: CachedTile): void {
    this.delete(key);
    // a tile larger than the whole cache is served but not kept
    if (size(tile) > this.maxBytes) return;
    this.entries.set(key, tile);
    this.bytes += size(tile);
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= size(old);
    }
  }

  delete(key: string): void {
    const tile = this.entries.get(key);
    if (!tile) return;
    this.entries.delete(key);
    this.bytes -= size(tile);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  get stats(): { tiles: number; bytes: number } {
    return { tiles: this.entries.size, bytes: this.bytes };
  }
}
