// Builds the console into dist/: esbuild bundles src/main.jsx, Tailwind's
// CLI writes the stylesheet, and index.html names both by content hash so
// the gateway can let browsers cache assets for good; each asset also gets
// a gzipped twin.
// `node build.mjs --watch` rebuilds on change (no hashing).
import { build, context } from "esbuild";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");
const watch = process.argv.includes("--watch");

const options = {
  entryPoints: [join(root, "src/main.jsx")],
  bundle: true,
  format: "esm",
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

function page(js, cssFile) {
  const html = readFileSync(join(root, "index.html"), "utf8")
    .replace("%JS%", `/assets/${js}`)
    .replace("%CSS%", `/assets/${cssFile}`);
  writeFileSync(join(dist, "index.html"), html);
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });
const started = Date.now();
if (watch) {
  css();
  page("app.js", "app.css");
  const ctx = await context({ ...options, outfile: join(dist, "assets/app.js") });
  await ctx.watch();
  console.log("watching src/ (restart to rebuild the stylesheet)");
} else {
  await build({ ...options, outfile: join(dist, "assets/app.js") });
  css();
  const [js, cssFile] = [hashed("app", "js"), hashed("app", "css")];
  gzip(js);
  gzip(cssFile);
  page(js, cssFile);
  console.log(`built web/dist in ${Date.now() - started} ms`);
}
