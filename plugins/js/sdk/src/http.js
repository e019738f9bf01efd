// Headers, query strings and plugin errors: what `prepare` and `inspect` need.
//
// Headers are `{name, value}` records (the WIT `header`); names compare
// ASCII case-insensitively.

/** The first value of header `name`, or `null`. */
export function header(headers, name) {
  const lower = name.toLowerCase();
  const found = headers.find((h) => h.name.toLowerCase() === lower);
  return found ? found.value : null;
}

/** `headers` without any `name` header. */
export function removeHeader(headers, name) {
  const lower = name.toLowerCase();
  return headers.filter((h) => h.name.toLowerCase() !== lower);
}

/** `headers` with every `name` header replaced by one carrying `value`. */
export function setHeader(headers, name, value) {
  const out = removeHeader(headers, name);
  out.push({ name: name.toLowerCase(), value });
  return out;
}

/** The path without its query string. */
export function pathOnly(path) {
  const q = path.indexOf("?");
  return q < 0 ? path : path.slice(0, q);
}

/** The raw value of query parameter `name`, or `null`. */
export function queryParam(path, name) {
  const q = path.indexOf("?");
  if (q < 0) return null;
  for (const pair of path.slice(q + 1).split("&")) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === name) return eq < 0 ? "" : pair.slice(eq + 1);
  }
  return null;
}

/** `path` with query parameter `name` set to `value` (URL-safe), replacing any. */
export function setQueryParam(path, name, value) {
  const q = path.indexOf("?");
  const base = q < 0 ? path : path.slice(0, q);
  const pairs = (q < 0 ? "" : path.slice(q + 1))
    .split("&")
    .filter((pair) => pair !== "" && pair.split("=")[0] !== name);
  pairs.push(`${name}=${value}`);
  return `${base}?${pairs.join("&")}`;
}

/**
 * `{ path, headers }` of `head` with `credential` placed as the WIT
 * `credential-style` `style` says (`{ tag: "bearer" }`, `{ tag: "header",
 * val: name }`, `{ tag: "query", val: name }`), replacing any copy the
 * client sent: declare the style once in `info()` and place it with this.
 */
export function placeCredential(style, head, credential) {
  switch (style.tag) {
    case "bearer":
      return { path: head.path, headers: setHeader(head.headers, "authorization", `Bearer ${credential}`) };
    case "header":
      return { path: head.path, headers: setHeader(head.headers, style.val, credential) };
    case "query":
      return { path: setQueryParam(head.path, style.val, credential), headers: head.headers };
    default:
      throw PluginError.internal(`unknown credential style ${style.tag}`);
  }
}

/** Whether `content-type` says JSON (`application/json`, `...+json`). */
export function declaresJson(headers) {
  const value = header(headers, "content-type");
  if (value === null) return false;
  const media = value.split(";")[0].trim().toLowerCase();
  return media === "application/json" || media.endsWith("+json");
}

/**
 * Plugin errors, thrown from `inspect` and `prepare` (the WIT `plugin-error`):
 * the host answers 400 for `badRequest` and `unsupported`, 502 for `internal`.
 */
export const PluginError = {
  badRequest: (message) => ({ tag: "bad-request", val: message }),
  unsupported: (message) => ({ tag: "unsupported", val: message }),
  internal: (message) => ({ tag: "internal", val: message }),
};
