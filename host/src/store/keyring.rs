//! At start (of the gateway or of `ai-proxy master-key`): the master key
//! and the previous one, if given, checked against the database
//! ([`crate::store::key_check`]), made into the [`SecretBox`] every reader
//! uses, and the rotation job ([`crate::store::rotate`]) when the database
//! records a rotation from that previous key.

use std::path::Path;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::secrets::{SecretBox, load_previous_master_key};
use crate::store::key_check::{self, KeyState, Verified};
use crate::store::rotate::{RotationJob, RotationProgress};

/// The keys of this start.
pub struct OpenedKeys {
    /// Encrypts under the current key; reads the previous one's too.
    pub secrets: SecretBox,
    /// What the job has done, for the admin API.
    pub rotation: Arc<RotationProgress>,
    /// To be spawned once the catalog is loaded, if a rotation is recorded
    /// from the previous key this start was given.
    pub job: Option<RotationJob>,
    pub verified: Verified,
    /// The previous key, for what else derives keys from the master key
    /// (console sessions, client tokens) and should accept the old ones
    /// meanwhile.
    pub previous: Option<[u8; 32]>,
}

/// Where the previous master key comes from: `AI_PROXY_MASTER_KEY_PREVIOUS`
/// if set, else its file in the data directory.
pub struct PreviousKeySource<'a> {
    pub configured: Option<&'a str>,
    pub data_dir: &'a Path,
}

/// Loads the previous key, checks both against the database (which may
/// begin a rotation) and builds the box and the job.
pub async fn open_keys(
    db: &DatabaseConnection,
    previous: PreviousKeySource<'_>,
    master_key: &[u8; 32],
) -> anyhow::Result<OpenedKeys> {
    let previous = load_previous_master_key(previous.configured, previous.data_dir, master_key)?;
    let verified = key_check::verify(db, master_key, previous.as_ref()).await?;
    let rotation = Arc::new(RotationProgress::default());
    let Some(previous) = previous else {
        return Ok(OpenedKeys {
            secrets: SecretBox::new(master_key),
            rotation,
            job: None,
            verified,
            previous: None,
        });
    };
    let secrets = SecretBox::rotating(master_key, &previous);
    let rewrite = verified.holds_previous && verified.state != KeyState::Settled;
    if !rewrite {
        tracing::info!(
            "the previous master key is read, but nothing is re-encrypted: the database records no rotation from it"
        );
    }
    let job = rewrite.then(|| RotationJob {
        db: db.clone(),
        secrets: secrets.clone(),
        check: key_check::check_value(master_key),
        progress: rotation.clone(),
    });
    Ok(OpenedKeys {
        secrets,
        rotation,
        job,
        verified,
        previous: Some(previous),
    })
}
