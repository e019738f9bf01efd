import { describe, expect, it } from "vitest";
import { ApiError } from "../src/lib/api.ts";
import {
  callbackParams,
  callbackUri,
  exchangeBody,
  oauthErrorWords,
  oauthOverrideInput,
  oauthTag,
  paramsText,
  parseParams,
  parseHeaders,
  headersText,
  parseScopes,
  untilWords,
  wasConnected,
} from "../src/lib/oauth.ts";

const form = (values) => ({ get: (name) => (name in values ? values[name] : null) });
const NOW = Date.parse("2026-11-26T12:00:00Z");
const at = (ms) => new Date(NOW + ms).toISOString();

describe("exchangeBody", () => {
  it("sends a pasted callback URL whole", () => {
    const url = "http://127.0.0.1:9090/oauth/callback?code=abc&state=st1";
    expect(exchangeBody(`  ${url} `, "st0")).toEqual({ callback_url: url });
  });

  it("sends a callback URL that carries an error, for the gateway to judge", () => {
    const url = "https://console.example/oauth/callback?error=access_denied&state=st1";
    expect(exchangeBody(url, "st1")).toEqual({ callback_url: url });
  });

  it("refuses a URL without a code or an error", () => {
    expect(() => exchangeBody("https://claude.ai/oauth/authorize?client_id=x", "s")).toThrow("That URL has no code");
  });

  it("pairs a bare code with the session's state", () => {
    expect(exchangeBody("abc123", "st1")).toEqual({ code: "abc123", state: "st1" });
  });

  it("splits code#state, the form CLI-style sign-in pages show", () => {
    expect(exchangeBody("abc123#st9", "st1")).toEqual({ code: "abc123", state: "st9" });
    expect(exchangeBody("abc123#", "st1")).toEqual({ code: "abc123", state: "st1" });
  });

  it("reads a query string pasted without the address", () => {
    expect(exchangeBody("?code=abc&state=st2", "st1")).toEqual({ code: "abc", state: "st2" });
    expect(exchangeBody("code=abc", "st1")).toEqual({ code: "abc", state: "st1" });
    expect(() => exchangeBody("error=access_denied&error_description=User%20said%20no", "st1")).toThrow("sign-in failed: User said no.");
  });

  it("refuses empty input, inner spaces and a missing session in words", () => {
    expect(() => exchangeBody("   ", "s")).toThrow("Paste the callback URL or the code");
    expect(() => exchangeBody("abc def", "s")).toThrow("A code has no spaces");
    expect(() => exchangeBody("#st", "s")).toThrow("The code is empty.");
    expect(() => exchangeBody("abc", null)).toThrow("start again with Connect");
  });
});

describe("callbackParams and callbackUri", () => {
  it("reads code, state and error from the callback's query", () => {
    expect(callbackParams("?code=c1&state=s1")).toEqual({ code: "c1", state: "s1", error: null, errorDescription: null });
    expect(callbackParams("?error=access_denied&error_description=no&state=s1")).toMatchObject({ error: "access_denied", errorDescription: "no", code: null });
    expect(callbackParams("")).toEqual({ code: null, state: null, error: null, errorDescription: null });
  });
  it("asks for this origin's callback page", () => {
    expect(callbackUri("http://127.0.0.1:9090")).toBe("http://127.0.0.1:9090/oauth/callback");
  });
});

describe("oauthTag", () => {
  it("is null for an API key", () => {
    expect(oauthTag(null, NOW)).toBeNull();
  });
  it("says how long a connected key's token lasts", () => {
    expect(oauthTag({ state: "connected", expires_at: at(3 * 3600e3 + 5 * 60e3) }, NOW)).toEqual({
      label: "connected",
      tone: "success",
      detail: "token expires in 3 h 5 min",
    });
    expect(oauthTag({ state: "connected", expires_at: null }, NOW).detail).toBeNull();
    expect(oauthTag({ state: "connected", expires_at: at(-1000) }, NOW)).toMatchObject({ tone: "warning", detail: "token expired; refreshed on the next request" });
  });
  it("shows a failed key's last error", () => {
    expect(oauthTag({ state: "failed", last_error: "invalid_grant" }, NOW)).toEqual({ label: "failed", tone: "danger", detail: "invalid_grant" });
    expect(oauthTag({ state: "failed", last_error: null }, NOW).detail).toBe("The last refresh failed.");
  });
  it("names revoked and never connected keys", () => {
    expect(oauthTag({ state: "revoked" }, NOW).label).toBe("revoked");
    expect(oauthTag({ state: "disconnected" }, NOW).label).toBe("not connected");
    expect(wasConnected({ state: "disconnected" })).toBe(false);
    expect(wasConnected({ state: "revoked" })).toBe(true);
    expect(wasConnected(null)).toBe(false);
  });
});

describe("untilWords", () => {
  it("rounds to the largest useful units and is empty for the past", () => {
    expect(untilWords(at(40e3), NOW)).toBe("in 40 s");
    expect(untilWords(at(59 * 60e3), NOW)).toBe("in 59 min");
    expect(untilWords(at(2 * 3600e3), NOW)).toBe("in 2 h");
    expect(untilWords(at(26 * 3600e3), NOW)).toBe("in 1 d 2 h");
    expect(untilWords(at(0), NOW)).toBe("");
    expect(untilWords("not a date", NOW)).toBe("");
  });
});

describe("oauthErrorWords", () => {
  it("explains each exchange error code and keeps the gateway's detail", () => {
    expect(oauthErrorWords(new ApiError(400, "Unknown or already used state.", "invalid_state"))).toBe(
      "This sign-in does not match a session of the gateway (unknown, already used, or for another key). Start again with Connect.",
    );
    expect(oauthErrorWords(new ApiError(400, "The provider did not authorize: access_denied.", "access_denied"))).toBe(
      "The provider reports that the sign-in was declined or cancelled. The provider did not authorize: access_denied.",
    );
    expect(oauthErrorWords(new ApiError(400, "Token endpoint answered 400: invalid_grant.", "exchange_failed"))).toBe(
      "The provider refused to trade the code for tokens. Token endpoint answered 400: invalid_grant.",
    );
    expect(oauthErrorWords(new ApiError(400, "The authorization took too long: start it again.", "session_expired"))).toBe(
      "The sign-in session expired before the code came back. Start again with Connect.",
    );
  });
  it("falls back to the general words", () => {
    expect(oauthErrorWords(new ApiError(404, "Upstream key not found.", "not_found"))).toBe("Upstream key not found.");
  });
});

describe("the OAuth override form", () => {
  const valid = {
    authorize_url: "http://127.0.0.1:4000/authorize",
    token_url: "http://127.0.0.1:4000/token",
    client_id: "console",
    scopes: "openid, profile\nuser:inference",
    extra_params: "code=true\n\naudience = api",
    redirect_uri: "",
    client_secret: "",
    request_headers: "anthropic-beta: oauth-2025-04-20\n",
  };
  it("builds the override, null redirect URI and no secret when empty", () => {
    expect(oauthOverrideInput(form(valid))).toEqual({
      authorize_url: valid.authorize_url,
      token_url: valid.token_url,
      client_id: "console",
      scopes: ["openid", "profile", "user:inference"],
      extra_params: { code: "true", audience: "api" },
      redirect_uri: null,
      request_headers: { "anthropic-beta": "oauth-2025-04-20" },
    });
    expect(oauthOverrideInput(form({ ...valid, client_secret: " s3cret " })).client_secret).toBe("s3cret");
  });
  it("refuses a relative URL, a missing client id and a bad parameter line", () => {
    expect(() => oauthOverrideInput(form({ ...valid, token_url: "/token" }))).toThrow("Token URL must be a full URL");
    expect(() => oauthOverrideInput(form({ ...valid, authorize_url: "ftp://x/a" }))).toThrow("Authorize URL must start with https://");
    expect(() => oauthOverrideInput(form({ ...valid, client_id: " " }))).toThrow("client ID");
    expect(() => oauthOverrideInput(form({ ...valid, extra_params: "novalue" }))).toThrow('"novalue" is not');
  });
  it("round-trips parameters and splits scopes", () => {
    expect(parseParams(paramsText({ a: "1", b: "x=y" }))).toEqual({ a: "1", b: "x=y" });
    expect(parseScopes("  a  b,c ")).toEqual(["a", "b", "c"]);
  });
  it("reads request headers and refuses the gateway's own", () => {
    expect(parseHeaders("x-a: 1\n\n X-B:two words ")).toEqual({ "x-a": "1", "X-B": "two words" });
    expect(parseHeaders(headersText({ "x-a": "1:2" }))).toEqual({ "x-a": "1:2" });
    expect(() => parseHeaders("Authorization: Bearer x")).toThrow("The gateway sets Authorization itself");
    expect(() => parseHeaders("no colon")).toThrow('"no colon" is not');
    expect(() => parseHeaders("bad name: x")).toThrow("is not");
  });
});
