//! Files under the data directory are this user's alone: the directory
//! and the plugin cache 0700; the SQLite database with its `-wal`, `-shm`
//! and `-journal` files, the master key file and cached plugin artifacts
//! 0600. They are created so, and tightened at start when found looser
//! (left by an older gateway or a permissive umask).
//!
//! A directory with the sticky bit (a shared one like `/tmp`) is never
//! tightened: it is not the gateway's to change, and a warning says so.
//! On other platforms than Unix these functions only create.
//!
//! A module of its own because the database (`store`), the master key
//! (`secrets`) and the plugin cache (`plugins`) all keep files there, and
//! none of them owns the data directory.

use std::io;
use std::path::{Path, PathBuf};

/// Mode of the data directory and directories under it.
pub const PRIVATE_DIR_MODE: u32 = 0o700;
/// Mode of the database, the master key file and cached artifacts.
pub const PRIVATE_FILE_MODE: u32 = 0o600;
/// Files SQLite keeps beside a database, by suffix.
const SQLITE_SIDE_FILES: [&str; 3] = ["-wal", "-shm", "-journal"];

/// The file a `sqlite:` URL names; `None` for in-memory databases and
/// other URLs.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

/// Creates `dir` (and missing parents) 0700, or tightens it to 0700.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR_MODE);
    builder.create(dir)?;
    tighten(dir, PRIVATE_DIR_MODE)
}

/// Tightens `path` to 0600 if it exists.
pub fn private_file(path: &Path) -> io::Result<()> {
    match tighten(path, PRIVATE_FILE_MODE) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Creates or replaces `path` with `bytes`, 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE_MODE);
    options.open(path)?.write_all(bytes)?;
    private_file(path)
}

/// Before SQLite opens `url`: the data directory private, the database
/// file created 0600 (SQLite gives its `-wal` and `-shm` files the
/// database's mode), and existing files tightened.
pub fn prepare_sqlite(url: &str, data_dir: &Path) -> io::Result<()> {
    private_dir(data_dir)?;
    let Some(db) = sqlite_path(url) else {
        return Ok(());
    };
    if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.exists()
    {
        private_dir(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE_MODE);
    options.open(&db)?;
    sqlite_files_private(&db)
}

/// Tightens a database file and the files SQLite keeps beside it.
pub fn sqlite_files_private(db: &Path) -> io::Result<()> {
    private_file(db)?;
    for suffix in SQLITE_SIDE_FILES {
        let mut side = db.as_os_str().to_owned();
        side.push(suffix);
        private_file(Path::new(&side))?;
    }
    Ok(())
}

#[cfg(unix)]
fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode();
    if current & 0o777 & !mode == 0 {
        return Ok(());
    }
    if current & 0o1000 != 0 {
        tracing::warn!(path = %path.display(), "a shared (sticky) directory is used as the data directory; its mode is left as it is");
        return Ok(());
    }
    tracing::info!(path = %path.display(), from = format!("{:o}", current & 0o777), to = format!("{mode:o}"), "tightening permissions");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn tighten(path: &Path, _mode: u32) -> io::Result<()> {
    std::fs::metadata(path).map(|_| ())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
    }

    fn scratch() -> PathBuf {
        std::env::temp_dir().join(format!("aip-perm-{}", crate::secrets::random_hex(6)))
    }

    #[test]
    fn sqlite_url_names_its_file_or_none() {
        assert_eq!(
            sqlite_path("sqlite://data/ai-proxy.db?mode=rwc"),
            Some(PathBuf::from("data/ai-proxy.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///x/y.db"),
            Some(PathBuf::from("/x/y.db"))
        );
        assert_eq!(sqlite_path("sqlite:y.db"), Some(PathBuf::from("y.db")));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }

    #[test]
    fn new_data_dir_and_database_are_created_private() {
        let dir = scratch().join("data");
        let db = dir.join("ai-proxy.db");
        let url = format!("sqlite://{}?mode=rwc", db.display());
        prepare_sqlite(&url, &dir).expect("prepare");
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&db), 0o600);
        let _ = std::fs::remove_dir_all(dir.parent().expect("parent"));
    }

    #[test]
    fn loose_data_dir_database_and_side_files_are_tightened_at_start() {
        let dir = scratch();
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let db = dir.join("ai-proxy.db");
        for name in ["ai-proxy.db", "ai-proxy.db-wal", "ai-proxy.db-shm"] {
            let path = dir.join(name);
            std::fs::write(&path, b"").expect("file");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
        // One bit too many is already too loose.
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        prepare_sqlite(&format!("sqlite://{}?mode=rwc", db.display()), &dir).expect("prepare");
        assert_eq!(mode(&dir), 0o700);
        for name in ["ai-proxy.db", "ai-proxy.db-wal", "ai-proxy.db-shm"] {
            assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn stricter_modes_are_kept_and_sticky_dirs_are_left_alone() {
        let dir = scratch();
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("f");
        std::fs::write(&file, b"").expect("file");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).expect("chmod");
        private_file(&file).expect("tighten");
        assert_eq!(mode(&file), 0o400, "never loosened");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
        private_dir(&dir).expect("sticky");
        assert_eq!(
            mode(&dir),
            0o777,
            "a shared directory is not ours to change"
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
