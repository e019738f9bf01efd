//! Redis for the shared-limit tests: the machine's server (127.0.0.1:6379)
//! with a key prefix of its own per run, or a private `redis-server` the
//! test starts and stops itself (for outages; the shared server is never
//! stopped). Skipped with a printed reason when unavailable, unless
//! `AI_PROXY_REQUIRE_SERVICES=1`.

#![allow(clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::gateway::free_port;

/// The machine's Redis.
pub const SHARED_URL: &str = "redis://127.0.0.1:6379";

fn required() -> bool {
    std::env::var("AI_PROXY_REQUIRE_SERVICES").as_deref() == Ok("1")
}

fn reachable(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .is_ok()
}

/// The shared Redis URL and a key prefix unique to this run, or `None`
/// (after printing why) when Redis is unreachable and not required.
pub fn shared(test: &str) -> Option<(String, String)> {
    if !reachable(6379) {
        assert!(
            !required(),
            "Redis is required (AI_PROXY_REQUIRE_SERVICES=1) but unreachable at {SHARED_URL}"
        );
        eprintln!("SKIPPED {test}: Redis unreachable at {SHARED_URL}");
        return None;
    }
    let prefix = format!("aip-test:{test}:{}:{}:", std::process::id(), free_port());
    Some((SHARED_URL.to_owned(), prefix))
}

/// Deletes this run's keys from the shared Redis.
pub fn delete_prefix(prefix: &str) {
    let keys = Command::new("redis-cli")
        .args([
            "-u",
            SHARED_URL,
            "--scan",
            "--pattern",
            &format!("{prefix}*"),
        ])
        .output();
    let Ok(keys) = keys else { return };
    let keys = String::from_utf8_lossy(&keys.stdout);
    let keys: Vec<&str> = keys.lines().filter(|k| !k.is_empty()).collect();
    if !keys.is_empty() {
        let _ = Command::new("redis-cli")
            .args(["-u", SHARED_URL, "DEL"])
            .args(&keys)
            .output();
    }
}

/// Ports a private server is started on before a test gives up.
const PORT_ATTEMPTS: usize = 5;

/// Why a private server did not start.
#[derive(Debug)]
enum Spawn {
    Io(std::io::Error),
    /// It exited: its port was in use.
    Exited,
}

impl std::fmt::Display for Spawn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Spawn::Io(e) => e.fmt(f),
            Spawn::Exited => f.write_str("redis-server exited (its port was taken)"),
        }
    }
}

/// The process id of the Redis server answering on `port`, if one does.
fn served_by(port: u16) -> Option<u32> {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "INFO", "server"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
}

/// A `redis-server` of the test's own on a free port.
pub struct PrivateRedis {
    child: Option<Child>,
    pub port: u16,
}

impl PrivateRedis {
    /// Starts one, or `None` (after printing why) when `redis-server` is
    /// not installed and services are not required.
    pub fn start(test: &str) -> Option<PrivateRedis> {
        let mut redis = PrivateRedis {
            child: None,
            port: free_port(),
        };
        let mut attempts = 1;
        let started = loop {
            match redis.spawn() {
                // The port picked free was taken before the server bound it.
                Err(Spawn::Exited) if attempts < PORT_ATTEMPTS => {
                    attempts += 1;
                    redis.port = free_port();
                }
                started => break started,
            }
        };
        if let Err(e) = started {
            assert!(
                !required(),
                "redis-server is required but cannot start: {e}"
            );
            eprintln!("SKIPPED {test}: cannot start redis-server: {e}");
            return None;
        }
        Some(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) -> Result<(), Spawn> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            // `DEBUG SLEEP` plays a Redis slower than the gateway's timeout.
            .args(["--enable-debug-command", "local"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(Spawn::Io)?;
        let pid = child.id();
        let child = self.child.insert(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        // Listening is not enough: the port may be another test's.
        while served_by(self.port) != Some(pid) {
            if child.try_wait().map_err(Spawn::Io)?.is_some() {
                self.child = None;
                return Err(Spawn::Exited);
            }
            if Instant::now() > deadline {
                return Err(Spawn::Io(std::io::Error::other(
                    "redis-server did not start listening",
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Kills the server (an outage).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn().expect("restart redis-server");
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
