//! `mock-upstream`: the mock provider API as a process, for the Python SDK suite and the
//! benchmark.
//!
//! `mock-upstream [--port N] [--no-record]` binds `127.0.0.1:N` (0, the default, picks a
//! free port; the accept queue is [`LISTEN_BACKLOG`](ai_proxy_tests::mock::LISTEN_BACKLOG) long), prints `listening on 127.0.0.1:PORT` on stdout once it accepts
//! connections, and serves until killed. The recording is readable at
//! `GET /__mock/requests`; `--no-record` turns it off.

use std::io::Write;
use std::process::ExitCode;

use std::net::SocketAddr;

use ai_proxy_tests::mock::{Options, Recorder, bind, router, serve};

const USAGE: &str = "usage: mock-upstream [--port N] [--no-record]";

#[tokio::main]
async fn main() -> ExitCode {
    let (port, options) = match parse(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match bind(SocketAddr::from(([127, 0, 0, 1], port))) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("mock-upstream: cannot bind 127.0.0.1:{port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(error) => {
            eprintln!("mock-upstream: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "listening on {addr}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(stdout);
    match serve(listener, router(options, Recorder::default())).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mock-upstream: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The port and options named by the command line.
fn parse(mut args: impl Iterator<Item = String>) -> Result<(u16, Options), String> {
    let mut port = 0;
    let mut options = Options::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a value")?;
                port = value.parse().map_err(|_| format!("bad port: {value}"))?;
            }
            "--no-record" => options.record = false,
            "-h" | "--help" => {
                return Err(String::from("mock provider API for tests and benchmarks"));
            }
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok((port, options))
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|arg| (*arg).to_owned())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn no_arguments_mean_ephemeral_port_with_recording() -> Result<(), String> {
        let (port, options) = parse(args(&[]))?;

        assert_eq!(port, 0);
        assert!(options.record);
        Ok(())
    }

    #[test]
    fn port_and_no_record_are_read() -> Result<(), String> {
        let (port, options) = parse(args(&["--port", "18080", "--no-record"]))?;

        assert_eq!(port, 18080);
        assert!(!options.record);
        Ok(())
    }

    #[test]
    fn missing_or_bad_port_and_unknown_flags_are_refused() {
        assert!(parse(args(&["--port"])).is_err());
        assert!(parse(args(&["--port", "70000"])).is_err());
        assert!(parse(args(&["--verbose"])).is_err());
    }
}
