import { describe, expect, it } from "vitest";
import {
  DEFAULT_PAGE_SIZE,
  EMPTY_FILTERS,
  filterProblem,
  filtersToSearch,
  localToIso,
  pageCount,
  parseList,
  searchToFilters,
  traceQuery,
} from "../src/lib/query.ts";

describe("traceQuery", () => {
  it("sends only the page for empty filters", () => {
    expect(traceQuery(EMPTY_FILTERS)).toBe(`page=1&page_size=${DEFAULT_PAGE_SIZE}`);
  });

  it("names every set filter with the API's parameter names", () => {
    const q = new URLSearchParams(
      traceQuery(
        { ...EMPTY_FILTERS, q: " hello ", model: "gpt-4o", status_code: "429", provider: "openai", upstream_key: "team-a", client_key_id: "7" },
        3,
        100,
      ),
    );
    expect(Object.fromEntries(q)).toEqual({
      page: "3",
      page_size: "100",
      q: "hello",
      model: "gpt-4o",
      status_code: "429",
      provider: "openai",
      upstream_key: "team-a",
      client_key_id: "7",
    });
  });

  it("turns local times into ISO instants", () => {
    const q = new URLSearchParams(traceQuery({ ...EMPTY_FILTERS, from: "2026-01-02T03:04", to: "" }));
    expect(q.get("from")).toBe(new Date("2026-01-02T03:04").toISOString());
    expect(q.has("to")).toBe(false);
  });

  it("never asks for page zero", () => {
    expect(new URLSearchParams(traceQuery(EMPTY_FILTERS, 0)).get("page")).toBe("1");
  });
});

describe("filterProblem", () => {
  it("accepts empty and valid filters", () => {
    expect(filterProblem(EMPTY_FILTERS)).toBeNull();
    expect(filterProblem({ ...EMPTY_FILTERS, status_code: "200", from: "2026-01-01T00:00", to: "2026-01-02T00:00" })).toBeNull();
  });
  it("names a bad status, a bad time and a reversed range", () => {
    expect(filterProblem({ ...EMPTY_FILTERS, status_code: "abc" })).toMatch(/HTTP code/);
    expect(filterProblem({ ...EMPTY_FILTERS, status_code: "99" })).toMatch(/HTTP code/);
    expect(filterProblem({ ...EMPTY_FILTERS, from: "not a time" })).toMatch(/start time/);
    expect(filterProblem({ ...EMPTY_FILTERS, from: "2026-01-02T00:00", to: "2026-01-01T00:00" })).toMatch(/before/);
  });
});

describe("console URL", () => {
  it("round-trips filters, page and page size", () => {
    const filters = { ...EMPTY_FILTERS, model: "gpt-4o", status_code: "500" };
    const search = filtersToSearch(filters, 4, 100);
    expect(search).toBe("?model=gpt-4o&status_code=500&page=4&page_size=100");
    expect(searchToFilters(search)).toEqual({ filters, page: 4, pageSize: 100 });
  });
  it("names the upstream key filter upstream_key, and still reads the earlier provider_key", () => {
    const filters = { ...EMPTY_FILTERS, upstream_key: "team-a" };
    expect(filtersToSearch(filters, 1, DEFAULT_PAGE_SIZE)).toBe("?upstream_key=team-a");
    expect(searchToFilters("?provider_key=team-a").filters).toEqual(filters);
    expect(searchToFilters("?upstream_key=team-b&provider_key=team-a").filters.upstream_key).toBe("team-b");
  });
  it("leaves defaults out and repairs bad values", () => {
    expect(filtersToSearch(EMPTY_FILTERS, 1, DEFAULT_PAGE_SIZE)).toBe("");
    expect(searchToFilters("?page=-3&page_size=7")).toEqual({ filters: { ...EMPTY_FILTERS }, page: 1, pageSize: DEFAULT_PAGE_SIZE });
  });
});

describe("helpers", () => {
  it("parses model lists", () => {
    expect(parseList("gpt-4o, claude-*\n gemini\n\ngpt-4o")).toEqual(["gpt-4o", "claude-*", "gemini"]);
    expect(parseList("")).toEqual([]);
  });
  it("counts pages", () => {
    expect(pageCount(0, 50)).toBe(1);
    expect(pageCount(50, 50)).toBe(1);
    expect(pageCount(51, 50)).toBe(2);
  });
  it("rejects invalid local times", () => {
    expect(localToIso("")).toBe("");
    expect(localToIso("nope")).toBe("");
  });
});
