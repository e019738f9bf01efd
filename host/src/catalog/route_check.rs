//! The configuration-time check of a client key's routes: a set of
//! providers is accepted only when every request reaches at most one of
//! them, so that the proxy never has to guess ([`super::routes`]).
//!
//! Two routes without a path prefix whose plugins declare endpoints that
//! may overlap (same method or `*`, path patterns that may match one path)
//! share a shape: at most one of them may go without model prefixes (that
//! one takes the models nobody claims). Model prefixes may not overlap
//! between routes; path prefixes must differ and may not shadow a path any
//! of the key's plugins declares (`v1`). The overlap test of two path
//! patterns errs on the side of "may overlap": a false alarm asks the
//! operator for a prefix, a miss would let a request be guessed.

use crate::plugins::Endpoint;

/// Most providers one client key may use.
pub const MAX_ROUTES: usize = 16;

/// A route as the check needs it.
pub struct RouteSpec<'a> {
    /// The provider's name, for messages.
    pub provider: &'a str,
    pub path_prefix: Option<&'a str>,
    pub model_prefixes: &'a [String],
    /// What the provider's plugin declares; `None`: nothing (a plugin
    /// built before the `endpoints` interface, or not loaded).
    pub endpoints: Option<&'a [Endpoint]>,
}

/// A set of routes in which a request could reach two providers, or none
/// could be reached by its shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteConflict {
    #[error("at most {MAX_ROUTES} providers per client key")]
    TooMany,
    #[error("provider '{0}' is listed twice")]
    DuplicateProvider(String),
    #[error("providers '{0}' and '{1}' have the same path prefix '{2}'")]
    DuplicatePrefix(String, String, String),
    #[error(
        "path prefix '{prefix}' of provider '{provider}' would hide {method} {path}, which provider '{owner}' serves"
    )]
    PrefixShadows {
        prefix: String,
        provider: String,
        owner: String,
        method: String,
        path: String,
    },
    #[error(
        "model prefix '{0}' of provider '{1}' and model prefix '{2}' of provider '{3}' overlap: a model could match both"
    )]
    ModelPrefixes(String, String, String, String),
    #[error(
        "provider '{0}' has model prefixes and a path prefix: its path prefix alone picks it, give it one or the other"
    )]
    BothPrefixes(String),
    #[error(
        "provider '{0}' declares no endpoints (its plugin predates the endpoints interface or is not loaded): give it a path prefix"
    )]
    NoShape(String),
    #[error(
        "providers '{a}' and '{b}' both serve {method} {path}: give one of them a path prefix or model prefixes"
    )]
    SharedShape {
        a: String,
        b: String,
        method: String,
        path: String,
    },
}

/// Accepts `routes` when every request reaches at most one of them.
pub fn check(routes: &[RouteSpec<'_>]) -> Result<(), RouteConflict> {
    if routes.len() > MAX_ROUTES {
        return Err(RouteConflict::TooMany);
    }
    for (i, a) in routes.iter().enumerate() {
        if a.path_prefix.is_some() && !a.model_prefixes.is_empty() {
            return Err(RouteConflict::BothPrefixes(a.provider.to_owned()));
        }
        if a.path_prefix.is_none() && a.endpoints.is_none_or(<[Endpoint]>::is_empty) {
            return Err(RouteConflict::NoShape(a.provider.to_owned()));
        }
        if let Some(prefix) = a.path_prefix {
            check_shadowing(a.provider, prefix, routes)?;
        }
        for b in routes.iter().skip(i + 1) {
            check_pair(a, b)?;
        }
    }
    Ok(())
}

fn check_pair(a: &RouteSpec<'_>, b: &RouteSpec<'_>) -> Result<(), RouteConflict> {
    if a.provider == b.provider {
        return Err(RouteConflict::DuplicateProvider(a.provider.to_owned()));
    }
    if let (Some(pa), Some(pb)) = (a.path_prefix, b.path_prefix)
        && pa == pb
    {
        return Err(RouteConflict::DuplicatePrefix(
            a.provider.to_owned(),
            b.provider.to_owned(),
            pa.to_owned(),
        ));
    }
    for ma in a.model_prefixes {
        if let Some(mb) = b
            .model_prefixes
            .iter()
            .find(|mb| ma.starts_with(mb.as_str()) || mb.starts_with(ma.as_str()))
        {
            return Err(RouteConflict::ModelPrefixes(
                ma.clone(),
                a.provider.to_owned(),
                mb.clone(),
                b.provider.to_owned(),
            ));
        }
    }
    let by_shape = a.path_prefix.is_none() && b.path_prefix.is_none();
    let no_models = a.model_prefixes.is_empty() && b.model_prefixes.is_empty();
    if by_shape
        && no_models
        && let Some((ea, eb)) = first_overlap(a.endpoints, b.endpoints)
    {
        let method = if ea.method == "*" {
            &eb.method
        } else {
            &ea.method
        };
        return Err(RouteConflict::SharedShape {
            a: a.provider.to_owned(),
            b: b.provider.to_owned(),
            method: method.clone(),
            path: shorter(&ea.path, &eb.path).to_owned(),
        });
    }
    Ok(())
}

/// Refuses a path prefix equal to (or matched by) the first segment of an
/// endpoint any route declares.
fn check_shadowing(
    provider: &str,
    prefix: &str,
    routes: &[RouteSpec<'_>],
) -> Result<(), RouteConflict> {
    for owner in routes {
        for e in owner.endpoints.unwrap_or_default() {
            let first = e.path.trim_start_matches('/').split('/').next();
            if first.is_some_and(|seg| segments_may_overlap(seg, prefix) || seg == "**") {
                return Err(RouteConflict::PrefixShadows {
                    prefix: prefix.to_owned(),
                    provider: provider.to_owned(),
                    owner: owner.provider.to_owned(),
                    method: e.method.clone(),
                    path: e.path.clone(),
                });
            }
        }
    }
    Ok(())
}

fn first_overlap<'a>(
    a: Option<&'a [Endpoint]>,
    b: Option<&'a [Endpoint]>,
) -> Option<(&'a Endpoint, &'a Endpoint)> {
    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
    a.iter().find_map(|ea| {
        b.iter()
            .find(|eb| {
                methods_overlap(&ea.method, &eb.method) && paths_may_overlap(&ea.path, &eb.path)
            })
            .map(|eb| (ea, eb))
    })
}

fn shorter<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.len() <= b.len() { a } else { b }
}

fn methods_overlap(a: &str, b: &str) -> bool {
    a == "*" || b == "*" || a.eq_ignore_ascii_case(b)
}

/// Whether some path may match both patterns (the plugins' endpoint
/// syntax: `*` within a segment, a last segment `**` for any further
/// segments).
pub fn paths_may_overlap(a: &str, b: &str) -> bool {
    let mut a = a.trim_start_matches('/').split('/');
    let mut b = b.trim_start_matches('/').split('/');
    loop {
        match (a.next(), b.next()) {
            (Some("**"), _) | (_, Some("**")) => return true,
            (None, None) => return true,
            (Some(x), Some(y)) if segments_may_overlap(x, y) => {}
            _ => return false,
        }
    }
}

/// Whether some segment may match both segment patterns: equal literals,
/// or, with a `*`, literal heads and tails that agree (one a prefix, resp.
/// suffix, of the other). Never wrong about "no".
fn segments_may_overlap(a: &str, b: &str) -> bool {
    if !a.contains('*') && !b.contains('*') {
        return a == b;
    }
    let head = |s: &str| s.split('*').next().unwrap_or_default().to_owned();
    let tail = |s: &str| s.rsplit('*').next().unwrap_or_default().to_owned();
    let (ha, hb, ta, tb) = (head(a), head(b), tail(a), tail(b));
    let heads = ha.starts_with(&hb) || hb.starts_with(&ha);
    let tails = ta.ends_with(&tb) || tb.ends_with(&ta);
    // A literal must itself fit the other's head and tail.
    heads && tails
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::EndpointClass;

    fn ep(method: &str, path: &str) -> Endpoint {
        Endpoint {
            method: method.to_owned(),
            path: path.to_owned(),
            class: EndpointClass::Inference,
        }
    }

    fn openai() -> Vec<Endpoint> {
        vec![
            ep("POST", "/v1/chat/completions"),
            ep("GET", "/v1/models"),
            ep("GET", "/v1/models/*"),
            ep("*", "/v1/files/**"),
        ]
    }
    fn anthropic() -> Vec<Endpoint> {
        vec![
            ep("POST", "/v1/messages"),
            ep("GET", "/v1/models"),
            ep("*", "/v1/files/**"),
        ]
    }
    fn gemini() -> Vec<Endpoint> {
        vec![
            ep("POST", "/v1beta/models/*:generateContent"),
            ep("POST", "/v1/models/*:generateContent"),
            ep("GET", "/v1beta/models"),
        ]
    }

    fn spec<'a>(
        provider: &'a str,
        prefix: Option<&'a str>,
        models: &'a [String],
        endpoints: &'a [Endpoint],
    ) -> RouteSpec<'a> {
        RouteSpec {
            provider,
            path_prefix: prefix,
            model_prefixes: models,
            endpoints: Some(endpoints),
        }
    }

    #[test]
    fn providers_of_distinct_shapes_are_accepted() {
        let (o, g) = (openai(), gemini());
        assert_eq!(
            check(&[spec("openai", None, &[], &o), spec("gemini", None, &[], &g)]),
            Ok(())
        );
    }

    #[test]
    fn two_providers_serving_one_path_without_rules_are_refused_naming_it() {
        let (o, a) = (openai(), anthropic());
        let refused = check(&[
            spec("openai", None, &[], &o),
            spec("anthropic", None, &[], &a),
        ]);
        let Err(RouteConflict::SharedShape {
            a: x,
            b: y,
            method,
            path,
        }) = refused
        else {
            panic!("{refused:?}");
        };
        assert_eq!((x.as_str(), y.as_str()), ("openai", "anthropic"));
        assert_eq!((method.as_str(), path.as_str()), ("GET", "/v1/models"));
    }

    #[test]
    fn a_path_prefix_or_model_prefixes_separate_a_shared_shape() {
        let (o, d) = (openai(), openai());
        let models = vec!["deepseek-".to_owned()];
        assert_eq!(
            check(&[
                spec("openai", None, &[], &o),
                spec("deepseek", Some("deepseek"), &[], &d)
            ]),
            Ok(())
        );
        assert_eq!(
            check(&[
                spec("openai", None, &[], &o),
                spec("deepseek", None, &models, &d)
            ]),
            Ok(())
        );
    }

    #[test]
    fn overlapping_model_prefixes_are_refused() {
        let (o, d) = (openai(), openai());
        let (a, b) = (vec!["gpt-".to_owned()], vec!["gpt-4".to_owned()]);
        let refused = check(&[spec("openai", None, &a, &o), spec("deepseek", None, &b, &d)]);
        assert!(
            matches!(refused, Err(RouteConflict::ModelPrefixes(..))),
            "{refused:?}"
        );
    }

    #[test]
    fn path_prefixes_must_differ_and_not_hide_a_declared_path() {
        let (o, d) = (openai(), openai());
        let same = check(&[spec("a", Some("x"), &[], &o), spec("b", Some("x"), &[], &d)]);
        assert!(
            matches!(same, Err(RouteConflict::DuplicatePrefix(..))),
            "{same:?}"
        );
        let hides = check(&[spec("a", None, &[], &o), spec("b", Some("v1"), &[], &d)]);
        assert!(
            matches!(hides, Err(RouteConflict::PrefixShadows { .. })),
            "{hides:?}"
        );
    }

    #[test]
    fn a_provider_declaring_nothing_needs_a_path_prefix() {
        let o = openai();
        let bare = RouteSpec {
            provider: "old",
            path_prefix: None,
            model_prefixes: &[],
            endpoints: None,
        };
        let refused = check(&[spec("openai", None, &[], &o), bare]);
        assert_eq!(refused, Err(RouteConflict::NoShape("old".into())));
    }

    #[test]
    fn the_number_of_routes_is_bounded_at_its_limit() {
        let e = openai();
        let names: Vec<String> = (0..=MAX_ROUTES).map(|i| format!("p{i}")).collect();
        let prefixes: Vec<String> = (0..=MAX_ROUTES).map(|i| format!("x{i}")).collect();
        let mut specs: Vec<RouteSpec<'_>> = (0..MAX_ROUTES)
            .map(|i| spec(&names[i], Some(prefixes[i].as_str()), &[], &e))
            .collect();
        assert_eq!(check(&specs), Ok(()));
        specs.push(spec(
            &names[MAX_ROUTES],
            Some(prefixes[MAX_ROUTES].as_str()),
            &[],
            &e,
        ));
        assert_eq!(check(&specs), Err(RouteConflict::TooMany));
    }

    #[test]
    fn pattern_overlap_never_misses() {
        assert!(paths_may_overlap(
            "/v1/models/*",
            "/v1/models/*:generateContent"
        ));
        assert!(paths_may_overlap("/v1/files/**", "/v1/files"));
        assert!(paths_may_overlap("/v1/files/**", "/v1/files/a/b"));
        assert!(!paths_may_overlap("/v1/models", "/v1/messages"));
        assert!(!paths_may_overlap(
            "/v1/models/*:countTokens",
            "/v1/models/*:generateContent"
        ));
        assert!(!paths_may_overlap("/v1/models/*", "/v1/models"));
    }
}
