/**
 * What the server tells the embed page (server/http/embed.routes.ts writes it into the page as a JSON data
 * block, `<script type="application/json" id="terrinum-embed-config">`): the query parameters, validated and
 * resolved against the catalogue, and the `within` territory's name and extent, so that the page draws the
 * right place at once, with no request to find it.
 */
import type { Bbox, Level } from '../api.ts';
import type { Lang } from '../i18n.ts';
import type { Method } from '../views/classify.ts';
import type { ViewId } from '../views/types.ts';

export interface EmbedTerritory {
  level: Level;
  code: string;
  name: string;
  bbox: Bbox | null;
}

export interface EmbedConfig {
  view: ViewId;
  /** Indicator drawn (asked for, else the default one), checked against the catalogue; null for the access view. */
  indicator: string | null;
  /** Usage axis of the bivariate, typology and gap views (asked for, else the default one); null for the others. */
  usage: string | null;
  /** Level asked for (`level=`); null: chosen from the `within` territory or the zoom. */
  level: Level | null;
  /** Level drawn when it is known without the map's zoom (asked for, or the `within` territory's members). */
  fill: Level | null;
  within: EmbedTerritory | null;
  /** Vintage drawn (asked for, else the indicator's latest); null for the access view. */
  vintage: string | null;
  method: Method | null;
  lang: Lang;
  legend: boolean;
  controls: boolean;
  /** The deployment's basemap style URL (TERRINUM_BASEMAP_STYLE), or null: terrinum's own layers only. */
  basemapStyle: string | null;
}

export const CONFIG_ELEMENT_ID = 'terrinum-embed-config';

/** Reads the page's configuration; null when the page was not served by /embed. */
export function readConfig(doc: Document = document): EmbedConfig | null {
  const text = doc.getElementById(CONFIG_ELEMENT_ID)?.textContent;
  if (!text) return null;
  return JSON.parse(text) as EmbedConfig;
}
