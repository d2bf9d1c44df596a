/** UI strings (French first, English switch) and number formatting. Pure except setLang (sets <html lang>). */

export type Lang = 'fr' | 'en';
export type Localized = { fr: string; en: string };

const STRINGS = {
  title: { fr: 'terrinum — Territoires numériques', en: 'terrinum — Digital territories' },
  indicator: { fr: 'Indicateur', en: 'Indicator' },
  coverageAxis: { fr: 'Couverture (horizontal)', en: 'Coverage (horizontal)' },
  usageAxis: { fr: 'Usage (vertical)', en: 'Usage (vertical)' },
  vintage: { fr: 'Millésime', en: 'Vintage' },
  language: { fr: 'Langue', en: 'Language' },
  view: { fr: 'Vue', en: 'View' },
  level: { fr: 'Échelle', en: 'Level' },
  levelAuto: { fr: 'Auto', en: 'Auto' },
  method: { fr: 'Classes', en: 'Classes' },
  method_fixed: { fr: 'Seuils fixes', en: 'Fixed breaks' },
  method_quantile: { fr: 'Quantiles', en: 'Quantiles' },
  method_jenks: { fr: 'Seuils naturels (Jenks)', en: 'Natural breaks (Jenks)' },
  view_choropleth: { fr: 'Indicateur', en: 'Indicator' },
  view_bivariate: { fr: 'Couverture × usage', en: 'Coverage × usage' },
  view_typology: { fr: 'Typologie', en: 'Typology' },
  view_gap: { fr: 'Écart couverture − usage', en: 'Coverage − usage gap' },
  view_multispeed: { fr: 'Plusieurs vitesses', en: 'Multi-speed' },
  view_clusters: { fr: 'Grappes (LISA)', en: 'Clusters (LISA)' },
  view_access: { fr: 'Accès à la médiation', en: 'Access to mediation' },
  syntheticBanner: {
    fr: 'Données synthétiques de démonstration — pas des données réelles',
    en: 'Synthetic demonstration data — not real data',
  },
  noData: { fr: 'Pas de donnée', en: 'No data' },
  legendCountTitle: { fr: 'Nombre', en: 'Count' },
  epciOutline: { fr: 'Limite d’intercommunalité (EPCI)', en: 'Intercommunality (EPCI) boundary' },
  parentOutline: { fr: 'Limite de l’échelon supérieur', en: 'Boundary of the level above' },
  multispeedOutline: { fr: 'Intercommunalité à plusieurs vitesses', en: 'Multi-speed intercommunality' },
  loading: { fr: 'Chargement…', en: 'Loading…' },
  loadError: { fr: 'Impossible de charger les données', en: 'Could not load the data' },
  sources: { fr: 'Sources', en: 'Sources' },
  mapLabel: { fr: 'Carte des territoires', en: 'Map of the territories' },
  play: { fr: 'Lecture', en: 'Play' },
  pause: { fr: 'Pause', en: 'Pause' },
  search: { fr: 'Rechercher', en: 'Search' },
  searchPlaceholder: { fr: 'Commune, EPCI, code INSEE ou postal', en: 'Municipality, EPCI, INSEE or postal code' },
  noResults: { fr: 'Aucun résultat', en: 'No result' },
  results: { fr: 'résultats', en: 'results' },
  export: { fr: 'Exporter', en: 'Export' },
  exportTitle: { fr: 'Exporter la vue (même échelle, indicateurs, millésime et filtre)', en: 'Export the view (same level, indicators, vintage and filter)' },
  dataTable: { fr: 'Tableau de données', en: 'Data table' },
  showTable: { fr: 'Tableau', en: 'Table' },
  skipToTable: { fr: 'Aller au tableau de données', en: 'Skip to the data table' },
  tableCaption: { fr: 'Les valeurs de la carte, une ligne par territoire. Cliquer un en-tête pour trier.', en: 'The values of the map, one row per territory. Click a header to sort.' },
  previousPage: { fr: 'Page précédente', en: 'Previous page' },
  nextPage: { fr: 'Page suivante', en: 'Next page' },
  pageOf: { fr: 'Lignes {from}–{to} sur {total}', en: 'Rows {from}–{to} of {total}' },
  name: { fr: 'Nom', en: 'Name' },
  code: { fr: 'Code', en: 'Code' },
  value: { fr: 'Valeur', en: 'Value' },
  numerator: { fr: 'Numérateur', en: 'Numerator' },
  denominator: { fr: 'Dénominateur', en: 'Denominator' },
  class: { fr: 'Classe', en: 'Class' },
  close: { fr: 'Fermer', en: 'Close' },
  details: { fr: 'Détails du territoire', en: 'Territory details' },
  indicators: { fr: 'Indicateurs', en: 'Indicators' },
  rankAmong: { fr: 'Rang parmi les {peers}', en: 'Rank among the {peers}' },
  national: { fr: 'ensemble', en: 'all' },
  parents: { fr: 'Appartient à', en: 'Part of' },
  members: { fr: 'Communes membres', en: 'Member municipalities' },
  neighbours: { fr: 'Voisines', en: 'Neighbours' },
  timeSeries: { fr: 'Évolution', en: 'Over time' },
  sourcesAndVintages: { fr: 'Sources et millésimes', en: 'Sources and vintages' },
  factSheet: { fr: 'Fiche territoire (imprimable)', en: 'Printable fact sheet' },
  print: { fr: 'Imprimer', en: 'Print' },
  backToMap: { fr: 'Retour à la carte', en: 'Back to the map' },
  keyFigures: { fr: 'Chiffres clés', en: 'Key figures' },
  comparison: { fr: 'Comparaison avec le département', en: 'Compared with the département' },
  difference: { fr: 'Écart', en: 'Difference' },
  population: { fr: 'Population', en: 'Population' },
  generatedOn: { fr: 'Fiche générée le {date} par terrinum', en: 'Fact sheet generated on {date} by terrinum' },
  ranking: { fr: 'Classement des intercommunalités', en: 'Ranking of the intercommunalities' },
  rankingHint: {
    fr: 'Dispersion des communes membres (indice de Gini, part de la population loin derrière). Choisir une intercommunalité pour la voir de près.',
    en: 'Spread of member municipalities (Gini index, share of the population far behind). Pick one to look closer.',
  },
  multispeedFlag: { fr: 'plusieurs vitesses', en: 'multi-speed' },
  gini: { fr: 'Gini', en: 'Gini' },
  shareBelow: { fr: 'Population loin derrière', en: 'Population far behind' },
  spread: { fr: 'Valeurs des communes membres', en: 'Values of the member municipalities' },
  pValue: { fr: 'p = {p}', en: 'p = {p}' },
  significance: { fr: 'Significatif au seuil de 5 % (999 permutations)', en: 'Significant at 5 % (999 permutations)' },
  nearestPlace: { fr: 'Lieu le plus proche', en: 'Nearest place' },
  beyond10km: { fr: 'Population à plus de 10 km', en: 'Population beyond 10 km' },
  distanceTitle: { fr: 'Distance au lieu de médiation le plus proche', en: 'Distance to the nearest mediation place' },
  places: { fr: 'Lieux de médiation numérique', en: 'Digital mediation places' },
  placesCluster: { fr: 'Lieux regroupés (zoomer pour les détailler)', en: 'Places grouped (zoom in for detail)' },
  gapTitle: { fr: 'Écart couverture − usage (points)', en: 'Coverage − usage gap (points)' },
  gapAhead: { fr: 'couverture en avance sur l’usage', en: 'coverage ahead of usage' },
  gapBehind: { fr: 'usage en avance sur la couverture', en: 'usage ahead of coverage' },
  low: { fr: 'faible', en: 'low' },
  high: { fr: 'élevé', en: 'high' },
  typo_connecte: { fr: 'Connecté', en: 'Connected' },
  'typo_fracture-usage': { fr: 'Fracture d’usage', en: 'Usage gap' },
  'typo_fracture-infrastructure': { fr: 'Fracture d’infrastructure', en: 'Infrastructure gap' },
  'typo_double-fracture': { fr: 'Double fracture', en: 'Double gap' },
  lisa_HH: { fr: 'Grappe haute (haut–haut)', en: 'High cluster (high–high)' },
  lisa_LL: { fr: 'Grappe basse (bas–bas)', en: 'Low cluster (low–low)' },
  lisa_HL: { fr: 'Haut entouré de bas', en: 'High among low' },
  lisa_LH: { fr: 'Bas entouré de haut', en: 'Low among high' },
  lisa_ns: { fr: 'Non significatif', en: 'Not significant' },
  partial: { fr: 'partiel : {communes} communes sur {expected}', en: 'partial: {communes} of {expected} municipalities' },
  level_commune: { fr: 'Commune', en: 'Municipality' },
  level_epci: { fr: 'Intercommunalité (EPCI)', en: 'Intercommunality (EPCI)' },
  level_departement: { fr: 'Département', en: 'Département' },
  level_region: { fr: 'Région', en: 'Region' },
  plural_commune: { fr: 'communes', en: 'municipalities' },
  plural_epci: { fr: 'intercommunalités', en: 'intercommunalities' },
  plural_departement: { fr: 'départements', en: 'départements' },
  plural_region: { fr: 'régions', en: 'regions' },
  one_commune: { fr: 'commune', en: 'municipality' },
  one_epci: { fr: 'intercommunalité', en: 'intercommunality' },
  one_departement: { fr: 'département', en: 'département' },
  one_region: { fr: 'région', en: 'region' },
} satisfies Record<string, Localized>;

export type StringKey = keyof typeof STRINGS;

/** What the denominator counts, per indicator, so that "1 234 / 1 410 locaux" reads as a fact. */
const DENOMINATOR_UNITS: Record<string, Localized> = {
  fibre_coverage: { fr: 'locaux', en: 'premises' },
  fibre_coverage_premises: { fr: 'locaux', en: 'premises' },
};

let current: Lang = 'fr';

export function getLang(): Lang {
  return current;
}

export function setLang(lang: Lang): void {
  current = lang;
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
}

export function parseLang(value: string | null | undefined): Lang | null {
  return value === 'fr' || value === 'en' ? value : null;
}

/** A UI string; `{name}` placeholders are replaced from `params`. */
export function t(key: StringKey, lang: Lang = current, params?: Record<string, string | number>): string {
  return fill(STRINGS[key][lang], params);
}

/** `{name}` placeholders replaced by their parameter (left as they are when it is missing). */
export function fill(text: string, params?: Record<string, string | number>): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** A string whose key is computed (view_…, level_…): falls back to the key itself. */
export function tKey(key: string, lang: Lang = current): string {
  return key in STRINGS ? STRINGS[key as StringKey][lang] : key;
}

export function localized(value: Localized | null | undefined, lang: Lang = current): string {
  if (!value) return '';
  return value[lang] || value.fr;
}

export function denominatorUnit(indicatorId: string, lang: Lang = current): string {
  const unit = DENOMINATOR_UNITS[indicatorId];
  return unit ? unit[lang] : '';
}

const locale = (lang: Lang) => (lang === 'fr' ? 'fr-FR' : 'en-GB');

/** Formatters are costly to build (tens of µs): one per language and number of digits, reused. */
const formatters = new Map<string, Intl.NumberFormat>();
function formatter(lang: Lang, minDigits: number, maxDigits: number): Intl.NumberFormat {
  const key = `${lang}/${minDigits}/${maxDigits}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.NumberFormat(locale(lang), { minimumFractionDigits: minDigits, maximumFractionDigits: maxDigits });
    formatters.set(key, found);
  }
  return found;
}

/** Integer with locale grouping: "1 234" (fr, narrow no-break space) or "1,234" (en). */
export function formatInteger(value: number, lang: Lang = current): string {
  return formatter(lang, 0, 0).format(value);
}

export function formatDecimal(value: number, digits: number, lang: Lang = current): string {
  return formatter(lang, digits, digits).format(value);
}

/** A ratio as a percentage with one decimal: "87,3 %" (fr, no-break space) or "87.3%" (en). */
export function formatPercent(ratio: number, lang: Lang = current): string {
  const number = formatDecimal(ratio * 100, 1, lang);
  return lang === 'fr' ? `${number}\u00a0%` : `${number}%`;
}

/** ratio: a share; index: a score; count: a number of things; metres: a distance; points: percentage points (gaps). */
export type Unit = 'ratio' | 'index' | 'count' | 'metres' | 'points';

/** A distance: "850 m" below a kilometre, "12,4 km" above. */
export function formatDistance(metres: number, lang: Lang = current): string {
  if (metres < 1000) return `${formatInteger(metres, lang)}\u00a0m`;
  return `${formatDecimal(metres / 1000, 1, lang)}\u00a0km`;
}

/** Signed percentage points: "+12,5 pts", "−3,0 pts". */
export function formatPoints(points: number, lang: Lang = current): string {
  const sign = points > 0 ? '+' : points < 0 ? '−' : '';
  return `${sign}${formatDecimal(Math.abs(points), 1, lang)}\u00a0pts`;
}

/** A value in its unit, for tooltips, panels and tables. */
export function formatValue(value: number, unit: Unit, lang: Lang = current): string {
  switch (unit) {
    case 'ratio':
      return formatPercent(value, lang);
    case 'index':
      return formatDecimal(value, 1, lang);
    case 'count':
      return formatInteger(value, lang);
    case 'metres':
      return formatDistance(value, lang);
    case 'points':
      return formatPoints(value, lang);
  }
}

/** A class bound in its unit, for legend labels: ratios as whole percentages ("20 %"), distances in km. */
export function formatBound(value: number, unit: Unit, lang: Lang = current): string {
  if (unit === 'ratio') {
    const number = formatInteger(value * 100, lang);
    return lang === 'fr' ? `${number}\u00a0%` : `${number}%`;
  }
  if (unit === 'metres') return `${formatInteger(value / 1000, lang)}\u00a0km`;
  if (unit === 'points') return formatPoints(value, lang).replace(/,0|\.0/, '');
  if (unit === 'index') return Number.isInteger(value) ? formatInteger(value, lang) : formatDecimal(value, 1, lang);
  return formatValue(value, unit, lang);
}

/** "12ᵉ sur 300", "1ᵉʳ sur 300" (fr); "12 of 300" (en). */
export function formatRank(rank: number, total: number, lang: Lang = current): string {
  if (lang === 'fr') return `${formatInteger(rank, lang)}${rank === 1 ? 'ᵉʳ' : 'ᵉ'} sur ${formatInteger(total, lang)}`;
  return `${formatInteger(rank, lang)} of ${formatInteger(total, lang)}`;
}

/** "2024-Q4" → "T4 2024" (fr) / "Q4 2024" (en); "2024-03" → "03/2024"; years unchanged. */
export function vintageLabel(vintage: string, lang: Lang = current): string {
  const quarter = /^(\d{4})-Q([1-4])$/.exec(vintage);
  if (quarter) return `${lang === 'fr' ? 'T' : 'Q'}${quarter[2]} ${quarter[1]}`;
  const month = /^(\d{4})-(\d{2})$/.exec(vintage);
  if (month) return `${month[2]}/${month[1]}`;
  return vintage;
}
