//! `ai-proxy master-key status|rotate`: the master key rotation from a
//! terminal or a one-off job, with the gateway's own settings
//! (`DATABASE_URL`, `AI_PROXY_MASTER_KEY`, `AI_PROXY_MASTER_KEY_PREVIOUS`).
//! `status` counts stored secrets by the key that seals them; `rotate`
//! begins the rotation if the database does not record it yet, runs the
//! same re-encryption as the gateway's background job (safe beside running
//! instances) and prints the counts. Exit status 0 when nothing is left
//! under the previous key. Counts only: never a key or a secret.

use crate::config::Config;
use crate::secrets::load_master_key;
use crate::store::key_check::{self, KeyState};
use crate::store::keyring::open_keys;
use crate::store::rotate::{Pass, scan};

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Status,
    Rotate,
}

/// Runs `action`; returns the process exit status.
pub fn run(action: Action, config: &Config) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ai-proxy: cannot start: {e}");
            return 2;
        }
    };
    match runtime.block_on(execute(action, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ai-proxy: {e:#}");
            1
        }
    }
}

async fn execute(action: Action, config: &Config) -> anyhow::Result<u8> {
    let db = crate::store::connect(&config.storage.database_url, &config.storage.data_dir).await?;
    let master_key = load_master_key(
        config.secrets.master_key.as_ref().map(|k| k.expose()),
        &config.storage.data_dir,
    )?;
    let keys = open_keys(&db, config.previous_key_source(), &master_key).await?;
    if action == Action::Rotate {
        match keys.job {
            Some(job) => job.run().await,
            None if !keys.secrets.has_previous() => anyhow::bail!(
                "nothing to rotate from: give the previous key as AI_PROXY_MASTER_KEY_PREVIOUS and the new one as AI_PROXY_MASTER_KEY"
            ),
            None => println!("the database records no rotation from the previous key"),
        }
    }
    let state = key_check::recorded(&db)
        .await?
        .map_or(KeyState::Settled, |r| r.state());
    let tally = scan(&db, &keys.secrets, Pass::Count).await?;
    let state_name = match state {
        KeyState::Settled => "settled",
        KeyState::Rotating => "rotating",
        KeyState::Rotated => "rotated",
    };
    println!("rotation: {state_name}");
    println!("secrets under the current key: {}", tally.current);
    println!("secrets under the previous key: {}", tally.previous);
    println!("secrets neither key opens: {}", tally.unreadable);
    let droppable = state != KeyState::Rotating && tally.previous == 0;
    println!(
        "AI_PROXY_MASTER_KEY_PREVIOUS can be removed: {}",
        if droppable { "yes" } else { "no" }
    );
    Ok(if droppable { 0 } else { 1 })
}
