//! The classes of provider endpoint a client key is granted
//! (`endpoint_classes`): by default inference, embeddings, models and
//! token counting; files, batches, fine-tuning and other endpoints only
//! when an operator grants them. A `user` account may only narrow its
//! key's grant.

use super::ApiError;
use crate::catalog::parse_endpoint_classes;
use crate::plugins::EndpointClass;
use crate::store::entities::client_keys;

/// The classes named in an API request, each known, each once.
pub fn parse(names: &[String]) -> Result<Vec<EndpointClass>, ApiError> {
    let mut classes = Vec::with_capacity(names.len());
    for name in names {
        let class = EndpointClass::parse(name).ok_or_else(|| {
            let known: Vec<&str> = EndpointClass::ALL.iter().map(|c| c.name()).collect();
            ApiError::BadRequest(format!(
                "endpoint_classes: unknown class '{name}'; the classes are {}",
                known.join(", ")
            ))
        })?;
        if !classes.contains(&class) {
            classes.push(class);
        }
    }
    Ok(classes)
}

/// What is stored for `classes`: nothing for the default grant.
pub fn stored(classes: &[EndpointClass]) -> Option<String> {
    let mut sorted = classes.to_vec();
    sorted.sort();
    let mut default = EndpointClass::DEFAULT_GRANT.to_vec();
    default.sort();
    if sorted == default {
        return None;
    }
    let names: Vec<&str> = classes.iter().map(|c| c.name()).collect();
    serde_json::to_string(&names).ok()
}

/// The classes `row` is granted.
pub fn of(row: &client_keys::Model) -> Vec<EndpointClass> {
    parse_endpoint_classes(row.endpoint_classes.as_deref())
}

/// The names of the classes `row` is granted, for its view.
pub fn names_of(row: &client_keys::Model) -> Vec<String> {
    of(row).iter().map(|c| c.name().to_owned()).collect()
}

/// A `user` account's new grant: a subset of what it has (`current`).
pub fn check_narrowing(current: &[EndpointClass], new: &[EndpointClass]) -> Result<(), ApiError> {
    match new.iter().find(|c| !current.contains(c)) {
        Some(wider) => Err(ApiError::Refused(format!(
            "endpoint_classes: '{wider}' is not granted to this key; only an administrator grants endpoint classes"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_the_default_grant_is_stored_as_nothing() {
        let default: Vec<String> = ["models", "inference", "token_counting", "embeddings"]
            .map(String::from)
            .to_vec();
        assert_eq!(stored(&parse(&default).expect("known")), None);
        let files = parse(&["files".into(), "files".into()]).expect("known");
        assert_eq!(files, [EndpointClass::Files]);
        assert_eq!(stored(&files).as_deref(), Some(r#"["files"]"#));
        assert!(parse(&["file".into()]).is_err());
        assert_eq!(parse(&[]).expect("none"), []);
    }

    #[test]
    fn a_user_may_drop_classes_but_never_add_one() {
        let current = EndpointClass::DEFAULT_GRANT;
        assert!(check_narrowing(&current, &[EndpointClass::Inference]).is_ok());
        assert!(check_narrowing(&current, &[]).is_ok());
        assert!(check_narrowing(&current, &[EndpointClass::Files]).is_err());
    }
}
