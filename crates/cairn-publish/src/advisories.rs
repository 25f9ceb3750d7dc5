//! The advisory store: one TOML file per advisory (`advisories/<ID>.toml`), written by
//! `cairn advisory new` and read by publish, which turns them into `updateinfo.xml`.
//!
//! Each file carries `format = 1` beside the advisory's fields, so later versions can
//! migrate old records.

use crate::PublishError;
use crate::atomic::write_atomic;
use cairn_rpmmd::updateinfo::Advisory;
use serde::Serialize;
use std::path::{Path, PathBuf};

const FORMAT: u32 = 1;

#[derive(Serialize)]
struct FileOut<'a> {
    format: u32,
    #[serde(flatten)]
    advisory: &'a Advisory,
}

/// The file an advisory lives in.
pub fn advisory_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.toml"))
}

/// Load every `*.toml` in `dir` (a missing directory holds none), sorted by id. Each file
/// is validated; errors name the file.
pub fn load_advisories(dir: &Path) -> Result<Vec<Advisory>, PublishError> {
    let mut out = Vec::new();
    let entries = match fs_err::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(PublishError::Io(e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        out.push(read_advisory(&path)?);
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Read and validate one advisory file.
pub fn read_advisory(path: &Path) -> Result<Advisory, PublishError> {
    let bad = |message: String| PublishError::Advisory {
        path: path.to_path_buf(),
        message,
    };
    let text = fs_err::read_to_string(path)?;
    let mut table: toml::Table = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
    match table.remove("format") {
        Some(toml::Value::Integer(f)) if f == i64::from(FORMAT) => {}
        Some(v) => {
            return Err(bad(format!(
                "format = {v} is not supported by this cairn (expected {FORMAT})"
            )));
        }
        None => return Err(bad(format!("missing `format = {FORMAT}`"))),
    }
    let advisory: Advisory = table
        .try_into()
        .map_err(|e: toml::de::Error| bad(e.message().trim().to_owned()))?;
    advisory.validate().map_err(|e| bad(e.to_string()))?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    if stem.as_deref() != Some(advisory.id.as_str()) {
        return Err(bad(format!(
            "the file name must be the advisory id: expected {}.toml",
            advisory.id
        )));
    }
    Ok(advisory)
}

/// Write a new advisory; refuses to overwrite an existing id.
pub fn write_new_advisory(dir: &Path, advisory: &Advisory) -> Result<PathBuf, PublishError> {
    let path = advisory_path(dir, &advisory.id);
    advisory.validate().map_err(|e| PublishError::Advisory {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if path.exists() {
        return Err(PublishError::Advisory {
            path,
            message: format!("advisory {} already exists", advisory.id),
        });
    }
    fs_err::create_dir_all(dir)?;
    let text = toml::to_string(&FileOut {
        format: FORMAT,
        advisory,
    })
    .map_err(|e| PublishError::Advisory {
        path: path.clone(),
        message: e.to_string(),
    })?;
    write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// The next free id `PREFIX-YEAR-NNNN` in `dir`.
pub fn next_advisory_id(dir: &Path, prefix: &str, year: i64) -> Result<String, PublishError> {
    let existing = load_advisories(dir)?;
    let stem = format!("{prefix}-{year}-");
    let max = existing
        .iter()
        .filter_map(|a| a.id.strip_prefix(&stem)?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    Ok(format!("{stem}{:04}", max + 1))
}
