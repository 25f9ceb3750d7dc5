//! write_oci against skopeo, umoci and podman.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use cairn_archive::{ArchiveError, OciConfig, OciSummary, write_oci};
use serde_json::Value;

use crate::common::*;

const CREATED: &str = "2023-11-14T22:13:20Z";

fn unique_name() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "localhost/cairn-archive-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn config(name: &str) -> OciConfig {
    let mut cfg = OciConfig::new(name, "v1", EPOCH);
    cfg.env = vec![
        "PATH=/usr/bin:/bin".into(),
        "CAIRN_GREETING=hello-from-cairn".into(),
    ];
    cfg.cmd = vec![
        "/bin/sh".into(),
        "-c".into(),
        "echo $CAIRN_GREETING; id -u; cat /usr/bin/data".into(),
    ];
    cfg.working_dir = Some("/".into());
    cfg.user = Some("0:0".into());
    cfg.labels
        .insert("org.opencontainers.image.title".into(), "cairn test".into());
    cfg.labels
        .insert("org.opencontainers.image.version".into(), "1.0".into());
    cfg.labels.insert(
        "dev.cairn.sbom.digest".into(),
        format!("sha256:{}", "ab".repeat(32)),
    );
    cfg
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Removes the image from podman's store when the test ends, pass or fail.
struct PodmanImage(String);

impl Drop for PodmanImage {
    fn drop(&mut self) {
        let _ = Command::new(tool("podman"))
            .args(["rmi", "-f", &self.0])
            .output();
    }
}

fn build(
    tmp: &Path,
    name: &str,
) -> (
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
    OciSummary,
) {
    let root = tmp.join("root");
    sample_tree(&root, false, EPOCH + 77);
    let layout = tmp.join("layout");
    let docker = tmp.join("image.docker.tar");
    let summary = write_oci(&root, &layout, Some(&docker), &config(name)).unwrap();
    (root, layout, docker, summary)
}

#[test]
fn layout_is_what_skopeo_and_umoci_expect() {
    let tmp = tempfile::tempdir().unwrap();
    let name = unique_name();
    let (root, layout, docker, summary) = build(tmp.path(), &name);

    // Every blob is named by its digest.
    for entry in fs_err::read_dir(layout.join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        let data = fs_err::read(entry.path()).unwrap();
        let out = run(Command::new(tool("sha256sum")).arg(entry.path()));
        assert!(
            out.starts_with(&entry.file_name().to_string_lossy().to_string()),
            "{out}"
        );
        assert!(!data.is_empty());
    }
    assert_eq!(
        fs_err::read_to_string(layout.join("oci-layout")).unwrap(),
        r#"{"imageLayoutVersion":"1.0.0"}"#
    );
    let index = json(&fs_err::read_to_string(layout.join("index.json")).unwrap());
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "v1"
    );
    assert_eq!(
        index["manifests"][0]["digest"],
        summary.manifest_digest.as_str()
    );

    let inspect = json(&run(Command::new(tool("skopeo"))
        .arg("inspect")
        .arg(format!("oci:{}:v1", layout.display()))));
    assert_eq!(inspect["Digest"], summary.manifest_digest.as_str());
    assert_eq!(inspect["Architecture"], "amd64");
    assert_eq!(inspect["Os"], "linux");
    assert_eq!(inspect["Created"], CREATED);
    assert_eq!(
        inspect["Labels"]["org.opencontainers.image.title"],
        "cairn test"
    );
    assert_eq!(inspect["Layers"][0], summary.layer_digest.as_str());
    assert!(
        inspect["Env"]
            .as_array()
            .unwrap()
            .contains(&Value::from("CAIRN_GREETING=hello-from-cairn"))
    );

    let config = json(&run(Command::new(tool("skopeo"))
        .args(["inspect", "--config"])
        .arg(format!("oci:{}:v1", layout.display()))));
    assert_eq!(config["rootfs"]["diff_ids"][0], summary.diff_id.as_str());
    assert_eq!(config["config"]["Cmd"][0], "/bin/sh");
    assert_eq!(config["config"]["User"], "0:0");
    assert_eq!(config["history"][0]["created"], CREATED);

    let raw = run(Command::new(tool("skopeo"))
        .args(["inspect", "--raw"])
        .arg(format!("oci:{}:v1", layout.display())));
    let manifest = json(&raw);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(manifest["layers"][0]["size"], summary.layer_size);
    assert!(
        !raw.contains(' ') && !raw.contains('\n'),
        "manifest is not compact: {raw}"
    );

    let d = json(&run(Command::new(tool("skopeo"))
        .arg("inspect")
        .arg(format!("docker-archive:{}", docker.display()))));
    assert_eq!(
        d["Labels"]["dev.cairn.sbom.digest"],
        format!("sha256:{}", "ab".repeat(32))
    );
    assert!(
        d["Env"]
            .as_array()
            .unwrap()
            .contains(&Value::from("PATH=/usr/bin:/bin"))
    );
    assert_eq!(d["Layers"][0], summary.diff_id.as_str());

    // umoci unpacks the layer back into the same tree (owners, modes, links, devices, caps).
    let bundle = tmp.path().join("bundle");
    run(Command::new(tool("umoci"))
        .args(["unpack", "--image"])
        .arg(format!("{}:v1", layout.display()))
        .arg(&bundle));
    let rootfs = bundle.join("rootfs");
    assert_same_tree(
        &snapshot(&root, EPOCH, true),
        &snapshot(&rootfs, EPOCH, true),
    );
    let caps = run(Command::new(tool("getcap")).arg(rootfs.join("usr/bin/ping")));
    assert!(caps.contains("cap_net_raw=ep"), "{caps}");
}

#[test]
fn podman_loads_the_docker_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let name = unique_name();
    let (_, _, docker, _) = build(tmp.path(), &name);
    let _guard = PodmanImage(format!("{name}:v1"));
    let loaded = run(Command::new(tool("podman"))
        .args(["load", "-i"])
        .arg(&docker));
    assert!(loaded.contains(&format!("{name}:v1")), "{loaded}");
    let inspect = json(&run(Command::new(tool("podman")).args([
        "image",
        "inspect",
        &format!("{name}:v1"),
    ])));
    let image = &inspect[0];
    assert_eq!(
        image["Config"]["Labels"]["org.opencontainers.image.version"],
        "1.0"
    );
    assert_eq!(
        image["Labels"]["org.opencontainers.image.title"],
        "cairn test"
    );
    assert!(
        image["Config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&Value::from("CAIRN_GREETING=hello-from-cairn"))
    );
    assert_eq!(image["Architecture"], "amd64");
    assert_eq!(image["Created"], CREATED);
}

/// podman's default runtime (crun 1.8) refuses this host's hybrid cgroup v1/v2 layout, and its
/// default rlimits exceed the host's hard limits; runc with rlimits within the host's runs
/// containers here.
#[test]
fn podman_runs_the_image_with_static_busybox() {
    let runc = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join("runc").is_file());
    assert!(
        runc,
        "host tool `runc` not found: podman's default runtime crun cannot run containers on this host \
         (\"cgroups in hybrid mode not supported\"); install the Debian package runc (scripts/setup-host.sh)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let name = unique_name();
    let (_, _, docker, _) = build(tmp.path(), &name);
    let _guard = PodmanImage(format!("{name}:v1"));
    run(Command::new(tool("podman"))
        .args(["load", "-i"])
        .arg(&docker));
    let out = run(Command::new(tool("podman")).args([
        "--runtime",
        "runc",
        "run",
        "--rm",
        "--network",
        "none",
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=1024:1024",
        &format!("{name}:v1"),
    ]));
    assert_eq!(out, "hello-from-cairn\n0\ndata\n");
}

#[test]
fn layout_dir_must_be_new_or_empty_and_errors_clean_up() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    sample_tree(&root, false, EPOCH);
    let layout = tmp.path().join("layout");
    fs_err::create_dir(&layout).unwrap();
    fs_err::write(layout.join("stray"), b"x").unwrap();
    let err = write_oci(&root, &layout, None, &config("localhost/x")).unwrap_err();
    assert!(
        matches!(err, ArchiveError::LayoutNotEmpty { .. }) && err.to_string().contains("layout"),
        "{err}"
    );

    let fresh = tmp.path().join("fresh");
    let docker = tmp.path().join("d.tar");
    let err = write_oci(
        &tmp.path().join("missing-root"),
        &fresh,
        Some(&docker),
        &config("localhost/x"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("missing-root"), "{err}");
    assert!(
        !fresh.exists() && !docker.exists(),
        "a failed write leaves nothing behind"
    );

    let err = write_oci(&root, &fresh, None, &config("Upper/Case")).unwrap_err();
    assert!(err.to_string().contains("Upper/Case"), "{err}");
    let mut cfg = config("localhost/x");
    cfg.env.push("NOEQUALS".into());
    assert!(
        write_oci(&root, &fresh, None, &cfg)
            .unwrap_err()
            .to_string()
            .contains("NOEQUALS")
    );
}
