//! `ai-proxy plugin ...`: argument parsing and help. Every subcommand
//! answers `--help` (and `-h`) with its own usage, before looking at any
//! other argument, so `plugin check --help` never opens a file named
//! `--help`.

use std::path::PathBuf;

use super::plugin_new::{self, Lang, Like, NewOptions};

/// `ai-proxy plugin` with no or an unknown subcommand.
pub const PLUGIN_USAGE: &str = "\
Usage:
  ai-proxy plugin new NAME [--like openai|anthropic|gemini] [--lang rust|js] [--sdk PATH] [--dir PATH]
                                  write a plugin project that builds and passes its checks
  ai-proxy plugin check FILE.wasm [--samples DIR]
                                  validate a plugin offline and run it on sample exchanges
  ai-proxy plugin check FILE.wasm --vectors DIR
                                  run conformance vectors, printing every difference

`ai-proxy plugin new --help` and `ai-proxy plugin check --help` say more;
sdk/README.md walks through writing a plugin.";

/// `ai-proxy plugin check --help`.
pub const CHECK_USAGE: &str = "\
Usage: ai-proxy plugin check FILE.wasm [--samples DIR]
       ai-proxy plugin check FILE.wasm --vectors DIR

Runs the checks an upload runs (a component of the provider-plugin world,
importing only what the gateway provides, under the size cap, a valid
name and version), then exercises the plugin offline:

  - the health probe, sent through `prepare`;
  - every sample: `inspect` (model, stream flag), `prepare` (upstream path,
    where the credential went); the answer's usage, read as a stream when
    the request streams or the answer is text/event-stream, fed whole,
    split in two at every byte (up to 2048 points) and one byte at a time,
    which must agree; the cost at the plugin's default prices (nano-USD);
    `classify` when the status is 400 or more; `terminal-event` on the
    stream cut after its first event;
  - each sample's `expect` block, field by field.

Without --samples it runs built-in OpenAI, Anthropic and Gemini exchanges
and four error answers (no expectations). With --samples DIR it runs the
cases in DIR only: one *.json file per case, a folder per case allowed,
bodies as JSON, a string, or `body_file` (kept byte for byte); unknown
fields, stray files and an empty folder are errors. The format is in
sdk/README.md, \"Samples and expectations\".

With --vectors DIR it runs conformance vectors (the same case format, as
the gateway runs them at upload: each stream also split at random cuts and
through stream-state) and prints one line per vector and every difference
field by field. The built-in plugins' vectors are in plugins/*/vectors.

Exit status: 0 accepted and every expectation met; 1 refused, or a
difference or plugin failure in a sample; 2 the check could not run.";

/// `ai-proxy plugin new --help`.
pub const NEW_USAGE: &str = "\
Usage: ai-proxy plugin new NAME [--like openai|anthropic|gemini] [--lang rust|js] [--sdk PATH] [--dir PATH]

Writes a standalone plugin project in ./NAME (or --dir): the provider, its
unit tests, and samples/ with a JSON answer, a stream and an error answer,
each with the expectations the generated plugin meets. It builds and
passes `ai-proxy plugin check FILE --samples samples` as generated.

  --like   the built-in provider the skeleton copies (default openai)
  --lang   rust (default) or js
  --sdk    the SDK to depend on by path: an ai-proxy checkout's sdk/ (Rust)
           or plugins/js/sdk/ (JavaScript); by default the one in the
           source tree this binary was built from
  --dir    where to write the project (must not exist or be empty)

NAME is the plugin's name (info().name): a-z, 0-9 and '-'.";

/// Runs `ai-proxy plugin ARGS...`; returns the process exit status.
pub fn plugin_command(args: &[String]) -> u8 {
    let wants_help = |rest: &[String]| rest.iter().any(|a| a == "--help" || a == "-h");
    match args.split_first() {
        Some((command, rest)) if command == "check" => {
            if wants_help(rest) {
                println!("{CHECK_USAGE}");
                return 0;
            }
            match rest {
                [file] => super::plugin_check(file.as_ref(), None),
                [file, flag, dir] if flag == "--samples" => {
                    super::plugin_check(file.as_ref(), Some(dir.as_ref()))
                }
                [file, flag, dir] if flag == "--vectors" => {
                    super::plugin_vectors::run(file.as_ref(), dir.as_ref())
                }
                _ => usage_error(CHECK_USAGE),
            }
        }
        Some((command, rest)) if command == "new" => {
            if wants_help(rest) {
                println!("{NEW_USAGE}");
                return 0;
            }
            match parse_new(rest) {
                Ok(options) => plugin_new::run(&options),
                Err(e) => {
                    eprintln!("plugin new: {e}\n");
                    usage_error(NEW_USAGE)
                }
            }
        }
        Some((command, _)) if matches!(command.as_str(), "--help" | "-h" | "help") => {
            println!("{PLUGIN_USAGE}");
            0
        }
        _ => usage_error(PLUGIN_USAGE),
    }
}

fn usage_error(usage: &str) -> u8 {
    eprintln!("{usage}");
    2
}

/// `NAME` and the flags of `plugin new`.
fn parse_new(args: &[String]) -> Result<NewOptions, String> {
    let mut name = None;
    let mut options = NewOptions {
        name: String::new(),
        like: Like::OpenAi,
        lang: Lang::Rust,
        sdk: None,
        dir: None,
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = || {
            rest.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--like" => {
                options.like = match value()?.as_str() {
                    "openai" => Like::OpenAi,
                    "anthropic" => Like::Anthropic,
                    "gemini" => Like::Gemini,
                    other => return Err(format!("--like {other}: openai, anthropic or gemini")),
                }
            }
            "--lang" => {
                options.lang = match value()?.as_str() {
                    "rust" => Lang::Rust,
                    "js" | "javascript" => Lang::Js,
                    other => return Err(format!("--lang {other}: rust or js")),
                }
            }
            "--sdk" => options.sdk = Some(PathBuf::from(value()?)),
            "--dir" => options.dir = Some(PathBuf::from(value()?)),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ if name.is_some() => return Err(format!("a second name {arg:?}")),
            _ => name = Some(arg.clone()),
        }
    }
    options.name = name.ok_or("the plugin's NAME is missing")?;
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn new_reads_its_name_and_flags_in_any_order() {
        let o = parse_new(&strings(&["--like", "gemini", "acme", "--dir", "/tmp/x"])).unwrap();
        assert_eq!(
            (o.name.as_str(), o.like, o.lang),
            ("acme", Like::Gemini, Lang::Rust)
        );
        assert_eq!(o.dir, Some(PathBuf::from("/tmp/x")));
        assert!(parse_new(&strings(&["acme", "--like"])).is_err());
        assert!(parse_new(&strings(&["acme", "--like", "cohere"])).is_err());
        assert!(parse_new(&strings(&["acme", "--frobnicate"])).is_err());
        assert!(parse_new(&strings(&["acme", "two"])).is_err());
        assert!(parse_new(&strings(&[])).is_err());
    }

    #[test]
    fn help_is_help_wherever_it_stands() {
        assert_eq!(plugin_command(&strings(&["check", "--help"])), 0);
        assert_eq!(plugin_command(&strings(&["check", "x.wasm", "-h"])), 0);
        assert_eq!(plugin_command(&strings(&["new", "--help"])), 0);
        assert_eq!(plugin_command(&strings(&["help"])), 0);
        assert_eq!(plugin_command(&strings(&["frob"])), 2);
    }
}
