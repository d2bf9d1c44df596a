import { PGlite } from '@electric-sql/pglite'
import { postgis } from '@electric-sql/pglite-postgis'
let t=Date.now()
const pg = new PGlite({ extensions: { postgis } })
await pg.exec('CREATE EXTENSION IF NOT EXISTS postgis;')
console.log('ready', Date.now()-t)
for (const q of ["select postgis_full_version() v", "select version() v", "select ST_AsText(ST_Transform(ST_SetSRID(ST_MakePoint(3.6,49.5),4326),2154)) v", "select ST_Area(ST_Transform(ST_MakeEnvelope(3,49,3.1,49.1,4326),2154)) v", "select ST_AsText(ST_TileEnvelope(5,16,11)) v", "select length(ST_AsMVT(q)) v from (select ST_AsMVTGeom(ST_Transform(ST_MakeEnvelope(3,49,3.1,49.1,4326),3857), ST_TileEnvelope(5,16,11)) g) q"]) {
  try { const r = await pg.query(q); console.log(r.rows[0].v) } catch(e) { console.log('ERR', q, e.message) }
}
t=Date.now(); const dump = await pg.dumpDataDir('none'); console.log('dump', Date.now()-t, dump.size)
t=Date.now(); const pg2 = new PGlite({ extensions: { postgis }, loadDataDir: dump }); await pg2.waitReady; await pg2.query('select postgis_version()'); console.log('load', Date.now()-t)
