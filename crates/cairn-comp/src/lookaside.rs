//! Dist-git `sources` files (`SHA512 (name-1.0.tar.gz) = <hex>`, or the older
//! `<md5>  <name>`) and fetching what they list from the lookaside cache by hash.

use crate::CompError;
use cairn_package::{Checksum, ChecksumAlgo};
use serde::Serialize;
use std::path::PathBuf;

/// One line of a `sources` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceEntry {
    pub filename: String,
    /// Lower case: `sha512`, `sha256`, `md5`.
    pub hash_type: String,
    pub hash: String,
}

impl SourceEntry {
    pub fn checksum(&self) -> Option<Checksum> {
        let algo = ChecksumAlgo::parse(&self.hash_type)?;
        Some(Checksum::new(algo, self.hash.clone()))
    }
    /// The line as Fedora writes it.
    pub fn line(&self) -> String {
        format!(
            "{} ({}) = {}\n",
            self.hash_type.to_ascii_uppercase(),
            self.filename,
            self.hash
        )
    }
}

/// Parse a `sources` file; `file` names it in errors.
pub fn parse_sources_file(text: &str, file: &str) -> Result<Vec<SourceEntry>, CompError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || CompError::Config {
            file: PathBuf::from(file),
            message: format!(
                "line {}: expected `SHA512 (file) = <hex>` or `<md5>  file`, got `{line}`",
                n + 1
            ),
        };
        if let Some((algo, rest)) = line.split_once(" (") {
            let (name, hash) = rest.split_once(") = ").ok_or_else(bad)?;
            let algo = algo.to_ascii_lowercase();
            let want = match algo.as_str() {
                "sha512" => 128,
                "sha256" => 64,
                "sha1" => 40,
                "md5" => 32,
                _ => return Err(bad()),
            };
            if hash.len() != want || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            out.push(SourceEntry {
                filename: name.to_owned(),
                hash_type: algo,
                hash: hash.to_ascii_lowercase(),
            });
        } else {
            let mut it = line.split_whitespace();
            let (Some(hash), Some(name), None) = (it.next(), it.next(), it.next()) else {
                return Err(bad());
            };
            if hash.len() != 32 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            out.push(SourceEntry {
                filename: name.to_owned(),
                hash_type: "md5".into(),
                hash: hash.to_ascii_lowercase(),
            });
        }
    }
    Ok(out)
}

/// Render entries as a `sources` file.
pub fn render_sources_file(entries: &[SourceEntry]) -> String {
    entries.iter().map(SourceEntry::line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        let h = "a".repeat(128);
        let text = format!("SHA512 (x-1.tar.gz) = {h}\n{}  old.tgz\n", "b".repeat(32));
        let e = parse_sources_file(&text, "sources").unwrap();
        assert_eq!(e[0].filename, "x-1.tar.gz");
        assert_eq!(e[1].hash_type, "md5");
        assert_eq!(
            render_sources_file(&e[..1]),
            format!("SHA512 (x-1.tar.gz) = {h}\n")
        );
        let err = parse_sources_file("SHA512 (x) = 12\n", "s").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
