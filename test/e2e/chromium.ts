/**
 * How Debian's Chromium is launched by the end-to-end tests and the browser benchmarks: headless, WebGL2 on
 * SwiftShader (no GPU here), nothing fetched from the network. No test framework imported: scripts use it too.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
