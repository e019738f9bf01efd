import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { ErrorNote, Empty } from "../src/components/ui/states.tsx";
import { Pagination } from "../src/components/ui/pagination.tsx";
import { isFlat } from "../src/components/charts.tsx";
import { RankList } from "../src/components/rank-list.tsx";
import { changedFields } from "../src/pages/audit.tsx";
import { Td } from "../src/components/ui/table.tsx";
import { ChunkBoundary } from "../src/components/lazy.tsx";

describe("ErrorNote", () => {
  it("renders nothing without an error and an alert with one", () => {
    expect(renderToStaticMarkup(<ErrorNote error={null} />)).toBe("");
    const html = renderToStaticMarkup(<ErrorNote error="Upstream key not found." onRetry={() => {}} />);
    expect(html).toContain('role="alert"');
    expect(html).toContain("Upstream key not found.");
    expect(html).toContain("Retry");
  });
});

describe("Pagination", () => {
  it("summarises the range and disables the ends", () => {
    const html = renderToStaticMarkup(<Pagination page={1} pageSize={50} total={120} onPage={() => {}} />);
    expect(html).toContain("1–50 of 120");
    expect(html).toContain("Page 1 of 3");
    expect(html).toMatch(/aria-label="Previous page" disabled=""/);
    expect(html).not.toMatch(/aria-label="Next page" disabled=""/);
  });
  it("says more than when the server stopped counting, and keeps next open", () => {
    const html = renderToStaticMarkup(<Pagination page={200} pageSize={50} total={10_000} totalIsLowerBound onPage={() => {}} />);
    expect(html).toContain("9,951–10,000 of more than 10,000");
    expect(html).toContain("Page 200 of more than 200");
    expect(html).not.toMatch(/aria-label="Next page" disabled=""/);
    const exact = renderToStaticMarkup(<Pagination page={200} pageSize={50} total={10_000} onPage={() => {}} />);
    expect(exact).toContain("of 10,000");
    expect(exact).toMatch(/aria-label="Next page" disabled=""/);
  });
  it("shows an empty range as zero", () => {
    expect(renderToStaticMarkup(<Pagination page={1} pageSize={50} total={0} onPage={() => {}} />)).toContain("0–0 of 0");
  });
});

describe("RankList", () => {
  it("scales bars to the largest entry and formats figures", () => {
    const html = renderToStaticMarkup(
      <RankList
        items={[
          { name: "gpt-4o", requests: 10, tokens: 12_345, cost_usd: 0.5 },
          { name: "claude", requests: 5, tokens: 10, cost_usd: 0 },
        ]}
      />,
    );
    expect(html).toContain("width:100%");
    expect(html).toContain("width:50%");
    expect(html).toContain("12.3K tok");
    expect(html).toContain("$0.50");
  });
  it("says so when empty", () => {
    expect(renderToStaticMarkup(<RankList items={[]} empty="Nothing here." />)).toContain("Nothing here.");
    expect(renderToStaticMarkup(<Empty title="No keys" />)).toContain("No keys");
  });
});

describe("changedFields", () => {
  it("lists fields that differ, ignoring updated_at", () => {
    expect(changedFields({ a: 1, b: [1], updated_at: 1 }, { a: 1, b: [2], c: true, updated_at: 2 })).toEqual(["b", "c"]);
    expect(changedFields(null, { a: 1 })).toEqual(["a"]);
  });
});

describe("isFlat", () => {
  it("is true only when no day has the measure", () => {
    expect(isFlat([], "requests")).toBe(true);
    expect(isFlat(null, "requests")).toBe(true);
    expect(isFlat([{ requests: 0 }, { requests: 0 }], "requests")).toBe(true);
    expect(isFlat([{ requests: 0 }, { requests: 2 }], "requests")).toBe(false);
  });
});

describe("Td", () => {
  const cell = (el) => renderToStaticMarkup(<table><tbody><tr>{el}</tr></tbody></table>);
  it("labels a cell for the phone layout and wraps its value", () => {
    const html = cell(<Td label="Provider">openai</Td>);
    expect(html).toContain('data-label="Provider"');
    expect(html).toContain('<div class="cell-value">openai</div>');
  });
  it("marks the primary cell, the actions and cells a phone leaves out", () => {
    expect(cell(<Td primary>n</Td>)).toContain("cell-primary");
    expect(cell(<Td actions>a</Td>)).toMatch(/cell-actions[^"]*sticky/);
    expect(cell(<Td label="SHA-256" phone={false}>x</Td>)).toContain("cell-phone-hidden");
    expect(cell(<Td>plain</Td>)).not.toContain("data-label");
  });
});

describe("ChunkBoundary", () => {
  it("shows its children until a chunk fails, and clears the failure when the page changes", () => {
    expect(renderToStaticMarkup(<ChunkBoundary resetKey="/a">page</ChunkBoundary>)).toBe("page");
    expect(ChunkBoundary.getDerivedStateFromError(new Error("chunk"))).toEqual({ failed: true });
    expect(ChunkBoundary.getDerivedStateFromProps({ resetKey: "/b" }, { failed: true, resetKey: "/a" })).toEqual({ failed: false, resetKey: "/b" });
    expect(ChunkBoundary.getDerivedStateFromProps({ resetKey: "/a" }, { failed: true, resetKey: "/a" })).toBeNull();
  });
});

describe("audit words", () => {
  it("lists the fields a creation set and names resources by name", async () => {
    const { changedFields, resourceLabel } = await import("../src/pages/audit.tsx");
    expect(changedFields(null, { id: 4, name: "app", enabled: true, expires_at: null, created_at: "x" })).toEqual(["name", "enabled"]);
    expect(resourceLabel({ resource: "client_key", resource_id: "4", action: "create", after: { name: "e2e-app" } })).toBe("client key e2e-app");
    expect(resourceLabel({ resource: "upstream_key", resource_id: "9", action: "delete", before: null, after: null })).toBe("upstream key 9");
    expect(resourceLabel({ resource: "user", resource_id: "1", action: "sign_in", actor_name: "admin", after: { via: "login" } })).toBe("user admin");
    expect(resourceLabel({ resource: "user", resource_id: "4", action: "change_password", actor_id: 4, actor_name: "bob" })).toBe("user bob");
    expect(resourceLabel({ resource: "user", resource_id: "5", action: "update", actor_id: 1, actor_name: "admin" })).toBe("user 5");
  });
});
