/**
 * Large numeric columns travel from the database as packed binary (`string_agg(float8send(x), ''::bytea ORDER BY …)`)
 * rather than as arrays: parsing a 35,000-element array literal costs the Node process far more than the query, and
 * the binary form is exact by construction. Both backends return bytea as bytes (a Buffer from pg, a Uint8Array from
 * PGlite). Values are big-endian, as float8send/int4send write them.
 */

/** The float8 values of a bytea written by `string_agg(float8send(x), ''::bytea …)`; a null column is empty. */
export function unpackFloat64(bytes: Uint8Array | null): Float64Array {
  if (!bytes) return new Float64Array(0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float64Array(bytes.byteLength / 8);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat64(i * 8, false);
  return values;
}

/** The int4 values of a bytea written by `string_agg(int4send(x), ''::bytea …)`; a null column is empty. */
export function unpackInt32(bytes: Uint8Array | null): Int32Array {
  if (!bytes) return new Int32Array(0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Int32Array(bytes.byteLength / 4);
  for (let i = 0; i < values.length; i++) values[i] = view.getInt32(i * 4, false);
  return values;
}
