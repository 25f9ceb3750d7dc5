//! One image, start to finish: install → customize → finalize → SBOMs → outputs → commit.

use crate::customize::{self, clamp_mtimes, in_root, remove_paths};
use crate::image_root::{self, ImageRoot, MemoryRoot, Placement};
use crate::staging::Staging;
use crate::{BuildError, BuildReporter, interrupted};
use cairn_config::{Image, OutputKind, Project};
use cairn_lock::LockedPackage;
use fs_err as fs;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A locked package and its verified file in the cache.
#[derive(Debug, Clone)]
pub struct BuildPackage {
    pub locked: LockedPackage,
    pub path: PathBuf,
    /// Where it was downloaded from (for the SBOM).
    pub url: Option<String>,
}

/// Everything one image build needs.
#[derive(Debug, Clone)]
pub struct BuildInput<'a> {
    pub project: &'a Project,
    pub image: &'a Image,
    pub arch: String,
    pub packages: Vec<BuildPackage>,
    /// Outputs to write (normally `image.build.outputs`).
    pub outputs: Vec<OutputKind>,
    /// `out/` (the image's outputs go to `out/IMAGE/`).
    pub out_dir: PathBuf,
    /// SOURCE_DATE_EPOCH: every time stamp of the outputs.
    pub source_date_epoch: u64,
    /// Where the root is assembled (memory or disk).
    pub image_root: ImageRoot,
}

/// One file (or directory) written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutputFile {
    pub kind: String,
    pub path: PathBuf,
    pub bytes: u64,
    /// `sha256:…` of the file (directories: none).
    pub digest: Option<String>,
}

/// What a build did, for the summary and `-O json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildSummary {
    pub image: String,
    pub version: String,
    pub dir: PathBuf,
    pub packages: usize,
    pub installed_bytes: u64,
    pub source_date_epoch: u64,
    /// Where the root was assembled: `memory` (a tmpfs) or `disk`.
    pub image_root: String,
    /// The identity disk and file system identifiers are derived from.
    pub identity: String,
    pub outputs: Vec<OutputFile>,
    /// Seconds per phase, in order.
    pub phases: Vec<(String, f64)>,
    pub os_release: BTreeMap<String, String>,
}

fn sha256_file(p: &Path) -> Result<(String, u64), BuildError> {
    let mut f = fs::File::open(p)?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h)?;
    Ok((format!("sha256:{}", hex::encode(h.finalize())), n))
}

/// The identity of a build: project, image and the exact package set. Disk GUIDs, file
/// system UUIDs and SBOM namespaces are derived from it, so the same lock gives the same
/// identifiers and a changed lock new ones.
pub fn identity(project: &Project, image: &Image, packages: &[BuildPackage]) -> String {
    let mut h = Sha256::new();
    for p in packages {
        h.update(format!(
            "{} {} {} {}\n",
            p.locked.name, p.locked.evr, p.locked.arch, p.locked.checksum
        ));
    }
    format!(
        "{}/{}/{}",
        project.name.as_deref().unwrap_or("cairn"),
        image.name,
        &hex::encode(h.finalize())[..32]
    )
}

struct Clock<'a> {
    phases: Vec<(String, f64)>,
    t: Instant,
    image: &'a str,
    rep: &'a dyn BuildReporter,
}

impl Clock<'_> {
    fn start(&mut self, phase: &str) -> Result<(), BuildError> {
        if interrupted() {
            return Err(BuildError::Interrupted);
        }
        self.rep.phase(self.image, phase);
        self.t = Instant::now();
        Ok(())
    }
    fn end(&mut self, phase: &str) {
        self.phases
            .push((phase.to_owned(), self.t.elapsed().as_secs_f64()));
    }
}

struct InstallRep<'a> {
    image: &'a str,
    rep: &'a dyn BuildReporter,
}
impl cairn_install::InstallReporter for InstallRep<'_> {
    fn step(&self, what: &str) {
        self.rep.phase(self.image, &format!("install: {what}"));
    }
    fn package(&self, done: usize, total: usize, name: &str) {
        self.rep
            .progress(self.image, done as u64, total as u64, name);
    }
}

fn distro_of(osr: &[(String, String)]) -> (String, String, String) {
    let get = |k: &str| {
        osr.iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let name = {
        let p = get("PRETTY_NAME");
        if p.is_empty() { get("NAME") } else { p }
    };
    (get("ID"), get("VERSION_ID"), name)
}

/// Build one image. See the crate docs for the path it takes.
pub fn build_image(
    input: &BuildInput<'_>,
    rep: &dyn BuildReporter,
) -> Result<BuildSummary, BuildError> {
    crate::require_root()?;
    let image = input.image;
    let identity = identity(input.project, image, &input.packages);
    let outputs = &input.outputs;
    if outputs.is_empty() {
        return Err(BuildError::Invalid(format!(
            "image `{}` has no outputs",
            image.name
        )));
    }
    crate::host_tools::check(outputs, image.deb)?;

    let staging = Staging::new(&input.out_dir, &image.name)?;
    let root = staging.dir().join("root");
    let result = staging.dir().join("result");
    let scratch = staging.dir().join("scratch");
    fs::create_dir(&root)?;
    fs::create_dir(&result)?;
    fs::create_dir(&scratch)?;

    let (placement, memory) = place_root(input, &root, rep)?;
    let dirs = Dirs {
        root: &root,
        result: &result,
        scratch: &scratch,
        target: staging.target(),
    };
    let r = compose(input, rep, &dirs, &placement, &identity);
    // unmounted before the staging directory is committed or removed
    drop(memory);
    let summary = r.map_err(|e| explain_full_memory_root(e, &placement, &root))?;
    staging.commit(&result)?;
    Ok(summary)
}

struct Dirs<'a> {
    root: &'a Path,
    result: &'a Path,
    scratch: &'a Path,
    /// `out/IMAGE/`, where the result goes when the build succeeds.
    target: &'a Path,
}

/// Decide where the root is assembled and mount the tmpfs when it is memory. With
/// `--image-root auto` a tmpfs that cannot be set up means disk (noted), not an error.
fn place_root(
    input: &BuildInput<'_>,
    root: &Path,
    rep: &dyn BuildReporter,
) -> Result<(Placement, Option<MemoryRoot>), BuildError> {
    let needs_disk = input
        .outputs
        .contains(&OutputKind::Dir)
        .then_some("the dir output (the root itself becomes the output)");
    let download: u64 = input.packages.iter().map(|p| p.locked.size).sum();
    let placement = image_root::choose(
        input.image_root,
        needs_disk,
        image_root::estimate(download),
        image_root::mem_available(),
    )?;
    let name = &input.image.name;
    match placement {
        Placement::Memory { limit } => match MemoryRoot::mount(root, limit) {
            Ok(m) => Ok((placement, Some(m))),
            Err(e) if input.image_root == ImageRoot::Auto => {
                let why = e.to_string();
                rep.note(name, &format!("the image root is on disk: {why}"));
                Ok((Placement::Disk { why: Some(why) }, None))
            }
            Err(e) => Err(e),
        },
        Placement::Disk { ref why } => {
            if let Some(why) = why {
                rep.note(name, &format!("the image root is on disk: {why}"));
            }
            Ok((placement, None))
        }
    }
}

/// A full tmpfs root says so, and what to do about it.
fn explain_full_memory_root(e: BuildError, placement: &Placement, root: &Path) -> BuildError {
    let Placement::Memory { limit } = placement else {
        return e;
    };
    let in_root = matches!(e, BuildError::Install(_) | BuildError::Customize(_))
        || e.to_string().contains(&*root.to_string_lossy());
    if in_root && image_root::is_no_space(&e) {
        return BuildError::Invalid(format!(
            "{e}\nThe image root is in memory (a tmpfs of at most {} MiB) and it is full; build with --image-root disk to assemble it beside the outputs instead",
            limit >> 20
        ));
    }
    e
}

/// Install, customize, finalize and write every output into `dirs.result`.
fn compose(
    input: &BuildInput<'_>,
    rep: &dyn BuildReporter,
    dirs: &Dirs<'_>,
    placement: &Placement,
    identity: &str,
) -> Result<BuildSummary, BuildError> {
    let image = input.image;
    let b = &image.build;
    let epoch = input.source_date_epoch;
    let outputs = &input.outputs;
    let (root, result, scratch) = (dirs.root, dirs.result, dirs.scratch);
    let mut clock = Clock {
        phases: Vec::new(),
        t: Instant::now(),
        image: &image.name,
        rep,
    };

    // ---- install
    clock.start("install")?;
    let format = if image.deb {
        cairn_install::Format::Deb
    } else {
        cairn_install::Format::Rpm
    };
    let pkgs: Vec<cairn_install::InstallPackage> = input
        .packages
        .iter()
        .map(|p| cairn_install::InstallPackage {
            name: p.locked.name.clone(),
            arch: p.locked.arch.clone(),
            version: p.locked.evr.clone(),
            path: p.path.clone(),
        })
        .collect();
    let own_initrd = outputs.iter().any(|o| o.is_disk())
        && b.disk.initrd == Some(cairn_config::InitrdKind::Cairn);
    let mut iopts = cairn_install::InstallOptions::new(epoch);
    iopts
        .env
        .push(("CAIRN_IMAGE".to_owned(), image.name.clone()));
    // the distribution's initramfs is built after customizing (its configuration and
    // modprobe.d may be customized), unless cairn builds the initrd
    iopts.initramfs = match own_initrd {
        true => cairn_install::Initramfs::Skip,
        false => cairn_install::Initramfs::Deferred,
    };
    let report = cairn_install::install(
        format,
        root,
        &pkgs,
        &iopts,
        &InstallRep {
            image: &image.name,
            rep,
        },
    )?;
    let installed = cairn_install::installed(format, root)?;
    clock.end("install");

    // The distribution the packages come from, before branding renames it.
    let upstream_osr = {
        let p = in_root(root, "/usr/lib/os-release");
        let q = in_root(root, "/etc/os-release");
        let text = fs::read_to_string(&p)
            .or_else(|_| fs::read_to_string(&q))
            .unwrap_or_default();
        customize::parse_os_release(&text)
    };

    // ---- customize
    clock.start("customize")?;
    let custom = customize::customize(root, &input.project.dir, &image.name, b, epoch)?;
    clock.end("customize");

    // ---- initrd: the distribution's (deferred by the install) or cairn's own
    if report.initramfs_deferred {
        clock.start("initrd")?;
        cairn_install::build_deferred_initramfs(
            root,
            &report,
            &iopts,
            &InstallRep {
                image: &image.name,
                rep,
            },
        )?;
        clock.end("initrd");
    }
    if own_initrd {
        clock.start("initrd")?;
        let (initrd, what) =
            crate::disk::build_initrd(root, image.deb, &custom.os_release, epoch, &iopts)?;
        clock.rep.note(
            &image.name,
            &format!("initrd: {what} ({})", initrd.display()),
        );
        clock.end("initrd");
    }

    // ---- finalize
    clock.start("finalize")?;
    cairn_install::finalize_for_reproducibility(format, root, epoch)?;
    remove_paths(root, &b.remove)?;
    let disk_plan = if outputs.iter().any(|o| o.is_disk()) {
        Some(crate::disk::prepare(root, identity, b)?)
    } else {
        None
    };
    clamp_mtimes(root, epoch)?;
    clock.end("finalize");

    // ---- SBOMs (before the outputs: the OCI config carries the SBOM's digest)
    clock.start("sbom")?;
    let (up_id, up_ver, up_name) = distro_of(&upstream_osr);
    let osr_vec: Vec<(String, String)> = custom
        .os_release
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (id, ver, name) = distro_of(&osr_vec);
    let sbom_in = crate::sbom::input(
        input,
        &installed,
        &crate::sbom::Distro {
            upstream_id: up_id,
            upstream_version: up_ver,
            id,
            version: ver,
            name: if name.is_empty() { up_name } else { name },
        },
    )?;
    let spdx = cairn_sbom::spdx_json(&sbom_in)?;
    let cdx = cairn_sbom::cyclonedx_json(&sbom_in)?;
    let spdx_path = result.join(format!("{}.spdx.json", image.name));
    let cdx_path = result.join(format!("{}.cdx.json", image.name));
    write_synced(&spdx_path, spdx.as_bytes())?;
    write_synced(&cdx_path, cdx.as_bytes())?;
    let spdx_digest = format!("sha256:{}", hex::encode(Sha256::digest(spdx.as_bytes())));
    clock.end("sbom");

    let mut files = vec![
        OutputFile {
            kind: "sbom-spdx".into(),
            path: spdx_path.clone(),
            bytes: spdx.len() as u64,
            digest: Some(spdx_digest.clone()),
        },
        OutputFile {
            kind: "sbom-cyclonedx".into(),
            path: cdx_path.clone(),
            bytes: cdx.len() as u64,
            digest: Some(format!(
                "sha256:{}",
                hex::encode(Sha256::digest(cdx.as_bytes()))
            )),
        },
    ];

    // ---- outputs
    let stem = result.join(&image.name);
    let with_ext = |ext: &str| stem.with_extension(ext);
    for kind in outputs {
        match kind {
            OutputKind::Tar => {
                clock.start("write tar")?;
                let p = with_ext("tar");
                let mut f = std::io::BufWriter::new(fs::File::create(&p)?);
                let opts = cairn_archive::TarOptions::new(epoch);
                cairn_archive::write_tar(root, &mut f, &opts)?;
                finish_file(f, &p)?;
                files.push(file_entry("tar", &p)?);
                clock.end("write tar");
            }
            OutputKind::Wsl => {
                clock.start("write wsl")?;
                let p = with_ext("wsl");
                let cfg = crate::wsl::config(input, &custom.os_release)?;
                cairn_archive::write_wsl(root, &p, &cfg)?;
                let findings = cairn_archive::validate_wsl(&p)?;
                let errors: Vec<String> = findings
                    .iter()
                    .filter(|f| f.severity == cairn_archive::Severity::Error)
                    .map(|f| f.to_string())
                    .collect();
                if !errors.is_empty() {
                    return Err(BuildError::Invalid(format!(
                        "the WSL image fails the WSL distribution checks:\n  {}",
                        errors.join("\n  ")
                    )));
                }
                sync(&p)?;
                files.push(file_entry("wsl", &p)?);
                clock.end("write wsl");
            }
            OutputKind::Oci => {
                clock.start("write oci")?;
                let layout = with_ext("oci");
                let archive = stem.with_extension("docker.tar");
                let cfg = crate::oci::config(input, &custom.os_release, root, &spdx_digest);
                let s = cairn_archive::write_oci(root, &layout, Some(&archive), &cfg)?;
                sync(&archive)?;
                files.push(OutputFile {
                    kind: "oci".into(),
                    path: layout.clone(),
                    bytes: s.layer_size + s.config_size + s.manifest_size,
                    digest: Some(s.manifest_digest.clone()),
                });
                files.push(file_entry("docker-archive", &archive)?);
                clock.end("write oci");
            }
            OutputKind::Raw | OutputKind::Vhd | OutputKind::Qcow2 | OutputKind::Dir => {}
        }
    }
    if let Some(plan) = &disk_plan {
        let want_raw = outputs.contains(&OutputKind::Raw);
        let raw = if want_raw {
            with_ext("raw")
        } else {
            scratch.join(format!("{}.raw", image.name))
        };
        clock.start("write raw")?;
        let title = custom
            .os_release
            .get("PRETTY_NAME")
            .or_else(|| custom.os_release.get("NAME"))
            .cloned()
            .unwrap_or_else(|| image.name.clone());
        crate::disk::write_raw(root, plan, &raw, epoch, &title)?;
        if want_raw {
            sync(&raw)?;
            files.push(file_entry("raw", &raw)?);
        }
        clock.end("write raw");
        if outputs.contains(&OutputKind::Vhd) {
            clock.start("write vhd")?;
            let p = with_ext("vhd");
            cairn_disk::write_vhd_fixed(&raw, &p, identity, epoch)?;
            sync(&p)?;
            files.push(file_entry("vhd", &p)?);
            clock.end("write vhd");
        }
        if outputs.contains(&OutputKind::Qcow2) {
            clock.start("write qcow2")?;
            let p = with_ext("qcow2");
            cairn_disk::convert_qcow2(&raw, &p)?;
            sync(&p)?;
            files.push(file_entry("qcow2", &p)?);
            clock.end("write qcow2");
        }
    }
    if outputs.contains(&OutputKind::Dir) {
        // last: the root itself becomes the output
        clock.start("write dir")?;
        let p = result.join("rootfs");
        fs::rename(root, &p)?;
        files.push(OutputFile {
            kind: "dir".into(),
            path: p,
            bytes: 0,
            digest: None,
        });
        clock.end("write dir");
    }

    // ---- checksums and manifest, then the atomic switch
    clock.start("commit")?;
    let target = dirs.target.to_owned();
    let mut sums = String::new();
    for f in &files {
        if let Some(d) = &f.digest
            && f.path.is_file()
        {
            let name = f.path.file_name().unwrap_or_default().to_string_lossy();
            sums.push_str(&format!("{}  {name}\n", d.trim_start_matches("sha256:")));
        }
    }
    write_synced(&result.join("SHA256SUMS"), sums.as_bytes())?;
    // paths in the summary point at the final place
    for f in &mut files {
        if let Ok(rel) = f.path.strip_prefix(result) {
            f.path = target.join(rel);
        }
    }
    let installed_bytes = installed.iter().map(|p| p.installed_size).sum();
    clock.end("commit");
    let summary = BuildSummary {
        image: image.name.clone(),
        version: b.version.clone(),
        dir: target.clone(),
        packages: installed.len(),
        installed_bytes,
        source_date_epoch: epoch,
        image_root: placement.label().to_owned(),
        identity: identity.to_owned(),
        outputs: files,
        phases: clock.phases.clone(),
        os_release: custom.os_release.clone(),
    };
    let manifest = serde_json::to_vec_pretty(&summary)
        .map_err(|e| BuildError::Invalid(format!("build.json: {e}")))?;
    write_synced(&result.join("build.json"), &manifest)?;
    if interrupted() {
        return Err(BuildError::Interrupted);
    }
    Ok(summary)
}

fn file_entry(kind: &str, p: &Path) -> Result<OutputFile, BuildError> {
    let (digest, bytes) = sha256_file(p)?;
    Ok(OutputFile {
        kind: kind.into(),
        path: p.to_owned(),
        bytes,
        digest: Some(digest),
    })
}

fn sync(p: &Path) -> Result<(), BuildError> {
    fs::File::open(p)?.sync_all()?;
    Ok(())
}

fn finish_file(mut w: std::io::BufWriter<fs::File>, p: &Path) -> Result<(), BuildError> {
    w.flush().map_err(|e| BuildError::Io {
        path: p.to_owned(),
        source: e,
    })?;
    let f = w.into_inner().map_err(|e| BuildError::Io {
        path: p.to_owned(),
        source: e.into_error(),
    })?;
    f.sync_all()?;
    Ok(())
}

fn write_synced(p: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    let mut f = fs::File::create(p)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_memory_root_says_so_and_other_errors_pass_through() {
        let root = Path::new("/out/.img.building-1/root");
        let full = || {
            BuildError::Install(cairn_install::InstallError::Command {
                command: "dpkg --install".into(),
                status: "exit status: 2".into(),
                package: Some("big".into()),
                output: "dpkg: error processing archive big.deb (--install):\n cannot copy extracted data for './usr/share/big/blob' to '/usr/share/big/blob.dpkg-new': failed to write (No space left on device)".into(),
            })
        };
        let memory = Placement::Memory { limit: 3 << 30 };
        let msg = explain_full_memory_root(full(), &memory, root).to_string();
        assert!(msg.contains("No space left on device"), "{msg}");
        assert!(
            msg.contains("in memory (a tmpfs of at most 3072 MiB)")
                && msg.contains("--image-root disk"),
            "{msg}"
        );
        // on disk the error is the disk's, already explained where it arises
        let disk = Placement::Disk { why: None };
        let msg = explain_full_memory_root(full(), &disk, root).to_string();
        assert!(!msg.contains("--image-root"), "{msg}");
        // an output that fills out/ is not the root's fault
        let out_full = BuildError::Io {
            path: "/out/.img.building-1/result/img.tar".into(),
            source: std::io::Error::from_raw_os_error(28),
        };
        let msg = explain_full_memory_root(out_full, &memory, root).to_string();
        assert!(msg.contains("disk is full"), "{msg}");
        assert!(!msg.contains("--image-root"), "{msg}");
    }
}
