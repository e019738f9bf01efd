// The `stream-parser` resource built from one function per SSE event. It
// also remembers the stream's first event and its last complete one, which
// `stream-control` needs to end the stream cleanly (see stream_end.js).

import { SseParser, eventJson } from "./sse.js";

const same = (a, b) =>
  a === b ||
  (a !== null &&
    b !== null &&
    a.inputTokens === b.inputTokens &&
    a.outputTokens === b.outputTokens &&
    a.cachedInputTokens === b.cachedInputTokens &&
    a.cacheWriteTokens === b.cacheWriteTokens &&
    a.reasoningTokens === b.reasoningTokens);

/** Bytes of generated text counted as one output token in the running estimate. */
export const BYTES_PER_OUTPUT_TOKEN = 4;

/**
 * A class implementing the WIT `stream-parser` resource: `onEvent(event,
 * usage)` sees every complete event in order with the usage so far and
 * returns the new usage (or the same one); `generatedBytes(event)` (optional)
 * says how many bytes of generated text an event carries. `feed` returns
 * the running usage when a chunk changed it, `null` otherwise: the reported
 * usage with its output raised to the estimate from the generated text
 * (BYTES_PER_OUTPUT_TOKEN bytes a token), so the gateway can cut a stream
 * at a client's quota before the provider reports; `finish` the reported
 * usage.
 */
export function streamParser(onEvent, generatedBytes = () => 0) {
  return class StreamParser {
    constructor() {
      this.sse = new SseParser();
      this.usage = null;
      this.firstJson = null;
      this.lastJson = null;
      this.lastData = null;
      this.generated = 0;
    }

    running() {
      const estimate = Math.ceil(this.generated / BYTES_PER_OUTPUT_TOKEN);
      if (this.usage !== null) return { ...this.usage, outputTokens: Math.max(this.usage.outputTokens, estimate) };
      if (estimate > 0) return { inputTokens: 0, outputTokens: estimate, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
      return null;
    }

    see(event) {
      const json = eventJson(event);
      if (this.lastData === null) this.firstJson = json;
      this.lastData = event.data;
      this.lastJson = json;
      this.usage = onEvent(event, this.usage);
      this.generated += generatedBytes(event);
    }

    feed(chunk) {
      const before = this.running();
      this.sse.push(chunk, (event) => this.see(event));
      const after = this.running();
      return same(before, after) ? null : after;
    }

    finish() {
      this.sse.finish((event) => this.see(event));
      return this.usage;
    }
  };
}

/** Runs `chunks` through a `StreamParser` class: for unit tests. */
export function parseStream(StreamParser, chunks) {
  const parser = new StreamParser();
  for (const chunk of chunks) parser.feed(chunk);
  return parser.finish();
}
