//! A gateway served inside the test process: `ai_proxy::build` and
//! `ai_proxy::serve_in_process` on a Tokio runtime of its own, on a thread
//! of its own, so that stopping it stops everything the gateway started
//! (its background tasks live on that runtime) and a test's runtime never
//! waits on the gateway's work.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

/// Worker threads of an in-process gateway's runtime (the process's own
/// core runtime has as many).
const WORKER_THREADS: usize = 2;
/// How long stopping may wait for the gateway's tasks to end.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A gateway running in this process; [`InProcess::stop`] (or dropping
/// it) ends it.
pub struct InProcess {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl InProcess {
    /// Builds a gateway from `base` then `env` (later names win, as in a
    /// process's environment) and serves it on copies of `listeners`
    /// (proxy, admin); returns once it serves.
    pub async fn start(
        base: Vec<(String, String)>,
        env: &[(String, String)],
        (proxy, admin): (&TcpListener, &TcpListener),
    ) -> InProcess {
        let vars: HashMap<String, String> = base.into_iter().chain(env.iter().cloned()).collect();
        let config = ai_proxy::config::Config::from_lookup(|name| vars.get(name).cloned())
            .unwrap_or_else(|e| panic!("test gateway configuration: {e}"));
        let proxy = proxy.try_clone().expect("copy the proxy listener");
        let admin = admin.try_clone().expect("copy the admin listener");
        let (started_tx, started_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("test-gateway".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(WORKER_THREADS)
                    .thread_name("test-gateway-core")
                    .enable_all()
                    .build()
                    .expect("gateway runtime");
                let started = runtime.block_on(async {
                    let core = ai_proxy::build(config).await?;
                    ai_proxy::serve_in_process(core, proxy, admin).await
                });
                let ok = started.is_ok();
                let _ = started_tx.send(started.map_err(|e| format!("{e:#}")));
                if ok {
                    let _ = runtime.block_on(stop_rx);
                }
                runtime.shutdown_timeout(STOP_TIMEOUT);
            })
            .expect("gateway thread");
        match started_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("the in-process gateway did not start: {e}"),
            Err(_) => panic!("the in-process gateway's thread ended before it started"),
        }
        InProcess {
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// Stops the gateway and waits until its runtime is gone.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
