//! The OCI output's image configuration: `[images.X.oci]`, the os-release identity and the
//! SBOM's digest as labels.

use crate::customize::in_root;
use crate::pipeline::BuildInput;
use std::collections::BTreeMap;
use std::path::Path;

pub(crate) fn config(
    b: &BuildInput<'_>,
    os_release: &BTreeMap<String, String>,
    root: &Path,
    spdx_digest: &str,
) -> cairn_archive::OciConfig {
    let o = &b.image.build.oci;
    let version = &b.image.build.version;
    let (name, tag) = match &o.tag {
        Some(t) => {
            // `repo/name:tag`: the tag is after the last `:` that follows the last `/`
            let slash = t.rfind('/').map_or(0, |i| i + 1);
            match t[slash..].rfind(':') {
                Some(i) => (t[..slash + i].to_owned(), t[slash + i + 1..].to_owned()),
                None => (t.clone(), version.clone()),
            }
        }
        None => (format!("localhost/{}", b.image.name), version.clone()),
    };
    let mut cfg = cairn_archive::OciConfig::new(name, tag, b.source_date_epoch);
    cfg.env = o.env.clone().unwrap_or_else(|| {
        vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()]
    });
    cfg.entrypoint = o.entrypoint.clone().unwrap_or_default();
    cfg.cmd = o.cmd.clone().unwrap_or_else(|| {
        if o.entrypoint.is_none() && in_root(root, "/bin/sh").exists() {
            vec!["/bin/sh".into()]
        } else {
            Vec::new()
        }
    });
    cfg.working_dir = o.workdir.clone();
    cfg.user = o.user.clone();
    cfg.created_by = format!("cairn {} build {}", env!("CARGO_PKG_VERSION"), b.image.name);
    let mut labels = BTreeMap::new();
    labels.insert(
        "org.opencontainers.image.title".into(),
        b.image.name.clone(),
    );
    labels.insert("org.opencontainers.image.version".into(), version.clone());
    labels.insert(
        "org.opencontainers.image.created".into(),
        cairn_archive::rfc3339(b.source_date_epoch),
    );
    if let Some(d) = &b.image.description {
        labels.insert("org.opencontainers.image.description".into(), d.clone());
    }
    for (k, l) in [
        ("ID", "id"),
        ("ID_LIKE", "id-like"),
        ("NAME", "name"),
        ("VERSION_ID", "version-id"),
        ("PRETTY_NAME", "pretty-name"),
        ("VARIANT_ID", "variant-id"),
    ] {
        if let Some(v) = os_release.get(k) {
            labels.insert(format!("io.cairn.os-release.{l}"), v.clone());
        }
    }
    labels.insert("io.cairn.sbom.spdx.digest".into(), spdx_digest.to_owned());
    labels.insert(
        "io.cairn.sbom.spdx.file".into(),
        format!("{}.spdx.json", b.image.name),
    );
    for (k, v) in &o.labels {
        labels.insert(k.clone(), v.clone());
    }
    cfg.labels = labels;
    cfg
}
