//! The same tree, created in another order with other (newer) mtimes, gives the same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use cairn_archive::{OciConfig, TarOptions, write_oci, write_tar, write_wsl};

use crate::common::*;
use crate::wsl::{distro_root, wsl_config};

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in fs_err::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(dir).unwrap().display().to_string(),
                    fs_err::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn tar_wsl_and_oci_are_byte_identical_across_creation_order_and_mtimes() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    sample_tree(&a, false, EPOCH + 10);
    sample_tree(&b, true, EPOCH + 86_400 * 400);
    // The WSL parts of the tree too, in both.
    distro_root(&a.join("w"));
    distro_root(&b.join("w"));
    run(std::process::Command::new(tool("find"))
        .arg(b.join("w"))
        .args(["-exec", "touch", "-h", "-d", "@1800000000", "{}", "+"]));

    let tar = |root: &Path| {
        let mut out = Vec::new();
        write_tar(root, &mut out, &TarOptions::new(EPOCH)).unwrap();
        out
    };
    let (ta, tb) = (tar(&a), tar(&b));
    assert!(
        ta == tb,
        "tar outputs differ ({} vs {} bytes)",
        ta.len(),
        tb.len()
    );

    let (wa, wb) = (tmp.path().join("a.wsl"), tmp.path().join("b.wsl"));
    let sa = write_wsl(&a.join("w"), &wa, &wsl_config()).unwrap();
    let sb = write_wsl(&b.join("w"), &wb, &wsl_config()).unwrap();
    assert_eq!(sa.sha256, sb.sha256);
    assert!(fs_err::read(&wa).unwrap() == fs_err::read(&wb).unwrap());

    let oci = |root: &Path, tag: &str| {
        let layout = tmp.path().join(format!("layout-{tag}"));
        let docker = tmp.path().join(format!("docker-{tag}.tar"));
        let mut cfg = OciConfig::new("localhost/repro", "v1", EPOCH);
        cfg.env = vec!["A=1".into()];
        cfg.labels
            .insert("org.opencontainers.image.title".into(), "repro".into());
        let summary = write_oci(root, &layout, Some(&docker), &cfg).unwrap();
        (summary, files(&layout), fs_err::read(&docker).unwrap())
    };
    let (oa, la, da) = oci(&a, "a");
    let (ob, lb, db) = oci(&b, "b");
    assert_eq!(oa, ob);
    assert_eq!(la.keys().collect::<Vec<_>>(), lb.keys().collect::<Vec<_>>());
    assert!(la == lb, "OCI layouts differ");
    assert!(da == db, "docker archives differ");
}
