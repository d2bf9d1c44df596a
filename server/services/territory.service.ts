import { HttpError } from '../http/errors.ts';
import { compareVintages, type CatalogueRepository } from '../repositories/catalogue.repository.ts';
import type { TerritoriesRepository } from '../repositories/territories.repository.ts';

/** Number of values in ascending `sorted` below `value` (`strict`) or at most `value`. */
function countBelow(sorted: Float64Array, value: number, orEqual: boolean): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value || (orEqual && sorted[middle] === value)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Rank (1 = best, ties share the better rank) of `value` among `sorted` values. */
export function rankAmong(sorted: Float64Array, value: number, higherIsBetter: boolean): { rank: number; of: number } {
  const better = higherIsBetter ? sorted.length - countBelow(sorted, value, true) : countBelow(sorted, value, false);
  return { rank: 1 + better, of: sorted.length };
}

/** Everything about one territory, as `GET /api/territories/{level}/{code}` serves it. */
export function createTerritoryService(catalogue: CatalogueRepository, territories: TerritoriesRepository) {
  // Every value of a level for one indicator and vintage, sorted: national ranks are then a binary search. Read
  // once per data version (a level of 35,000 communes takes tens of milliseconds to read).
  const levelValues = new Map<string, Promise<Float64Array>>();
  let cachedVersion = -1;
  async function sortedValues(level: string, indicatorId: string, vintage: string): Promise<Float64Array> {
    const version = await catalogue.version();
    if (version !== cachedVersion) {
      levelValues.clear();
      cachedVersion = version;
    }
    const key = `${level}|${indicatorId}|${vintage}`;
    let values = levelValues.get(key);
    if (!values) {
      if (levelValues.size >= 256) levelValues.delete(levelValues.keys().next().value!);
      values = territories.levelValues(level, indicatorId, vintage);
      levelValues.set(key, values);
      values.catch(() => levelValues.delete(key));
    }
    return values;
  }

  return {
    async profile(levelId: string, code: string) {
      const territory = await territories.profile(levelId, code);
      if (!territory) throw new HttpError(404, 'unknown-territory', `no ${levelId} with code "${code}"`, 'code');
      const { id, rank } = territory;
      const [levels, indicators, parents, members, neighbours, values, metrics, memberSources] = await Promise.all([
        catalogue.levels(),
        catalogue.indicators(),
        territories.parents(id, rank),
        rank === 0 ? Promise.resolve([]) : territories.members(id),
        territories.neighbours(id, territory.level, rank),
        territories.values(id),
        territories.metrics(id),
        rank === 0 ? Promise.resolve([]) : territories.memberSources(id),
      ]);

      // Peers to rank against besides the whole level: communes and EPCI within their département, a département
      // within its région; elsewhere (or in hierarchies without départements) the next coarser territory.
      const departementRank = levels.find((l) => l.id === 'departement')?.rank;
      const rankingParent =
        (departementRank !== undefined && rank < departementRank ? parents.find((p) => p.level === 'departement') : parents[0]) ?? null;
      const rankingParentId = rankingParent ? ((await territories.find(rankingParent.level, rankingParent.code))?.id ?? null) : null;

      const sourcesOf = new Map(memberSources.map((s) => [`${s.indicator_id}|${s.vintage}`, s.source_ids.map(Number)]));
      const held = indicators.filter((i) => values.some((v) => v.indicator_id === i.id));
      // ranks at each indicator's latest vintage, when this territory has a complete value then (a partial aggregate
      // is left out of rankings)
      const latest = held.flatMap((i) => {
        const vintage = i.vintages.at(-1);
        const own = values.find((v) => v.indicator_id === i.id && v.vintage === vintage);
        const mine = own?.partial ? null : own?.value;
        return vintage !== undefined && mine !== null && mine !== undefined ? [{ indicator: i, vintage, value: mine }] : [];
      });
      const national = await Promise.all(latest.map(async (l) => rankAmong(await sortedValues(territory.level, l.indicator.id, l.vintage), l.value, l.indicator.higher_is_better)));
      const inParent =
        rankingParentId === null ? [] : await territories.parentRanks(id, territory.level, latest.map((l) => ({ indicator_id: l.indicator.id, vintage: l.vintage })), rankingParentId);
      const ranks = latest.map((l, i) => ({ indicator_id: l.indicator.id, vintage: l.vintage, national: national[i]!, parent: inParent.find((p) => p.indicator_id === l.indicator.id) }));

      const indicatorBlocks = held.map((indicator) => {
        const own = values.filter((v) => v.indicator_id === indicator.id).sort((a, b) => compareVintages(a.vintage, b.vintage));
        const latestVintage = indicator.vintages.at(-1) ?? null;
        const ranked = ranks.find((r) => r.indicator_id === indicator.id);
        return {
          id: indicator.id,
          label: { fr: indicator.label_fr, en: indicator.label_en },
          theme: indicator.theme,
          unit: indicator.unit,
          higher_is_better: indicator.higher_is_better,
          synthetic: indicator.synthetic,
          latest_vintage: latestVintage,
          values: own.map((v) => ({
            vintage: v.vintage,
            value: v.value,
            // ARCEP ratios can exceed 100 %: the raw value is kept, the display value is capped (as in /api/stats)
            display_value: v.value !== null && indicator.unit === 'ratio' ? Math.min(v.value, 1) : v.value,
            numerator: v.numerator,
            denominator: v.denominator,
            communes: v.communes,
            communes_expected: v.communes_expected,
            partial: v.partial,
            // a commune value has its own source; an aggregate, those of its member communes' values
            source_ids: v.source_id !== null ? [v.source_id] : (sourcesOf.get(`${indicator.id}|${v.vintage}`) ?? []),
          })),
          rank: ranked
            ? {
                vintage: ranked.vintage,
                national: ranked.national,
                parent:
                  rankingParent && ranked.parent
                    ? { level: rankingParent.level, code: rankingParent.code, name: rankingParent.name, rank: ranked.parent.rank, of: ranked.parent.of }
                    : null,
              }
            : null,
        };
      });

      const sourceIds = new Set<number>();
      if (territory.source_id !== null) sourceIds.add(territory.source_id);
      for (const block of indicatorBlocks) for (const v of block.values) for (const s of v.source_ids) sourceIds.add(s);
      const byVintage = <T extends { indicator_id: string; vintage: string }>(rows: T[]) =>
        [...rows].sort((a, b) => a.indicator_id.localeCompare(b.indicator_id) || compareVintages(a.vintage, b.vintage)).map(({ indicator_id, ...rest }) => ({ indicator: indicator_id, ...rest }));

      return {
        level: territory.level,
        level_label: { fr: territory.label_fr, en: territory.label_en },
        code: territory.code,
        name: territory.name,
        population: territory.population,
        population_vintage: territory.population_vintage,
        area_m2: territory.area_m2,
        synthetic: territory.synthetic,
        bbox: territory.xmin === null ? null : [territory.xmin, territory.ymin!, territory.xmax!, territory.ymax!],
        parents,
        members: rank === 0 ? null : { count: members.length, communes: members },
        neighbours,
        indicators: indicatorBlocks,
        disparity: byVintage(metrics.disparity),
        lisa: byVintage(metrics.lisa),
        trend: byVintage(metrics.trend),
        access: metrics.access,
        sources: (await territories.sources([...sourceIds])).map((s) => ({ ...s, imported_at: new Date(s.imported_at).toISOString() })),
      };
    },
  };
}

export type TerritoryService = ReturnType<typeof createTerritoryService>;
