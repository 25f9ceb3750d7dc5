//! Parse the metadata createrepo_c writes for the basic fixture repository
//! (fixtures/rpm/basic, built by scripts/fixtures/rpm-repo.sh at test time).

use anyhow::{Context, Result, ensure};
use cairn_package::{ChecksumAlgo, Package};
use cairn_rpmmd::{RpmMdError, parse_filelists, parse_primary, parse_repomd};
use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

mod rpmq;
mod updateinfo;
mod write;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Build the basic fixture repository into `out` (real rpmbuild + createrepo_c).
fn build_repo(out: &Path, extra: &[&str]) -> Result<()> {
    let root = workspace_root();
    let status = Command::new("bash")
        .arg(root.join("scripts/fixtures/rpm-repo.sh"))
        .arg(root.join("fixtures/rpm/basic"))
        .arg(out)
        .args(extra)
        .status()
        .context("running scripts/fixtures/rpm-repo.sh (needs rpmbuild and createrepo_c: scripts/setup-host.sh)")?;
    ensure!(status.success(), "rpm-repo.sh failed: {status}");
    Ok(())
}

fn open_gz(path: &Path) -> Result<BufReader<flate2::read::GzDecoder<fs_err::File>>> {
    Ok(BufReader::new(flate2::read::GzDecoder::new(
        fs_err::File::open(path)?,
    )))
}

struct Parsed {
    packages: Vec<Package>,
    filelists: BTreeMap<String, Vec<String>>,
}

fn parse_repo(dir: &Path) -> Result<Parsed> {
    let repomd_path = dir.join("repodata/repomd.xml");
    let md = parse_repomd(
        &fs_err::read(&repomd_path)?,
        &repomd_path.display().to_string(),
    )?;
    ensure!(
        md.revision.as_deref() == Some("1700000000"),
        "revision {:?}",
        md.revision
    );
    let primary = md.get("primary").context("no primary")?;
    let filelists = md.get("filelists").context("no filelists")?;
    for d in [primary, filelists] {
        ensure!(d.location.ends_with(".xml.gz"), "{}", d.location);
        ensure!(d.checksum.algo == ChecksumAlgo::Sha256);
        ensure!(d.open_checksum.is_some() && d.size.is_some() && d.open_size.is_some());
        ensure!(d.timestamp == Some(1_700_000_000));
    }
    let packages = parse_primary(open_gz(&dir.join(&primary.location))?, "primary")?;
    let mut fl = BTreeMap::new();
    let n = parse_filelists(
        open_gz(&dir.join(&filelists.location))?,
        "filelists",
        |id, name, arch, files| {
            fl.insert(format!("{name}.{arch}:{id}"), files);
        },
    )?;
    ensure!(
        n == packages.len(),
        "filelists has {n} packages, primary {}",
        packages.len()
    );
    Ok(Parsed {
        packages,
        filelists: fl,
    })
}

/// A compact, readable view of a package for snapshots: dependencies as rpm prints them.
/// Package checksums and sizes depend on rpm's payload compression, so they are left out
/// (the test checks them against the files instead).
#[derive(serde::Serialize)]
struct View {
    nevra: String,
    location: String,
    installed_size: Option<u64>,
    source: Option<String>,
    license: Option<String>,
    summary: Option<String>,
    deps: BTreeMap<&'static str, Vec<String>>,
    files: Vec<String>,
}

fn view(pkgs: &[Package]) -> Vec<View> {
    pkgs.iter()
        .map(|p| {
            let mut deps = BTreeMap::new();
            for (k, v) in [
                ("provides", &p.provides),
                ("requires", &p.requires),
                ("conflicts", &p.conflicts),
                ("obsoletes", &p.obsoletes),
                ("recommends", &p.recommends),
                ("suggests", &p.suggests),
                ("supplements", &p.supplements),
                ("enhances", &p.enhances),
            ] {
                if !v.is_empty() {
                    deps.insert(k, v.iter().map(ToString::to_string).collect());
                }
            }
            View {
                nevra: p.nevra(),
                location: p.location.clone(),
                installed_size: p.installed_size,
                source: p.source.clone(),
                license: p.license.clone(),
                summary: p.summary.clone(),
                deps,
                files: p.files.clone(),
            }
        })
        .collect()
}

#[test]
fn basic_fixture_primary_and_filelists() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    build_repo(tmp.path(), &[])?;
    let parsed = parse_repo(tmp.path())?;
    let pk = &parsed.packages;
    let names: Vec<String> = pk.iter().map(|p| p.nevra()).collect();
    assert_eq!(
        names,
        [
            "epochal-3:0.5-2.x86_64",
            "fixture-shell-1.0-1.x86_64",
            "hello-2.0-1.x86_64",
            "hello-data-1.0-3.noarch",
            "libhello-1.0-1.x86_64",
            "libhello-1.1-1.x86_64",
        ]
    );
    // Every package checksum in primary is the sha256 of the RPM file it locates.
    for p in pk {
        let bytes = fs_err::read(tmp.path().join(&p.location))?;
        assert_eq!(bytes.len() as u64, p.size, "{}", p.name);
        let out = Command::new("sha256sum")
            .arg(tmp.path().join(&p.location))
            .output()?;
        let hex = String::from_utf8(out.stdout)?;
        assert_eq!(
            hex.split_whitespace().next(),
            Some(p.checksum.hex.as_str()),
            "{}",
            p.name
        );
    }
    // The primary file subset holds /bin/sh; filelists hold everything.
    let shell = pk.iter().find(|p| p.name == "fixture-shell").unwrap();
    assert_eq!(shell.files, ["/bin/sh", "/etc/shells"]);
    let hello = pk.iter().find(|p| p.name == "hello").unwrap();
    assert_eq!(hello.files, ["/usr/bin/hello"]);
    let key = format!("hello.x86_64:{}", hello.checksum.hex);
    assert_eq!(
        parsed.filelists[&key],
        ["/usr/bin/hello", "/usr/share/doc/hello/README"]
    );

    insta::assert_yaml_snapshot!("basic_primary", view(pk));
    Ok(())
}

#[test]
fn xz_and_gzip_metadata_parse_the_same() -> Result<()> {
    let gz = tempfile::tempdir()?;
    let xz = tempfile::tempdir()?;
    build_repo(gz.path(), &[])?;
    build_repo(xz.path(), &["--xz"])?;
    let md = parse_repomd(&fs_err::read(xz.path().join("repodata/repomd.xml"))?, "xz")?;
    let primary = md.get("primary").context("no primary")?;
    ensure!(
        primary.location.ends_with(".xml.xz"),
        "{}",
        primary.location
    );
    // xz is decompressed by the xz CLI here: this crate is pure and takes plain XML.
    let out = Command::new("xz")
        .arg("-dc")
        .arg(xz.path().join(&primary.location))
        .output()?;
    ensure!(out.status.success());
    let from_xz = parse_primary(&out.stdout[..], "xz primary")?;
    assert_eq!(from_xz, parse_repo(gz.path())?.packages);
    Ok(())
}

#[test]
fn truncated_real_primary_is_refused() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    build_repo(tmp.path(), &[])?;
    let md = parse_repomd(&fs_err::read(tmp.path().join("repodata/repomd.xml"))?, "r")?;
    let mut xml = Vec::new();
    open_gz(&tmp.path().join(&md.get("primary").unwrap().location))?.read_to_end(&mut xml)?;
    for cut in [10, xml.len() / 3, xml.len() / 2, xml.len() - 3] {
        let e = parse_primary(&xml[..cut], "primary.xml.gz from file:///r").unwrap_err();
        assert!(matches!(e, RpmMdError::Truncated { .. }), "cut {cut}: {e}");
        assert!(
            e.to_string().starts_with("primary.xml.gz from file:///r: "),
            "{e}"
        );
    }
    Ok(())
}
