//! The module paths a piece of blanked code names, resolved to absolute
//! paths from the crate root: `crate::catalog::Catalog`, `use crate::{oauth::
//! x, health}` (two paths), `super::state::PluginState` from
//! `plugins/instance.rs` (`plugins::state::PluginState`), and `pub use`
//! re-exports followed to where the item is defined. What the module graph
//! is built from.

use std::collections::BTreeMap;

/// A module or item path from the crate root, one segment each.
pub type ModPath = Vec<String>;

/// The module path of the file `rel` (a path under `src`, with `/`):
/// `plugins/instance.rs` is `plugins::instance`, `plugins/mod.rs` and
/// `lib.rs` are the module of their directory.
pub fn module_of(rel: &str) -> ModPath {
    let mut parts: ModPath = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Every path in `code` (the code of the module `module`) that starts with
/// `crate::`, `super::` or `self::`, resolved to an absolute path, braces
/// expanded (`use crate::a::{b, c::d}` is `a::b` and `a::c::d`).
pub fn absolute_paths(code: &str, module: &[String]) -> Vec<ModPath> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        let starts = ["crate::", "super::", "self::"]
            .iter()
            .any(|p| code[i..].starts_with(p));
        let joined = i > 0
            && (bytes[i - 1].is_ascii_alphanumeric() || matches!(bytes[i - 1], b'_' | b'$' | b':'));
        if starts && !joined {
            let mut leaves = Vec::new();
            i = parse_tree(code, i, Vec::new(), &mut leaves);
            out.extend(leaves.into_iter().filter_map(|p| resolve(&p, module)));
        } else {
            i += code[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

/// Parses the path tree at `at`, pushing every leaf path (prefixed with
/// `base`) to `leaves`; returns where the tree ends. A leaf renamed with
/// `as` ends in the segments `as` and its new name.
fn parse_tree(
    code: &str,
    mut at: usize,
    mut base: Vec<String>,
    leaves: &mut Vec<Vec<String>>,
) -> usize {
    loop {
        at = skip_space(code, at);
        if code[at..].starts_with('{') {
            at += 1;
            loop {
                at = skip_space(code, at);
                if code[at..].starts_with('}') {
                    return at + 1;
                }
                at = skip_space(code, parse_tree(code, at, base.clone(), leaves));
                match code[at..].chars().next() {
                    Some(',') => at += 1,
                    Some('}') => return at + 1,
                    _ => return at,
                }
            }
        }
        let Some(word) = ident(&code[at..]) else {
            return at;
        };
        at += word.len();
        base.push(word);
        let next = skip_space(code, at);
        if code[next..].starts_with("::") {
            at = next + 2;
            continue;
        }
        if code[next..].starts_with("as ") {
            let alias_at = skip_space(code, next + 2);
            if let Some(alias) = ident(&code[alias_at..]) {
                at = alias_at + alias.len();
                base.extend(["as".to_owned(), alias]);
            }
        }
        leaves.push(base);
        return at;
    }
}

fn skip_space(code: &str, at: usize) -> usize {
    code.len() - code[at..].trim_start().len()
}

/// `path` as written in module `module`, from the crate root.
fn resolve(path: &[String], module: &[String]) -> Option<ModPath> {
    let mut abs: ModPath = Vec::new();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => rest = &path[1..],
        Some("self") => {
            abs = module.to_vec();
            rest = &path[1..];
        }
        _ => {
            abs = module.to_vec();
            while rest.first().is_some_and(|s| s == "super") {
                abs.pop()?;
                rest = &rest[1..];
            }
        }
    }
    let end = rest.iter().position(|s| s == "as").unwrap_or(rest.len());
    abs.extend(rest[..end].iter().filter(|s| *s != "self").cloned());
    Some(abs)
}

/// The identifier `text` starts with, if any.
pub fn ident(text: &str) -> Option<String> {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let word = &text[..end];
    (!word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit())).then(|| word.to_owned())
}

/// The `pub use` re-exports of a module: the name it exports, to the path
/// it stands for (`pub use loaded::LoadedPlugin` in `plugins` maps
/// `plugins::LoadedPlugin` to `plugins::loaded::LoadedPlugin`).
pub fn reexports(code: &str, module: &[String]) -> BTreeMap<ModPath, ModPath> {
    let mut out = BTreeMap::new();
    for stmt in code.split(';') {
        let stmt = stmt.trim();
        let Some(tree) = stmt
            .strip_prefix("pub use ")
            .or_else(|| stmt.strip_prefix("pub(crate) use "))
        else {
            continue;
        };
        let mut leaves = Vec::new();
        parse_tree(tree, 0, Vec::new(), &mut leaves);
        for leaf in leaves {
            let name = leaf.last().cloned().unwrap_or_default();
            let leaf = match leaf.iter().position(|s| s == "as") {
                Some(end) => leaf[..end].to_vec(),
                None => leaf,
            };
            let target: ModPath = match leaf.first().map(String::as_str) {
                Some("crate" | "super" | "self") => match resolve(&leaf, module) {
                    Some(t) => t,
                    None => continue,
                },
                _ => module.iter().chain(&leaf).cloned().collect(),
            };
            let mut from = module.to_vec();
            from.push(name);
            out.insert(from, target);
        }
    }
    out
}
