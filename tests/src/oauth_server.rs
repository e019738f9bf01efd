//! A real OAuth 2.0 authorization server on loopback for the upstream-OAuth
//! tests: `tests/oauth/server.mjs` (npm `oauth2-mock-server`, with PKCE,
//! rotating refresh tokens, a configurable token lifetime and a control
//! port). Skipped with a printed reason when Node.js or its packages are
//! unavailable, unless `AI_PROXY_REQUIRE_SERVICES=1`.

#![allow(clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::gateway::two_free_ports;

/// How long installing and starting the server may take.
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// A running authorization server.
pub struct OAuthServer {
    child: Child,
    /// The issuer, e.g. `http://localhost:41234`.
    pub issuer: String,
    control: String,
}

fn required() -> bool {
    std::env::var("AI_PROXY_REQUIRE_SERVICES").as_deref() == Ok("1")
}

impl OAuthServer {
    /// Starts one whose access tokens live `token_ttl` seconds, or `None`
    /// (after printing why) when it cannot run here.
    pub fn start(test: &str, token_ttl: u64) -> Option<OAuthServer> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oauth/run.sh");
        let (port, control) = two_free_ports();
        let spawned = Command::new(&script)
            .args([port.to_string(), control.to_string()])
            .env("OAUTH_TOKEN_TTL", token_ttl.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                assert!(
                    !required(),
                    "the OAuth test server is required but cannot start: {e}"
                );
                eprintln!("SKIPPED {test}: cannot start {}: {e}", script.display());
                return None;
            }
        };
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("READY ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        let issuer = loop {
            if let Ok(url) = rx.recv_timeout(Duration::from_millis(200)) {
                break url;
            }
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let _ = child.kill();
                assert!(
                    !required(),
                    "the OAuth test server did not start ({exited:?})"
                );
                eprintln!("SKIPPED {test}: the OAuth test server did not start ({exited:?})");
                return None;
            }
        };
        Some(OAuthServer {
            child,
            issuer,
            control: format!("http://127.0.0.1:{control}"),
        })
    }

    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.issuer)
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.issuer)
    }

    /// Token requests served so far, per grant type.
    pub async fn token_requests(&self, grant: &str) -> u64 {
        let counts: serde_json::Value = reqwest::get(format!("{}/counts", self.control))
            .await
            .expect("control port")
            .json()
            .await
            .expect("counts");
        counts[grant].as_u64().unwrap_or(0)
    }

    /// Makes every refresh fail (`true`) or succeed again (`false`).
    pub async fn fail_refreshes(&self, fail: bool) {
        let path = if fail { "fail" } else { "ok" };
        reqwest::Client::new()
            .post(format!("{}/refresh/{path}", self.control))
            .send()
            .await
            .expect("control port");
    }
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
