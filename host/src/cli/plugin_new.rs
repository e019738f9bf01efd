//! `ai-proxy plugin new NAME [--like openai|anthropic|gemini] [--lang
//! rust|js] [--sdk PATH] [--dir PATH]`: a standalone plugin project that
//! builds, passes its unit tests and passes `plugin check` with its own
//! samples as generated, so an author starts from something that works
//! and changes it one expectation at a time.
//!
//! The SDKs are not published: the project names the SDK by path, by
//! default the one in the source tree this binary was built from (baked
//! in at build time), or `--sdk PATH`.

use std::path::{Path, PathBuf};

/// The Rust SDK of the source tree this binary was built from.
pub const DEFAULT_RUST_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk");
/// The JavaScript SDK of that source tree.
pub const DEFAULT_JS_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/js/sdk");
/// The longest plugin name (the gateway's limit on `info().name`).
pub const MAX_NAME_CHARS: usize = 64;

/// The contract, copied into JavaScript projects (componentize-qjs
/// compiles against it).
const WIT: &str = include_str!("../../../wit/provider.wit");

/// Which built-in provider the skeleton copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Like {
    OpenAi,
    Anthropic,
    Gemini,
}

/// The plugin's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Rust,
    Js,
}

/// What `plugin new` was asked for.
#[derive(Debug, Clone)]
pub struct NewOptions {
    pub name: String,
    pub like: Like,
    pub lang: Lang,
    pub sdk: Option<PathBuf>,
    pub dir: Option<PathBuf>,
}

/// Why a project was not written.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    #[error(
        "plugin name {0:?}: 1 to {MAX_NAME_CHARS} characters of a-z, 0-9 and '-', starting with a letter"
    )]
    BadName(String),
    #[error("{0} exists and is not empty; choose another --dir")]
    Exists(PathBuf),
    #[error("no SDK at {0} ({1}); pass --sdk PATH to an ai-proxy checkout's {2}")]
    NoSdk(PathBuf, std::io::Error, &'static str),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

fn valid_name(name: &str) -> bool {
    name.len() <= MAX_NAME_CHARS
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `acme-chat` becomes `AcmeChat`, the provider's type name.
fn type_name(name: &str) -> String {
    name.split('-')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

fn like_name(like: Like) -> &'static str {
    match like {
        Like::OpenAi => "openai",
        Like::Anthropic => "anthropic",
        Like::Gemini => "gemini",
    }
}

/// The sample files of `like` (case files and the stream they name).
fn samples(like: Like) -> [(&'static str, &'static str); 4] {
    macro_rules! of {
        ($dir:literal) => {
            [
                (
                    "samples/chat.json",
                    include_str!(concat!("templates/samples/", $dir, "/chat.json")),
                ),
                (
                    "samples/chat_stream.json",
                    include_str!(concat!("templates/samples/", $dir, "/chat_stream.json")),
                ),
                (
                    "samples/chat_stream.sse",
                    include_str!(concat!("templates/samples/", $dir, "/chat_stream.sse")),
                ),
                (
                    "samples/rate_limited.json",
                    include_str!(concat!("templates/samples/", $dir, "/rate_limited.json")),
                ),
            ]
        };
    }
    match like {
        Like::OpenAi => of!("openai"),
        Like::Anthropic => of!("anthropic"),
        Like::Gemini => of!("gemini"),
    }
}

/// The project's files, before placeholders are filled in.
fn files(like: Like, lang: Lang) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = match lang {
        Lang::Rust => vec![
            ("Cargo.toml", include_str!("templates/rust/Cargo.toml.tmpl")),
            (".gitignore", include_str!("templates/rust/gitignore.tmpl")),
            ("README.md", include_str!("templates/rust/README.md.tmpl")),
            (
                "src/lib.rs",
                match like {
                    Like::OpenAi => include_str!("templates/rust/openai.rs.tmpl"),
                    Like::Anthropic => include_str!("templates/rust/anthropic.rs.tmpl"),
                    Like::Gemini => include_str!("templates/rust/gemini.rs.tmpl"),
                },
            ),
        ],
        Lang::Js => vec![
            (
                "package.json",
                include_str!("templates/js/package.json.tmpl"),
            ),
            (".npmrc", include_str!("templates/js/npmrc.tmpl")),
            (".gitignore", include_str!("templates/js/gitignore.tmpl")),
            ("README.md", include_str!("templates/js/README.md.tmpl")),
            ("src/index.js", include_str!("templates/js/index.js.tmpl")),
            (
                "src/provider.js",
                match like {
                    Like::OpenAi => include_str!("templates/js/provider-openai.js.tmpl"),
                    Like::Anthropic => include_str!("templates/js/provider-anthropic.js.tmpl"),
                    Like::Gemini => include_str!("templates/js/provider-gemini.js.tmpl"),
                },
            ),
            (
                "test/provider.test.js",
                match like {
                    Like::OpenAi => include_str!("templates/js/provider-openai.test.js.tmpl"),
                    Like::Anthropic => include_str!("templates/js/provider-anthropic.test.js.tmpl"),
                    Like::Gemini => include_str!("templates/js/provider-gemini.test.js.tmpl"),
                },
            ),
            ("wit/provider.wit", WIT),
        ],
    };
    out.extend(samples(like));
    out
}

/// The SDK folder, absolute, checked to exist.
fn sdk_dir(options: &NewOptions) -> Result<PathBuf, NewError> {
    let (default, what) = match options.lang {
        Lang::Rust => (DEFAULT_RUST_SDK, "sdk/"),
        Lang::Js => (DEFAULT_JS_SDK, "plugins/js/sdk/"),
    };
    let dir = options
        .sdk
        .clone()
        .unwrap_or_else(|| PathBuf::from(default));
    let marker = match options.lang {
        Lang::Rust => "Cargo.toml",
        Lang::Js => "package.json",
    };
    std::fs::metadata(dir.join(marker)).map_err(|e| NewError::NoSdk(dir.clone(), e, what))?;
    dir.canonicalize()
        .map_err(|e| NewError::NoSdk(dir.clone(), e, what))
}

/// Writes the project; returns its folder.
pub fn generate(options: &NewOptions) -> Result<PathBuf, NewError> {
    if !valid_name(&options.name) {
        return Err(NewError::BadName(options.name.clone()));
    }
    let dir = options
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&options.name));
    if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(NewError::Exists(dir));
    }
    let sdk = sdk_dir(options)?;
    let sdk_text = sdk.to_string_lossy();
    let crate_name = format!("plugin-{}", options.name);
    let fill = |text: &str| {
        text.replace("{{name}}", &options.name)
            .replace("{{Type}}", &type_name(&options.name))
            .replace("{{crate}}", &crate_name)
            .replace("{{crate_file}}", &crate_name.replace('-', "_"))
            .replace("{{like}}", like_name(options.like))
            .replace("{{sdk_path}}", &sdk_text)
    };
    for (relative, template) in files(options.like, options.lang) {
        write(&dir.join(relative), &fill(template))?;
    }
    if options.lang == Lang::Rust {
        copy_lockfile(&sdk, &dir);
    }
    Ok(dir)
}

/// Starts the project from the SDK workspace's lockfile, when there is
/// one: cargo keeps the versions the SDK is tested with (and drops the
/// rest), so the first build needs nothing the checkout has not fetched.
fn copy_lockfile(sdk: &Path, dir: &Path) {
    if let Some(workspace) = sdk.parent() {
        let _ = std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock"));
    }
}

fn write(path: &Path, text: &str) -> Result<(), NewError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| NewError::Io(parent.to_owned(), e))?;
    }
    std::fs::write(path, text).map_err(|e| NewError::Io(path.to_owned(), e))
}

/// Runs `plugin new`; returns the process exit status.
pub fn run(options: &NewOptions) -> u8 {
    match generate(options) {
        Ok(dir) => {
            println!(
                "wrote {} ({} plugin, like {})",
                dir.display(),
                lang_name(options.lang),
                like_name(options.like)
            );
            println!("next: see {}/README.md", dir.display());
            0
        }
        Err(e) => {
            eprintln!("plugin new: {e}");
            2
        }
    }
}

fn lang_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Rust => "Rust",
        Lang::Js => "JavaScript",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_at_their_limits() {
        assert!(valid_name("cohere"));
        assert!(valid_name("acme-2"));
        assert!(valid_name(&"a".repeat(MAX_NAME_CHARS)));
        assert!(!valid_name(&"a".repeat(MAX_NAME_CHARS + 1)));
        for bad in ["", "2acme", "Acme", "acme_x", "../x", "a b"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        assert_eq!(type_name("acme-chat-2"), "AcmeChat2");
    }

    #[test]
    fn every_template_has_its_samples_and_no_placeholder_survives() {
        for (like, lang) in [Like::OpenAi, Like::Anthropic, Like::Gemini]
            .into_iter()
            .flat_map(|like| [(like, Lang::Rust), (like, Lang::Js)])
        {
            let dir = std::env::temp_dir().join(format!(
                "aip-new-{}-{}-{}",
                std::process::id(),
                like_name(like),
                lang_name(lang)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            let options = NewOptions {
                name: "acme-chat".into(),
                like,
                lang,
                sdk: None,
                dir: Some(dir.clone()),
            };
            let written = generate(&options).unwrap();
            if lang == Lang::Rust {
                let lib = std::fs::read_to_string(written.join("src/lib.rs")).unwrap();
                assert!(lib.contains("pub struct AcmeChat;"));
            }
            for (relative, _) in files(like, lang) {
                let text = std::fs::read_to_string(dir.join(relative)).unwrap();
                assert!(!text.contains("{{"), "{relative} keeps a placeholder");
            }
            let samples = crate::conformance::samples::from_dir(&dir.join("samples")).unwrap();
            assert_eq!(samples.len(), 3);
            assert!(samples.iter().all(|s| s.expect.is_some()));
            assert!(
                matches!(generate(&options), Err(NewError::Exists(_))),
                "never overwrites"
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
