// Bundles the browser code into web/static/dist/ with esbuild:
//   js/lib/index.js   -> static/dist/cipherslip-crypto.js
//   js/pages/<name>.js -> static/dist/<name>.js   (every page script, if any exist yet)
//   js/sw/download-sw.js -> static/dist/download-sw.js (served at /download-sw.js)
// ES modules for <script type="module" src="...">, self-contained (no code splitting), so they
// run under CSP `script-src 'self'` with no inline script and no eval. The service worker is a
// classic script (IIFE): module service workers are still missing from some browsers.
//
// Usage: node build.mjs [--watch]
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const WEB_DIR = path.dirname(fileURLToPath(import.meta.url));
const PAGES_DIR = path.join(WEB_DIR, "js", "pages");
const OUT_DIR = path.join(WEB_DIR, "static", "dist");
const CRYPTO_BUNDLE = "cipherslip-crypto";

function entryPoints() {
  const entries = { [CRYPTO_BUNDLE]: path.join(WEB_DIR, "js", "lib", "index.js") };
  const pageFiles = existsSync(PAGES_DIR)
    ? readdirSync(PAGES_DIR).filter((file) => file.endsWith(".js")).sort()
    : [];
  for (const file of pageFiles) {
    const name = file.slice(0, -".js".length);
    if (name in entries) throw new Error(`js/pages/${file} would overwrite ${name}.js`);
    entries[name] = path.join(PAGES_DIR, file);
  }
  return entries;
}

/** Remove bundles of page scripts that no longer exist, so they cannot be served stale. */
function removeStaleBundles(entries) {
  if (!existsSync(OUT_DIR)) return;
  const expected = new Set([...Object.keys(entries), SERVICE_WORKER].flatMap((name) => [`${name}.js`, `${name}.js.map`]));
  for (const file of readdirSync(OUT_DIR)) {
    if ((file.endsWith(".js") || file.endsWith(".js.map")) && !expected.has(file)) {
      rmSync(path.join(OUT_DIR, file));
    }
  }
}

const SERVICE_WORKER = "download-sw";
const entries = entryPoints();
const options = {
  entryPoints: entries,
  outdir: OUT_DIR,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2020",
  minify: true,
  sourcemap: "linked",
  legalComments: "eof",
  // @hpke/core falls back to `import("crypto")` (Node) only where globalThis.crypto is missing,
  // which never happens in a browser. Say so explicitly instead of relying on esbuild leaving
  // unresolvable imports inside try/catch alone.
  external: ["crypto"],
  logLevel: "info",
};

const workerOptions = {
  ...options,
  entryPoints: { [SERVICE_WORKER]: path.join(WEB_DIR, "js", "sw", `${SERVICE_WORKER}.js`) },
  format: "iife",
};

removeStaleBundles(entries);
if (process.argv.includes("--watch")) {
  for (const buildOptions of [options, workerOptions]) {
    const context = await esbuild.context(buildOptions);
    await context.watch();
  }
  console.log(`watching ${Object.keys(entries).length + 1} entries (new page files need a restart)`);
} else {
  await Promise.all([esbuild.build(options), esbuild.build(workerOptions)]);
}
