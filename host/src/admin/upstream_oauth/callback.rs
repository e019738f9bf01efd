//! What comes back from a provider's authorization page, as the operator
//! hands it over: the callback URL, or the code and state (a pasted
//! `code#state` is split), each bounded; and the check a redirect URI must
//! pass.

use serde::Deserialize;
use utoipa::ToSchema;

use super::super::ApiError;

/// Longest callback URL, code or state accepted.
pub const MAX_CALLBACK_CHARS: usize = 8 * 1024;

pub(super) fn check_http_url(name: &str, url: &str) -> Result<(), ApiError> {
    let ok = url.len() <= MAX_CALLBACK_CHARS
        && oauth2::url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "{name} must be an absolute http(s) URL"
        )))
    }
}

/// The end of an authorization: the URL the provider redirected to, or
/// the code and state (a pasted `code#state` is split).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeInput {
    pub(super) callback_url: Option<String>,
    pub(super) code: Option<String>,
    pub(super) state: Option<String>,
}

/// What the callback carried.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Callback {
    Code {
        code: String,
        state: String,
    },
    Denied {
        error: String,
        state: Option<String>,
    },
}

pub(super) fn parse_callback(input: ExchangeInput) -> Result<Callback, ApiError> {
    let too_long = [&input.callback_url, &input.code, &input.state]
        .iter()
        .any(|v| v.as_ref().is_some_and(|v| v.len() > MAX_CALLBACK_CHARS));
    if too_long {
        return Err(ApiError::BadRequest(format!(
            "callback_url, code and state must be at most {MAX_CALLBACK_CHARS} characters"
        )));
    }
    if let Some(url) = input.callback_url {
        let url = oauth2::url::Url::parse(url.trim())
            .map_err(|_| ApiError::BadRequest("callback_url is not a URL".into()))?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if let Some(error) = param("error") {
            return Ok(Callback::Denied {
                error,
                state: param("state"),
            });
        }
        return match (param("code"), param("state")) {
            (Some(code), Some(state)) => Ok(Callback::Code { code, state }),
            _ => Err(ApiError::BadRequest(
                "callback_url carries no code and state".into(),
            )),
        };
    }
    let code = input
        .code
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            ApiError::BadRequest("callback_url, or code and state, are required".into())
        })?;
    match (code.split_once('#'), input.state) {
        (_, Some(state)) => Ok(Callback::Code {
            code: code.split('#').next().unwrap_or_default().to_owned(),
            state,
        }),
        (Some((code, state)), None) => Ok(Callback::Code {
            code: code.to_owned(),
            state: state.to_owned(),
        }),
        (None, None) => Err(ApiError::BadRequest("state is required".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(url: Option<&str>, code: Option<&str>, state: Option<&str>) -> ExchangeInput {
        ExchangeInput {
            callback_url: url.map(Into::into),
            code: code.map(Into::into),
            state: state.map(Into::into),
        }
    }

    fn code(code: &str, state: &str) -> Callback {
        Callback::Code {
            code: code.into(),
            state: state.into(),
        }
    }

    #[test]
    fn a_callback_url_gives_code_and_state_or_the_denial() {
        let got = parse_callback(input(Some("http://x/cb?code=c1&state=s1"), None, None));
        assert_eq!(got.ok(), Some(code("c1", "s1")));
        let got = parse_callback(input(
            Some("http://x/cb?error=access_denied&state=s1"),
            None,
            None,
        ));
        assert_eq!(
            got.ok(),
            Some(Callback::Denied {
                error: "access_denied".into(),
                state: Some("s1".into())
            })
        );
        assert!(parse_callback(input(Some("http://x/cb?code=c1"), None, None)).is_err());
        assert!(parse_callback(input(Some("not a url"), None, None)).is_err());
    }

    #[test]
    fn a_pasted_code_may_carry_its_state_after_a_hash() {
        assert_eq!(
            parse_callback(input(None, Some("c1#s1"), None)).ok(),
            Some(code("c1", "s1"))
        );
        assert_eq!(
            parse_callback(input(None, Some(" c1 "), Some("s1"))).ok(),
            Some(code("c1", "s1"))
        );
        assert!(parse_callback(input(None, Some("c1"), None)).is_err());
        assert!(parse_callback(input(None, None, None)).is_err());
    }

    #[test]
    fn callback_parts_are_bounded() {
        let long = "c".repeat(MAX_CALLBACK_CHARS + 1);
        assert!(parse_callback(input(None, Some(&long), Some("s"))).is_err());
        let at_limit = "c".repeat(MAX_CALLBACK_CHARS);
        assert!(parse_callback(input(None, Some(&at_limit), Some("s"))).is_ok());
    }
}
