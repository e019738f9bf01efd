// "Use this key" snippets: the gateway's real base URL (the host the
// console was reached at, the proxy's port and scheme from GET
// /api/gateway) and Python for the official OpenAI, Anthropic and Gemini
// SDKs, with the new key filled in. Client keys belong to one provider,
// and the proxy speaks that provider's own API, so each SDK only needs
// its base URL pointed at the gateway.

import type { Schema } from "./client.ts";

/** The SDK families a snippet is written for. */
export type Dialect = "openai" | "anthropic" | "gemini";

/** One SDK's snippet. */
export interface Snippet {
  dialect: Dialect;
  label: string;
  baseUrl: string;
  code: string;
}

/** `{proxy_port, proxy_tls}` and the console's location → "http://host:8080". */
export function proxyRoot(
  endpoint: Schema<"ProxyEndpoint"> | null | undefined,
  location: Pick<Location, "hostname"> | undefined = globalThis.location,
): string | null {
  if (!endpoint?.proxy_port || !location?.hostname) return null;
  const scheme = endpoint.proxy_tls ? "https" : "http";
  const host = location.hostname.includes(":") && !location.hostname.startsWith("[") ? `[${location.hostname}]` : location.hostname;
  return `${scheme}://${host}:${endpoint.proxy_port}`;
}

/** The SDK a provider's plugin speaks: "openai", "anthropic" or "gemini". */
export function dialectOf(plugin: string | null | undefined): Dialect {
  const p = String(plugin ?? "").toLowerCase();
  if (p.includes("anthropic") || p.includes("claude")) return "anthropic";
  if (p.includes("gemini") || p.includes("google")) return "gemini";
  return "openai";
}

/** The model a snippet asks for: the key's first exact allowed model, or a common one. */
export function snippetModel(dialect: Dialect, allowedModels: string[] | null | undefined): string {
  const exact = (allowedModels ?? []).find((m: string) => m && !m.includes("*"));
  if (exact) return exact;
  return { openai: "gpt-4o-mini", anthropic: "claude-3-5-haiku-latest", gemini: "gemini-2.0-flash" }[dialect];
}

/** A Python string literal (the key and URL are ASCII, but never trust that). */
const py = (s: string) => JSON.stringify(String(s));

/** The base URL each SDK takes. */
export function sdkBaseUrl(dialect: Dialect, root: string): string {
  return dialect === "openai" ? `${root}/v1` : root;
}

/** [{dialect, label, baseUrl, code}] for the three SDKs. */
export function snippets({ root, key, allowedModels }: { root: string; key: string; allowedModels?: string[] | null }): Snippet[] {
  const base = (d: Dialect) => py(sdkBaseUrl(d, root));
  const model = (d: Dialect) => py(snippetModel(d, allowedModels));
  return [
    {
      dialect: "openai",
      label: "OpenAI SDK",
      baseUrl: sdkBaseUrl("openai", root),
      code: `from openai import OpenAI

client = OpenAI(base_url=${base("openai")}, api_key=${py(key)})
reply = client.chat.completions.create(
    model=${model("openai")},
    messages=[{"role": "user", "content": "Hello from ai-proxy"}],
)
print(reply.choices[0].message.content)
`,
    },
    {
      dialect: "anthropic",
      label: "Anthropic SDK",
      baseUrl: sdkBaseUrl("anthropic", root),
      code: `import anthropic

client = anthropic.Anthropic(base_url=${base("anthropic")}, api_key=${py(key)})
reply = client.messages.create(
    model=${model("anthropic")},
    max_tokens=256,
    messages=[{"role": "user", "content": "Hello from ai-proxy"}],
)
print(reply.content[0].text)
`,
    },
    {
      dialect: "gemini",
      label: "Gemini SDK",
      baseUrl: sdkBaseUrl("gemini", root),
      code: `from google import genai
from google.genai import types

client = genai.Client(api_key=${py(key)}, http_options=types.HttpOptions(base_url=${base("gemini")}))
reply = client.models.generate_content(model=${model("gemini")}, contents="Hello from ai-proxy")
print(reply.text)
`,
    },
  ];
}

/** The listing a test request asks for (`TEST_PATHS` of the admin API). */
export function testPath(dialect: Dialect): string {
  return dialect === "gemini" ? "/v1beta/models" : "/v1/models";
}
