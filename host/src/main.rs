//! The `ai-proxy` binary: parses arguments, loads the configuration,
//! starts logging and calls [`ai_proxy::run`].

use std::process::ExitCode;

/// jemalloc rather than glibc's allocator. Measured with thousands of open
/// streams (bench/RESULTS.md, issue 13): glibc kept the peak after a load
/// ended (its arenas hold freed memory), while jemalloc's background thread
/// hands dirty pages back to the system within seconds (decay).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read once when it first allocates (before `main`),
/// as the NUL-terminated C string jemalloc expects. Freed pages go back to
/// the system within about a second of being freed (`dirty_decay_ms`) and
/// at once after that (`muzzy_decay_ms:0`), instead of the 10 s default:
/// measured after 4,000 open streams ended, 99 MiB resident 5 s later
/// against 292 MiB with the defaults, and 63 against 90 MiB idle
/// (bench/RESULTS.md, sessions 7 and 8). `_RJEM_MALLOC_CONF` in the
/// environment still overrides them.
#[cfg(feature = "jemalloc")]
const JEMALLOC_OPTIONS: &[u8] = b"dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// The symbol jemalloc (built with tikv-jemalloc-sys's `_rjem_` prefix)
/// reads its compiled-in options from: a `const char *`, here a thin
/// pointer to the first byte of [`JEMALLOC_OPTIONS`].
#[cfg(feature = "jemalloc")]
#[allow(unsafe_code)]
#[unsafe(export_name = "_rjem_malloc_conf")]
static JEMALLOC_MALLOC_CONF: &u8 = &JEMALLOC_OPTIONS[0];

const USAGE: &str = "\
ai-proxy: an AI gateway (proxy on :8080, admin API on :9090)

Usage:
  ai-proxy [serve]                              run the gateway
  ai-proxy serve --upgrade                      take the proxy port over from the running
                                                instance (then send that one SIGQUIT)
  ai-proxy plugin new NAME [--like openai|anthropic|gemini] [--lang rust|js]
                                                write a provider plugin project to start from
  ai-proxy plugin check FILE.wasm [--samples DIR]
                                                validate a provider plugin offline and check
                                                what it extracts from sample traffic
  ai-proxy plugin --help                        more on both
  ai-proxy master-key status                    count stored secrets by the master key sealing them
  ai-proxy master-key rotate                    re-encrypt every secret under AI_PROXY_MASTER_KEY
                                                (the old key in AI_PROXY_MASTER_KEY_PREVIOUS)

Configuration comes from the environment; see README.md.";

fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,pingora=warn,sqlx=warn")
            }),
        )
        .init();
}

fn master_key_command(args: &[String]) -> ExitCode {
    let action = match args {
        [a] if a == "status" => ai_proxy::cli::MasterKeyAction::Status,
        [a] if a == "rotate" => ai_proxy::cli::MasterKeyAction::Rotate,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    // The rotation's progress lines, as the gateway logs them.
    init_logging();
    let config = match ai_proxy::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ai-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    ExitCode::from(ai_proxy::cli::master_key(action, &config))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut start = ai_proxy::Start::Fresh;
    match args.first().map(String::as_str) {
        None => {}
        Some("serve") => match &args[1..] {
            [] => {}
            [flag] if flag == "--upgrade" => start = ai_proxy::Start::TakeOver,
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        },
        Some("plugin") => return ExitCode::from(ai_proxy::cli::plugin_command(&args[1..])),
        Some("master-key") => return master_key_command(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("-V" | "--version") => {
            println!("ai-proxy {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("unknown command '{other}'\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    init_logging();
    let config = match ai_proxy::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ai-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    match ai_proxy::run(config, start) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ai-proxy: {e:#}");
            ExitCode::FAILURE
        }
    }
}
