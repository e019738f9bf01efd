import assert from "node:assert/strict";
import { test } from "node:test";

import { MAX_LINE_BYTES, SseParser } from "../src/sse.js";

const bytes = (text) => new TextEncoder().encode(text);

function events(chunks) {
  const parser = new SseParser();
  const seen = [];
  for (const chunk of chunks) parser.push(bytes(chunk), (e) => seen.push(e));
  parser.finish((e) => seen.push(e));
  return seen;
}

test("events end at blank lines with any line ending", () => {
  const want = [
    { event: null, data: "a" },
    { event: "x", data: "b\nc" },
    { event: null, data: "d" },
  ];
  assert.deepEqual(events(["data: a\n\nevent: x\ndata: b\ndata:c\n\ndata: d\n\n"]), want);
  assert.deepEqual(events(["data: a\r\n\r\nevent: x\r\ndata: b\r\ndata:c\r\n\r\ndata: d\r\n\r\n"]), want);
  assert.deepEqual(events(["data: a\r\revent: x\rdata: b\rdata:c\r\rdata: d\r\r"]), want);
});

test("a CRLF split across chunks is one line ending", () => {
  assert.deepEqual(events(["data: a\r", "\n\r", "\n"]), [{ event: null, data: "a" }]);
});

test("a character split across chunks decodes whole", () => {
  const all = bytes("data: 👋\n\n");
  const parser = new SseParser();
  const seen = [];
  for (let i = 0; i < all.length; i += 1) parser.push(all.subarray(i, i + 1), (e) => seen.push(e));
  assert.deepEqual(seen, [{ event: null, data: "👋" }]);
});

test("comments and events without data are skipped", () => {
  assert.deepEqual(events([": keep-alive\n\nevent: ping\n\ndata: x\n\n"]), [{ event: null, data: "x" }]);
});

test("an event without a final blank line is delivered at finish", () => {
  assert.deepEqual(events(["data: last"]), [{ event: null, data: "last" }]);
});

test("a line longer than the limit is dropped, the next one kept", () => {
  const parser = new SseParser();
  const seen = [];
  const long = new Uint8Array(MAX_LINE_BYTES + 1).fill(0x61);
  parser.push(bytes("data: "), (e) => seen.push(e));
  parser.push(long, (e) => seen.push(e));
  parser.push(bytes("\ndata: ok\n\n"), (e) => seen.push(e));
  assert.deepEqual(seen, [{ event: null, data: "ok" }]);
});
