//! What counts as running a database query, for the check that every
//! query lives under `host/src/store/`: naming one of SeaORM's query
//! traits (no `Entity::find`, `model.insert(db)`, `.filter(..)` or
//! `.count(db)` compiles without one in scope), calling a method that runs
//! SQL on a connection (`.exec(..)`, `.query_all(..)`,
//! `.execute_unprepared(..)`, ...), building a raw `Statement::..`, or
//! importing `sea_orm::prelude` (which brings the traits). Reads blanked
//! production code ([`super::blank`]), so comments and strings never
//! count; `Iterator::all` or a `HashMap::insert` never match.

/// SeaORM traits that put the query API in scope.
const QUERY_TRAITS: &[&str] = &[
    "ActiveModelTrait",
    "ConnectionTrait",
    "EntityTrait",
    "LoaderTrait",
    "ModelTrait",
    "PaginatorTrait",
    "QueryFilter",
    "QueryOrder",
    "QuerySelect",
    "QueryTrait",
    "StreamTrait",
    "TransactionTrait",
];

/// Methods that run SQL, matched only after a `.`.
const RUN_METHODS: &[&str] = &[
    "exec",
    "exec_with_returning",
    "exec_without_returning",
    "execute",
    "execute_raw",
    "execute_unprepared",
    "query_all",
    "query_all_raw",
    "query_one",
    "query_one_raw",
];

/// One place `code` reaches the query API: its line (1-based) and the
/// name that gave it away.
#[derive(Debug, PartialEq, Eq)]
pub struct QueryUse {
    pub line: usize,
    pub name: String,
}

/// Every place blanked `code` reaches the query API.
pub fn query_uses(code: &str) -> Vec<QueryUse> {
    let mut found = Vec::new();
    for (at, name) in identifiers(code) {
        let before = code[..at].trim_end();
        let after = &code[at + name.len()..];
        let hit = QUERY_TRAITS.contains(&name)
            || (before.ends_with('.') && RUN_METHODS.contains(&name))
            || (name == "Statement" && after.starts_with("::"))
            || (name == "prelude" && before.ends_with("sea_orm::"));
        if hit {
            found.push(QueryUse {
                line: code[..at].matches('\n').count() + 1,
                name: name.to_owned(),
            });
        }
    }
    found
}

/// Every identifier of `code` with its byte offset.
fn identifiers(code: &str) -> Vec<(usize, &str)> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in code.char_indices() {
        match (is_ident(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, &code[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &code[s..]));
    }
    out
}
