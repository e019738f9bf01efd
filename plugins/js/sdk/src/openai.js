// The OpenAI wire format, which many providers speak (OpenAI, Azure
// OpenAI, DeepSeek, Mistral, Groq, ...): the model and stream flag from the
// JSON body, the stream-usage opt-in, and usage objects.

import { declaresJson, pathOnly, PluginError } from "./http.js";
import { eventJson } from "./sse.js";
import { LARGE_BODY_BYTES, topLevelFields } from "./scan.js";
import { decode, encode } from "./utf8.js";

/** Ends the paths whose streams report usage only when asked (chat and legacy completions). */
export const USAGE_OPT_IN_SUFFIX = "/completions";

/** Whether `body` is empty or only JSON whitespace (stops at the first other byte). */
function isBlank(body) {
  for (let i = 0; i < body.length; i += 1) {
    const b = body[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  return true;
}

/**
 * The body as JSON: `null` when empty or in another format; throws a
 * bad-request when `content-type` says JSON but it is not.
 */
export function jsonRequest(head, body) {
  if (isBlank(body)) return null;
  try {
    return JSON.parse(decode(body));
  } catch {
    if (declaresJson(head.headers)) throw PluginError.badRequest("request body is not valid JSON");
    return null;
  }
}

/**
 * The top-level `names` of a large body, each parsed alone (`undefined`
 * when absent): what `JSON.parse` of the whole body would give for them,
 * without the memory it would take. `null` when the body is no object.
 */
function largeBodyFields(body, names) {
  const ranges = topLevelFields(body, names);
  if (ranges === null) return null;
  const out = {};
  names.forEach((name, i) => {
    const range = ranges[i];
    if (range === null) return;
    try {
      out[name] = JSON.parse(decode(body.subarray(range[0], range[1])));
    } catch {
      out[name] = undefined;
    }
  });
  return out;
}

/**
 * `{model, stream}` from a JSON body (the WIT `request-facts`). A body over
 * LARGE_BODY_BYTES is scanned, not parsed, so any body the gateway accepts
 * fits in the plugin's memory; its syntax is then left to the provider.
 */
export function inspect(head, body) {
  const value = body.length > LARGE_BODY_BYTES
    ? largeBodyFields(body, ["model", "stream"])
    : jsonRequest(head, body);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { model: null, stream: false };
  }
  const model = value.model ?? null;
  if (model !== null && typeof model !== "string") {
    throw PluginError.badRequest("`model` must be a string");
  }
  return { model, stream: value.stream === true };
}

/**
 * For a streamed completion that does not already ask for usage, the body
 * with `stream_options.include_usage` set (a Uint8Array); `null` when the
 * body needs no change. Without `stream_options` the field is spliced into
 * the original bytes, so everything else reaches the provider unchanged.
 */
export function askForStreamUsage(head, body) {
  if (!pathOnly(head.path).endsWith(USAGE_OPT_IN_SUFFIX)) return null;
  if (body.length > LARGE_BODY_BYTES) return askForLargeStreamUsage(body);
  const value = jsonRequest(head, body);
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  if (value.stream !== true || value.stream_options?.include_usage === true) return null;
  if (!("stream_options" in value)) {
    return spliceFirstField(body, '"stream_options":{"include_usage":true}');
  }
  const options = value.stream_options;
  value.stream_options =
    options !== null && typeof options === "object" && !Array.isArray(options)
      ? { ...options, include_usage: true }
      : { include_usage: true };
  return encode(JSON.stringify(value));
}

/**
 * `askForStreamUsage` for a large body: spliced into the client's bytes,
 * never re-encoded whole; a client's `stream_options` is replaced by itself
 * with `include_usage: true`.
 */
function askForLargeStreamUsage(body) {
  const ranges = topLevelFields(body, ["stream", "stream_options"]);
  if (ranges === null || ranges[0] === null) return null;
  const raw = (range) => decode(body.subarray(range[0], range[1]));
  if (raw(ranges[0]) !== "true") return null;
  if (ranges[1] === null) return spliceFirstField(body, '"stream_options":{"include_usage":true}');
  let options;
  try {
    options = JSON.parse(raw(ranges[1]));
  } catch {
    options = null;
  }
  if (options?.include_usage === true) return null;
  const replaced = options !== null && typeof options === "object" && !Array.isArray(options)
    ? { ...options, include_usage: true }
    : { include_usage: true };
  const insert = encode(JSON.stringify(replaced));
  const [from, to] = ranges[1];
  const out = new Uint8Array(body.length - (to - from) + insert.length);
  out.set(body.subarray(0, from), 0);
  out.set(insert, from);
  out.set(body.subarray(to), from + insert.length);
  return out;
}

/** `original` (a JSON object's bytes) with `field` inserted as its first member. */
function spliceFirstField(original, field) {
  const open = original.indexOf(0x7b);
  let next = open + 1;
  while (next < original.length && [0x20, 0x09, 0x0a, 0x0d].includes(original[next])) next += 1;
  const empty = original[next] === 0x7d;
  const insert = encode(empty ? field : `${field},`);
  const out = new Uint8Array(original.length + insert.length);
  out.set(original.subarray(0, open + 1), 0);
  out.set(insert, open + 1);
  out.set(original.subarray(open + 1), open + 1 + insert.length);
  return out;
}

const count = (value) => (Number.isSafeInteger(value) && value > 0 ? value : 0);

/**
 * Reads either shape of `usage` object (the WIT `usage`, camelCase):
 * `prompt_tokens`/`completion_tokens` (chat, completions, embeddings) or
 * `input_tokens`/`output_tokens` (Responses). `null` for neither.
 */
export function usageFromObject(usage) {
  if (usage === null || typeof usage !== "object") return null;
  if ("prompt_tokens" in usage) {
    return {
      inputTokens: count(usage.prompt_tokens),
      outputTokens: count(usage.completion_tokens),
      cachedInputTokens: count(usage.prompt_tokens_details?.cached_tokens),
      cacheWriteTokens: 0,
      reasoningTokens: count(usage.completion_tokens_details?.reasoning_tokens),
    };
  }
  if ("input_tokens" in usage) {
    return {
      inputTokens: count(usage.input_tokens),
      outputTokens: count(usage.output_tokens),
      cachedInputTokens: count(usage.input_tokens_details?.cached_tokens),
      cacheWriteTokens: 0,
      reasoningTokens: count(usage.output_tokens_details?.reasoning_tokens),
    };
  }
  return null;
}

/** Usage from a whole JSON answer; `null` without one. */
export function usageFromBody(body, read = usageFromObject) {
  if (body.length > LARGE_BODY_BYTES) {
    const fields = largeBodyFields(body, ["usage"]);
    return fields === null ? null : read(fields.usage ?? null);
  }
  try {
    const value = JSON.parse(decode(body));
    return value !== null && typeof value === "object" ? read(value.usage ?? null) : null;
  } catch {
    return null;
  }
}

/** The usage an SSE event carries (a chat chunk's or a Responses `response`'s), or `null`. */
export function usageFromEvent(event, read = usageFromObject) {
  const data = eventJson(event);
  if (data === null || typeof data !== "object") return null;
  return read(data.usage ?? data.response?.usage ?? null);
}

/** UTF-8 bytes of `text` (without building them). */
function utf8Length(text) {
  if (typeof text !== "string") return 0;
  let n = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4; // a surrogate pair: one four-byte character
      i += 1;
    } else n += 3;
  }
  return n;
}

/**
 * Bytes of generated text one stream event carries (a chat chunk's
 * `delta.content`, `delta.reasoning_content` and tool-call arguments, a
 * legacy completion's `text`, a Responses `*.delta` event's `delta`): what
 * the running output estimate of `streamParser` counts until the provider
 * reports usage, so the gateway can cut a stream at a client's quota.
 */
export function generatedBytes(event) {
  const data = eventJson(event);
  if (data === null || typeof data !== "object") return 0;
  if (typeof data.delta === "string") return utf8Length(data.delta);
  if (!Array.isArray(data.choices)) return 0;
  let n = 0;
  for (const choice of data.choices) {
    n += utf8Length(choice?.delta?.content) + utf8Length(choice?.delta?.reasoning_content) + utf8Length(choice?.text);
    for (const call of choice?.delta?.tool_calls ?? []) n += utf8Length(call?.function?.arguments);
  }
  return n;
}
