// Upstream OAuth accounts without React: what the operator pasted, the
// state tag of a key, error words for the exchange, and the provider's
// endpoint override form. The API: POST /api/oauth/authorize and
// /api/oauth/exchange; a key's `oauth` is null for API keys, else
// {state, expires_at, last_refresh_at, last_error}.
import { ApiError, describeError } from "./api.ts";
import type { Tone } from "../components/ui/badge.tsx";
import type { Schema } from "./client.ts";

type ExchangeInput = Schema<"ExchangeInput">;

/** The `oauth` override of PUT /api/providers/{id}, its write-only `client_secret` included. */
export type OverrideInput = Schema<"OAuthOverride">;

/** An OAuth key's tag: words, colour and the line under it. */
export interface OAuthTag {
  label: string;
  tone: Tone;
  detail: string | null;
}

/** The console's page that finishes a sign-in the provider redirected back to. */
export const CALLBACK_PATH = "/oauth/callback";

/** The redirect URI the console asks for: this origin's callback page. */
export function callbackUri(origin: string): string {
  return `${origin}${CALLBACK_PATH}`;
}

/**
 * The exchange body for what the operator pasted: a callback URL (or just
 * its query) is sent whole as `callback_url`; a bare code as `{code, state}`
 * with the session's state, or with the state after a `#` (`code#state`,
 * what CLI-style sign-in pages show). Throws words when nothing usable.
 */
export function exchangeBody(pasted: string | null | undefined, sessionState: string | null | undefined): ExchangeInput {
  const text = String(pasted ?? "").trim();
  if (!text) throw new Error("Paste the callback URL or the code the provider showed.");
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new Error("That is not a valid URL.");
    }
    const q = url.searchParams;
    if (!q.get("code") && !q.get("error")) throw new Error("That URL has no code: paste the address the provider sent you to after signing in.");
    return { callback_url: url.href };
  }
  if (/(^|[?&])(code|error)=/.test(text) && !/\s/.test(text)) {
    // A query string without the address before it.
    const q = new URLSearchParams(text.slice(text.indexOf("?") + 1));
    const error = q.get("error");
    if (error) throw new Error(`The provider reports that the sign-in failed: ${q.get("error_description") || error}.`);
    return withState(q.get("code"), q.get("state") || sessionState);
  }
  const hash = text.indexOf("#");
  if (hash >= 0) return withState(text.slice(0, hash), text.slice(hash + 1) || sessionState);
  return withState(text, sessionState);
}

function withState(code: string | null, state: string | null | undefined): ExchangeInput {
  if (!code) throw new Error("The code is empty.");
  if (/\s/.test(code)) throw new Error("A code has no spaces: paste it exactly as shown.");
  if (!state) throw new Error("The sign-in session is missing: start again with Connect.");
  return { code, state };
}

/** `code`, `state`, `error` and its description from the callback page's query. */
export function callbackParams(search: string | null | undefined) {
  const q = new URLSearchParams(search ?? "");
  const value = (k: string) => q.get(k) || null;
  return { code: value("code"), state: value("state"), error: value("error"), errorDescription: value("error_description") };
}

/** "in 3 h 5 min", "in 40 s", "in 2 d 4 h"; "" for the past. */
export function untilWords(iso: string | null | undefined, now = Date.now()): string {
  const ms = new Date(iso ?? "").getTime() - now;
  if (!Number.isFinite(ms) || ms <= 0) return "";
  const s = Math.round(ms / 1000);
  if (s < 60) return `in ${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `in ${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `in ${h} h${m % 60 ? ` ${m % 60} min` : ""}`;
  const d = Math.floor(h / 24);
  return `in ${d} d${h % 24 ? ` ${h % 24} h` : ""}`;
}

/**
 * The tag of an OAuth key: `{label, tone, detail}`, or null for an API key.
 * Only a connected key takes traffic.
 */
export function oauthTag(oauth: Schema<"OAuthKeyView"> | null | undefined, now = Date.now()): OAuthTag | null {
  if (!oauth) return null;
  switch (oauth.state) {
    case "connected": {
      if (!oauth.expires_at) return { label: "connected", tone: "success", detail: null };
      const until = untilWords(oauth.expires_at, now);
      return until
        ? { label: "connected", tone: "success", detail: `token expires ${until}` }
        : { label: "connected", tone: "warning", detail: "token expired; refreshed on the next request" };
    }
    case "failed":
      return { label: "failed", tone: "danger", detail: oauth.last_error || "The last refresh failed." };
    case "revoked":
      return { label: "revoked", tone: "warning", detail: "Tokens erased; reconnect to use it." };
    case "disconnected":
      return { label: "not connected", tone: "neutral", detail: "Connect the account to use it." };
    default:
      return { label: String(oauth.state ?? "unknown"), tone: "neutral", detail: null };
  }
}

/** Whether the key's account has ever been connected (Reconnect rather than Connect). */
export function wasConnected(oauth: Schema<"OAuthKeyView"> | null | undefined): boolean {
  return Boolean(oauth && oauth.state !== "disconnected");
}

/** Words per error code, and whether the gateway's message adds a reason worth showing. */
const EXCHANGE_WORDS: Record<string, [string, boolean]> = {
  invalid_state: ["This sign-in does not match a session of the gateway (unknown, already used, or for another key). Start again with Connect.", false],
  session_expired: ["The sign-in session expired before the code came back. Start again with Connect.", false],
  access_denied: ["The provider reports that the sign-in was declined or cancelled.", true],
  exchange_failed: ["The provider refused to trade the code for tokens.", true],
  refresh_failed: ["The token could not be refreshed.", true],
};

/** Words for a failed authorize, exchange or refresh: what happened, then the gateway's reason. */
export function oauthErrorWords(error: unknown): string {
  const known = error instanceof ApiError && error.code ? EXCHANGE_WORDS[error.code] : undefined;
  if (!known) return describeError(error);
  const [words, withReason] = known;
  return withReason && error instanceof ApiError && error.message ? `${words} ${error.message}` : words;
}

/** The endpoint fields a provider's OAuth override sends (`source` and `has_client_secret` are the gateway's). */
export const OVERRIDE_FIELDS = ["authorize_url", "token_url", "client_id", "scopes", "extra_params", "redirect_uri", "request_headers"];

/** Headers an override may not add: the credential and what the gateway sets itself. */
export const RESERVED_HEADERS = ["authorization", "host", "content-length", "transfer-encoding", "connection"];

/** Scopes from a field: separated by spaces, commas or new lines. */
export function parseScopes(text: FormDataEntryValue | null | undefined): string[] {
  return String(text ?? "")
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Extra authorization parameters from `key=value` lines. */
export function parseParams(text: FormDataEntryValue | null | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  for (const raw of String(text ?? "").split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`Extra parameters are key=value lines; "${line}" is not.`);
    params[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return params;
}

/** Request headers from `Name: value` lines; the gateway's own headers are refused. */
export function parseHeaders(text: FormDataEntryValue | null | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const raw of String(text ?? "").split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon).trim() : "";
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new Error(`Request headers are "Name: value" lines; "${line}" is not.`);
    if (RESERVED_HEADERS.includes(name.toLowerCase())) throw new Error(`The gateway sets ${name} itself; it cannot be added.`);
    headers[name] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** `{name: value}` as the lines parseHeaders reads. */
export function headersText(headers: Record<string, string> | null | undefined): string {
  return Object.entries(headers ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
}

/** `{k: v}` as the lines parseParams reads. */
export function paramsText(params: Record<string, string> | null | undefined): string {
  return Object.entries(params ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
}

function httpUrl(value: string, label: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${label} must be a full URL, like https://example.com/oauth/authorize.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`${label} must start with https:// or http://.`);
  return value;
}

/**
 * The `oauth` object of PUT /api/providers/{id} from the settings form.
 * An empty redirect URI is null (the console's own callback page). The
 * override replaces the whole set, so an empty client secret means none.
 */
export function oauthOverrideInput(form: Pick<FormData, "get">): OverrideInput {
  const get = (k: string) => String(form.get(k) ?? "").trim();
  const body: OverrideInput = {
    authorize_url: httpUrl(get("authorize_url"), "Authorize URL"),
    token_url: httpUrl(get("token_url"), "Token URL"),
    client_id: get("client_id"),
    scopes: parseScopes(get("scopes")),
    extra_params: parseParams(form.get("extra_params")),
    redirect_uri: get("redirect_uri") ? httpUrl(get("redirect_uri"), "Redirect URI") : null,
    request_headers: parseHeaders(form.get("request_headers")),
  };
  if (!body.client_id) throw new Error("Enter the client ID the provider gave this application.");
  const secret = get("client_secret");
  if (secret) body.client_secret = secret;
  return body;
}
