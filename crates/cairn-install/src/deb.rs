//! Debian: install a `.deb` set the way mmdebstrap does, with dpkg inside the root.
//!
//! 1. Read every package's control fields (in-process, see `debfile`; in parallel) and
//!    check them against the lock.
//! 2. Skeleton: dpkg's database directories, merged-/usr symlinks (`bin`, `sbin`, `lib`
//!    and the architecture's `lib*` → `usr/…`, as debootstrap makes them for every
//!    release since bullseye; packages ship `/bin/…` paths and dpkg keeps the symlinks).
//! 3. Stage every package inside the root with its `data.tar` decompressed (in-process,
//!    on every core; see `debfile::repack_uncompressed`), so dpkg, which works serially,
//!    only copies. The Essential set (Essential packages and everything they pre-depend
//!    or depend on) is staged first and, in the same pass, extracted with
//!    `tar --keep-directory-symlink`, so the root has a shell and dpkg. (`dpkg-deb -x`
//!    would replace the merged-/usr symlinks.) Step 5 unpacks these again, in order.
//!    Then every directory gets SOURCE_DATE_EPOCH as its time, so which archive's
//!    directory time was set last does not show in the image. The other packages are
//!    staged in the background while step 5 runs.
//! 4. `usr/sbin/policy-rc.d` (exit 101) so no init script starts a daemon; no
//!    start-stop-daemon guard is needed because every step runs in its own PID
//!    namespace, whose end kills whatever a script left running.
//! 5. `chroot ROOT dpkg --install --force-depends` the Essential set (dpkg does not
//!    order by Pre-Depends; everything is unpacked already, so scripts find their tools).
//! 6. The rest with `dpkg --install` in batches (see `order::Graph::batches`), then
//!    `dpkg --configure -a` for anything still pending (triggers). With initramfs-tools
//!    in the set, `update-initramfs` is diverted meanwhile and run once at the end (see
//!    `initramfs`).
//! 7. Remove policy-rc.d and the staged packages; check dpkg's database against the set.

use crate::initramfs;
use crate::order::{DebNode, Graph};
use crate::run::{self, Mode, TAIL_LINES};
use crate::{
    Initramfs, InstallError, InstallOptions, InstallPackage, InstallReport, InstallReporter,
};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

/// Where the packages are staged inside the root while dpkg runs (removed afterwards).
const STAGE_DIR: &str = ".cairn-install-debs";
const POLICY_RC_D: &str = "usr/sbin/policy-rc.d";

struct Deb<'a> {
    pkg: &'a InstallPackage,
    /// Path of the staged package as dpkg sees it inside the root.
    staged: String,
}

pub(crate) fn install(
    root: &Path,
    pkgs: &[InstallPackage],
    opts: &InstallOptions,
    rep: &dyn InstallReporter,
) -> Result<InstallReport, InstallError> {
    rep.step(&format!(
        "reading the control data of {} packages",
        pkgs.len()
    ));
    let nodes = parallel(pkgs, read_control, |k, p| {
        rep.package(k, pkgs.len(), &p.name);
    })?;
    let graph = Graph::new(&nodes);
    let essential = graph.essential_closure();
    let Some(dpkg) = essential.iter().copied().find(|&i| nodes[i].name == "dpkg") else {
        return Err(InstallError::NoEssential {
            missing: "dpkg".into(),
        });
    };
    let native = nodes[dpkg].arch.clone();
    let foreign: BTreeSet<&str> = nodes
        .iter()
        .map(|n| n.arch.as_str())
        .filter(|a| *a != "all" && *a != native)
        .collect();

    rep.step("creating the root skeleton");
    skeleton(root, &native, &foreign)?;
    let debs = stage_names(pkgs);
    fs_err::create_dir(root.join(STAGE_DIR))?;
    let result = unpack_and_install(root, &debs, &graph, &essential, opts, rep);
    let cleanup = cleanup(root);
    let report = result?;
    cleanup?;
    verify(root, pkgs)?;
    Ok(report)
}

/// Steps 3–6: every package is staged with its data decompressed (in parallel; dpkg then
/// only copies), the Essential set extracted in the same pass, the rest staged in the
/// background while dpkg installs the Essential set.
fn unpack_and_install(
    root: &Path,
    debs: &[Deb],
    graph: &Graph,
    essential: &BTreeSet<usize>,
    opts: &InstallOptions,
    rep: &dyn InstallReporter,
) -> Result<InstallReport, InstallError> {
    let essential_order: Vec<usize> = graph.sccs(essential).into_iter().flatten().collect();
    rep.step(&format!(
        "extracting {} Essential packages",
        essential_order.len()
    ));
    // in parallel: `dpkg --install` unpacks these again, in order, right after; this
    // extraction only gives the root a shell and dpkg
    parallel(
        &essential_order,
        |&i| stage(root, &debs[i], true),
        |k, &i| {
            rep.package(k, essential_order.len(), &debs[i].pkg.name);
        },
    )?;
    // A directory several of these packages ship keeps the time of whichever archive tar
    // finished last, which in parallel is a race: give every directory one time. (Files
    // keep their archive's time, as dpkg will set it again; dpkg's changes to directories
    // from here on give them times after SOURCE_DATE_EPOCH, which are clamped later.)
    settle_directory_times(root, opts.source_date_epoch)?;
    for sh in ["usr/bin/sh", "usr/bin/dpkg"] {
        if fs_err::symlink_metadata(root.join(sh)).is_err() {
            return Err(InstallError::NoEssential {
                missing: format!("/{sh}"),
            });
        }
    }
    let rest: Vec<usize> = (0..debs.len()).filter(|i| !essential.contains(i)).collect();
    std::thread::scope(|scope| {
        // dpkg works on one core; the others stage the rest meanwhile
        let staging = scope.spawn(|| parallel(&rest, |&i| stage(root, &debs[i], false), |_, _| {}));
        let installed = install_essential(root, debs, &essential_order, opts, rep);
        let staged = staging
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        installed?;
        staged?;
        unstage(root, debs, &essential_order)?;
        install_rest(root, debs, graph, &essential_order, essential, opts, rep)
    })
}

fn install_essential(
    root: &Path,
    debs: &[Deb],
    essential_order: &[usize],
    opts: &InstallOptions,
    rep: &dyn InstallReporter,
) -> Result<(), InstallError> {
    write_policy_rc_d(root)?;
    let env = crate::script_env(opts);
    rep.step(&format!(
        "installing {} Essential packages (dpkg --install --force-depends)",
        essential_order.len()
    ));
    dpkg(
        root,
        &["--install", "--force-depends"],
        essential_order,
        debs,
        &env,
        rep,
        "installing the Essential set",
    )
}

fn install_rest(
    root: &Path,
    debs: &[Deb],
    graph: &Graph,
    essential_order: &[usize],
    essential: &BTreeSet<usize>,
    opts: &InstallOptions,
    rep: &dyn InstallReporter,
) -> Result<InstallReport, InstallError> {
    let env = crate::script_env(opts);
    let rest: BTreeSet<usize> = (0..debs.len()).filter(|i| !essential.contains(i)).collect();
    let batches = graph.batches(&graph.sccs(&rest));
    let defer_initramfs = initramfs::wanted(debs.iter().map(|d| d.pkg.name.as_str()));
    if defer_initramfs {
        rep.step("deferring update-initramfs until every package is configured");
        initramfs::defer(root, &env)?;
    }
    for (b, batch) in batches.iter().enumerate() {
        rep.step(&format!(
            "installing {} packages (dpkg --install, batch {}/{})",
            batch.len(),
            b + 1,
            batches.len()
        ));
        dpkg(
            root,
            &["--install"],
            batch,
            debs,
            &env,
            rep,
            &format!("installing batch {}/{}", b + 1, batches.len()),
        )?;
        unstage(root, debs, batch)?;
    }
    rep.step("configuring anything still pending (dpkg --configure -a)");
    dpkg(
        root,
        &["--configure", "-a"],
        &[],
        debs,
        &env,
        rep,
        "configuring pending packages and triggers",
    )?;
    let mut initramfs_deferred = false;
    if defer_initramfs {
        match opts.initramfs {
            Initramfs::AtEnd => {
                initramfs::replay(root, &env, &mut |what| {
                    rep.step(&format!("building the initramfs once ({what})"));
                })?;
            }
            Initramfs::Deferred => {
                rep.step("leaving update-initramfs diverted until the caller builds it");
                initramfs_deferred = true;
            }
            Initramfs::Skip => {
                rep.step("leaving the initrd to the caller (update-initramfs not run)");
                initramfs::undivert(root, &env)?;
            }
        }
    }
    let names =
        |v: &[usize]| -> Vec<String> { v.iter().map(|&i| debs[i].pkg.name.clone()).collect() };
    Ok(InstallReport {
        packages: debs.len(),
        essential: names(essential_order),
        batches: batches.iter().map(|b| names(b)).collect(),
        initramfs_deferred,
    })
}

/// Sets the modification time of every directory under `root` (not following symlinks)
/// to `epoch`.
fn settle_directory_times(root: &Path, epoch: u64) -> Result<(), InstallError> {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(epoch);
    for e in walkdir::WalkDir::new(root) {
        let e = e.map_err(|e| {
            let path = e.path().unwrap_or(root).to_owned();
            std::io::Error::other(format!("reading {}: {e}", path.display()))
        })?;
        if e.file_type().is_dir() {
            let dir = fs_err::File::open(e.path())?;
            dir.file().set_modified(t).map_err(|x| {
                std::io::Error::new(
                    x.kind(),
                    format!("setting the time of {}: {x}", e.path().display()),
                )
            })?;
        }
    }
    Ok(())
}

/// Runs `f` on every item on up to four threads (as many as the machine has cores) and
/// returns the results in item order, or the error of the first item (in item order)
/// that failed; once one fails, no new item is started. `done(k, item)` is called on
/// this thread as the `k`-th item finishes.
fn parallel<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R, InstallError> + Sync,
    mut done: impl FnMut(usize, &T),
) -> Result<Vec<R>, InstallError> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let mut results: Vec<Option<Result<R, InstallError>>> = items.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, failed, f) = (&next, &failed, &f);
            scope.spawn(move || {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    if r.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if tx.send((i, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (k, (i, r)) in rx.into_iter().enumerate() {
            done(k + 1, &items[i]);
            results[i] = Some(r);
        }
    });
    // items start in order, so one is left unstarted only after an earlier one failed,
    // whose error `?` returns first
    results
        .into_iter()
        .map(|r| r.expect("an unstarted item follows a failed one"))
        .collect()
}

/// Read and check the control fields of one package.
fn read_control(p: &InstallPackage) -> Result<DebNode, InstallError> {
    let bad = |message: String| InstallError::BadPackage {
        path: p.path.clone(),
        message,
    };
    let text = crate::debfile::control(&p.path)
        .map_err(|e| bad(format!("not a readable .deb for {}: {e}", p.name)))?;
    let origin = p.path.display().to_string();
    let paras = cairn_deb822::parse_paragraphs(&text, &origin)
        .map_err(|e| bad(format!("control data: {e}")))?;
    let Some(para) = paras.first() else {
        return Err(bad("the control data is empty".into()));
    };
    for (field, want) in [
        ("Package", &p.name),
        ("Version", &p.version),
        ("Architecture", &p.arch),
    ] {
        let got = para.get(field).unwrap_or("");
        if got != want {
            return Err(bad(format!(
                "the lock pins {} {} {} but the package's {field} is {got:?}",
                p.name, p.version, p.arch
            )));
        }
    }
    let relations = |field: &str| -> Result<Vec<cairn_deps::Dep>, InstallError> {
        match para.get_folded(field) {
            None => Ok(Vec::new()),
            Some(v) => cairn_deps::parse_deb_relations(&v)
                .map_err(|e| bad(format!("{} {field}: {e}", p.name))),
        }
    };
    let provides = relations("Provides")?
        .iter()
        .flat_map(|d| d.atoms().into_iter().map(|a| a.name.clone()))
        .collect();
    Ok(DebNode {
        name: p.name.clone(),
        arch: p.arch.clone(),
        essential: para
            .get("Essential")
            .is_some_and(|v| v.eq_ignore_ascii_case("yes")),
        provides,
        pre_depends: relations("Pre-Depends")?,
        depends: relations("Depends")?,
    })
}

/// Directories debootstrap links into /usr, by architecture (merged /usr).
fn merged_usr_dirs(arch: &str) -> &'static [&'static str] {
    match arch {
        "amd64" | "x32" => &["bin", "sbin", "lib", "lib32", "lib64", "libx32"],
        "i386" => &["bin", "sbin", "lib", "lib64", "libx32"],
        "mips" | "mipsel" | "ppc64" | "sparc64" => &["bin", "sbin", "lib", "lib32", "lib64"],
        "mips64el" | "mipsn32" => &["bin", "sbin", "lib", "lib32", "lib64", "libo32"],
        "powerpc" | "ppc64el" | "sparc" => &["bin", "sbin", "lib", "lib64"],
        "s390x" => &["bin", "sbin", "lib", "lib32"],
        _ => &["bin", "sbin", "lib"],
    }
}

fn skeleton(root: &Path, native: &str, foreign: &BTreeSet<&str>) -> Result<(), InstallError> {
    use std::os::unix::fs::PermissionsExt as _;
    for d in [
        "etc",
        "dev",
        "proc",
        "sys",
        "run",
        "tmp",
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "var/lib/dpkg/triggers",
        "var/lib/dpkg/alternatives",
        "usr",
    ] {
        fs_err::create_dir_all(root.join(d))?;
    }
    fs_err::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777))?;
    for f in ["var/lib/dpkg/status", "var/lib/dpkg/available"] {
        fs_err::write(root.join(f), b"")?;
    }
    if !foreign.is_empty() {
        let mut arch = format!("{native}\n");
        for f in foreign {
            arch.push_str(f);
            arch.push('\n');
        }
        fs_err::write(root.join("var/lib/dpkg/arch"), arch)?;
    }
    for d in merged_usr_dirs(native) {
        fs_err::create_dir_all(root.join("usr").join(d))?;
        fs_err::os::unix::fs::symlink(Path::new("usr").join(d), root.join(d))?;
    }
    Ok(())
}

/// Where each package is staged inside the root (the files are written by [`stage`]).
fn stage_names(pkgs: &[InstallPackage]) -> Vec<Deb<'_>> {
    pkgs.iter()
        .enumerate()
        .map(|(i, p)| Deb {
            pkg: p,
            staged: format!(
                "/{STAGE_DIR}/{i:05}_{}_{}_{}.deb",
                p.name,
                p.version.replace(':', "%3a"),
                p.arch
            ),
        })
        .collect()
}

/// Stage one package where dpkg inside the root reads it, with its data member
/// decompressed; with `extract`, also unpack its files into the root in the same pass
/// (`tar --keep-directory-symlink`, so the merged-/usr links stay links; `dpkg-deb -x`
/// would replace them).
fn stage(root: &Path, deb: &Deb, extract: bool) -> Result<(), InstallError> {
    let p = deb.pkg;
    let dst = root.join(deb.staged.trim_start_matches('/'));
    let bad = |message: String| InstallError::BadPackage {
        path: p.path.clone(),
        message,
    };
    if !extract {
        return crate::debfile::repack_uncompressed(&p.path, &dst, None)
            .map(|_| ())
            .map_err(bad);
    }
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(root)
        .args([
            "--keep-directory-symlink",
            "--numeric-owner",
            "--same-permissions",
            "--extract",
            "--file",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| InstallError::ToolMissing {
            tool: "tar".into(),
            source: e,
        })?;
    let mut stdin = tar.stdin.take().expect("piped");
    let mut stderr = tar.stderr.take().expect("piped");
    // tar's complaints are read while it is fed, so a full stderr pipe cannot stall it
    let (repacked, complaints) = std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let mut text = Vec::new();
            let _ = std::io::Read::read_to_end(&mut stderr, &mut text);
            text
        });
        let repacked = crate::debfile::repack_uncompressed(&p.path, &dst, Some(&mut stdin));
        drop(stdin);
        (repacked, reader.join().unwrap_or_default())
    });
    let status = tar.wait()?;
    if !status.success() {
        return Err(InstallError::Command {
            command: format!("tar --extract (extracting {})", p.path.display()),
            status: status.to_string(),
            package: Some(p.name.clone()),
            output: run::tail(&String::from_utf8_lossy(&complaints), TAIL_LINES),
        });
    }
    repacked.map(|_| ()).map_err(bad)
}

/// Delete the staged copies of packages dpkg has installed: decompressed, they are as
/// big as what they install, and the root may be in memory.
fn unstage(root: &Path, debs: &[Deb], which: &[usize]) -> Result<(), InstallError> {
    for &i in which {
        fs_err::remove_file(root.join(debs[i].staged.trim_start_matches('/')))?;
    }
    Ok(())
}

fn write_policy_rc_d(root: &Path) -> Result<(), InstallError> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = root.join(POLICY_RC_D);
    fs_err::create_dir_all(path.parent().expect("has a parent"))?;
    fs_err::write(
        &path,
        "#!/bin/sh\n# cairn-install: no daemon starts while packages are installed\nexit 101\n",
    )?;
    fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// Remove what the install put into the root for itself: the staged packages, and
/// policy-rc.d unless a package of the set owns that path.
fn cleanup(root: &Path) -> Result<(), InstallError> {
    let dir = root.join(STAGE_DIR);
    if dir.exists() {
        fs_err::remove_dir_all(&dir)?;
    }
    let policy = root.join(POLICY_RC_D);
    if fs_err::symlink_metadata(&policy).is_ok()
        && !owned_by_a_package(root, "/usr/sbin/policy-rc.d")?
    {
        fs_err::remove_file(&policy)?;
    }
    Ok(())
}

fn owned_by_a_package(root: &Path, path: &str) -> Result<bool, InstallError> {
    let info = root.join("var/lib/dpkg/info");
    let Ok(entries) = fs_err::read_dir(&info) else {
        return Ok(false);
    };
    for e in entries {
        let e = e?;
        if e.path().extension().is_some_and(|x| x == "list") {
            let text = fs_err::read_to_string(e.path())?;
            if text.lines().any(|l| l == path) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Run dpkg inside the root on the staged packages `which`, in that order.
fn dpkg(
    root: &Path,
    action: &[&str],
    which: &[usize],
    debs: &[Deb],
    env: &[(String, String)],
    rep: &dyn InstallReporter,
    during: &str,
) -> Result<(), InstallError> {
    let mut argv: Vec<OsString> = vec!["dpkg".into(), "--force-unsafe-io".into()];
    argv.extend(action.iter().map(OsString::from));
    argv.extend(which.iter().map(|&i| OsString::from(&debs[i].staged)));
    let total = which.len();
    let mut done = 0;
    let mut on_line = |line: &str| {
        if let Some(rest) = line.strip_prefix("Setting up ") {
            let name = rest.split([' ', ':']).next().unwrap_or(rest);
            if total > 0 {
                done = (done + 1).min(total);
                rep.package(done, total, name);
            }
        }
    };
    let out = run::in_namespace(root, Mode::Chroot, &argv, env, &mut on_line)?;
    if out.success {
        return Ok(());
    }
    let output = out.tail(TAIL_LINES);
    if let Some(f) = script_failure(&out.lines) {
        return Err(InstallError::Script {
            package: f.package,
            script: f.script,
            status: f.status,
            during: during.to_owned(),
            output,
        });
    }
    Err(InstallError::Command {
        command: format!("dpkg {}", action.join(" ")),
        status: out.status,
        package: failed_packages(&out.lines, debs),
        output,
    })
}

#[derive(Debug, PartialEq, Eq)]
struct ScriptFailure {
    package: String,
    script: String,
    status: String,
}

/// Find dpkg's report of a failing maintainer script:
/// `installed foo package post-installation script subprocess returned error exit status 1`.
fn script_failure(lines: &[String]) -> Option<ScriptFailure> {
    lines.iter().find_map(|l| {
        let l = l.trim();
        let (head, status) = l.split_once(" script subprocess ")?;
        let mut words = head.split_whitespace();
        let _which = words.next()?; // installed / new / old
        let package = words.next()?;
        if words.next()? != "package" {
            return None;
        }
        let desc = words.next()?;
        let script = match desc {
            "pre-installation" => "preinst",
            "post-installation" => "postinst",
            "pre-removal" => "prerm",
            "post-removal" => "postrm",
            other => other,
        };
        Some(ScriptFailure {
            package: package.split(':').next().unwrap_or(package).to_owned(),
            script: script.to_owned(),
            status: status.trim_start_matches("returned ").to_owned(),
        })
    })
}

/// The packages dpkg lists under `Errors were encountered while processing:`, by name.
fn failed_packages(lines: &[String], debs: &[Deb]) -> Option<String> {
    let start = lines
        .iter()
        .position(|l| l.starts_with("Errors were encountered while processing:"))?;
    let names: Vec<String> = lines[start + 1..]
        .iter()
        .take_while(|l| l.starts_with(' '))
        .map(|l| {
            let l = l.trim();
            debs.iter()
                .find(|d| d.staged == l)
                .map_or_else(|| l.to_owned(), |d| d.pkg.name.clone())
        })
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

/// Check dpkg's database against the set: every package installed, nothing else.
fn verify(root: &Path, pkgs: &[InstallPackage]) -> Result<(), InstallError> {
    let entries = crate::query::dpkg_entries(root)?;
    let mut problems = Vec::new();
    let mut want: std::collections::BTreeMap<(&str, &str), &str> = pkgs
        .iter()
        .map(|p| ((p.name.as_str(), p.arch.as_str()), p.version.as_str()))
        .collect();
    for e in &entries {
        match want.remove(&(e.package.name.as_str(), e.package.arch.as_str())) {
            None => problems.push(format!(
                "  {} {} {} is installed but not in the set",
                e.package.name, e.package.version, e.package.arch
            )),
            Some(v) if v != e.package.version => problems.push(format!(
                "  {} {}: the set has {v}, dpkg has {}",
                e.package.name, e.package.arch, e.package.version
            )),
            Some(_) if e.status != "ii" => problems.push(format!(
                "  {} {}: dpkg status is {:?}, not installed (ii)",
                e.package.name, e.package.arch, e.status
            )),
            Some(_) => {}
        }
    }
    crate::mismatch(root, problems, want)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tar failing on every entry writes far more than a pipe holds to stderr: the
    /// extraction reports it (naming the package) instead of stalling.
    #[test]
    fn a_failing_extraction_is_reported_not_stalled() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        fs_err::create_dir_all(src.join("DEBIAN")).unwrap();
        fs_err::write(
            src.join("DEBIAN/control"),
            "Package: many\nVersion: 1\nArchitecture: all\nMaintainer: t <t@example.invalid>\n\
             Description: many files\n",
        )
        .unwrap();
        for d in 0..40 {
            let sub = src.join(format!("usr/share/many/directory-number-{d}"));
            fs_err::create_dir_all(&sub).unwrap();
            for f in 0..50 {
                fs_err::write(sub.join(format!("file-with-a-long-name-{f}")), "x").unwrap();
            }
        }
        let deb = dir.path().join("many.deb");
        let o = Command::new("dpkg-deb")
            .args(["--root-owner-group", "--build"])
            .arg(&src)
            .arg(&deb)
            .output()
            .expect("dpkg-deb is needed (Debian package dpkg)");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        // the root is a tmpfs with room for 64 inodes: tar fails on nearly every file
        let root = dir.path().join("root");
        fs_err::create_dir_all(&root).unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "nr_inodes=64,size=4m", "cairn-test"])
            .arg(&root)
            .status()
            .expect("mount (util-linux)");
        assert!(st.success(), "mounting a tmpfs needs root");
        struct Umount<'a>(&'a Path);
        impl Drop for Umount<'_> {
            fn drop(&mut self) {
                let _ = Command::new("umount").arg(self.0).status();
            }
        }
        let _umount = Umount(&root);
        fs_err::create_dir_all(root.join(STAGE_DIR)).unwrap();
        let pkg = InstallPackage {
            name: "many".into(),
            arch: "all".into(),
            version: "1".into(),
            path: deb,
        };
        let debs = stage_names(std::slice::from_ref(&pkg));
        let err = stage(&root, &debs[0], true).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(&err, InstallError::Command { package: Some(p), .. } if p == "many"),
            "{msg}"
        );
        assert!(msg.contains("tar --extract"), "{msg}");
        assert!(msg.contains("No space left on device"), "{msg}");
    }

    #[test]
    fn directory_times_are_settled_and_files_keep_theirs() {
        use std::os::unix::fs::MetadataExt as _;
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs_err::create_dir_all(r.join("usr/libexec/x")).unwrap();
        fs_err::write(r.join("usr/libexec/x/f"), "f").unwrap();
        fs_err::os::unix::fs::symlink("usr/libexec", r.join("libexec")).unwrap();
        let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        fs_err::File::options()
            .write(true)
            .open(r.join("usr/libexec/x/f"))
            .unwrap()
            .file()
            .set_modified(old)
            .unwrap();
        settle_directory_times(r, 1_700_000_000).unwrap();
        for d in ["", "usr", "usr/libexec", "usr/libexec/x"] {
            let m = fs_err::metadata(r.join(d)).unwrap();
            assert_eq!(m.mtime(), 1_700_000_000, "{d}");
        }
        let f = fs_err::metadata(r.join("usr/libexec/x/f")).unwrap();
        assert_eq!(f.mtime(), 1_000_000_000);
    }

    #[test]
    fn parallel_keeps_item_order_and_reports_the_first_failure() {
        let items: Vec<u32> = (0..50).collect();
        let mut seen = vec![];
        let out = parallel(
            &items,
            |&i| {
                // uneven work so items finish out of order
                std::thread::sleep(std::time::Duration::from_micros(u64::from(50 - i) * 20));
                Ok(i * 2)
            },
            |k, &i| seen.push((k, i)),
        )
        .unwrap();
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(
            seen.iter().map(|&(k, _)| k).collect::<Vec<_>>(),
            (1..=50).collect::<Vec<_>>()
        );
        let mut got: Vec<u32> = seen.iter().map(|&(_, i)| i).collect();
        got.sort();
        assert_eq!(got, items);

        let bad = |i: u32| InstallError::BadPackage {
            path: format!("/p/{i}").into(),
            message: "bad".into(),
        };
        let err = parallel(
            &items,
            |&i| {
                if i == 7 || i == 30 {
                    Err(bad(i))
                } else {
                    Ok(i)
                }
            },
            |_, _| {},
        )
        .unwrap_err();
        assert!(err.to_string().contains("/p/7"), "{err}");
        assert!(
            parallel(&[] as &[u32], |&i| Ok(i), |_, _| {})
                .unwrap()
                .is_empty()
        );
    }

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_owned).collect()
    }

    #[test]
    fn finds_the_failing_maintainer_script() {
        let out = lines(
            "Setting up cairn-bad (1.0) ...\nfailing on purpose\n\
             dpkg: error processing package cairn-bad (--install):\n \
             installed cairn-bad package post-installation script subprocess returned error exit status 3\n\
             Errors were encountered while processing:\n cairn-bad\n",
        );
        assert_eq!(
            script_failure(&out),
            Some(ScriptFailure {
                package: "cairn-bad".into(),
                script: "postinst".into(),
                status: "error exit status 3".into()
            })
        );
        let pre = lines(
            " new libfoo1:amd64 package pre-installation script subprocess was killed by signal (Terminated)",
        );
        let f = script_failure(&pre).unwrap();
        assert_eq!(
            (f.package.as_str(), f.script.as_str()),
            ("libfoo1", "preinst")
        );
        assert_eq!(f.status, "was killed by signal (Terminated)");
        assert_eq!(script_failure(&lines("Unpacking x (1) ...")), None);
    }

    #[test]
    fn merged_usr_links_follow_debootstrap() {
        assert!(merged_usr_dirs("amd64").contains(&"lib64"));
        assert_eq!(merged_usr_dirs("arm64"), ["bin", "sbin", "lib"]);
    }
}
