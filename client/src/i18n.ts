/** UI strings (French first, English switch) and number formatting. */

export type Lang = 'fr' | 'en';
export type Localized = { fr: string; en: string };

const STRINGS = {
  title: { fr: 'terrinum — Territoires numériques', en: 'terrinum — Digital territories' },
  indicator: { fr: 'Indicateur', en: 'Indicator' },
  vintage: { fr: 'Millésime', en: 'Vintage' },
  language: { fr: 'Langue', en: 'Language' },
  switchLanguage: { fr: 'Switch to English', en: 'Passer en français' },
  syntheticBanner: {
    fr: 'Données synthétiques de démonstration — pas des données réelles',
    en: 'Synthetic demonstration data — not real data',
  },
  noData: { fr: 'Pas de donnée', en: 'No data' },
  communes: { fr: 'communes', en: 'municipalities' },
  legendCountTitle: { fr: 'Nombre de communes', en: 'Number of municipalities' },
  epciOutline: { fr: 'Limite d’intercommunalité (EPCI)', en: 'Intercommunality (EPCI) boundary' },
  loading: { fr: 'Chargement…', en: 'Loading…' },
  loadError: { fr: 'Impossible de charger les données', en: 'Could not load the data' },
  sources: { fr: 'Sources', en: 'Sources' },
  mapLabel: { fr: 'Carte des communes', en: 'Map of municipalities' },
} satisfies Record<string, Localized>;

export type StringKey = keyof typeof STRINGS;

/** What the denominator counts, per indicator, so that "1 234 / 1 410 locaux" reads as a fact. */
const DENOMINATOR_UNITS: Record<string, Localized> = {
  fibre_coverage: { fr: 'locaux', en: 'premises' },
};

let current: Lang = 'fr';

export function getLang(): Lang {
  return current;
}

export function setLang(lang: Lang): void {
  current = lang;
  document.documentElement.lang = lang;
}

export function parseLang(value: string | null | undefined): Lang | null {
  return value === 'fr' || value === 'en' ? value : null;
}

export function t(key: StringKey, lang: Lang = current): string {
  return STRINGS[key][lang];
}

export function localized(value: Localized, lang: Lang = current): string {
  return value[lang] || value.fr;
}

export function denominatorUnit(indicatorId: string, lang: Lang = current): string {
  const unit = DENOMINATOR_UNITS[indicatorId];
  return unit ? unit[lang] : '';
}

const locale = (lang: Lang) => (lang === 'fr' ? 'fr-FR' : 'en-GB');

/** Integer with locale grouping: "1 234" (fr, narrow no-break space) or "1,234" (en). */
export function formatInteger(value: number, lang: Lang = current): string {
  return new Intl.NumberFormat(locale(lang), { maximumFractionDigits: 0 }).format(value);
}

export function formatDecimal(value: number, digits: number, lang: Lang = current): string {
  return new Intl.NumberFormat(locale(lang), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

/** A ratio as a percentage with one decimal: "87,3 %" (fr, no-break space) or "87.3%" (en). */
export function formatPercent(ratio: number, lang: Lang = current): string {
  const number = formatDecimal(ratio * 100, 1, lang);
  return lang === 'fr' ? `${number}\u00a0%` : `${number}%`;
}

export type Unit = 'ratio' | 'index' | 'count' | 'metres';

/** A value in its unit, for tooltips. */
export function formatValue(value: number, unit: Unit, lang: Lang = current): string {
  switch (unit) {
    case 'ratio':
      return formatPercent(value, lang);
    case 'index':
      return formatDecimal(value, 1, lang);
    case 'count':
      return formatInteger(value, lang);
    case 'metres':
      return `${formatInteger(value, lang)}\u00a0m`;
  }
}

/** A class bound in its unit, for legend labels: ratios as whole percentages ("20 %"). */
export function formatBound(value: number, unit: Unit, lang: Lang = current): string {
  if (unit === 'ratio') {
    const number = formatInteger(value * 100, lang);
    return lang === 'fr' ? `${number}\u00a0%` : `${number}%`;
  }
  if (unit === 'index') return Number.isInteger(value) ? formatInteger(value, lang) : formatDecimal(value, 1, lang);
  return formatValue(value, unit, lang);
}
