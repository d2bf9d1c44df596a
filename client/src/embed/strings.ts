/** The embed's own UI strings (French first, English), beside the shared ones of ../i18n.ts. Pure. */
import { fill, type Lang } from '../i18n.ts';

const STRINGS = {
  fullMap: { fr: 'Ouvrir la carte complète', en: 'Open the full map' },
  fullMapTitle: { fr: 'La même carte dans terrinum, avec recherche, fiches et exports (nouvel onglet)', en: 'The same map in terrinum, with search, fact sheets and exports (new tab)' },
  wholeTerritory: { fr: 'Ensemble du territoire', en: 'Whole territory' },
  mapOf: { fr: 'Carte : {title}', en: 'Map: {title}' },
  cannotShow: { fr: 'Cette carte ne peut pas s’afficher', en: 'This map cannot be shown' },
  noWebgl: { fr: 'Le navigateur ne peut pas dessiner la carte (WebGL indisponible).', en: 'The browser cannot draw the map (WebGL is not available).' },
  frameTitle: { fr: 'Carte terrinum', en: 'terrinum map' },
  // the "Intégrer" dialog
  embed: { fr: 'Intégrer', en: 'Embed' },
  embedTitle: { fr: 'Intégrer cette carte dans un site', en: 'Embed this map in a website' },
  embedIntro: {
    fr: 'Copiez l’un des deux codes dans une page de votre site. La carte affichera la vue actuelle : indicateur, millésime, vue et territoire.',
    en: 'Copy one of the two snippets into a page of your website. The map will show the current view: indicator, vintage, view and territory.',
  },
  snippetElement: { fr: 'Script et composant (recommandé : s’adapte à la largeur)', en: 'Script and component (recommended: fits the width)' },
  snippetIframe: { fr: 'Iframe (si votre site n’accepte pas de script)', en: 'Iframe (when your website accepts no script)' },
  copy: { fr: 'Copier', en: 'Copy' },
  copied: { fr: 'Copié', en: 'Copied' },
  copyFailed: { fr: 'Sélectionnez le code et copiez-le (Ctrl+C)', en: 'Select the code and copy it (Ctrl+C)' },
  optTerritory: { fr: 'Territoire', en: 'Territory' },
  optVintage: { fr: 'Millésime {vintage} (sinon, toujours le plus récent)', en: 'Vintage {vintage} (else, always the latest)' },
  optHeight: { fr: 'Hauteur (pixels)', en: 'Height (pixels)' },
  optLegend: { fr: 'Légende', en: 'Legend' },
  optControls: { fr: 'Boutons de zoom et déplacement', en: 'Zoom buttons and panning' },
  optLang: { fr: 'Langue de la carte', en: 'Map language' },
  preview: { fr: 'Aperçu dans un nouvel onglet', en: 'Preview in a new tab' },
  close: { fr: 'Fermer', en: 'Close' },
  frameNote: {
    fr: 'Le site qui intègre la carte doit être autorisé par l’administrateur de terrinum (variable TERRINUM_FRAME_ANCESTORS).',
    en: 'The website embedding the map must be allowed by the terrinum administrator (TERRINUM_FRAME_ANCESTORS setting).',
  },
} satisfies Record<string, Record<Lang, string>>;

export type EmbedStringKey = keyof typeof STRINGS;

export function embedText(key: EmbedStringKey, lang: Lang, params?: Record<string, string>): string {
  return fill(STRINGS[key][lang], params);
}
