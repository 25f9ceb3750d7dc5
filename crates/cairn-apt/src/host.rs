//! The host's apt sources as [`AptSourceConfig`]s.

use crate::{AptError, AptSourceConfig};
use cairn_deb822::parse_sources_file;
use std::path::{Path, PathBuf};

/// Read the host's apt sources (`/etc/apt/sources.list`, `/etc/apt/sources.list.d/*.list`
/// and `*.sources`), skipping disabled entries, `deb-src` and other architectures: one
/// config per suite, with id `host/suite` (e.g. `deb.debian.org/bookworm`).
pub fn host_sources(arch: &str) -> Result<Vec<AptSourceConfig>, AptError> {
    host_sources_in(Path::new("/etc/apt"), arch)
}

/// [`host_sources`] for an apt configuration directory other than `/etc/apt`.
pub fn host_sources_in(etc_apt: &Path, arch: &str) -> Result<Vec<AptSourceConfig>, AptError> {
    let mut files = Vec::new();
    let main = etc_apt.join("sources.list");
    if main.is_file() {
        files.push(main);
    }
    let parts = etc_apt.join("sources.list.d");
    if parts.is_dir() {
        let mut found: Vec<PathBuf> = fs_err::read_dir(&parts)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "list" || e == "sources"))
            .collect();
        found.sort();
        files.extend(found);
    }
    let mut out: Vec<AptSourceConfig> = Vec::new();
    for file in files {
        let text = fs_err::read_to_string(&file)?;
        let origin = file.display().to_string();
        for entry in parse_sources_file(&text, &origin)? {
            if !entry.enabled
                || !entry.types.iter().any(|t| t == "deb")
                || !(entry.architectures.is_empty()
                    || entry.architectures.iter().any(|a| a == arch))
            {
                continue;
            }
            let signed_by = match &entry.signed_by {
                Some(s) => keyrings(s, &file, entry.line)?,
                None => default_keyrings(etc_apt)?,
            };
            for suite in &entry.suites {
                let host = entry.uris.first().map_or("", |u| host_of(u));
                let id = format!("{host}/{suite}");
                if out.iter().any(|c| c.id == id) {
                    continue;
                }
                out.push(AptSourceConfig {
                    id,
                    uris: entry.uris.clone(),
                    suites: vec![suite.clone()],
                    components: entry.components.clone(),
                    signed_by: signed_by.clone(),
                    arch: arch.to_owned(),
                    priority: 99,
                });
            }
        }
    }
    Ok(out)
}

fn host_of(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

/// `Signed-By` as keyring paths. Fingerprints and inline keys are not supported yet.
fn keyrings(value: &str, file: &Path, line: usize) -> Result<Vec<PathBuf>, AptError> {
    if value.contains("BEGIN PGP PUBLIC KEY BLOCK") {
        return Err(AptError::Config {
            path: file.to_owned(),
            reason: format!(
                "line {line}: inline Signed-By keys are not supported; put the key in a keyring file"
            ),
        });
    }
    value
        .split([',', ' ', '\n', '\t'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.starts_with('/') {
                Ok(PathBuf::from(s))
            } else {
                Err(AptError::Config {
                    path: file.to_owned(),
                    reason: format!("line {line}: Signed-By {s:?} is not a keyring path (fingerprints are not supported)"),
                })
            }
        })
        .collect()
}

/// What apt trusts without `Signed-By`: `trusted.gpg` and `trusted.gpg.d/*.{gpg,asc}`.
fn default_keyrings(etc_apt: &Path) -> Result<Vec<PathBuf>, AptError> {
    let mut out = Vec::new();
    let legacy = etc_apt.join("trusted.gpg");
    if legacy.is_file() {
        out.push(legacy);
    }
    let dir = etc_apt.join("trusted.gpg.d");
    if dir.is_dir() {
        let mut found: Vec<PathBuf> = fs_err::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "gpg" || e == "asc"))
            .collect();
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(host_of("http://deb.debian.org/debian"), "deb.debian.org");
        assert_eq!(
            host_of("https://u:p@example.org:8080/x"),
            "example.org:8080"
        );
    }

    #[test]
    fn reads_a_config_dir() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs_err::create_dir_all(d.join("sources.list.d")).unwrap();
        fs_err::write(
            d.join("sources.list"),
            "deb [signed-by=/k.gpg] http://a.example/debian bookworm main\n\
             deb-src http://a.example/debian bookworm main\n\
             deb [arch=arm64] http://b.example/debian bookworm main\n",
        )
        .unwrap();
        fs_err::write(
            d.join("sources.list.d/x.sources"),
            "Types: deb\nURIs: http://c.example/d\nSuites: s1 s2\nComponents: main contrib\n\n\
             Types: deb\nURIs: http://e.example/d\nSuites: off\nComponents: main\nEnabled: no\n",
        )
        .unwrap();
        fs_err::write(
            d.join("sources.list.d/y.list.disabled"),
            "deb http://f.example/ s main\n",
        )
        .unwrap();
        let got = host_sources_in(d, "amd64").unwrap();
        let ids: Vec<&str> = got.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a.example/bookworm", "c.example/s1", "c.example/s2"]);
        assert_eq!(got[0].signed_by, [PathBuf::from("/k.gpg")]);
        assert!(got[1].signed_by.is_empty());
        assert_eq!(got[2].components, ["main", "contrib"]);

        fs_err::write(
            d.join("sources.list"),
            "deb [signed-by=ABCDEF] http://a.example/debian s main\n",
        )
        .unwrap();
        let err = host_sources_in(d, "amd64").unwrap_err().to_string();
        assert!(
            err.contains("sources.list") && err.contains("fingerprints"),
            "{err}"
        );
    }
}
