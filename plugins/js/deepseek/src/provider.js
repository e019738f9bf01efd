// The DeepSeek provider (api.deepseek.com), in plain JavaScript: the WIT
// `provider` interface as one object, with no WIT imports, so node can unit
// test it. `index.js` exports it to the component.
//
// DeepSeek speaks the OpenAI chat format on `/chat/completions` (and
// `/v1/chat/completions`), with a Bearer key. What is its own:
// - usage reports the prompt cache as `prompt_cache_hit_tokens` /
//   `prompt_cache_miss_tokens` (newer answers also carry OpenAI's
//   `prompt_tokens_details.cached_tokens`), and reasoning tokens of
//   `deepseek-reasoner` in `completion_tokens_details.reasoning_tokens`;
// - streams report usage only with `stream_options.include_usage`, which
//   `prepare` turns on; while a request waits DeepSeek sends `: keep-alive`
//   comments, which the SSE framing skips;
// - errors: 402 "Insufficient Balance" (the account is out of credit),
//   422 invalid parameters, 503 "Server overloaded".

import {
  ErrorClass,
  PluginError,
  byStatus,
  cost as standardCost,
  openai,
  openaiTerminalEvent,
  pathOnly,
  price,
  setHeader,
  streamParser,
  utf8Decode,
} from "ai-proxy-plugin-sdk";

export const NAME = "deepseek";
export const VERSION = "0.1.0";

/** Paths DeepSeek serves, with or without the `/v1` prefix. */
const KNOWN_PREFIXES = ["/chat/", "/completions", "/beta/", "/models", "/user/", "/v1/"];

const count = (value) => (Number.isSafeInteger(value) && value > 0 ? value : 0);

/** DeepSeek's `usage` object (either cache field style), or `null`. */
export function usageFromObject(usage) {
  if (usage === null || typeof usage !== "object" || !("prompt_tokens" in usage)) return null;
  const hit = usage.prompt_cache_hit_tokens ?? usage.prompt_tokens_details?.cached_tokens;
  return {
    inputTokens: count(usage.prompt_tokens),
    outputTokens: count(usage.completion_tokens),
    cachedInputTokens: count(hit),
    cacheWriteTokens: 0,
    reasoningTokens: count(usage.completion_tokens_details?.reasoning_tokens),
  };
}

/**
 * DeepSeek's endpoints and the class of each (the WIT `endpoints`
 * interface): what a client key is granted decides which it may call.
 * `GET /user/balance` shows the upstream account's credit, so it is
 * `other`, which keys are not granted by default.
 */
export const ENDPOINTS = [
  ["POST", "/chat/completions", "inference"],
  ["POST", "/v1/chat/completions", "inference"],
  ["POST", "/beta/chat/completions", "inference"],
  ["POST", "/completions", "inference"],
  ["POST", "/beta/completions", "inference"],
  ["GET", "/models", "models"],
  ["GET", "/v1/models", "models"],
  ["GET", "/user/balance", "other"],
].map(([method, path, klass]) => ({ method, path, class: klass }));

/** Messages of accounts out of credit, whatever the status. */
const BALANCE_MESSAGES = ["insufficient balance"];

export const provider = {
  info() {
    return {
      name: NAME,
      version: VERSION,
      defaultBaseUrl: "https://api.deepseek.com",
      credential: { tag: "bearer" },
      healthProbe: { method: "GET", path: "/models", headers: [], body: new Uint8Array() },
      oauth: null,
    };
  },

  inspect(head, body) {
    return openai.inspect(head, body);
  },

  prepare(head, body, credential) {
    const path = pathOnly(head.path);
    if (!KNOWN_PREFIXES.some((prefix) => path.startsWith(prefix))) {
      throw PluginError.unsupported(`DeepSeek does not serve ${path}`);
    }
    return {
      path: head.path,
      headers: setHeader(head.headers, "authorization", `Bearer ${credential}`),
      body: openai.askForStreamUsage(head, body),
    };
  },

  bodyUsage(body) {
    return openai.usageFromBody(body, usageFromObject);
  },

  StreamParser: streamParser((event, usage) => openai.usageFromEvent(event, usageFromObject) ?? usage, openai.generatedBytes),

  cost(model, usage, prices) {
    return standardCost(model, usage, prices);
  },

  defaultPrices() {
    // DeepSeek-V3.2 list prices (micro-USD per million tokens), the same for
    // both models: cache-miss input $0.28, cache-hit input $0.028, output $0.42.
    return [price("deepseek-chat", 280_000, 420_000, 28_000), price("deepseek-reasoner", 280_000, 420_000, 28_000)];
  },

  classify(status, headers, body) {
    let message = "";
    try {
      const error = JSON.parse(utf8Decode(body))?.error;
      message = String(error?.message ?? "").toLowerCase();
    } catch {
      // Not JSON: the status decides.
    }
    if (status === 402 || BALANCE_MESSAGES.some((m) => message.includes(m))) {
      return ErrorClass.quotaExhausted();
    }
    return byStatus(status, headers);
  },
};

/**
 * The WIT `stream-control` interface: a stream cut at a client's quota ends
 * like one that hit its output limit (DeepSeek streams are OpenAI chat
 * chunks).
 */
export const streamControl = {
  terminalEvent(parser, reason) {
    return openaiTerminalEvent(parser, reason);
  },
};
