//! Masking upstream credentials in the error answers the gateway relays.
//!
//! Providers quote the key they were sent when they refuse it ("Incorrect
//! API key provided: sk-abc1***wxyz"). The client must not learn any part
//! of the upstream key, so before an error answer (status >= 400) is
//! passed on, every run of bytes that is made of pieces of the secret at
//! least [`MIN_MASKED_RUN`] long, and every masked-key-looking fragment
//! (`sk-` followed by visible characters, a run of `*`, `.` or `…`, and
//! visible characters), is overwritten with `*`. The length never changes,
//! so the answer's `content-length` stays right. Error bodies are read up
//! to a bounded size first, which keeps this cheap; successful answers and
//! streams are never touched.

use std::collections::HashSet;

/// Shortest piece of the secret that is masked wherever it appears.
pub const MIN_MASKED_RUN: usize = 4;

/// What replaces every masked byte.
const MASK: u8 = b'*';

/// Masks, in place, every part of `body` that quotes `secret` (runs of at
/// least [`MIN_MASKED_RUN`] bytes) or looks like a masked key.
pub fn mask_credentials(body: &mut [u8], secret: &[u8]) {
    mask_secret_runs(body, secret);
    mask_key_fragments(body);
}

/// Every window of `MIN_MASKED_RUN` bytes of `body` that also occurs in
/// `secret` is masked; overlapping windows make longer runs.
fn mask_secret_runs(body: &mut [u8], secret: &[u8]) {
    if secret.len() < MIN_MASKED_RUN || body.len() < MIN_MASKED_RUN {
        return;
    }
    let windows: HashSet<&[u8]> = secret.windows(MIN_MASKED_RUN).collect();
    // Marked first, masked after: a masked byte must not hide the next window.
    let mut masked_until = 0;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (start, window) in body.windows(MIN_MASKED_RUN).enumerate() {
        if windows.contains(window) {
            let end = start + MIN_MASKED_RUN;
            match runs.last_mut() {
                Some(last) if start <= masked_until => last.1 = end,
                _ => runs.push((start, end)),
            }
            masked_until = end;
        }
    }
    for (start, end) in runs {
        body[start..end].fill(MASK);
    }
}

/// Masks fragments shaped like a provider's masked key: `sk-`, key
/// characters, a run of `*`, `.` or `…`, then key characters.
fn mask_key_fragments(body: &mut [u8]) {
    let mut from = 0;
    while let Some(offset) = find(&body[from..], b"sk-") {
        let start = from + offset;
        let mut at = start + 3;
        at += body[at..].iter().take_while(|b| is_key_char(**b)).count();
        let stars = masking_run(&body[at..]);
        let tail = body[at + stars..]
            .iter()
            .take_while(|b| is_key_char(**b))
            .count();
        let end = at + stars + tail;
        if stars > 0 && tail > 0 {
            body[start..end].fill(MASK);
        }
        from = end.max(start + 1);
    }
}

/// Length of the run of `*`, `.` and `…` (UTF-8 `E2 80 A6`) at the start.
fn masking_run(bytes: &[u8]) -> usize {
    let mut at = 0;
    loop {
        match bytes.get(at..) {
            Some([b'*' | b'.', ..]) => at += 1,
            Some([0xE2, 0x80, 0xA6, ..]) => at += 3,
            _ => return at,
        }
    }
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(body: &str, secret: &str) -> String {
        let mut bytes = body.as_bytes().to_vec();
        mask_credentials(&mut bytes, secret.as_bytes());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn whole_secret_in_an_error_body_is_masked_keeping_the_length() {
        let body = r#"{"error":"Incorrect API key provided: sk-live-0123456789abcdef."}"#;
        let out = masked(body, "sk-live-0123456789abcdef");
        assert_eq!(out.len(), body.len());
        assert!(!out.contains("0123"), "{out}");
        assert!(out.contains("Incorrect API key provided: ************************."));
    }

    #[test]
    fn pieces_of_four_bytes_are_masked_and_of_three_are_not() {
        let secret = "sk-live-0123456789abcdef";
        assert_eq!(masked("tail cdef!", secret), "tail ****!");
        assert_eq!(masked("tail def!", secret), "tail def!");
        assert_eq!(masked("start sk-l and", secret), "start **** and");
    }

    #[test]
    fn masked_key_fragments_are_masked_even_when_they_differ_from_the_secret() {
        let out = masked(
            "Incorrect API key provided: sk-proj-ab**********wxyz. Or sk-…9f3e.",
            "unrelated-secret",
        );
        assert!(!out.contains("wxyz") && !out.contains("9f3e"), "{out}");
        assert!(!out.contains("sk-"), "{out}");
        assert!(out.starts_with("Incorrect API key provided: "));
    }

    #[test]
    fn text_without_key_material_is_left_alone() {
        let body = "The model is overloaded; see scikit sk-image. Try again.";
        assert_eq!(masked(body, "sk-live-0123456789abcdef"), body);
    }
}
