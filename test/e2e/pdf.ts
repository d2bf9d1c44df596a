/**
 * Just enough PDF reading to check what Chromium printed (no PDF library, no poppler): page count, images, and
 * the text drawn, decoded through the fonts' ToUnicode maps. Skia writes every string as glyph ids (<hex> Tj/TJ)
 * of CID fonts; each text block is decoded with every ToUnicode map of the file and all decodings are kept, so a
 * search for a string finds it whichever font drew it.
 */
import zlib from 'node:zlib';

interface PdfObject {
  dict: string;
  stream: Buffer | null;
}

function objects(pdf: Buffer): PdfObject[] {
  const text = pdf.toString('latin1');
  const found: PdfObject[] = [];
  const pattern = /\d+ 0 obj\s*([\s\S]*?)endobj/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const body = match[1]!;
    const at = body.indexOf('stream');
    if (at < 0) {
      found.push({ dict: body, stream: null });
      continue;
    }
    const dict = body.slice(0, at);
    let start = at + 'stream'.length;
    if (body[start] === '\r') start++;
    if (body[start] === '\n') start++;
    const end = body.lastIndexOf('endstream');
    let data = Buffer.from(body.slice(start, end), 'latin1');
    if (/\/FlateDecode/.test(dict)) {
      try {
        data = zlib.inflateSync(data);
      } catch {
        data = zlib.inflateSync(data.subarray(0, Math.max(0, data.length - 1)));
      }
    }
    found.push({ dict, stream: data });
  }
  return found;
}

/** glyph id (hex, 4 digits) → text, from a ToUnicode CMap. */
function cmap(stream: string): Map<string, string> {
  const map = new Map<string, string>();
  const utf16 = (hex: string) => String.fromCharCode(...(hex.match(/.{4}/g) ?? []).map((h) => parseInt(h, 16)));
  for (const block of stream.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const pair of block[1]!.matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g)) map.set(pair[1]!.toUpperCase().padStart(4, '0'), utf16(pair[2]!));
  }
  for (const block of stream.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const range of block[1]!.matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g)) {
      const from = parseInt(range[1]!, 16);
      const to = parseInt(range[2]!, 16);
      const base = parseInt(range[3]!, 16);
      for (let g = from; g <= to; g++) map.set(g.toString(16).toUpperCase().padStart(4, '0'), String.fromCharCode(base + g - from));
    }
  }
  return map;
}

export interface PdfSummary {
  pages: number;
  images: { width: number; height: number }[];
  /** Every decoding of every text block, joined with newlines: search it with includes(). */
  text: string;
}

export function readPdf(pdf: Buffer): PdfSummary {
  const all = objects(pdf);
  const pages = all.filter((o) => /\/Type\s*\/Page\b(?!s)/.test(o.dict)).length;
  const images = all
    .filter((o) => /\/Subtype\s*\/Image/.test(o.dict))
    .map((o) => ({ width: Number(/\/Width\s+(\d+)/.exec(o.dict)?.[1]), height: Number(/\/Height\s+(\d+)/.exec(o.dict)?.[1]) }));
  const maps = all.filter((o) => o.stream && o.stream.includes('begincmap')).map((o) => cmap(o.stream!.toString('latin1')));
  const blocks: string[][] = [];
  for (const o of all) {
    if (!o.stream) continue;
    const content = o.stream.toString('latin1');
    if (!content.includes('BT')) continue;
    for (const bt of content.matchAll(/BT([\s\S]*?)ET/g)) {
      const glyphs: string[] = [];
      for (const hex of bt[1]!.matchAll(/<([0-9A-Fa-f]+)>/g)) glyphs.push(...(hex[1]!.toUpperCase().match(/.{4}/g) ?? []));
      if (glyphs.length) blocks.push(glyphs);
    }
  }
  const decoded: string[] = [];
  for (const map of maps) {
    decoded.push(blocks.map((glyphs) => glyphs.map((g) => map.get(g) ?? '\ufffd').join('')).join('\n'));
  }
  return { pages, images, text: decoded.join('\n') };
}
