// Server-sent-events framing that tolerates chunks split anywhere.
//
// Lines end in "\n", "\r\n" or "\r" (a "\r\n" split across two chunks is one
// line ending); an event ends at a blank line; lines starting with ":" are
// comments (keep-alives). Bytes are buffered until a line is complete, so a
// UTF-8 character split across chunks is decoded whole. A line longer than
// MAX_LINE_BYTES is dropped rather than buffered without end.

import { decode } from "./utf8.js";

/** The longest SSE line kept; longer lines are discarded. */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/** Incremental SSE parser: `push(chunk, onEvent)`, then `finish(onEvent)`. */
export class SseParser {
  constructor() {
    this.pending = []; // byte chunks of the unfinished line
    this.pendingLength = 0;
    this.tooLong = false;
    this.afterCr = false;
    this.event = null;
    this.data = [];
  }

  /** Consumes `chunk` (Uint8Array), calling `onEvent({event, data})` per complete event. */
  push(chunk, onEvent) {
    // Line ends are found with the native indexOf, not a loop over bytes.
    const next = (byte, from) => {
      const at = chunk.indexOf(byte, from);
      return at < 0 ? Infinity : at;
    };
    let start = 0;
    let nextLf = next(LF, 0);
    let nextCr = next(CR, 0);
    while (start < chunk.length) {
      const i = Math.min(nextLf, nextCr);
      if (i === Infinity) break;
      const byte = chunk[i];
      const skipLf = this.afterCr && byte === LF && i === start && this.pendingLength === 0;
      this.afterCr = byte === CR;
      if (!skipLf) {
        this.keep(chunk.subarray(start, i));
        this.endLine(onEvent);
      }
      start = i + 1;
      if (i === nextLf) nextLf = next(LF, start);
      if (i === nextCr) nextCr = next(CR, start);
    }
    if (start < chunk.length) {
      this.afterCr = false;
      this.keep(chunk.subarray(start));
    }
  }

  /** Ends the input: an event not followed by a blank line is still delivered. */
  finish(onEvent) {
    if (this.pendingLength > 0) this.endLine(onEvent);
    this.dispatch(onEvent);
  }

  keep(bytes) {
    if (bytes.length === 0) return;
    if (this.pendingLength + bytes.length > MAX_LINE_BYTES) {
      this.tooLong = true;
      return;
    }
    this.pending.push(bytes.slice());
    this.pendingLength += bytes.length;
  }

  endLine(onEvent) {
    const tooLong = this.tooLong;
    const line = this.takeLine();
    if (tooLong) return;
    if (line.length === 0) {
      this.dispatch(onEvent);
      return;
    }
    if (line[0] === ":") return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
  }

  takeLine() {
    let bytes;
    if (this.pending.length === 1) {
      bytes = this.pending[0];
    } else {
      bytes = new Uint8Array(this.pendingLength);
      let at = 0;
      for (const part of this.pending) {
        bytes.set(part, at);
        at += part.length;
      }
    }
    this.pending = [];
    this.pendingLength = 0;
    this.tooLong = false;
    return decode(bytes);
  }

  dispatch(onEvent) {
    if (this.data.length > 0) {
      onEvent({ event: this.event, data: this.data.join("\n") });
    }
    this.event = null;
    this.data = [];
  }
}

/** An event's data as JSON; `null` for `[DONE]` and anything not JSON. */
export function eventJson(event) {
  try {
    return JSON.parse(event.data);
  } catch {
    return null;
  }
}
