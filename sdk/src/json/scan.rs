//! Reading a JSON document's top level without building it.
//!
//! A request body may be as large as the gateway accepts (16 MiB by
//! default) and a plugin has a fixed memory cap (64 MiB by default): a DOM
//! of `{"messages":[0,0,0,…]}` needs about 40 bytes per element and would
//! not fit. [`walk`] checks that the whole document is valid JSON in one
//! pass and constant memory, and hands the caller each top-level member
//! (an object's key and the byte range of its value, or an array's
//! element ranges); the caller parses only the few small values it needs.
//!
//! Nesting deeper than [`MAX_DEPTH`] is refused, as `serde_json` refuses it.

use std::ops::Range;

/// Deepest nesting of arrays and objects accepted (`serde_json`'s limit).
pub const MAX_DEPTH: usize = 128;

/// Why a document is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonError {
    /// Not valid JSON; the byte offset where that became clear.
    Invalid(usize),
    /// Arrays and objects nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonError::Invalid(at) => write!(f, "not valid JSON (at byte {at})"),
            JsonError::TooDeep => write!(f, "JSON nested deeper than {MAX_DEPTH} levels"),
        }
    }
}

/// One member of the document's top level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member<'a> {
    /// An object's member: its key as written (without the quotes,
    /// escapes not decoded) and where its value lies in the document.
    Field { key: &'a [u8], value: Range<usize> },
    /// An array's element.
    Element(Range<usize>),
}

/// What the document is at its top level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Object,
    Array,
    /// A string, number, literal.
    Scalar,
}

/// Validates `doc` as one JSON value and calls `visit` with each of its
/// top-level members, in order.
pub fn walk<'a>(doc: &'a [u8], mut visit: impl FnMut(Member<'a>)) -> Result<Shape, JsonError> {
    if std::str::from_utf8(doc).is_err() {
        return Err(JsonError::Invalid(0));
    }
    let mut scanner = Scanner { doc, at: 0 };
    scanner.skip_space();
    let shape = match scanner.peek() {
        Some(b'{') => Shape::Object,
        Some(b'[') => Shape::Array,
        _ => Shape::Scalar,
    };
    if shape == Shape::Scalar {
        scanner.scalar()?;
    } else {
        scanner.container(&mut visit)?;
    }
    scanner.skip_space();
    if scanner.at != doc.len() {
        return Err(JsonError::Invalid(scanner.at));
    }
    Ok(shape)
}

/// The value ranges of the top-level object members named `names` (the
/// last one when a name repeats, as JSON parsers keep it); all `None`
/// when the document is not an object.
pub fn fields<const N: usize>(
    doc: &[u8],
    names: [&str; N],
) -> Result<[Option<Range<usize>>; N], JsonError> {
    let mut found: [Option<Range<usize>>; N] = std::array::from_fn(|_| None);
    walk(doc, |member| {
        if let Member::Field { key, value } = member
            && let Some(index) = names.iter().position(|name| key_is(key, name))
            && let Some(slot) = found.get_mut(index)
        {
            *slot = Some(value);
        }
    })?;
    Ok(found)
}

/// Whether a raw key (as written, without quotes) means `name`.
pub fn key_is(raw: &[u8], name: &str) -> bool {
    if !raw.contains(&b'\\') {
        return raw == name.as_bytes();
    }
    // An escape takes at most six bytes per character of the name.
    if raw.len() > name.len().saturating_mul(6) {
        return false;
    }
    let mut quoted = Vec::with_capacity(raw.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(raw);
    quoted.push(b'"');
    serde_json::from_slice::<String>(&quoted).is_ok_and(|key| key == name)
}

/// Whether containers are open: one bit per level, set for an object.
struct Stack {
    bits: u128,
    depth: usize,
}

impl Stack {
    fn push(&mut self, object: bool) -> Result<(), JsonError> {
        if self.depth == MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.bits = (self.bits << 1) | u128::from(object);
        self.depth += 1;
        Ok(())
    }

    fn pop(&mut self) {
        self.bits >>= 1;
        self.depth -= 1;
    }

    fn in_object(&self) -> bool {
        self.bits & 1 == 1
    }
}

struct Scanner<'a> {
    doc: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.doc.get(self.at).copied()
    }

    fn invalid<T>(&self) -> Result<T, JsonError> {
        Err(JsonError::Invalid(self.at))
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), JsonError> {
        self.skip_space();
        if self.peek() != Some(byte) {
            return self.invalid();
        }
        self.at += 1;
        Ok(())
    }

    /// A whole array or object at `at`, without recursion: members at
    /// the top level (depth 1) are reported to `visit`.
    fn container(&mut self, visit: &mut impl FnMut(Member<'a>)) -> Result<(), JsonError> {
        let mut stack = Stack { bits: 0, depth: 0 };
        // The key and start of the top-level member being read.
        let mut key: &'a [u8] = &[];
        let mut member_start = 0;
        loop {
            // At the start of a value.
            self.skip_space();
            if stack.depth == 1 {
                member_start = self.at;
            }
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    self.at += 1;
                    stack.push(open == b'{')?;
                    self.skip_space();
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.at += 1;
                        stack.pop();
                    } else {
                        if open == b'{' {
                            let read = self.key()?;
                            if stack.depth == 1 {
                                key = read;
                            }
                        }
                        continue;
                    }
                }
                _ => self.scalar()?,
            }
            // A value ended: report it at the top level, then go on to the
            // next member or close the containers that end here.
            loop {
                if stack.depth == 0 {
                    return Ok(());
                }
                if stack.depth == 1 {
                    visit(member(stack.in_object(), key, member_start..self.at));
                }
                self.skip_space();
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        if stack.in_object() {
                            let read = self.key()?;
                            if stack.depth == 1 {
                                key = read;
                            }
                        }
                        break;
                    }
                    Some(b'}') if stack.in_object() => {}
                    Some(b']') if !stack.in_object() => {}
                    _ => return self.invalid(),
                }
                self.at += 1;
                stack.pop();
            }
        }
    }

    /// `"key" :` of an object member; the key as written.
    fn key(&mut self) -> Result<&'a [u8], JsonError> {
        self.skip_space();
        if self.peek() != Some(b'"') {
            return self.invalid();
        }
        let start = self.at + 1;
        self.string()?;
        let key = self.doc.get(start..self.at - 1).unwrap_or_default();
        self.expect(b':')?;
        Ok(key)
    }

    fn scalar(&mut self) -> Result<(), JsonError> {
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.invalid(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        if !self.doc[self.at..].starts_with(word) {
            return self.invalid();
        }
        self.at += word.len();
        Ok(())
    }

    fn string(&mut self) -> Result<(), JsonError> {
        self.at += 1;
        loop {
            // Plain characters in one run: most of a document is strings.
            let rest = self.doc.get(self.at..).unwrap_or_default();
            self.at += rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(rest.len());
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.at += 1;
                        }
                        Some(b'u') => {
                            let hex = self.doc.get(self.at + 1..self.at + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return self.invalid();
                            }
                            self.at += 5;
                        }
                        _ => return self.invalid(),
                    }
                }
                Some(0x00..=0x1f) | None => return self.invalid(),
                Some(_) => self.at += 1,
            }
        }
    }

    fn number(&mut self) -> Result<(), JsonError> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return self.invalid(),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.some_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.some_digits()?;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Result<(), JsonError> {
        let start = self.at;
        self.digits();
        if self.at == start {
            return self.invalid();
        }
        Ok(())
    }
}

fn member(object: bool, key: &[u8], value: Range<usize>) -> Member<'_> {
    if object {
        Member::Field { key, value }
    } else {
        Member::Element(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(doc: &str) -> Result<(Shape, Vec<String>), JsonError> {
        let mut seen = Vec::new();
        let shape = walk(doc.as_bytes(), |m| {
            seen.push(match m {
                Member::Field { key, value } => {
                    format!("{}={}", String::from_utf8_lossy(key), &doc[value])
                }
                Member::Element(value) => doc[value].to_owned(),
            })
        })?;
        Ok((shape, seen))
    }

    #[test]
    fn top_level_members_are_reported_with_their_exact_text() {
        let (shape, seen) =
            members(r#" {"model" : "gpt-4o", "messages":[{"a":[1,{}]},[]], "n":-1.5e3, "s":{} } "#)
                .expect("valid");
        assert_eq!(shape, Shape::Object);
        assert_eq!(
            seen,
            [
                r#"model="gpt-4o""#,
                r#"messages=[{"a":[1,{}]},[]]"#,
                "n=-1.5e3",
                "s={}"
            ]
        );
        let (shape, seen) = members(r#"[1, "two", [3], {"four": 4}, null]"#).expect("valid");
        assert_eq!(shape, Shape::Array);
        assert_eq!(seen, ["1", r#""two""#, "[3]", r#"{"four": 4}"#, "null"]);
        assert_eq!(members(" true ").expect("valid"), (Shape::Scalar, vec![]));
        assert_eq!(members("{}").expect("valid"), (Shape::Object, vec![]));
        assert_eq!(members("[]").expect("valid"), (Shape::Array, vec![]));
    }

    #[test]
    fn everything_serde_json_refuses_is_refused() {
        for bad in [
            "",
            "{",
            "}",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{1:2}",
            "[1 2]",
            "01",
            "1.",
            "-",
            "1e",
            "tru",
            "nul",
            "\"\\x\"",
            "\"\\u12\"",
            "\"tab\there\"",
            "[1]]",
            "{\"a\":[}",
            "[{]}",
            "{} {}",
            "\"open",
        ] {
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).is_err(),
                "serde accepts {bad:?}"
            );
            assert!(
                matches!(walk(bad.as_bytes(), |_| {}), Err(JsonError::Invalid(_))),
                "accepted {bad:?}"
            );
        }
        assert!(walk(b"\"\xff\"", |_| {}).is_err(), "not UTF-8");
    }

    #[test]
    fn nesting_is_accepted_up_to_max_depth_and_refused_past_it() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(walk(deep(MAX_DEPTH).as_bytes(), |_| {}).is_ok());
        assert_eq!(
            walk(deep(MAX_DEPTH + 1).as_bytes(), |_| {}),
            Err(JsonError::TooDeep)
        );
        let objects = format!("{}1{}", r#"{"a":"#.repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert!(walk(objects.as_bytes(), |_| {}).is_ok());
    }

    #[test]
    fn fields_takes_the_last_of_repeated_names_and_decodes_escaped_keys() {
        let doc = br#"{"model":"a","stream":false,"m\u006fdel":"b","stream":true}"#;
        let [model, stream, missing] = fields(doc, ["model", "stream", "nope"]).expect("valid");
        assert_eq!(&doc[model.expect("model")], br#""b""#);
        assert_eq!(&doc[stream.expect("stream")], b"true");
        assert!(missing.is_none());
        let [none] = fields(br#"[{"model":"x"}]"#, ["model"]).expect("valid");
        assert!(none.is_none(), "an array has no fields");
    }

    #[test]
    fn a_huge_flat_array_is_walked_without_building_it() {
        let mut doc = String::from(r#"{"model":"gpt-4o-mini","messages":["#);
        doc.push_str(&"0,".repeat(1_000_000));
        doc.push_str("0]}");
        let [model] = fields(doc.as_bytes(), ["model"]).expect("valid");
        assert_eq!(&doc[model.expect("model")], r#""gpt-4o-mini""#);
    }
}
