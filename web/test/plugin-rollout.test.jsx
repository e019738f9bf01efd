import { describe, expect, it } from "vitest";
import { canaryPercent, shadowSample, verdictLine } from "../src/pages/plugin-rollout.tsx";

describe("canaryPercent", () => {
  it("takes whole percentages from 1 to 100 exactly", () => {
    expect(canaryPercent("1")).toBe(1);
    expect(canaryPercent(" 100 ")).toBe(100);
    for (const bad of ["0", "101", "2.5", "", "ten"]) expect(() => canaryPercent(bad)).toThrow(/1 to 100/);
  });
});

describe("shadowSample", () => {
  it("reads percent as a share above 0 and at most 1", () => {
    expect(shadowSample("100")).toBe(1);
    expect(shadowSample("2.5")).toBeCloseTo(0.025);
    for (const bad of ["0", "-1", "100.1", "x"]) expect(() => shadowSample(bad)).toThrow(/above 0/);
  });
});

describe("verdictLine", () => {
  it("shows tokens with cached and reasoning, the cost and the error class", () => {
    const line = verdictLine({
      model: "gpt-4o-mini",
      usage: { input_tokens: 37, output_tokens: 29, cached_input_tokens: 13, cache_write_tokens: 0, reasoning_tokens: 7 },
      cost_nanos: 25_000,
      error_class: null,
    });
    expect(line).toContain("gpt-4o-mini");
    expect(line).toContain("cached 13");
    expect(line).toContain("reasoning 7");
    expect(line).toContain("$0.000025");
  });
  it("says a failure or a missing usage in words", () => {
    expect(verdictLine({ failure: "plugin trapped" })).toBe("failed: plugin trapped");
    expect(verdictLine({ model: null, usage: null, cost_nanos: null, error_class: "bad_request" })).toMatch(/no model · no usage · .* · bad_request/);
  });
});
