/**
 * The map's palettes stay readable for colour-blind readers: every palette is passed through the Machado, Oliveira
 * & Fernandes (2009) simulation of protanopia, deuteranopia and tritanopia (severity 1, in linear RGB), and the
 * classes a reader must tell apart stay apart (CIE ΔE*ab, D65). Sequential and diverging ramps must also keep
 * their order in lightness, so that they read in greyscale prints. No browser: pure computation.
 */
import { describe, expect, it } from 'vitest';
import { BIVARIATE, DISTANCE, DIVERGING, LISA, NO_DATA_COLOR, SEQUENTIAL, TYPOLOGY, type Rgb } from '../../client/src/colors.ts';

type Matrix = [number, number, number, number, number, number, number, number, number];

/** Machado et al. 2009, severity 1.0. */
const DEFICIENCIES: Record<string, Matrix> = {
  normal: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  protanopia: [0.152286, 1.052583, -0.204868, 0.114503, 0.786281, 0.099216, -0.003882, -0.048116, 1.051998],
  deuteranopia: [0.367322, 0.860646, -0.227968, 0.280085, 0.672501, 0.047413, -0.01182, 0.04294, 0.968881],
  tritanopia: [1.255528, -0.076749, -0.178779, -0.078411, 0.930809, 0.147602, 0.004733, 0.691367, 0.3039],
};

const toLinear = (c: number) => {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
};

function simulate(rgb: Rgb, m: Matrix): [number, number, number] {
  const [r, g, b] = rgb.map(toLinear) as [number, number, number];
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  return [clamp(m[0] * r + m[1] * g + m[2] * b), clamp(m[3] * r + m[4] * g + m[5] * b), clamp(m[6] * r + m[7] * g + m[8] * b)];
}

/** Linear RGB → CIE L*a*b* (D65). */
function lab([r, g, b]: [number, number, number]): [number, number, number] {
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (841 / 108) * t + 4 / 29);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

const deltaE = (a: [number, number, number], b: [number, number, number]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** The smallest ΔE between any two colours of a set, for one deficiency. */
function minDistance(colors: readonly Rgb[], m: Matrix): number {
  const labs = colors.map((c) => lab(simulate(c, m)));
  let min = Infinity;
  for (let i = 0; i < labs.length; i++) for (let j = i + 1; j < labs.length; j++) min = Math.min(min, deltaE(labs[i]!, labs[j]!));
  return min;
}

const lightness = (c: Rgb, m: Matrix) => lab(simulate(c, m))[0];

describe('colour-blind-safe palettes', () => {
  describe.each(Object.entries(DEFICIENCIES))('%s', (_, matrix) => {
    it('sequential ramps (rates, distances): classes apart and ordered in lightness', () => {
      for (const ramp of [SEQUENTIAL, DISTANCE]) {
        expect(minDistance(ramp, matrix)).toBeGreaterThan(10);
        const l = ramp.map((c) => lightness(c, matrix));
        for (let i = 1; i < l.length; i++) expect(l[i]!).toBeLessThan(l[i - 1]!);
      }
    });

    it('the diverging ramp (gap): classes apart, light in the middle, darker towards both ends', () => {
      expect(minDistance(DIVERGING, matrix)).toBeGreaterThan(10);
      const l = DIVERGING.map((c) => lightness(c, matrix));
      expect(l[2]!).toBeGreaterThan(Math.max(l[1]!, l[3]!));
      expect(l[1]!).toBeGreaterThan(l[0]!);
      expect(l[3]!).toBeGreaterThan(l[4]!);
    });

    it('categories (typology, LISA clusters) and the no-data grey are all distinguishable', () => {
      expect(minDistance([...Object.values(TYPOLOGY), NO_DATA_COLOR], matrix)).toBeGreaterThan(12);
      expect(minDistance([...Object.values(LISA), NO_DATA_COLOR], matrix)).toBeGreaterThan(12);
    });

    it('the 3 × 3 bivariate grid: every cell differs from every other one', () => {
      expect(minDistance(Object.values(BIVARIATE), matrix)).toBeGreaterThan(8);
      // and from the no-data grey
      for (const color of Object.values(BIVARIATE)) expect(deltaE(lab(simulate(color, matrix)), lab(simulate(NO_DATA_COLOR, matrix)))).toBeGreaterThan(8);
    });
  });
});
