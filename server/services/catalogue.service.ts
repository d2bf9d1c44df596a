import type { CatalogueRepository } from '../repositories/catalogue.repository.ts';
import type { TerritoriesRepository } from '../repositories/territories.repository.ts';
import { HttpError } from '../http/errors.ts';

const VINTAGE = /^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$/;

/** Resolves request parameters against the catalogue: unknown names are 400/404 that name the parameter. */
export function createCatalogueService(catalogue: CatalogueRepository, territories: TerritoriesRepository) {
  return {
    async level(id: string, parameter = 'level') {
      const levels = await catalogue.levels();
      const level = levels.find((l) => l.id === id);
      if (!level) throw new HttpError(404, 'unknown-level', `unknown level "${id}"; known levels: ${levels.map((l) => l.id).join(', ')}`, parameter);
      return level;
    },

    async indicator(id: string | undefined, parameter = 'indicator') {
      if (!id) throw new HttpError(400, 'missing-parameter', `the ${parameter} parameter is required, e.g. ${parameter}=fibre_coverage`, parameter);
      const indicators = await catalogue.indicators();
      const indicator = indicators.find((i) => i.id === id);
      if (!indicator) throw new HttpError(404, 'unknown-indicator', `unknown indicator "${id}"; known indicators: ${indicators.map((i) => i.id).join(', ')}`, parameter);
      return indicator;
    },

    /** The requested vintage, or the latest one when none is given. */
    vintage(indicator: { id: string; vintages: string[] }, vintage: string | undefined): string {
      if (vintage === undefined || vintage === '') {
        const latest = indicator.vintages.at(-1);
        if (!latest) throw new HttpError(404, 'no-data', `indicator "${indicator.id}" has no values yet`, 'indicator');
        return latest;
      }
      if (!VINTAGE.test(vintage)) throw new HttpError(400, 'invalid-vintage', `vintage "${vintage}" must be written YYYY, YYYY-Qn or YYYY-MM (e.g. 2018-Q1)`, 'vintage');
      if (!indicator.vintages.includes(vintage)) {
        throw new HttpError(404, 'unknown-vintage', `indicator "${indicator.id}" has no vintage "${vintage}"; available: ${indicator.vintages.join(', ')}`, 'vintage');
      }
      return vintage;
    },

    /** A vintage that only needs to be well written (metrics that take each axis's latest vintage at or before it). */
    vintageFormat(vintage: string): string {
      if (!VINTAGE.test(vintage)) throw new HttpError(400, 'invalid-vintage', `vintage "${vintage}" must be written YYYY, YYYY-Qn or YYYY-MM (e.g. 2018-Q1)`, 'vintage');
      return vintage;
    },

    /** Parses within=LEVEL:CODE into the territory's id, or null when absent. */
    async within(value: string | undefined): Promise<number | null> {
      if (value === undefined || value === '') return null;
      const match = /^([a-z][a-z0-9_-]*):(.+)$/.exec(value);
      if (!match) throw new HttpError(400, 'invalid-within', `within must be LEVEL:CODE (e.g. epci:200043495), got "${value}"`, 'within');
      const [, levelId = '', code = ''] = match;
      const level = await this.level(levelId, 'within');
      // membership links communes to coarser territories only: "within a commune" would match nothing
      if (level.rank === 0) {
        throw new HttpError(400, 'invalid-within', `within must name a territory coarser than a ${levelId} (e.g. epci:200043495); to select ${levelId}s, use codes=`, 'within');
      }
      const territory = await territories.find(levelId, code);
      if (!territory) throw new HttpError(404, 'unknown-territory', `no ${levelId} with code "${code}"`, 'within');
      return territory.id;
    },
  };
}

export type CatalogueService = ReturnType<typeof createCatalogueService>;
