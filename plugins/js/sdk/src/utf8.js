// UTF-8 for engines without TextEncoder/TextDecoder (QuickJS, which
// componentize-qjs embeds, has neither). Invalid input decodes to U+FFFD
// per maximal subpart, as TextDecoder does, so a body the provider garbled
// never throws.

const REPLACEMENT = 0xfffd;
// String.fromCharCode.apply takes its arguments on the stack: stay well
// below engine limits.
const CHUNK = 8192;

/** Decodes UTF-8 `bytes` (a Uint8Array) to a string. */
export function decode(bytes) {
  // An interpreter pays dearly for a loop over every byte (QuickJS: ~50 ns
  // a byte), so the common cases stay in native code: the bytes become a
  // Latin-1 string in chunks; pure ASCII is then done, and the non-ASCII
  // runs of valid UTF-8 are decoded by `decodeURIComponent(escape(run))`.
  // Only invalid UTF-8 takes the byte-by-byte decoder.
  const parts = [];
  for (let at = 0; at < bytes.length; at += CHUNK) {
    parts.push(String.fromCharCode.apply(null, bytes.subarray(at, at + CHUNK)));
  }
  const latin1 = parts.join("");
  if (!NON_ASCII.test(latin1)) return latin1;
  if (typeof escape === "function") {
    try {
      // Valid UTF-8 never splits a character across an ASCII byte, so each
      // run of non-ASCII bytes decodes on its own.
      return latin1.replace(NON_ASCII_RUNS, (run) => decodeURIComponent(escape(run)));
    } catch {
      // Invalid UTF-8: decode byte by byte, with replacement characters.
    }
  }
  return decodeSlowly(bytes);
}

const NON_ASCII = /[\x80-\xff]/;
const NON_ASCII_RUNS = /[\x80-\xff]+/g;

/** The byte-by-byte decoder, replacing invalid sequences as TextDecoder does. */
export function decodeSlowly(bytes) {
  const n = bytes.length;
  const parts = [];
  let i = 0;
  while (i < n) {
    let end = i;
    while (end < n && bytes[end] < 0x80) end += 1;
    for (let at = i; at < end; at += CHUNK) {
      parts.push(String.fromCharCode.apply(null, bytes.subarray(at, Math.min(end, at + CHUNK))));
    }
    i = end;
    const units = [];
    while (i < n && bytes[i] >= 0x80) {
      i = decodeSequence(bytes, i, units);
      if (units.length >= CHUNK) {
        parts.push(String.fromCharCode.apply(null, units));
        units.length = 0;
      }
    }
    if (units.length > 0) parts.push(String.fromCharCode.apply(null, units));
  }
  return parts.join("");
}

/**
 * Decodes the sequence starting with the non-ASCII byte at `i` into UTF-16
 * `units`; returns the index after it. An invalid or cut sequence yields
 * one U+FFFD and resumes at the first byte that does not belong to it.
 */
function decodeSequence(bytes, i, units) {
  const n = bytes.length;
  const b0 = bytes[i];
  let need = 0;
  let cp = 0;
  let lower = 0x80;
  let upper = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    cp = b0 & 0x0f;
    if (b0 === 0xe0) lower = 0xa0;
    if (b0 === 0xed) upper = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 === 0xf0) lower = 0x90;
    if (b0 === 0xf4) upper = 0x8f;
  }
  i += 1;
  if (need === 0) {
    units.push(REPLACEMENT);
    return i;
  }
  for (let k = 0; k < need; k += 1) {
    const b = bytes[i];
    if (i >= n || b < lower || b > upper) {
      units.push(REPLACEMENT);
      return i;
    }
    cp = (cp << 6) | (b & 0x3f);
    lower = 0x80;
    upper = 0xbf;
    i += 1;
  }
  if (cp >= 0x10000) {
    const v = cp - 0x10000;
    units.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
  } else {
    units.push(cp);
  }
  return i;
}

/** Encodes `text` as UTF-8; lone surrogates become U+FFFD. */
export function encode(text) {
  const out = new Uint8Array(text.length * 3);
  let at = 0;
  for (let i = 0; i < text.length; i += 1) {
    let cp = text.charCodeAt(i);
    if (cp < 0x80) {
      out[at] = cp;
      at += 1;
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00);
        i += 1;
      } else {
        cp = REPLACEMENT;
      }
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
      cp = REPLACEMENT;
    }
    if (cp < 0x800) {
      out[at] = 0xc0 | (cp >> 6);
      out[at + 1] = 0x80 | (cp & 0x3f);
      at += 2;
    } else if (cp < 0x10000) {
      out[at] = 0xe0 | (cp >> 12);
      out[at + 1] = 0x80 | ((cp >> 6) & 0x3f);
      out[at + 2] = 0x80 | (cp & 0x3f);
      at += 3;
    } else {
      out[at] = 0xf0 | (cp >> 18);
      out[at + 1] = 0x80 | ((cp >> 12) & 0x3f);
      out[at + 2] = 0x80 | ((cp >> 6) & 0x3f);
      out[at + 3] = 0x80 | (cp & 0x3f);
      at += 4;
    }
  }
  return out.slice(0, at);
}
