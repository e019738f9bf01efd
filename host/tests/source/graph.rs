//! The dependency graph between the modules of one level of `host/src`
//! (the top-level modules, or the files of one directory such as
//! `plugins/`), built from the paths each file names, and the cycles in it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::SourceFile;
use super::paths::{ModPath, absolute_paths, module_of, reexports};

/// `from` module to `to` module, with the files of `from` that name `to`.
pub type Edges = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// The graph between the direct submodules of `scope` (`[]`: the crate's
/// top-level modules; `["plugins"]`: the files of `plugins/`). A file
/// belongs to the submodule it is in; a path through a `pub use` counts as
/// a path to where the item is defined.
pub fn module_edges(files: &[SourceFile], scope: &[&str]) -> Edges {
    let scope: ModPath = scope.iter().map(|s| (*s).to_owned()).collect();
    let mut aliases = BTreeMap::new();
    for file in files {
        aliases.extend(reexports(&file.code, &module_of(&file.rel)));
    }
    let node_of = |path: &ModPath| {
        (path.len() > scope.len() && path.starts_with(&scope)).then(|| path[scope.len()].clone())
    };
    let nodes: BTreeSet<String> = files
        .iter()
        .filter_map(|f| node_of(&module_of(&f.rel)))
        .collect();
    let mut edges = Edges::new();
    for file in files {
        let module = module_of(&file.rel);
        let Some(from) = node_of(&module) else {
            continue;
        };
        for path in absolute_paths(&file.code, &module) {
            let Some(to) = node_of(&follow(path, &aliases)) else {
                continue;
            };
            if to != from && nodes.contains(&to) {
                let named = edges
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default();
                named.insert(file.rel.clone());
            }
        }
    }
    edges
}

/// `path` with every re-exported prefix replaced by what it stands for.
fn follow(mut path: ModPath, aliases: &BTreeMap<ModPath, ModPath>) -> ModPath {
    for _ in 0..8 {
        let Some(len) = (1..=path.len())
            .rev()
            .find(|&n| aliases.contains_key(&path[..n]))
        else {
            break;
        };
        let mut resolved = aliases[&path[..len]].clone();
        if resolved == path[..len] {
            break;
        }
        resolved.extend(path.drain(len..));
        path = resolved;
    }
    path
}

/// One cycle through every strongly connected group of more than one
/// module, as the modules in order (the first is not repeated at the end).
pub fn cycles(edges: &Edges) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    for start in edges.keys() {
        if seen.contains(start) {
            continue;
        }
        if let Some(cycle) = shortest_cycle(edges, start) {
            let group = reachable(edges, start);
            let back = group.iter().filter(|n| reachable(edges, n).contains(start));
            seen.extend(back.cloned());
            found.push(cycle);
        }
    }
    found
}

fn reachable(edges: &Edges, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([from.to_owned()]);
    while let Some(node) = queue.pop_front() {
        for next in edges.get(&node).into_iter().flat_map(|t| t.keys()) {
            if seen.insert(next.clone()) {
                queue.push_back(next.clone());
            }
        }
    }
    seen
}

/// The shortest path from `start` back to itself, if there is one.
fn shortest_cycle(edges: &Edges, start: &str) -> Option<Vec<String>> {
    let mut parent: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = VecDeque::from([start.to_owned()]);
    while let Some(node) = queue.pop_front() {
        for next in edges.get(&node).into_iter().flat_map(|t| t.keys()) {
            if next == start {
                let mut cycle = vec![node.clone()];
                while let Some(p) = parent.get(cycle.last()?) {
                    cycle.push(p.clone());
                }
                cycle.reverse();
                return Some(cycle);
            }
            if !parent.contains_key(next) && next != start {
                parent.insert(next.clone(), node.clone());
                queue.push_back(next.clone());
            }
        }
    }
    None
}

/// `cycle` as a line per step, with the files that make each step.
pub fn describe(cycle: &[String], edges: &Edges) -> String {
    let mut text = String::new();
    for (i, from) in cycle.iter().enumerate() {
        let to = &cycle[(i + 1) % cycle.len()];
        let files = edges
            .get(from)
            .and_then(|t| t.get(to))
            .cloned()
            .unwrap_or_default();
        let files: Vec<_> = files.into_iter().collect();
        text.push_str(&format!("  {from} -> {to}   ({})\n", files.join(", ")));
    }
    text
}
