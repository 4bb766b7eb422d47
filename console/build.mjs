// Builds the console into dist/: one ES module entry with the screens and the Cognito library
// split into chunks loaded when needed, minified, plus the page and the style sheet. Prints
// the gzip size of what the first screen loads.
import { build } from "esbuild";
import { cpSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { gzipSync } from "node:zlib";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist", { recursive: true });
const result = await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  splitting: true,
  format: "esm",
  minify: true,
  sourcemap: false,
  target: ["chrome110", "firefox110", "safari16"],
  outdir: "dist",
  chunkNames: "chunks/[name]-[hash]",
  metafile: true,
  // amazon-cognito-identity-js reads `global` (Node's name for globalThis).
  define: { global: "globalThis" },
  legalComments: "none",
});
cpSync("src/index.html", "dist/index.html");
cpSync("src/console.css", "dist/console.css");
const gz = (file) => gzipSync(readFileSync(file)).length;
let total = gz("dist/index.html") + gz("dist/console.css") + gz("dist/main.js");
for (const [out, meta] of Object.entries(result.metafile.outputs)) {
  if (out !== "dist/main.js") continue;
  for (const imp of meta.imports) if (imp.kind === "import-statement") total += gz(imp.path);
}
console.log(`console: first screen ${(total / 1024).toFixed(1)} kB gzip (page, style, main.js and its static imports)`);
