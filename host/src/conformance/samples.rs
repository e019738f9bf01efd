//! The case format of `ai-proxy plugin check --samples DIR`, which is also
//! the format of conformance vectors: one recorded exchange per `*.json`
//! file (flat, or a folder per case), the request head and body, the
//! upstream's answer, and an optional `expect` block. Documented, with
//! one example of each kind, in `sdk/README.md` ("Samples and
//! expectations").
//!
//! Loading is strict because a sample that is silently ignored tests
//! nothing: unknown fields, a body given twice, a file that is neither a
//! case nor named by a case's `body_file`, and a folder without cases are
//! all errors naming the file.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::expect::Expect;

/// The extension of case files; every other file must be a `body_file`.
pub const CASE_EXTENSION: &str = "json";

/// The largest case or body file read: the gateway's default body cap.
pub const MAX_SAMPLE_FILE_BYTES: u64 = crate::config::DEFAULT_MAX_BODY_BYTES as u64;

/// Why a samples folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0}: {1}")]
    Parse(PathBuf, serde_json::Error),
    #[error("{0}: {1}")]
    Invalid(PathBuf, String),
    #[error("{0}: over {MAX_SAMPLE_FILE_BYTES} bytes")]
    TooLarge(PathBuf),
    #[error(
        "{0}: not a case (*.{CASE_EXTENSION}) and no case names it as its body_file; remove it or reference it"
    )]
    Unreferenced(PathBuf),
    #[error("{0}: no cases (*.{CASE_EXTENSION} files) in this folder")]
    Empty(PathBuf),
}

/// A case file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSample {
    name: String,
    method: String,
    path: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    body: Option<Value>,
    body_file: Option<String>,
    response: Option<RawResponse>,
    expect: Option<Expect>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResponse {
    status: u16,
    #[serde(default)]
    headers: Vec<(String, String)>,
    body: Option<Value>,
    body_file: Option<String>,
}

/// One sample exchange, bodies resolved to the bytes the plugin sees.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The upstream's answer, when the sample has one.
    pub response: Option<SampleResponse>,
    pub expect: Option<Expect>,
}

#[derive(Debug, Clone)]
pub struct SampleResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Reads a body file named by a case: from disk, or from embedded files.
type Reader<'a> = &'a dyn Fn(&Path) -> Result<Vec<u8>, SampleError>;

/// The bytes of a body: a JSON string is the text itself, any other JSON
/// value its compact encoding, a `body_file` the file byte for byte.
fn body_bytes(
    case: &Path,
    body: Option<Value>,
    body_file: Option<String>,
    files: &mut BTreeSet<PathBuf>,
    read: Reader<'_>,
) -> Result<Vec<u8>, SampleError> {
    match (body, body_file) {
        (Some(_), Some(_)) => Err(SampleError::Invalid(
            case.to_owned(),
            "give `body` or `body_file`, not both".to_owned(),
        )),
        (None, None) => Ok(Vec::new()),
        (Some(Value::String(text)), None) => Ok(text.into_bytes()),
        (Some(value), None) => Ok(value.to_string().into_bytes()),
        (None, Some(name)) => {
            let path = body_file_path(case, &name)?;
            let bytes = read(&path)?;
            files.insert(path);
            Ok(bytes)
        }
    }
}

/// `name` beside `case`: relative, inside the samples folder, not a case.
fn body_file_path(case: &Path, name: &str) -> Result<PathBuf, SampleError> {
    let relative = Path::new(name);
    let escapes = relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)));
    if name.is_empty() || escapes {
        return Err(SampleError::Invalid(
            case.to_owned(),
            format!("body_file {name:?} must be a relative path below the case's folder"),
        ));
    }
    if relative.extension().is_some_and(|x| x == CASE_EXTENSION) {
        return Err(SampleError::Invalid(
            case.to_owned(),
            format!(
                "body_file {name:?} ends in .{CASE_EXTENSION}, which marks a case; name it .body or .sse, or give the JSON inline as `body`"
            ),
        ));
    }
    Ok(case.parent().unwrap_or(Path::new(".")).join(relative))
}

fn read_limited(path: &Path) -> Result<Vec<u8>, SampleError> {
    let meta = std::fs::metadata(path).map_err(|e| SampleError::Io(path.to_owned(), e))?;
    if meta.len() > MAX_SAMPLE_FILE_BYTES {
        return Err(SampleError::TooLarge(path.to_owned()));
    }
    std::fs::read(path).map_err(|e| SampleError::Io(path.to_owned(), e))
}

/// Parses one case file; body files it names are added to `files`.
fn load_case(
    path: &Path,
    text: &[u8],
    files: &mut BTreeSet<PathBuf>,
    read: Reader<'_>,
) -> Result<Sample, SampleError> {
    let raw: RawSample =
        serde_json::from_slice(text).map_err(|e| SampleError::Parse(path.to_owned(), e))?;
    from_raw(path, raw, files, read)
}

fn from_raw(
    path: &Path,
    raw: RawSample,
    files: &mut BTreeSet<PathBuf>,
    read: Reader<'_>,
) -> Result<Sample, SampleError> {
    if let Some(expect) = &raw.expect {
        expect
            .validate()
            .map_err(|e| SampleError::Invalid(path.to_owned(), e))?;
    }
    let body = body_bytes(path, raw.body, raw.body_file, files, read)?;
    let response = match raw.response {
        Some(r) => Some(SampleResponse {
            status: r.status,
            headers: r.headers,
            body: body_bytes(path, r.body, r.body_file, files, read)?,
        }),
        None => None,
    };
    Ok(Sample {
        name: raw.name,
        method: raw.method,
        path: raw.path,
        headers: raw.headers,
        body,
        response,
        expect: raw.expect,
    })
}

/// Every file below `dir`, sorted.
fn files_below(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SampleError> {
    let entries = std::fs::read_dir(dir).map_err(|e| SampleError::Io(dir.to_owned(), e))?;
    for entry in entries {
        let path = entry
            .map_err(|e| SampleError::Io(dir.to_owned(), e))?
            .path();
        if path.is_dir() {
            files_below(&path, out)?;
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

fn is_case(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == CASE_EXTENSION)
}

/// The cases below `dir`, in path order.
pub fn from_dir(dir: &Path) -> Result<Vec<Sample>, SampleError> {
    let mut all = Vec::new();
    files_below(dir, &mut all)?;
    let mut cases = Vec::new();
    for path in all.iter().filter(|p| is_case(p)) {
        cases.push((path.clone(), read_limited(path)?));
    }
    let others: Vec<PathBuf> = all.into_iter().filter(|p| !is_case(p)).collect();
    collect(dir, cases, &others, &read_limited)
}

/// The cases of a folder given as `(path, bytes)` pairs, as the built-in
/// vectors are embedded in the binary: the same rules as [`from_dir`].
pub fn from_files(origin: &Path, files: &[(&str, &[u8])]) -> Result<Vec<Sample>, SampleError> {
    let cases: Vec<(PathBuf, Vec<u8>)> = files
        .iter()
        .map(|(path, bytes)| (PathBuf::from(path), bytes.to_vec()))
        .filter(|(path, _)| is_case(path))
        .collect();
    let others: Vec<PathBuf> = files
        .iter()
        .map(|(path, _)| PathBuf::from(path))
        .filter(|path| !is_case(path))
        .collect();
    let read = |wanted: &Path| {
        files
            .iter()
            .find(|(path, _)| Path::new(path) == wanted)
            .map(|(_, bytes)| bytes.to_vec())
            .ok_or_else(|| SampleError::Io(wanted.to_owned(), std::io::ErrorKind::NotFound.into()))
    };
    collect(origin, cases, &others, &read)
}

/// Parses `cases`, checks names are unique and every other file is a
/// body some case names.
fn collect(
    origin: &Path,
    cases: Vec<(PathBuf, Vec<u8>)>,
    others: &[PathBuf],
    read: Reader<'_>,
) -> Result<Vec<Sample>, SampleError> {
    let mut referenced = BTreeSet::new();
    let mut samples: Vec<Sample> = Vec::new();
    for (path, text) in cases {
        let sample = load_case(&path, &text, &mut referenced, read)?;
        if samples.iter().any(|s| s.name == sample.name) {
            return Err(SampleError::Invalid(
                path,
                format!("a second case named {:?}", sample.name),
            ));
        }
        samples.push(sample);
    }
    if let Some(stray) = others.iter().find(|p| !referenced.contains(*p)) {
        return Err(SampleError::Unreferenced(stray.clone()));
    }
    if samples.is_empty() {
        return Err(SampleError::Empty(origin.to_owned()));
    }
    Ok(samples)
}

/// One case written inline (every body as `body`, no `body_file`), as an
/// operator stores a vector through the admin API.
pub fn from_case_text(text: &str) -> Result<Sample, SampleError> {
    let origin = Path::new("(vector)");
    let raw: RawSample =
        serde_json::from_str(text).map_err(|e| SampleError::Parse(origin.to_owned(), e))?;
    let no_files = |path: &Path| -> Result<Vec<u8>, SampleError> {
        Err(SampleError::Invalid(
            path.to_owned(),
            "a stored vector gives its bodies inline as `body`, not `body_file`".to_owned(),
        ))
    };
    from_raw(origin, raw, &mut BTreeSet::new(), &no_files)
}

/// Samples from a JSON list in the case format (the built-in ones).
pub fn from_list(text: &str) -> Result<Vec<Sample>, SampleError> {
    let origin = Path::new("(built-in)");
    let raws: Vec<RawSample> =
        serde_json::from_str(text).map_err(|e| SampleError::Parse(origin.to_owned(), e))?;
    let mut unused = BTreeSet::new();
    raws.into_iter()
        .map(|raw| from_raw(origin, raw, &mut unused, &read_limited))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "aip-samples-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap_or(&dir)).unwrap_or_default();
            std::fs::write(path, text).unwrap_or_default();
        }
        std::fs::create_dir_all(&dir).unwrap_or_default();
        dir
    }

    const CHAT: &str = r#"{"name": "chat", "method": "POST", "path": "/v1/chat/completions",
        "body": {"model": "m"}, "response": {"status": 200, "body": "{\"usage\":{}}"}}"#;

    #[test]
    fn bodies_are_strings_json_or_files_kept_byte_for_byte() {
        let dir = folder(&[
            ("a.json", CHAT),
            (
                "stream/case.json",
                r#"{"name": "s", "method": "POST", "path": "/x", "body": "{\"model\" : \"m\"}",
                   "response": {"status": 200, "body_file": "answer.sse"}}"#,
            ),
            ("stream/answer.sse", "data: 1\r\n\r\n"),
        ]);
        let samples = from_dir(&dir).map_err(|e| e.to_string());
        let samples = samples.as_deref().unwrap_or_default();
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].body, br#"{"model":"m"}"#);
        assert_eq!(
            samples[0].response.as_ref().map(|r| r.body.clone()),
            Some(br#"{"usage":{}}"#.to_vec())
        );
        assert_eq!(
            samples[1].body, br#"{"model" : "m"}"#,
            "a string is the text itself"
        );
        assert_eq!(
            samples[1].response.as_ref().map(|r| r.body.clone()),
            Some(b"data: 1\r\n\r\n".to_vec())
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    fn error_of(files: &[(&str, &str)]) -> String {
        let dir = folder(files);
        let error = from_dir(&dir)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let _ = std::fs::remove_dir_all(dir);
        error
    }

    #[test]
    fn strict_loading_names_what_is_wrong() {
        assert!(error_of(&[]).contains("no cases"));
        let unknown = CHAT.replace("\"method\"", "\"methd\": 1, \"method\"");
        assert!(error_of(&[("a.json", &unknown)]).contains("unknown field `methd`"));
        let stray = error_of(&[("a.json", CHAT), ("b.sse", "data: 1\n\n")]);
        assert!(stray.contains("b.sse: not a case"), "{stray}");
        let both = CHAT.replace("\"body\": {", "\"body_file\": \"x.body\", \"body\": {");
        assert!(error_of(&[("a.json", &both)]).contains("not both"));
        let escape = CHAT.replace("\"body\": {\"model\": \"m\"}", "\"body_file\": \"../x\"");
        assert!(error_of(&[("a.json", &escape)]).contains("relative path below"));
        let twice = error_of(&[("a.json", CHAT), ("b.json", CHAT)]);
        assert!(twice.contains("a second case named \"chat\""), "{twice}");
    }

    #[test]
    fn files_up_to_the_limit_are_read_and_larger_ones_refused() {
        let dir = folder(&[]);
        let at_limit = dir.join("at.body");
        let size = usize::try_from(MAX_SAMPLE_FILE_BYTES).unwrap_or_default();
        std::fs::write(&at_limit, vec![b'x'; size]).unwrap_or_default();
        assert_eq!(read_limited(&at_limit).map(|b| b.len()).ok(), Some(size));
        let over = dir.join("over.body");
        std::fs::write(&over, vec![b'x'; size + 1]).unwrap_or_default();
        assert!(matches!(read_limited(&over), Err(SampleError::TooLarge(_))));
        let _ = std::fs::remove_dir_all(dir);
    }
}
