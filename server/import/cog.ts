import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface CogCommune {
  code: string;
  name: string;
  departement: string;
  region: string;
  epci: string | null;
  population: number | null;
  postalCodes: string[];
}

/** The current Code officiel géographique, from @etalab/decoupage-administratif. */
export interface CogReference {
  /** e.g. "@etalab/decoupage-administratif 6.0.0" */
  version: string;
  communes: Map<string, CogCommune>;
  /** Codes that are no longer current communes (merged, delegated, associated) → the current commune. */
  successors: Map<string, string>;
  epcis: Map<string, { code: string; name: string; members: string[] }>;
  departements: Map<string, { code: string; name: string; region: string }>;
  regions: Map<string, { code: string; name: string }>;
}

interface RawCommune {
  code: string;
  nom: string;
  type: string;
  departement?: string;
  region?: string;
  chefLieu?: string;
  anciensCodes?: string[];
  population?: number;
  codesPostaux?: string[];
}

let cached: CogReference | undefined;

/** Loads the package's current communes, EPCI, départements and régions (once per process). */
export function loadCog(): CogReference {
  if (cached) return cached;
  const { version } = require('@etalab/decoupage-administratif/package.json') as { version: string };
  const raw = require('@etalab/decoupage-administratif/data/communes.json') as RawCommune[];
  const rawEpcis = require('@etalab/decoupage-administratif/data/epci.json') as { code: string; nom: string; membres: { code: string }[] }[];
  const rawDepartements = require('@etalab/decoupage-administratif/data/departements.json') as { code: string; nom: string; region: string }[];
  const rawRegions = require('@etalab/decoupage-administratif/data/regions.json') as { code: string; nom: string }[];

  const epciOf = new Map<string, string>();
  for (const epci of rawEpcis) for (const member of epci.membres) epciOf.set(member.code, epci.code);

  const communes = new Map<string, CogCommune>();
  for (const c of raw) {
    if (c.type !== 'commune-actuelle') continue;
    communes.set(c.code, {
      code: c.code,
      name: c.nom,
      departement: c.departement ?? '',
      region: c.region ?? '',
      epci: epciOf.get(c.code) ?? null,
      population: c.population ?? null,
      postalCodes: c.codesPostaux ?? [],
    });
  }
  // Both links matter: some merged codes appear only in anciensCodes (02077→02564), others only as
  // delegated/associated communes with a chefLieu (02733→02153).
  const successors = new Map<string, string>();
  for (const c of raw) {
    if (c.type === 'commune-actuelle') {
      for (const old of c.anciensCodes ?? []) if (!communes.has(old)) successors.set(old, c.code);
    } else if ((c.type === 'commune-deleguee' || c.type === 'commune-associee') && c.chefLieu && !communes.has(c.code)) {
      successors.set(c.code, c.chefLieu);
    }
  }
  cached = {
    version: `@etalab/decoupage-administratif ${version}`,
    communes,
    successors,
    epcis: new Map(rawEpcis.map((e) => [e.code, { code: e.code, name: e.nom, members: e.membres.map((m) => m.code) }])),
    departements: new Map(rawDepartements.map((d) => [d.code, { code: d.code, name: d.nom, region: d.region }])),
    regions: new Map(rawRegions.map((r) => [r.code, { code: r.code, name: r.nom }])),
  };
  return cached;
}

export interface Placement {
  code: string;
  /** True when the input code was an older code folded into a current commune. */
  reconciled: boolean;
}

/**
 * Places commune codes of any COG vintage on the communes present in the database: a current code as is,
 * an older one through its successor. Returns null for a code that cannot be placed.
 */
export function createCommunePlacer(present: ReadonlySet<string>, cog: CogReference | null = loadCog()) {
  return (code: string): Placement | null => {
    if (present.has(code)) return { code, reconciled: false };
    let next = cog?.successors.get(code);
    // successors are one hop in the package; follow a short chain defensively
    for (let hops = 0; next !== undefined && hops < 5; hops++) {
      if (present.has(next)) return { code: next, reconciled: true };
      next = cog?.successors.get(next);
    }
    return null;
  };
}

/** INSEE commune codes lose their leading zero in spreadsheets (2553 → 02553); IRIS codes too (9 chars). */
export function padCode(code: string, length: 5 | 9): string {
  const trimmed = code.trim();
  return /^\d+$/.test(trimmed) && trimmed.length < length ? trimmed.padStart(length, '0') : trimmed;
}
