//! How long files and functions are, for the size check: a file's lines
//! before its first `#[cfg(test)]` (its tests, by the house's habit, come
//! last), and every production function's lines from `fn` to its closing
//! brace.

use super::SourceFile;

/// A production file's lines before its tests (`text` is the file as
/// written).
pub fn lines_before_tests(text: &str) -> usize {
    text.lines()
        .take_while(|line| line.trim() != "#[cfg(test)]")
        .count()
}

/// One function: its name, the line it starts on (1-based) and its length
/// in lines, signature and closing brace included.
pub struct Function {
    pub name: String,
    pub line: usize,
    pub lines: usize,
}

/// Every function with a body in `file`'s production code, nested ones
/// included.
pub fn functions(file: &SourceFile) -> Vec<Function> {
    let code = &file.code;
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("fn ").map(|i| from + i) {
        from = at + 3;
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(name) = super::paths::ident(code[from..].trim_start()) else {
            continue;
        };
        let Some(open) = code[from..].find(['{', ';']).map(|i| from + i) else {
            break;
        };
        if code[open..].starts_with(';') {
            continue;
        }
        let end = open + closing_brace(&code[open..]);
        found.push(Function {
            name,
            line: code[..at].matches('\n').count() + 1,
            lines: code[at..end].matches('\n').count() + 1,
        });
    }
    found
}

/// The offset of the `}` closing the `{` that `code` starts with.
fn closing_brace(code: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in code.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    code.len()
}
