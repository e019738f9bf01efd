//! Reading `host/src` as code for the shape checks (`module_graph.rs`):
//! every `.rs` file with its comments and the contents of its string and
//! character literals blanked, and its `#[cfg(test)]` items (and the files
//! they declare with `mod name;`) left out, so that what the checks see is
//! production code only. Not a Rust parser: it knows literals, comments,
//! braces and attributes, which is all the checks need.

pub mod graph;
pub mod paths;
pub mod query;
pub mod size;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// One production source file: its path under `host/src` (with `/`) and
/// its code with comments and literal contents blanked, test items removed.
pub struct SourceFile {
    pub rel: String,
    pub code: String,
}

/// The directory the checks read.
pub fn src_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every production `.rs` file under `root`, sorted by path.
pub fn production_files(root: &Path) -> Vec<SourceFile> {
    let mut paths = Vec::new();
    collect(root, &mut paths);
    paths.sort();
    let mut test_only = BTreeSet::new();
    let mut files = Vec::new();
    for path in paths {
        let text = fs::read_to_string(&path).expect("read a source file");
        let (code, test_mods) = production_code(&blank(&text));
        let dir = module_dir(&path);
        test_only.extend(test_mods.iter().map(|m| dir.join(format!("{m}.rs"))));
        test_only.extend(test_mods.iter().map(|m| dir.join(m)));
        let rel = path.strip_prefix(root).expect("under root");
        files.push((path.clone(), rel.to_string_lossy().replace('\\', "/"), code));
    }
    files
        .into_iter()
        .filter(|(path, _, _)| !test_only.iter().any(|t| path.starts_with(t)))
        .map(|(_, rel, code)| SourceFile { rel, code })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Where the files of the modules `path` declares live: its own directory
/// for `mod.rs` and `lib.rs`, else a directory named after it.
fn module_dir(path: &Path) -> PathBuf {
    let parent = path.parent().unwrap_or(Path::new("")).to_path_buf();
    match path.file_stem().and_then(|s| s.to_str()) {
        Some("mod" | "lib" | "main") | None => parent,
        Some(stem) => parent.join(stem),
    }
}

/// `text` with comments removed and the insides of string, raw string,
/// byte string and character literals dropped (the quotes stay), so that
/// braces and paths in them are not seen as code. Line breaks are kept.
pub fn blank(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                out.extend((chars[i] == '\n').then_some('\n'));
                i += 1;
            }
            i += 2;
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            let end = skip_raw_string(&chars, i, hashes);
            out.push_str("\"\"");
            out.extend(chars[i..end].iter().filter(|&&c| c == '\n'));
            i = end;
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
            out.extend(
                chars[start..i.min(chars.len())]
                    .iter()
                    .filter(|&&c| c == '\n'),
            );
        } else if c == '\'' && is_char_literal(&chars, i) {
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The number of `#` of a raw string literal starting at `i` (`r"`,
/// `r#"`, `br##"`, ...), `None` when none starts there.
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    let ident_before = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if ident_before || chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    (chars.get(j + hashes) == Some(&'"')).then_some(hashes)
}

fn skip_raw_string(chars: &[char], start: usize, hashes: usize) -> usize {
    let mut i = start;
    while chars[i] != '"' {
        i += 1;
    }
    i += 1;
    while i < chars.len() {
        if chars[i] == '"'
            && chars[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

/// A `'` that opens a character literal (`'x'`, `'\n'`, `'\u{7f}'`), not a
/// lifetime or a label.
fn is_char_literal(chars: &[char], i: usize) -> bool {
    match chars.get(i + 1) {
        Some('\\') => true,
        Some(_) => chars.get(i + 2) == Some(&'\''),
        None => false,
    }
}

/// Blanked `code` without its `#[cfg(test)]` items, and the names of the
/// modules such items declare by file (`#[cfg(test)] mod tests;`).
pub fn production_code(code: &str) -> (String, Vec<String>) {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::new();
    let mut test_mods = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        let item = &rest[at + MARK.len()..];
        let end = item_end(item);
        let head = item[..end].split_whitespace().collect::<Vec<_>>();
        if let [.., "mod", name] = head.as_slice()
            && let Some(name) = name.strip_suffix(';')
        {
            test_mods.push(name.to_owned());
        }
        out.extend(item[..end].chars().filter(|&c| c == '\n'));
        rest = &item[end..];
    }
    out.push_str(rest);
    (out, test_mods)
}

/// The length of the item at the start of `code`: up to its first `;` when
/// that comes before any `{`, else to the brace that closes its body.
fn item_end(code: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in code.char_indices() {
        match c {
            ';' if depth == 0 => return i + 1,
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    code.len()
}
