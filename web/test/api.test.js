import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, SESSION_EXPIRED, api, describeError, errorFromResponse, onUnauthorized, sentence } from "../src/lib/api.ts";

const json = (status, body) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

afterEach(() => {
  vi.unstubAllGlobals();
  onUnauthorized(() => {});
});

describe("errorFromResponse", () => {
  it("uses the admin API's error message and code", async () => {
    const e = await errorFromResponse(json(400, { error: { message: "weight must be between 0 and 1000", code: "bad_request" } }));
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(400);
    expect(e.message).toBe("Weight must be between 0 and 1000.");
    expect(e.code).toBe("bad_request");
  });

  it("accepts the OpenAI-shaped type when there is no code", async () => {
    const e = await errorFromResponse(json(400, { error: { message: "bad plugin", type: "invalid_request_error" } }));
    expect(e.code).toBe("invalid_request_error");
  });

  it("falls back to words for the status when the body is not JSON", async () => {
    const e = await errorFromResponse(new Response("<html>bad gateway</html>", { status: 502 }));
    expect(e.message).toBe("The gateway could not be reached.");
  });

  it("falls back for an empty message and for unknown statuses", async () => {
    expect((await errorFromResponse(json(409, { error: { message: "  " } }))).message).toBe(
      "This conflicts with something that exists.",
    );
    expect((await errorFromResponse(new Response("", { status: 418 }))).message).toBe("The gateway answered 418.");
  });
});

describe("sentence", () => {
  it("capitalises and ends with one full stop", () => {
    expect(sentence("upstream key not found")).toBe("Upstream key not found.");
    expect(sentence("Done!")).toBe("Done!");
  });
});

describe("api", () => {
  it("sends JSON bodies as POST and parses the answer", async () => {
    const fetch = vi.fn(async () => json(200, { id: 3 }));
    vi.stubGlobal("fetch", fetch);
    await expect(api("/api/providers", { body: { name: "x" } })).resolves.toEqual({ id: 3 });
    const [path, init] = fetch.mock.calls[0];
    expect(path).toBe("/api/providers");
    expect(init.method).toBe("POST");
    expect(init.headers["content-type"]).toBe("application/json");
    expect(init.body).toBe('{"name":"x"}');
    expect(init.credentials).toBe("same-origin");
  });

  it("sends multipart forms without a JSON content type", async () => {
    const fetch = vi.fn(async () => json(200, {}));
    vi.stubGlobal("fetch", fetch);
    const form = new FormData();
    await api("/api/plugins", { form });
    const init = fetch.mock.calls[0][1];
    expect(init.body).toBe(form);
    expect(init.headers["content-type"]).toBeUndefined();
  });

  it("calls the unauthorized handler on 401 outside login", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => json(401, { error: { message: "authentication required" } })));
    const handler = vi.fn();
    onUnauthorized(handler);
    await expect(api("/api/users")).rejects.toMatchObject({ status: 401, message: SESSION_EXPIRED });
    expect(handler).toHaveBeenCalledOnce();
  });

  it("does not treat a failed login as an ended session", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => json(401, { error: { message: "authentication required" } })));
    const handler = vi.fn();
    onUnauthorized(handler);
    await expect(api("/api/auth/login", { body: {} })).rejects.toMatchObject({ status: 401 });
    expect(handler).not.toHaveBeenCalled();
  });

  it("resolves to null for an empty answer", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("", { status: 200 })));
    await expect(api("/api/x")).resolves.toBeNull();
  });
});

describe("describeError", () => {
  it("names network failures in words", () => {
    expect(describeError(new TypeError("Failed to fetch"))).toMatch(/Cannot reach the gateway/);
    expect(describeError(new ApiError(403, "Not allowed."))).toBe("Not allowed.");
    expect(describeError(null)).toBe("Something went wrong.");
  });
});
