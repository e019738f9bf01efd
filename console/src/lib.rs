//! The operator's web console as built by `web/build.sh`, embedded in the
//! gateway binary at build time, so that one file runs the whole gateway
//! from any working directory (and in an image with nothing else in it).
//!
//! [`FILES`] is empty when `web/dist` was not built before the gateway
//! was; the admin port then answers `/` with a message saying so.

/// One file of the built console.
#[derive(Debug)]
pub struct File {
    /// Path under `web/dist`, with `/` separators and no leading slash.
    pub path: &'static str,
    pub body: &'static [u8],
    /// The gzipped twin the build writes next to large assets.
    pub gzip: Option<&'static [u8]>,
    /// A strong validator of `body` (quoted), for `If-None-Match`.
    pub etag: &'static str,
}

/// Every embedded file, sorted by path.
pub static FILES: &[File] = include!(concat!(env!("OUT_DIR"), "/console_files.rs"));

/// The file at `path` in `files` (sorted by path, as [`FILES`] is).
pub fn find<'a>(files: &'a [File], path: &str) -> Option<&'a File> {
    files
        .binary_search_by(|f| f.path.cmp(path))
        .ok()
        .and_then(|i| files.get(i))
}

/// Whether the console was built when the gateway was.
pub fn is_built() -> bool {
    find(FILES, "index.html").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_so_every_file_is_found() {
        for file in FILES {
            assert_eq!(find(FILES, file.path).map(|f| f.path), Some(file.path));
        }
        assert!(find(FILES, "no/such/file").is_none());
    }

    #[test]
    fn no_gzip_twin_is_listed_as_a_file_of_its_own() {
        assert!(FILES.iter().all(|f| !f.path.ends_with(".gz")));
    }
}
