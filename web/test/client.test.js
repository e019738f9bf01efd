import { afterEach, describe, expect, it, vi } from "vitest";
import { call, read, urlOf } from "../src/lib/client.ts";
import { ROUTES } from "../src/lib/api-routes.ts";
import { LOGIN_PATH } from "../src/lib/api.ts";

const json = (status, body) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

afterEach(() => vi.unstubAllGlobals());

describe("the typed client", () => {
  it("sends an operation to its path with its method and JSON body", async () => {
    const fetch = vi.fn(async () => json(200, { id: 3 }));
    vi.stubGlobal("fetch", fetch);
    await expect(call("providers_update", { path: { id: 3 }, body: { enabled: false } })).resolves.toEqual({ id: 3 });
    const [path, init] = fetch.mock.calls[0];
    expect(path).toBe("/api/providers/3");
    expect(init.method).toBe("PUT");
    expect(init.body).toBe('{"enabled":false}');
    expect(init.credentials).toBe("same-origin");
  });

  it("fills every path parameter, escaped", () => {
    expect(urlOf("teams_remove_member", { path: { id: 2, user_id: 7 } })).toBe("/api/teams/2/members/7");
    expect(urlOf("users_get_grants", { path: { id: "a/b" } })).toBe("/api/users/a%2Fb/grants");
  });

  it("refuses a path parameter left out rather than calling a wrong URL", () => {
    expect(() => urlOf("providers_get_one", {})).toThrow(/\{id\}/);
  });

  it("leaves empty query values out and keeps the order given", () => {
    const r = read("audit_list", { query: { page: 2, page_size: 50, resource: "", actor: undefined } });
    expect(r.key).toBe("/api/audit?page=2&page_size=50");
    expect(read("stats_overview", { query: { days: 7 } }).key).toBe("/api/stats/overview?days=7");
    expect(read("providers_list").key).toBe("/api/providers");
  });

  it("a read is sent only when loaded, as a GET with the given signal", async () => {
    const fetch = vi.fn(async () => json(200, []));
    vi.stubGlobal("fetch", fetch);
    const r = read("providers_list");
    expect(fetch).not.toHaveBeenCalled();
    const controller = new AbortController();
    await expect(r.load(controller.signal)).resolves.toEqual([]);
    expect(fetch.mock.calls[0][1]).toMatchObject({ method: "GET", signal: controller.signal });
  });

  it("knows every operation the console calls, from the generated routes", () => {
    expect(ROUTES.auth_login).toEqual({ method: "POST", path: LOGIN_PATH });
    expect(ROUTES.plugins_upload.method).toBe("POST");
  });
});
