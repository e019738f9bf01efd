import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("../src", import.meta.url));

/** The files that may spell an API path: the transport and the generated client. */
const CLIENT = new Set(["lib/api.ts", "lib/api-routes.ts", "lib/api-schema.d.ts"]);

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe("API paths", () => {
  it("are spelled only by the typed client, never as a literal in a page", () => {
    const literal = /["'`]\/api\//;
    const offenders = files(src)
      .map((f) => relative(src, f))
      .filter((f) => !CLIENT.has(f) && literal.test(readFileSync(join(src, f), "utf8")));
    expect(offenders).toEqual([]);
  });

  it("the pages call the typed client, not the untyped transport", () => {
    const offenders = files(join(src, "pages"))
      .filter((f) => /\bapi\(|from "\.\.\/lib\/api\.js"|use-api\.js/.test(readFileSync(f, "utf8")))
      .map((f) => relative(src, f));
    expect(offenders).toEqual([]);
  });
});
