// Accessibility checks for the browser tests: axe-core (from npm, loaded
// into the page from node_modules, no network) over the whole document,
// failing on every serious or critical violation, and a listing of them
// that names the rule, the element and the fix axe suggests.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");

/** The impacts that fail a page. */
export const FAILING_IMPACTS = ["serious", "critical"];

/** Runs axe on `page`; resolves to the serious and critical violations. */
export async function axeViolations(page) {
  const loaded = await page.evaluate(() => typeof window.axe !== "undefined");
  if (!loaded) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    // Tests run without animations' end states: no transitions to wait for.
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")}: ${n.failureSummary?.split("\n").slice(0, 2).join(" ")}`),
    }));
  });
  return violations.filter((v) => FAILING_IMPACTS.includes(v.impact));
}

/** A violation list as lines for a failure message. */
export function describeViolations(where, violations) {
  return violations.map((v) => `${where}: ${v.impact} ${v.id} (${v.help})\n        ${v.nodes.join("\n        ")}`).join("\n");
}
