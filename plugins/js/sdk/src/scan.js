// Reading a large JSON body's top level without building it.
//
// `JSON.parse` of a body of millions of elements needs far more memory than
// a plugin has (64 MiB by default). `topLevelFields` jumps from one
// structural character to the next with the engine's native `indexOf`,
// tracking only the nesting depth, and returns where the values of the
// wanted top-level members lie. It does not check the body's syntax: the
// provider does. Use it for bodies over LARGE_BODY_BYTES; smaller ones are
// parsed whole.

/** Bodies larger than this are scanned rather than parsed. */
export const LARGE_BODY_BYTES = 1 << 20;

import { encode } from "./utf8.js";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const STRUCTURAL = [QUOTE, OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY];

const isSpace = (b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/** The index after the string starting at `at` (a quote), or -1. */
function stringEnd(body, at) {
  let i = at + 1;
  for (;;) {
    const quote = body.indexOf(QUOTE, i);
    if (quote < 0) return -1;
    let slashes = 0;
    while (body[quote - 1 - slashes] === BACKSLASH) slashes += 1;
    if (slashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/** The first index at or after `at` that is not JSON whitespace. */
function skipSpace(body, at) {
  let i = at;
  while (i < body.length && isSpace(body[i])) i += 1;
  return i;
}

/**
 * For each of `names`, `[start, end]` of the value of the last top-level
 * member of that name (its raw bytes), or `null`; `null` altogether when
 * the body is not an object. Keys are compared as written (no escapes).
 */
export function topLevelFields(body, names) {
  const wanted = names.map((name) => encode(name));
  const found = names.map(() => null);
  const start = skipSpace(body, 0);
  if (body[start] !== OPEN_OBJECT) return null;
  const next = STRUCTURAL.map((b) => body.indexOf(b, start + 1));
  const advance = (from) => {
    for (let k = 0; k < next.length; k += 1) {
      if (next[k] >= 0 && next[k] < from) next[k] = body.indexOf(STRUCTURAL[k], from);
    }
  };
  let depth = 1;
  let open = null; // a wanted member whose value is a container: [index, start]
  for (;;) {
    let pos = -1;
    for (const p of next) if (p >= 0 && (pos < 0 || p < pos)) pos = p;
    if (pos < 0) return found;
    const byte = body[pos];
    if (byte === QUOTE) {
      const end = stringEnd(body, pos);
      if (end < 0) return found;
      const after = skipSpace(body, end);
      if (depth === 1 && body[after] === COLON) {
        const key = body.subarray(pos + 1, end - 1);
        const index = wanted.findIndex((w) => w.length === key.length && w.every((b, i) => b === key[i]));
        if (index >= 0) {
          const value = skipSpace(body, after + 1);
          const first = body[value];
          if (first === QUOTE) {
            const valueEnd = stringEnd(body, value);
            found[index] = valueEnd < 0 ? null : [value, valueEnd];
          } else if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
            open = [index, value];
          } else {
            found[index] = scalarAt(body, value);
          }
        }
      }
      advance(end);
      continue;
    }
    depth += byte === OPEN_OBJECT || byte === OPEN_ARRAY ? 1 : -1;
    if (depth === 1 && open !== null && (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY)) {
      found[open[0]] = [open[1], pos + 1];
      open = null;
    }
    if (depth <= 0) return found;
    advance(pos + 1);
  }
}

/** `[start, end]` of the number or literal at `at`. */
function scalarAt(body, at) {
  let end = at;
  while (end < body.length && !isSpace(body[end]) && body[end] !== 0x2c && body[end] !== CLOSE_OBJECT && body[end] !== CLOSE_ARRAY) {
    end += 1;
  }
  return [at, end];
}
