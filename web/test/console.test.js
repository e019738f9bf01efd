import { describe, expect, it } from "vitest";
import { relativeTime, timeZoneLabel } from "../src/lib/format.ts";
import { EMPTY_FILTERS, MAX_MODEL_PREFIXES, filterProblem, traceQuery } from "../src/lib/query.ts";
import { DEFAULT_RANGE, limitUsage, storeRange, storedRange, summarize, totals } from "../src/lib/series.ts";
import { dialectOf, proxyRoot, snippetModel, snippets, testPath } from "../src/lib/snippets.ts";

const day = (date, requests, extra = {}) => ({ date, requests, errors: 0, server_errors: 0, tokens: 0, cost_usd: 0, latency_ms: 0, ...extra });

describe("log filters of the bad day", () => {
  const query = (f) => Object.fromEntries(new URLSearchParams(traceQuery({ ...EMPTY_FILTERS, ...f })));

  it("sends a status class as status_class and a code as status_code", () => {
    expect(query({ status_code: "5XX" })).toMatchObject({ status_class: "5xx" });
    expect(query({ status_code: "5xx" }).status_code).toBeUndefined();
    expect(query({ status_code: "429" })).toMatchObject({ status_code: "429" });
  });

  it("sends models as comma-separated prefixes, the trace id and the error class", () => {
    expect(query({ model: "gpt-4  claude*,gemini", id: "1600", error_class: "server_error" })).toMatchObject({
      model: "gpt-4,claude*,gemini",
      id: "1600",
      error_class: "server_error",
    });
  });

  it("refuses what the API would refuse, in words", () => {
    expect(filterProblem({ ...EMPTY_FILTERS, status_code: "5xx" })).toBeNull();
    expect(filterProblem({ ...EMPTY_FILTERS, status_code: "6xx" })).toMatch(/4xx or 5xx/);
    expect(filterProblem({ ...EMPTY_FILTERS, id: "16a" })).toMatch(/Trace id/);
    const at = Array.from({ length: MAX_MODEL_PREFIXES }, (_, i) => `m${i}`).join(",");
    expect(filterProblem({ ...EMPTY_FILTERS, model: at })).toBeNull();
    expect(filterProblem({ ...EMPTY_FILTERS, model: `${at},one-more` })).toMatch(/at most 20/);
  });
});

describe("series", () => {
  const data = [day("2026-11-25", 0), day("2026-11-26", 3, { errors: 2, server_errors: 1, tokens: 300, cost_usd: 0.5, latency_ms: 100 }), day("2026-11-27", 1, { latency_ms: 500 })];

  it("totals agree with the series, latency weighted by requests", () => {
    expect(totals(data)).toMatchObject({ requests: 4, errors: 2, server_errors: 1, tokens: 300, latency_ms: 200 });
    expect(totals([]).latency_ms).toBeNull();
  });

  it("says the series in one sentence", () => {
    expect(summarize(data, 3)).toBe("Last 3 days: 4 requests, 2 errors (1 upstream or gateway), 300 tokens, $0.50, 200 ms mean latency; busiest Nov 26 with 3.");
    expect(summarize([day("2026-11-25", 0)], 1)).toBe("Last 1 day: no requests.");
  });

  it("shares one remembered range and ignores a forged one", () => {
    const store = new Map();
    const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
    expect(storedRange(storage)).toBe(DEFAULT_RANGE);
    storeRange(30, storage);
    expect(storedRange(storage)).toBe(30);
    storeRange(5, storage);
    expect(storedRange(storage)).toBe(30);
    store.set("ai-proxy-range", "100000");
    expect(storedRange(storage)).toBe(DEFAULT_RANGE);
  });

  it("measures today's use against the daily limits that are set", () => {
    const rows = limitUsage({ requests: 5, tokens: 2000, cost_usd: 3 }, { requests_per_day: 10, tokens_per_day: null, cost_per_day_usd: 2 });
    expect(rows.map((r) => [r.key, r.ratio, r.text])).toEqual([
      ["requests_per_day", 0.5, "5 of 10"],
      ["cost_per_day_usd", 1, "$3.00 of $2.00"],
    ]);
    expect(limitUsage({}, {})).toEqual([]);
  });
});

describe("key snippets", () => {
  const loc = { hostname: "gw.example.com" };

  it("build the proxy's base URL from the console's host and the proxy's port and scheme", () => {
    expect(proxyRoot({ proxy_port: 8080, proxy_tls: false }, loc)).toBe("http://gw.example.com:8080");
    expect(proxyRoot({ proxy_port: 8443, proxy_tls: true }, loc)).toBe("https://gw.example.com:8443");
    expect(proxyRoot({ proxy_port: 8080 }, { hostname: "::1" })).toBe("http://[::1]:8080");
    expect(proxyRoot(null, loc)).toBeNull();
  });

  it("point each SDK at the gateway with the key, and quote hostile text as Python strings", () => {
    const all = snippets({ root: "http://gw:8080", key: 'aip-x"\nimport os', allowedModels: ["gpt-4o*", "gpt-4o-mini"] });
    expect(all.map((s) => s.dialect)).toEqual(["openai", "anthropic", "gemini"]);
    expect(all[0].code).toContain('OpenAI(base_url="http://gw:8080/v1", api_key="aip-x\\"\\nimport os")');
    expect(all[0].code).toContain('model="gpt-4o-mini"');
    expect(all[1].code).toContain('anthropic.Anthropic(base_url="http://gw:8080"');
    expect(all[2].code).toContain('types.HttpOptions(base_url="http://gw:8080")');
    expect(all[0].code.split("\n").some((l) => l.startsWith("import os"))).toBe(false);
  });

  it("know the dialect and test path of a provider's plugin", () => {
    expect(dialectOf("anthropic")).toBe("anthropic");
    expect(dialectOf("gemini")).toBe("gemini");
    expect(dialectOf("azure-openai")).toBe("openai");
    expect(testPath("gemini")).toBe("/v1beta/models");
    expect(testPath("openai")).toBe("/v1/models");
    expect(snippetModel("anthropic", [])).toMatch(/^claude/);
  });
});

describe("times", () => {
  const now = Date.parse("2026-11-26T12:00:00Z");
  it("reads how long ago", () => {
    expect(relativeTime("2026-11-26T11:59:58Z", now)).toBe("just now");
    expect(relativeTime("2026-11-26T11:59:18Z", now)).toBe("42 s ago");
    expect(relativeTime("2026-11-26T11:55:00Z", now)).toBe("5 min ago");
    expect(relativeTime("2026-11-26T09:00:00Z", now)).toBe("3 h ago");
    expect(relativeTime("2026-11-25T12:00:00Z", now)).toBe("1 day ago");
    expect(relativeTime("nonsense", now)).toBe("—");
  });

  it("names the zone with its offset", () => {
    const utc = { getTimezoneOffset: () => 0 };
    const cet = { getTimezoneOffset: () => -60 };
    const nyc = { getTimezoneOffset: () => 300 };
    expect(timeZoneLabel(utc, "UTC")).toBe("UTC");
    expect(timeZoneLabel(cet, "Europe/Paris")).toBe("UTC+01:00 (Europe/Paris)");
    expect(timeZoneLabel(nyc, "America/New_York")).toBe("UTC-05:00 (America/New_York)");
  });
});
