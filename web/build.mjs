// Builds the console into dist/: the API's types are generated from
// openapi.json (api-types.mjs), esbuild bundles src/main.tsx into an
// entry module and chunks (each page, the charting library and shared
// code load on first use, through dynamic import()), Tailwind's CLI writes
// the stylesheet, and index.html names the entry and stylesheet, with a
// modulepreload for each chunk the entry imports. Every file name carries
// a content hash so the gateway can let browsers cache assets for good;
// each asset also gets a gzipped twin. Prints the first load's size.
// `node build.mjs --watch` rebuilds on change (the entry is app.js).
import { build, context } from "esbuild";
import { apiTypes } from "./api-types.mjs";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");
const watch = process.argv.includes("--watch");

const options = {
  entryPoints: [join(root, "src/main.tsx")],
  bundle: true,
  format: "esm",
  splitting: true,
  outdir: join(dist, "assets"),
  chunkNames: "chunk-[hash]",
  metafile: true,
  jsx: "automatic",
  loader: { ".js": "jsx" },
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  target: ["es2020"],
  define: { "process.env.NODE_ENV": watch ? '"development"' : '"production"' },
  logLevel: "warning",
};

function css() {
  execFileSync(
    join(root, "node_modules/.bin/tailwindcss"),
    ["-i", "src/index.css", "-o", "dist/assets/app.css", ...(watch ? [] : ["--minify"])],
    { cwd: root, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, BROWSERSLIST_IGNORE_OLD_DATA: "1" } },
  );
}

function hashed(name, ext) {
  const path = join(dist, "assets", `${name}.${ext}`);
  const hash = createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 10);
  const file = `${name}-${hash}.${ext}`;
  renameSync(path, join(dist, "assets", file));
  return file;
}

/** A .gz beside an asset; the gateway sends it to browsers that accept gzip. */
function gzip(file) {
  const path = join(dist, "assets", file);
  writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
}

/** index.html naming the entry, the chunks it imports (preloaded) and the stylesheet. */
function page(js, cssFile, preload = []) {
  const links = preload.map((f) => `<link rel="modulepreload" href="/assets/${f}" />`).join("\n    ");
  const html = readFileSync(join(root, "index.html"), "utf8")
    .replace("%JS%", `/assets/${js}`)
    .replace("%CSS%", `/assets/${cssFile}`)
    .replace("%PRELOAD%", links);
  writeFileSync(join(dist, "index.html"), html);
}

/** The entry's output file and the chunks it imports statically (loaded before it runs). */
function entryOf(metafile) {
  const outputs = metafile.outputs;
  // Dynamic import() targets are entry points too; the page's is main.tsx.
  const entry = Object.keys(outputs).find((o) => outputs[o].entryPoint === "src/main.tsx");
  const seen = new Set();
  const walk = (o) => {
    for (const i of outputs[o].imports) {
      if (i.kind === "import-statement" && !seen.has(i.path)) {
        seen.add(i.path);
        walk(i.path);
      }
    }
  };
  walk(entry);
  const name = (o) => basename(relative(root, o));
  return { entry: name(entry), imports: [...seen].map(name), all: Object.keys(outputs).filter((o) => o.endsWith(".js")).map(name) };
}

function sizes(files) {
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    raw += readFileSync(join(dist, "assets", f)).length;
    gz += readFileSync(join(dist, "assets", `${f}.gz`)).length;
  }
  return `${(raw / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gzipped)`;
}

await apiTypes();
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });
const started = Date.now();
if (watch) {
  css();
  page("app.js", "app.css");
  const ctx = await context({ ...options, entryNames: "app" });
  await ctx.watch();
  console.log("watching src/ (restart to rebuild the stylesheet)");
} else {
  const result = await build({ ...options, entryNames: "app-[hash]" });
  css();
  const cssFile = hashed("app", "css");
  const js = entryOf(result.metafile);
  for (const f of [...js.all, cssFile]) gzip(f);
  page(js.entry, cssFile, js.imports);
  console.log(
    `built web/dist in ${Date.now() - started} ms; first load ${sizes([js.entry, ...js.imports, cssFile])}, all scripts ${sizes(js.all)} in ${js.all.length} files`,
  );
}
