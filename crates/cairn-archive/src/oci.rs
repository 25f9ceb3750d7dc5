//! OCI image layout and docker-archive output.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::Path;

use serde_json::{Value, json};

use crate::gzip::write_tar_gz;
use crate::hashing::{HashWriter, sha256_hex};
use crate::header::{self, HeaderSpec, TypeFlag};
use crate::json::{canonical, rfc3339};
use crate::{ArchiveError, TarOptions, TarSummary};

/// Media type of the manifest this crate writes.
pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of the image configuration.
pub const MEDIA_TYPE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of the (single) layer.
pub const MEDIA_TYPE_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Media type of `index.json`.
pub const MEDIA_TYPE_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// What goes into the image configuration and where it is tagged.
///
/// Construct with [`OciConfig::new`] and set the public fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OciConfig {
    /// Repository for the docker-archive `RepoTags` (`localhost/cairn-base`): lowercase,
    /// `/`-separated, an optional `host[:port]/` first.
    pub name: String,
    /// Tag: `index.json`'s `org.opencontainers.image.ref.name` and the tag in `RepoTags`.
    pub tag: String,
    /// `config.Env`, each `KEY=VALUE`.
    pub env: Vec<String>,
    /// `config.Entrypoint` (left out when empty).
    pub entrypoint: Vec<String>,
    /// `config.Cmd` (left out when empty).
    pub cmd: Vec<String>,
    /// `config.WorkingDir`.
    pub working_dir: Option<String>,
    /// `config.User`.
    pub user: Option<String>,
    /// `config.Labels`: the caller passes os-release identity (`org.opencontainers.image.*`),
    /// the SBOM digest and any custom labels.
    pub labels: BTreeMap<String, String>,
    /// `created_by` of the single history entry.
    pub created_by: String,
    /// gzip level of the layer (default 6).
    pub gzip_level: u32,
    /// How the root becomes the layer; its `source_date_epoch` is also the image's `created`.
    pub tar: TarOptions,
}

impl OciConfig {
    /// An image `name:tag` with nothing in its config but what the root holds.
    pub fn new(name: impl Into<String>, tag: impl Into<String>, source_date_epoch: u64) -> Self {
        OciConfig {
            name: name.into(),
            tag: tag.into(),
            env: Vec::new(),
            entrypoint: Vec::new(),
            cmd: Vec::new(),
            working_dir: None,
            user: None,
            labels: BTreeMap::new(),
            created_by: "cairn".into(),
            gzip_level: 6,
            tar: TarOptions::new(source_date_epoch),
        }
    }
}

/// Digests and sizes of what [`write_oci`] wrote. Digests are `sha256:<hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OciSummary {
    pub tar: TarSummary,
    /// Digest of the uncompressed layer (`rootfs.diff_ids[0]`).
    pub diff_id: String,
    pub layer_digest: String,
    pub layer_size: u64,
    pub config_digest: String,
    pub config_size: u64,
    pub manifest_digest: String,
    pub manifest_size: u64,
    /// SHA-256 (lowercase hex) and length of the docker-archive tarball, when one was written.
    pub docker_archive: Option<(String, u64)>,
}

/// Writes an OCI image layout to `layout_dir` (which must not exist or be empty) and, if
/// `docker_archive` is given, a docker-archive tarball (`manifest.json`, `<config>.json`,
/// `<diff_id>/layer.tar`) that `podman load` / `docker load` accept.
///
/// The image has one gzip layer made by [`crate::write_tar`], a config for `linux/amd64` with
/// `created` = the source date epoch, and all JSON canonical (sorted keys, no whitespace).
/// On error, what this call created under `layout_dir` and at `docker_archive` is removed.
pub fn write_oci(
    root: &Path,
    layout_dir: &Path,
    docker_archive: Option<&Path>,
    cfg: &OciConfig,
) -> Result<OciSummary, ArchiveError> {
    validate(cfg)?;
    let created_dir = match fs_err::read_dir(layout_dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(ArchiveError::LayoutNotEmpty {
                    path: layout_dir.to_owned(),
                });
            }
            false
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs_err::create_dir_all(layout_dir)?;
            true
        }
        Err(e) => return Err(e.into()),
    };
    let result = write_layout(root, layout_dir, docker_archive, cfg);
    if result.is_err() {
        if created_dir {
            let _ = fs_err::remove_dir_all(layout_dir);
        } else if let Ok(entries) = fs_err::read_dir(layout_dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                let _ = if path.is_dir() {
                    fs_err::remove_dir_all(&path)
                } else {
                    fs_err::remove_file(&path)
                };
            }
        }
        if let Some(path) = docker_archive {
            let _ = fs_err::remove_file(path);
        }
    }
    result
}

fn write_layout(
    root: &Path,
    layout_dir: &Path,
    docker_archive: Option<&Path>,
    cfg: &OciConfig,
) -> Result<OciSummary, ArchiveError> {
    let blobs = layout_dir.join("blobs").join("sha256");
    fs_err::create_dir_all(&blobs)?;

    let tmp = blobs.join(".cairn-layer.tmp");
    let mut file = fs_err::File::create(&tmp)?;
    let layer = write_tar_gz(root, &mut file, &cfg.tar, cfg.gzip_level)?;
    file.sync_all()?;
    drop(file);
    let layer_path = blobs.join(&layer.compressed_sha256);
    fs_err::rename(&tmp, &layer_path)?;

    let diff_id = format!("sha256:{}", layer.tar.sha256);
    let layer_digest = format!("sha256:{}", layer.compressed_sha256);
    let created = rfc3339(cfg.tar.source_date_epoch);

    let config = canonical(&image_config(cfg, &diff_id, &created));
    let config_hex = sha256_hex(&config);
    fs_err::write(blobs.join(&config_hex), &config)?;

    let manifest = canonical(&json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_MANIFEST,
        "config": {
            "mediaType": MEDIA_TYPE_CONFIG,
            "digest": format!("sha256:{config_hex}"),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": MEDIA_TYPE_LAYER,
            "digest": layer_digest,
            "size": layer.compressed_bytes,
        }],
    }));
    let manifest_hex = sha256_hex(&manifest);
    fs_err::write(blobs.join(&manifest_hex), &manifest)?;

    let index = canonical(&json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_INDEX,
        "manifests": [{
            "mediaType": MEDIA_TYPE_MANIFEST,
            "digest": format!("sha256:{manifest_hex}"),
            "size": manifest.len(),
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": cfg.tag},
        }],
    }));
    fs_err::write(
        layout_dir.join("oci-layout"),
        canonical(&json!({"imageLayoutVersion": "1.0.0"})),
    )?;
    fs_err::write(layout_dir.join("index.json"), &index)?;

    let docker = match docker_archive {
        Some(path) => Some(write_docker_archive(
            path,
            &layer_path,
            &layer.tar,
            &config,
            &config_hex,
            &format!("{}:{}", cfg.name, cfg.tag),
            cfg.tar.source_date_epoch,
        )?),
        None => None,
    };

    Ok(OciSummary {
        diff_id,
        layer_digest,
        layer_size: layer.compressed_bytes,
        config_digest: format!("sha256:{config_hex}"),
        config_size: config.len() as u64,
        manifest_digest: format!("sha256:{manifest_hex}"),
        manifest_size: manifest.len() as u64,
        docker_archive: docker,
        tar: layer.tar,
    })
}

fn image_config(cfg: &OciConfig, diff_id: &str, created: &str) -> Value {
    let mut config = serde_json::Map::new();
    if !cfg.env.is_empty() {
        config.insert("Env".into(), json!(cfg.env));
    }
    if !cfg.entrypoint.is_empty() {
        config.insert("Entrypoint".into(), json!(cfg.entrypoint));
    }
    if !cfg.cmd.is_empty() {
        config.insert("Cmd".into(), json!(cfg.cmd));
    }
    if let Some(dir) = &cfg.working_dir {
        config.insert("WorkingDir".into(), json!(dir));
    }
    if let Some(user) = &cfg.user {
        config.insert("User".into(), json!(user));
    }
    if !cfg.labels.is_empty() {
        config.insert("Labels".into(), json!(cfg.labels));
    }
    json!({
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": created, "created_by": cfg.created_by}],
    })
}

fn write_docker_archive(
    path: &Path,
    layer_blob: &Path,
    layer_tar: &TarSummary,
    config: &[u8],
    config_hex: &str,
    repo_tag: &str,
    epoch: u64,
) -> Result<(String, u64), ArchiveError> {
    let file = fs_err::File::create(path)?;
    let mut out = HashWriter::new(io::BufWriter::with_capacity(1 << 20, file));
    let config_name = format!("{config_hex}.json");
    let layer_name = format!("{}/layer.tar", layer_tar.sha256);
    let manifest = canonical(&json!([{
        "Config": config_name,
        "RepoTags": [repo_tag],
        "Layers": [layer_name],
    }]));
    let what = "docker archive";
    let file_header = |out: &mut dyn Write, name: &[u8], size: u64| {
        header::encode_entry(
            out,
            &HeaderSpec {
                name,
                link: b"",
                flag: TypeFlag::Regular,
                mode: 0o644,
                uid: 0,
                gid: 0,
                size,
                mtime: epoch,
                dev_major: 0,
                dev_minor: 0,
                xattrs: &[],
            },
        )
    };
    let wrap = |e: io::Error| ArchiveError::Output { what, source: e };

    file_header(&mut out, config_name.as_bytes(), config.len() as u64).map_err(wrap)?;
    out.write_all(config).map_err(wrap)?;
    out.write_all(header::padding(config.len() as u64))
        .map_err(wrap)?;

    file_header(&mut out, layer_name.as_bytes(), layer_tar.bytes).map_err(wrap)?;
    let mut decoder = flate2::read::GzDecoder::new(fs_err::File::open(layer_blob)?);
    let mut check = HashWriter::new(&mut out);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = decoder.read(&mut buf).map_err(|e| ArchiveError::Corrupt {
            path: layer_blob.to_owned(),
            reason: format!("cannot decompress the layer just written: {e}"),
        })?;
        if n == 0 {
            break;
        }
        check.write_all(&buf[..n]).map_err(wrap)?;
    }
    let (n, sha, _) = check.finish();
    if n != layer_tar.bytes || sha != layer_tar.sha256 {
        return Err(ArchiveError::Corrupt {
            path: layer_blob.to_owned(),
            reason: format!(
                "layer decompresses to {n} bytes with sha256 {sha}, expected {} bytes with sha256 {}",
                layer_tar.bytes, layer_tar.sha256
            ),
        });
    }
    out.write_all(header::padding(layer_tar.bytes))
        .map_err(wrap)?;

    file_header(&mut out, b"manifest.json", manifest.len() as u64).map_err(wrap)?;
    out.write_all(&manifest).map_err(wrap)?;
    out.write_all(header::padding(manifest.len() as u64))
        .map_err(wrap)?;
    header::end_of_archive(&mut out).map_err(wrap)?;

    let (bytes, sha, buffered) = out.finish();
    let file = buffered.into_inner().map_err(|e| wrap(e.into_error()))?;
    file.sync_all()?;
    Ok((sha, bytes))
}

fn validate(cfg: &OciConfig) -> Result<(), ArchiveError> {
    let invalid = |field: &'static str, value: &str, expected: &'static str| {
        Err(ArchiveError::InvalidConfig {
            field,
            value: value.to_owned(),
            expected,
        })
    };
    let tag_ok = !cfg.tag.is_empty()
        && cfg.tag.len() <= 128
        && cfg.tag.bytes().enumerate().all(|(i, b)| {
            b.is_ascii_alphanumeric() || b == b'_' || (i > 0 && (b == b'.' || b == b'-'))
        });
    if !tag_ok {
        return invalid(
            "OCI tag",
            &cfg.tag,
            "1-128 characters of [A-Za-z0-9_.-], not starting with . or -",
        );
    }
    let name_ok = !cfg.name.is_empty()
        && cfg.name.split('/').enumerate().all(|(i, part)| {
            !part.is_empty()
                && part.bytes().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || matches!(b, b'.' | b'_' | b'-')
                        || (i == 0 && b == b':')
                })
        });
    if !name_ok {
        return invalid(
            "OCI image name",
            &cfg.name,
            "lowercase path components of [a-z0-9._-] separated by /, optionally after host[:port]/",
        );
    }
    for env in &cfg.env {
        if env.split_once('=').is_none_or(|(k, _)| k.is_empty()) {
            return invalid("OCI Env entry", env, "KEY=VALUE with a non-empty KEY");
        }
    }
    for key in cfg.labels.keys() {
        if key.is_empty() {
            return invalid("OCI label key", key, "a non-empty key");
        }
    }
    Ok(())
}
