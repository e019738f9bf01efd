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

/**
 * A class implementing the WIT `stream-parser` resource: `onEvent(event,
 * usage)` sees every complete event in order with the usage so far and
 * returns the new usage (or the same one). `feed` returns the usage when a
 * chunk changed it, `null` otherwise; `finish` the best usage known.
 */
export function streamParser(onEvent) {
  return class StreamParser {
    constructor() {
      this.sse = new SseParser();
      this.usage = null;
      this.firstJson = null;
      this.lastJson = null;
      this.lastData = null;
    }

    see(event) {
      const json = eventJson(event);
      if (this.lastData === null) this.firstJson = json;
      this.lastData = event.data;
      this.lastJson = json;
      this.usage = onEvent(event, this.usage);
    }

    feed(chunk) {
      const before = this.usage;
      this.sse.push(chunk, (event) => this.see(event));
      return same(before, this.usage) ? null : this.usage;
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
