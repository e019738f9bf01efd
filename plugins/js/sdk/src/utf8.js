// UTF-8 for engines without TextEncoder/TextDecoder (QuickJS, which
// componentize-qjs embeds, has neither). Invalid input decodes to U+FFFD
// per maximal subpart, as TextDecoder does, so a body the provider garbled
// never throws.

const REPLACEMENT = 0xfffd;
// String.fromCharCode.apply takes its arguments on the stack: stay well
// below engine limits.
const CHUNK = 8192;

/** Decodes UTF-8 `bytes` (a Uint8Array or array of bytes) to a string. */
export function decode(bytes) {
  const units = [];
  let out = "";
  const flush = () => {
    out += String.fromCharCode.apply(null, units);
    units.length = 0;
  };
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b0 = bytes[i];
    if (b0 < 0x80) {
      units.push(b0);
      i += 1;
    } else {
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
      } else {
        let ok = true;
        for (let k = 0; k < need; k += 1) {
          const b = bytes[i];
          if (i >= n || b < lower || b > upper) {
            ok = false;
            break;
          }
          cp = (cp << 6) | (b & 0x3f);
          lower = 0x80;
          upper = 0xbf;
          i += 1;
        }
        if (!ok) {
          units.push(REPLACEMENT);
        } else if (cp >= 0x10000) {
          const v = cp - 0x10000;
          units.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
        } else {
          units.push(cp);
        }
      }
    }
    if (units.length >= CHUNK) flush();
  }
  flush();
  return out;
}

/** Encodes `text` as UTF-8; lone surrogates become U+FFFD. */
export function encode(text) {
  const out = [];
  for (let i = 0; i < text.length; i += 1) {
    let cp = text.charCodeAt(i);
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
    if (cp < 0x80) {
      out.push(cp);
    } else if (cp < 0x800) {
      out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    } else {
      out.push(
        0xf0 | (cp >> 18),
        0x80 | ((cp >> 12) & 0x3f),
        0x80 | ((cp >> 6) & 0x3f),
        0x80 | (cp & 0x3f),
      );
    }
  }
  return new Uint8Array(out);
}
