import { describe, expect, it } from "vitest";
import { CLIENT_LIMITS, KEY_LIMITS, describeLimits, fieldName, hasLimits, limitFieldValue, limitsFromForm, strategyLabel } from "../src/lib/limits.ts";

const form = (values) => ({ get: (name) => values[name] ?? null });

describe("limitsFromForm", () => {
  it("sends every limit, empty fields as null (unlimited)", () => {
    expect(limitsFromForm(form({ [fieldName("requests_per_minute")]: " 1 " }), CLIENT_LIMITS)).toEqual({
      requests_per_second: null,
      requests_per_minute: 1,
      requests_per_day: null,
      tokens_per_day: null,
      cost_per_day_usd: null,
    });
  });

  it("reads a cost with cents and zero as a real limit", () => {
    const l = limitsFromForm(form({ limit_cost_per_day_usd: "2.50", limit_requests_per_day: "0" }), CLIENT_LIMITS);
    expect(l.cost_per_day_usd).toBe(2.5);
    expect(l.requests_per_day).toBe(0);
  });

  it("refuses fractions, negatives and words in counted limits", () => {
    expect(() => limitsFromForm(form({ limit_requests_per_second: "1.5" }), KEY_LIMITS)).toThrow("Requests / second must be a whole number");
    expect(() => limitsFromForm(form({ limit_tokens_per_day: "-1" }), KEY_LIMITS)).toThrow("whole number");
    expect(() => limitsFromForm(form({ limit_tokens_per_day: "lots" }), KEY_LIMITS)).toThrow("whole number");
  });

  it("takes the API's ceilings exactly and refuses one past them", () => {
    expect(limitsFromForm(form({ limit_tokens_per_day: "1000000000000000" }), KEY_LIMITS).tokens_per_day).toBe(1e15);
    expect(() => limitsFromForm(form({ limit_tokens_per_day: "1000000000000001" }), KEY_LIMITS)).toThrow();
    expect(limitsFromForm(form({ limit_cost_per_day_usd: "1000000000" }), CLIENT_LIMITS).cost_per_day_usd).toBe(1e9);
    expect(() => limitsFromForm(form({ limit_cost_per_day_usd: "1000000000.01" }), CLIENT_LIMITS)).toThrow("Cost / day");
  });
});

describe("limits in the table and the form", () => {
  it("round-trips through the form fields", () => {
    const limits = { requests_per_second: null, requests_per_minute: 60, requests_per_day: null, tokens_per_day: 5000, cost_per_day_usd: 1.25 };
    const values = Object.fromEntries(CLIENT_LIMITS.map(({ key }) => [fieldName(key), limitFieldValue(limits, key)]));
    expect(limitsFromForm(form(values), CLIENT_LIMITS)).toEqual(limits);
  });

  it("describes only the set limits, compactly", () => {
    expect(describeLimits({ requests_per_minute: 1, tokens_per_day: 250_000, cost_per_day_usd: 5 })).toEqual(["1/min", "250K tokens/day", "$5/day"]);
    expect(describeLimits({ cost_per_day_usd: 1.5 })).toEqual(["$1.50/day"]);
    expect(describeLimits({ requests_per_second: 10, tokens_per_day: null }, KEY_LIMITS)).toEqual(["10/s"]);
    expect(describeLimits(null)).toEqual([]);
  });

  it("knows when nothing is limited", () => {
    expect(hasLimits({ requests_per_day: null })).toBe(false);
    expect(hasLimits(undefined)).toBe(false);
    expect(hasLimits({ requests_per_day: 0 })).toBe(true);
  });

  it("names the strategies", () => {
    expect(strategyLabel("best_health")).toBe("Best health");
    expect(strategyLabel(undefined)).toBe("Round robin");
  });
});
