// ai-proxy plugin SDK for JavaScript: the helpers a provider plugin needs,
// with no dependency on TextEncoder/TextDecoder or any host API, so the same
// code runs in node (unit tests) and inside a componentize-qjs component.
//
// A plugin implements the WIT `provider` interface as one exported object;
// `StreamParser` builds the `stream-parser` resource from a per-event
// callback (see `streamParser`).

export { decode as utf8Decode, encode as utf8Encode } from "./utf8.js";
export { SseParser, eventJson, MAX_LINE_BYTES } from "./sse.js";
export {
  header,
  setHeader,
  removeHeader,
  pathOnly,
  queryParam,
  setQueryParam,
  placeCredential,
  declaresJson,
  PluginError,
} from "./http.js";
export { findPrice, cost, price, usd } from "./price.js";
export { ErrorClass, retryAfter, byStatus } from "./classify.js";
export * as openai from "./openai.js";
export { streamParser, parseStream } from "./stream.js";
export { openaiTerminalEvent, CUT_FINISH_REASON } from "./stream_end.js";
