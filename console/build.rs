//! Embeds the built web console (`web/dist`) into this crate: writes a
//! table of its files (with `include_bytes!` of each) to `OUT_DIR`. When
//! the console is not built, the table is empty and the gateway says so at
//! `/`; the build still succeeds, so a Rust-only checkout builds.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = crate_dir.parent().ok_or("console crate has no parent")?;
    let dist = root.join("web").join("dist");
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("console_files.rs");
    let mut files = BTreeMap::new();
    if dist.join("index.html").is_file() {
        // Cargo scans a watched directory recursively: any rebuilt file re-embeds.
        println!("cargo:rerun-if-changed={}", dist.display());
        collect(&dist, &dist, &mut files)?;
    } else {
        // Watching `web/` (which exists) notices when dist appears; watching
        // a missing path would re-run this script, and relink, on every build.
        println!("cargo:rerun-if-changed={}", root.join("web").display());
        println!(
            "cargo:warning=web/dist is not built: the gateway will say so at / (run web/build.sh, then build again)"
        );
    }
    std::fs::write(out, table(&files)?)?;
    Ok(())
}

/// Every file under `dir`, keyed by its path relative to `dist` with `/`.
fn collect(
    dist: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, PathBuf>,
) -> Result<(), Box<dyn Error>> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(dist, &path, files)?;
        } else {
            let relative = path.strip_prefix(dist)?;
            let key = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.insert(key, path);
        }
    }
    Ok(())
}

/// The Rust source of the table: files sorted by path (for binary
/// search), each with its gzip twin when the build wrote one.
fn table(files: &BTreeMap<String, PathBuf>) -> Result<String, Box<dyn Error>> {
    let mut src = String::from("&[\n");
    for (key, path) in files {
        if key.ends_with(".gz") {
            continue;
        }
        let bytes = std::fs::read(path)?;
        let mut hasher = DefaultHasher::new();
        bytes.hash(&mut hasher);
        let gzip = match files.get(&format!("{key}.gz")) {
            Some(gz) => format!("Some(include_bytes!({:?}))", gz.display().to_string()),
            None => "None".to_owned(),
        };
        writeln!(
            src,
            "    File {{ path: {key:?}, body: include_bytes!({:?}), gzip: {gzip}, etag: \"\\\"{:016x}\\\"\" }},",
            path.display().to_string(),
            hasher.finish()
        )?;
    }
    src.push(']');
    Ok(src)
}
