//! The real SBOM validators: spdx-tools (`pyspdxtools`) and cyclonedx-python-lib, from the
//! Python environment `scripts/setup-host.sh` creates under `target/pyenv` (or
//! `$CAIRN_PYENV`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The validators' Python environment; panics naming the setup script when it is missing.
pub fn pyenv() -> PathBuf {
    let dir = match std::env::var_os("CAIRN_PYENV") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/pyenv"),
    };
    for tool in ["bin/python", "bin/pyspdxtools"] {
        assert!(
            dir.join(tool).is_file(),
            "SBOM validators missing: {} does not exist. Run `bash scripts/setup-host.sh` \
             (it creates that Python environment with spdx-tools and cyclonedx-python-lib), \
             or point CAIRN_PYENV at one.",
            dir.join(tool).display()
        );
    }
    dir
}

/// `pyspdxtools -i FILE`: `Ok(output)` when it exits 0 and reports no problem, else
/// `Err(output)`. (pyspdxtools logs "The document is valid." at INFO level, which its
/// default logging does not show: a valid document gives exit 0 and no output, an invalid
/// one exit 1 and "The document is invalid. The following issues have been found: …".)
pub fn pyspdxtools(file: &Path) -> Result<String, String> {
    let out = Command::new(pyenv().join("bin/pyspdxtools"))
        .arg("-i")
        .arg(file)
        .output()
        .expect("run pyspdxtools");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lower = text.to_ascii_lowercase();
    let complaint = ["invalid", "issue", "error", "warning", "traceback"]
        .iter()
        .any(|w| lower.contains(w));
    let silent_or_valid = text.trim().is_empty() || text.contains("The document is valid.");
    if out.status.success() && !complaint && silent_or_valid {
        Ok(text)
    } else {
        Err(format!(
            "pyspdxtools -i {} ({}):\n{text}",
            file.display(),
            out.status
        ))
    }
}

const SPDX_BATCH: &str = r#"
import sys
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
for path in sys.argv[1:]:
    try:
        doc = parse_file(path)
        msgs = validate_full_spdx_document(doc, "SPDX-2.3")
        if msgs:
            print("ERR", path, " | ".join(m.validation_message for m in msgs)[:2000])
        else:
            print("OK", path)
    except Exception as e:
        print("ERR", path, type(e).__name__, str(e)[:2000])
"#;

const CDX_BATCH: &str = r#"
import sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
v = JsonStrictValidator(SchemaVersion.V1_6)
for path in sys.argv[1:]:
    with open(path) as f:
        err = v.validate_str(f.read())
    if err is None:
        print("OK", path)
    else:
        e = getattr(err, "data", None)
        detail = f"{e.message} at {list(e.absolute_path)}" if e is not None else repr(err)
        print("ERR", path, detail[:2000])
"#;

/// Run a batch script over `files`; one result per file, in order.
fn batch(script: &str, files: &[PathBuf]) -> Vec<Result<(), String>> {
    let out = Command::new(pyenv().join("bin/python"))
        .arg("-c")
        .arg(script)
        .args(files)
        .output()
        .expect("run the validators' python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "validator script failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), files.len(), "one line per file:\n{stdout}");
    lines
        .iter()
        .zip(files)
        .map(|(line, f)| {
            let path = f.display().to_string();
            if *line == format!("OK {path}") {
                Ok(())
            } else {
                Err(line.to_string())
            }
        })
        .collect()
}

/// spdx-tools' parser and full-document validator (what `pyspdxtools` runs) over many files
/// in one process.
pub fn spdx_batch(files: &[PathBuf]) -> Vec<Result<(), String>> {
    batch(SPDX_BATCH, files)
}

/// `JsonStrictValidator(SchemaVersion.V1_6).validate_str(...)` over many files in one
/// process; `Ok` where it returned None.
pub fn cyclonedx_batch(files: &[PathBuf]) -> Vec<Result<(), String>> {
    batch(CDX_BATCH, files)
}

pub fn cyclonedx(file: &Path) -> Result<(), String> {
    cyclonedx_batch(&[file.to_owned()])
        .pop()
        .expect("one result")
}
