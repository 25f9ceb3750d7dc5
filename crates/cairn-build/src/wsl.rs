//! The WSL output's settings, from `[images.X.wsl]` and the image's os-release.

use crate::BuildError;
use crate::pipeline::BuildInput;
use std::collections::BTreeMap;

/// WSL's registration name: letters, digits, `.`, `_`, `-`, at most 64.
fn wsl_name(s: &str) -> String {
    let mut n: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    n.truncate(64);
    n
}

pub(crate) fn config(
    b: &BuildInput<'_>,
    os_release: &BTreeMap<String, String>,
) -> Result<cairn_archive::WslConfig, BuildError> {
    let w = &b.image.build.wsl;
    let name = w
        .default_name
        .clone()
        .or_else(|| os_release.get("ID").cloned())
        .unwrap_or_else(|| b.image.name.clone());
    let mut cfg = cairn_archive::WslConfig::new(wsl_name(&name), b.source_date_epoch);
    if let Some(uid) = w.default_uid {
        cfg.default_uid = uid;
    }
    if let Some(g) = &w.user_groups {
        cfg.user_groups = g.clone();
    }
    if let Some(icon) = &w.icon {
        let p = b.project.dir.join(icon);
        cfg.icon = Some(fs_err::read(&p).map_err(|e| {
            BuildError::Invalid(format!(
                "images.{}.wsl.icon: cannot read {}: {}",
                b.image.name,
                p.display(),
                e.kind()
            ))
        })?);
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_made_acceptable() {
        assert_eq!(super::wsl_name("cairn minimal (x)"), "cairn-minimal--x-");
    }
}
