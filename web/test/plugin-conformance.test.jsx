import { describe, expect, it } from "vitest";
import { conformanceSummary } from "../src/pages/plugin-conformance.tsx";

const result = (over) => ({ checked: true, passed: true, forced: false, forced_by: null, cases: 13, failed: [], ...over });

describe("conformanceSummary", () => {
  it("says nothing until the result is loaded", () => {
    expect(conformanceSummary(null)).toBeNull();
  });

  it("names a pass with its vector count", () => {
    expect(conformanceSummary(result({ cases: 1 }))).toMatchObject({ label: "conformance passed · 1 vector", tone: "success" });
    expect(conformanceSummary(result({})).label).toBe("conformance passed · 13 vectors");
  });

  it("tells a forced failure from one that does not serve", () => {
    const failed = [{ name: "message (JSON)", differences: ["usage.cached_input_tokens: expected 8000, got 0"] }];
    const forced = conformanceSummary(result({ passed: false, forced: true, forced_by: "admin", failed }));
    expect(forced).toMatchObject({ label: "conformance failed · forced", tone: "warning" });
    expect(forced.title).toBe("1 of 13 vectors failed; admin let it serve anyway.");
    const blocked = conformanceSummary(result({ passed: false, failed }));
    expect(blocked).toMatchObject({ label: "conformance failed · not serving", tone: "danger" });
  });

  it("marks versions never checked", () => {
    expect(conformanceSummary(result({ checked: false, passed: false })).label).toBe("not checked");
  });
});
