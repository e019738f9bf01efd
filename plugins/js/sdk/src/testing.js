// Helpers for a plugin's unit tests under node (not for the component: it
// uses node:assert).

import assert from "node:assert/strict";

import { parseStream } from "./stream.js";

/**
 * Asserts that `stream` (a Uint8Array) gives `expected` usage when parsed
 * whole, split in two at every byte, and fed one byte at a time: a parser
 * must not depend on where the network cuts the stream.
 */
export function assertStreamUsage(StreamParser, stream, expected) {
  assert.deepEqual(parseStream(StreamParser, [stream]), expected, "whole");
  for (let cut = 0; cut <= stream.length; cut += 1) {
    const got = parseStream(StreamParser, [stream.subarray(0, cut), stream.subarray(cut)]);
    assert.deepEqual(got, expected, `cut at ${cut}`);
  }
  const bytes = Array.from(stream, (_, i) => stream.subarray(i, i + 1));
  assert.deepEqual(parseStream(StreamParser, bytes), expected, "byte by byte");
}
