//! How an instance stops and hands over: the pacing of a SIGTERM drain and
//! the Unix socket over which `serve --upgrade` takes the proxy's
//! listening socket from the running process.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::shutdown::{
    DEFAULT_SHUTDOWN_GRACE, MAX_SHUTDOWN_DELAY, MAX_SHUTDOWN_GRACE, ShutdownTimes,
};

use super::env::{ConfigError, Env, Problem};

/// Default time an instance stays not-ready before its listener closes.
pub const DEFAULT_SHUTDOWN_DELAY: Duration = Duration::ZERO;
/// Longest Unix socket path the kernel accepts (`sun_path` is 108 bytes,
/// one of them the terminating zero).
pub const MAX_UNIX_SOCKET_PATH: usize = 107;
/// The upgrade socket's file name in the data directory by default.
pub const DEFAULT_UPGRADE_SOCK: &str = "upgrade.sock";

/// The shutdown and upgrade settings.
#[derive(Debug, Clone)]
pub struct ShutdownConfig {
    /// After SIGTERM: how long the instance is not-ready before its
    /// listener closes, and how long open requests then have to finish
    /// (`AI_PROXY_SHUTDOWN_DELAY_SECS`, `AI_PROXY_SHUTDOWN_GRACE_SECS`;
    /// a zero grace cuts what is open as soon as the listener is closed).
    pub times: ShutdownTimes,
    /// The Unix socket over which the proxy's listening socket is handed to
    /// a new process on an upgrade (`AI_PROXY_UPGRADE_SOCK`), absolute.
    pub upgrade_sock: PathBuf,
}

impl ShutdownConfig {
    pub(crate) fn read(env: &Env, data_dir: &Path) -> Result<ShutdownConfig, ConfigError> {
        Ok(ShutdownConfig {
            times: ShutdownTimes {
                delay: env
                    .secs("AI_PROXY_SHUTDOWN_DELAY_SECS")
                    .range(..=MAX_SHUTDOWN_DELAY)
                    .default(DEFAULT_SHUTDOWN_DELAY)?,
                grace: env
                    .secs("AI_PROXY_SHUTDOWN_GRACE_SECS")
                    .range(..=MAX_SHUTDOWN_GRACE)
                    .default(DEFAULT_SHUTDOWN_GRACE)?,
            },
            upgrade_sock: upgrade_socket(env, data_dir)?,
        })
    }
}

/// `AI_PROXY_UPGRADE_SOCK`, made absolute, so that an old and a new process
/// started from different directories meet on the same socket.
fn upgrade_socket(env: &Env, data_dir: &Path) -> Result<PathBuf, ConfigError> {
    let path = env
        .path("AI_PROXY_UPGRADE_SOCK")
        .unwrap_or_else(|| data_dir.join(DEFAULT_UPGRADE_SOCK));
    let path = std::path::absolute(&path).unwrap_or(path);
    if path.as_os_str().len() > MAX_UNIX_SOCKET_PATH {
        let form = format!(
            "a path of at most {MAX_UNIX_SOCKET_PATH} bytes (a Unix socket's limit): set a shorter one"
        );
        let shown = path.display().to_string();
        return Err(ConfigError::new(
            "AI_PROXY_UPGRADE_SOCK",
            shown,
            Problem::Form(form),
        ));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::super::env::pairs;
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<ShutdownConfig, ConfigError> {
        ShutdownConfig::read(&pairs(vars), Path::new("/var/lib/ai-proxy"))
    }

    #[test]
    fn the_upgrade_socket_defaults_to_the_data_directory_and_fits_a_socket_address() {
        let c = read(&[]).expect("defaults");
        assert_eq!(
            c.upgrade_sock,
            PathBuf::from("/var/lib/ai-proxy/upgrade.sock")
        );
        let relative = read(&[("AI_PROXY_UPGRADE_SOCK", "x.sock")]).expect("relative");
        assert!(relative.upgrade_sock.is_absolute());
        let at_limit = format!("/{}", "s".repeat(MAX_UNIX_SOCKET_PATH - 1));
        let c = read(&[("AI_PROXY_UPGRADE_SOCK", at_limit.as_str())]).expect("at the limit");
        assert_eq!(c.upgrade_sock.as_os_str().len(), MAX_UNIX_SOCKET_PATH);
        let over = format!("/{}", "s".repeat(MAX_UNIX_SOCKET_PATH));
        let err = read(&[("AI_PROXY_UPGRADE_SOCK", over.as_str())]).expect_err("over");
        assert_eq!(err.name(), "AI_PROXY_UPGRADE_SOCK");
    }

    #[test]
    fn shutdown_times_default_to_minutes_of_grace_and_stop_at_their_maximum() {
        let times = read(&[]).expect("defaults").times;
        assert_eq!(times.grace, DEFAULT_SHUTDOWN_GRACE);
        assert!(
            times.grace >= Duration::from_secs(120),
            "LLM streams run for minutes"
        );
        assert!(times.delay.is_zero());
        for (name, max) in [
            ("AI_PROXY_SHUTDOWN_GRACE_SECS", MAX_SHUTDOWN_GRACE),
            ("AI_PROXY_SHUTDOWN_DELAY_SECS", MAX_SHUTDOWN_DELAY),
        ] {
            let at = max.as_secs().to_string();
            let c = read(&[(name, at.as_str())]).expect("max");
            assert!(c.times.grace == max || c.times.delay == max, "{name}");
            let over = (max.as_secs() + 1).to_string();
            let err = read(&[(name, over.as_str())]).expect_err("over");
            assert_eq!(err.name(), name);
            assert!(read(&[(name, "soon")]).is_err(), "{name} garbage");
        }
        let zero = read(&[("AI_PROXY_SHUTDOWN_GRACE_SECS", "0")]).expect("zero");
        assert!(zero.times.grace.is_zero());
    }
}
