//! `build` and `query_spec`: the rpmbuild and rpmspec runs in an isolated root, their
//! macro definitions, and what they leave behind.

use crate::ns::{self, Ended, Run};
use crate::{BuildOptions, BuildOutput, Isolation, RootLayout, RpmbuildError, SpecInfo};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The `--define` options (and `--nodeps` for rpmbuild in a foreign base) that every
/// build gets, followed by the caller's defines (so those win).
pub(crate) fn rpm_options(
    opts: &BuildOptions,
    foreign: bool,
    rpmbuild: bool,
) -> Result<Vec<String>, RpmbuildError> {
    let mut defs: Vec<(String, String)> = vec![
        ("_topdir".into(), format!("{}/build", ns::BUILDDIR)),
        ("_dbpath".into(), ns::DBPATH.into()),
    ];
    for (name, value) in [
        ("dist", &opts.dist),
        ("vendor", &opts.vendor),
        ("distribution", &opts.distribution),
        ("packager", &opts.packager),
    ] {
        if !value.is_empty() {
            defs.push((name.into(), value.clone()));
        }
    }
    let jobs = opts.jobs.max(1);
    defs.extend([
        ("_buildhost".to_owned(), opts.buildhost.clone()),
        ("_smp_build_ncpus".to_owned(), jobs.to_string()),
        ("_smp_mflags".to_owned(), format!("-j{jobs}")),
        ("source_date_epoch_from_changelog".to_owned(), "1".into()),
        ("use_source_date_epoch_as_buildtime".to_owned(), "1".into()),
        ("clamp_mtime_to_source_date_epoch".to_owned(), "1".into()),
    ]);
    defs.extend(opts.defines.iter().cloned());
    let mut args = Vec::with_capacity(defs.len() * 2 + 1);
    for (name, value) in defs {
        let bad = name.is_empty()
            || name.contains(|c: char| c.is_whitespace() || c == '%' || c == '{' || c == '}');
        if bad || value.contains('\n') {
            return Err(RpmbuildError::BadInput {
                path: PathBuf::from(format!("--define {name} {value}")),
                message: "a macro definition needs a name without spaces, '%' or braces, and a one-line value".into(),
            });
        }
        args.push("--define".to_owned());
        let value = if value.is_empty() {
            "%{nil}"
        } else {
            value.as_str()
        };
        args.push(format!("{name} {value}"));
    }
    if foreign && rpmbuild {
        args.push("--nodeps".to_owned());
    }
    Ok(args)
}

/// Checked, absolute inputs.
struct Inputs {
    base: PathBuf,
    srcdir: PathBuf,
}

fn check_inputs(root: &RootLayout, srcdir: &Path, spec: &str) -> Result<Inputs, RpmbuildError> {
    ns::require_root()?;
    let base = fs_err::canonicalize(&root.base)?;
    if !base.is_dir() {
        return Err(RpmbuildError::BadInput {
            path: base,
            message: "the base must be a directory holding a root file system".into(),
        });
    }
    let srcdir = fs_err::canonicalize(srcdir)?;
    if spec.is_empty() || spec.contains('/') || spec == "." || spec == ".." {
        return Err(RpmbuildError::BadInput {
            path: srcdir,
            message: format!(
                "the spec {spec:?} must be a file name inside the component directory"
            ),
        });
    }
    if !srcdir.join(spec).is_file() {
        return Err(RpmbuildError::BadInput {
            path: srcdir.join(spec),
            message: "the spec file does not exist".into(),
        });
    }
    Ok(Inputs { base, srcdir })
}

/// Parse a spec inside an isolated root over the base (nothing installed), so the base's
/// macros apply: its BuildRequires (with versions, as rpmspec prints them), its binary
/// packages, their Provides, and the `SOURCE_DATE_EPOCH` the build will use
/// (`opts.source_date_epoch`, else the time of the spec's first `%changelog` entry).
pub fn query_spec(
    root: &RootLayout,
    srcdir: &Path,
    spec: &str,
    opts: &BuildOptions,
) -> Result<SpecInfo, RpmbuildError> {
    let inputs = check_inputs(root, srcdir, spec)?;
    let args = rpm_options(opts, root.foreign, false)?;
    let parent = opts.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    let work = ns::work_dir(&parent)?;
    let log = work.path().join("query.log");
    let ended = ns::run(&Run {
        work: work.path(),
        base: &inputs.base,
        srcdir: &inputs.srcdir,
        spec,
        query: true,
        foreign: root.foreign,
        args: &args,
        source_date_epoch: opts.source_date_epoch,
        timeout: opts.timeout,
        log: &log,
    })?;
    let fail = |what: &str| RpmbuildError::Query {
        srcdir: inputs.srcdir.clone(),
        spec: spec.to_owned(),
        tail: format!("{what}\n{}", ns::tail_of(&log, ns::TAIL_LINES)),
    };
    match ended {
        Ended::TimedOut => return Err(fail("(timed out)")),
        Ended::Exited(st) if !st.success() => return Err(fail(&format!("({st})"))),
        Ended::Exited(_) => {}
    }
    let lines = |name: &str| -> Result<Vec<String>, RpmbuildError> {
        let p = work.path().join(name);
        let text = fs_err::read_to_string(&p)?;
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    };
    let changelog = lines("q.changelogtime")?
        .first()
        .and_then(|l| l.parse::<u64>().ok())
        .map(epoch_from_changelog_time);
    let mut packages = lines("q.packages")?;
    packages.dedup();
    Ok(SpecInfo {
        build_requires: lines("q.buildrequires")?,
        packages,
        provides: lines("q.provides")?,
        source_date_epoch: opts.source_date_epoch.or(changelog),
    })
}

/// The `SOURCE_DATE_EPOCH` rpmbuild (4.17 and later) derives from a `%changelog` time:
/// rpm dates entries at 12:00 UTC of their day, and takes midnight for the epoch so that
/// clamped times are not in the future.
fn epoch_from_changelog_time(t: u64) -> u64 {
    if t % 86_400 == 43_200 { t - 43_200 } else { t }
}

/// Build `srcdir/spec` with `rpmbuild -ba` in a fresh isolated root over `root.base`
/// (after installing the `install` RPM files into it), and move the binary RPMs and the
/// source RPM into `out_dir` (created if missing; same names as rpmbuild gives them).
/// The full log goes to `log`, which is kept whatever happens; the work directory (under
/// `opts.work_dir`, else `out_dir`'s parent) is removed.
pub fn build(
    root: &RootLayout,
    srcdir: &Path,
    spec: &str,
    install: &[PathBuf],
    opts: &BuildOptions,
    out_dir: &Path,
    log: &Path,
) -> Result<BuildOutput, RpmbuildError> {
    let started = Instant::now();
    let inputs = check_inputs(root, srcdir, spec)?;
    let args = rpm_options(opts, root.foreign, true)?;
    fs_err::create_dir_all(out_dir)?;
    if let Some(dir) = log.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs_err::create_dir_all(dir)?;
    }
    let parent = match &opts.work_dir {
        Some(w) => w.clone(),
        None => fs_err::canonicalize(out_dir)?
            .parent()
            .map_or_else(|| out_dir.to_owned(), Path::to_owned),
    };
    let work = ns::work_dir(&parent)?;
    let mut names = Vec::new();
    if !install.is_empty() {
        let dir = work.path().join("install");
        fs_err::create_dir(&dir)?;
        for (i, rpm) in install.iter().enumerate() {
            let name = rpm
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".rpm") && rpm.is_file())
                .ok_or_else(|| RpmbuildError::BadInput {
                    path: rpm.clone(),
                    message: "a package to install must be an existing .rpm file".into(),
                })?;
            let dest = dir.join(format!("{i:04}-{name}"));
            if fs_err::hard_link(rpm, &dest).is_err() {
                fs_err::copy(rpm, &dest)?;
            }
            names.push(name);
        }
    }
    let ended = ns::run(&Run {
        work: work.path(),
        base: &inputs.base,
        srcdir: &inputs.srcdir,
        spec,
        query: false,
        foreign: root.foreign,
        args: &args,
        source_date_epoch: opts.source_date_epoch,
        timeout: opts.timeout,
        log,
    })?;
    let srcdir = inputs.srcdir.clone();
    let tail = || ns::tail_of(log, ns::TAIL_LINES);
    let status = match ended {
        Ended::TimedOut => {
            return Err(RpmbuildError::Timeout {
                srcdir,
                spec: spec.to_owned(),
                after: opts.timeout.unwrap_or_default(),
                log: log.to_owned(),
                tail: tail(),
            });
        }
        Ended::Exited(st) => st,
    };
    if !status.success() {
        return Err(match ns::stage(work.path()).as_str() {
            "missing" => RpmbuildError::RpmbuildMissing {
                srcdir,
                spec: spec.to_owned(),
                base: inputs.base,
                log: log.to_owned(),
                tail: tail(),
            },
            "install" => RpmbuildError::InstallFailed {
                srcdir,
                spec: spec.to_owned(),
                packages: names.join(", "),
                log: log.to_owned(),
                tail: tail(),
            },
            "build" => RpmbuildError::BuildFailed {
                srcdir,
                spec: spec.to_owned(),
                stage: ns::failed_stage(&ns::read_log(log)),
                log: log.to_owned(),
                tail: tail(),
            },
            _ => RpmbuildError::Setup {
                srcdir,
                spec: spec.to_owned(),
                base: inputs.base,
                log: log.to_owned(),
                tail: tail(),
            },
        });
    }
    let isolation = match fs_err::read_to_string(work.path().join("isolation")) {
        Ok(s) if s.trim() == "copy" => Isolation::Copy,
        _ => Isolation::Overlay,
    };
    let result = work.path().join("result");
    let mut found: Vec<PathBuf> = fs_err::read_dir(&result)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    found.sort();
    let (srpms, rpms): (Vec<PathBuf>, Vec<PathBuf>) = found
        .into_iter()
        .partition(|p| p.to_string_lossy().ends_with(".src.rpm"));
    if srpms.len() != 1 {
        return Err(RpmbuildError::NoOutput {
            srcdir,
            spec: spec.to_owned(),
            found: format!("{} source RPMs instead of one", srpms.len()),
            log: log.to_owned(),
        });
    }
    let mut moved = Vec::with_capacity(rpms.len());
    for p in &rpms {
        moved.push(move_into(p, out_dir)?);
    }
    let srpm = move_into(&srpms[0], out_dir)?;
    drop(work);
    Ok(BuildOutput {
        rpms: moved,
        srpm,
        log: log.to_owned(),
        isolation,
        duration: started.elapsed(),
    })
}

/// Move `file` into `dir` under its own name, atomically: rename, or copy to a temporary
/// name in `dir` and rename that.
fn move_into(file: &Path, dir: &Path) -> Result<PathBuf, RpmbuildError> {
    let name = file.file_name().ok_or_else(|| RpmbuildError::BadInput {
        path: file.to_owned(),
        message: "no file name".into(),
    })?;
    let dest = dir.join(name);
    if fs_err::rename(file, &dest).is_ok() {
        return Ok(dest);
    }
    let tmp = dir.join(format!(".{}.part", name.to_string_lossy()));
    fs_err::copy(file, &tmp)?;
    fs_err::rename(&tmp, &dest)?;
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> BuildOptions {
        BuildOptions {
            dist: ".cn1".into(),
            vendor: "Cairn".into(),
            distribution: String::new(),
            packager: "Cairn Builders <build@example.invalid>".into(),
            jobs: 4,
            defines: vec![("_with_tests".into(), "--with-tests".into())],
            ..BuildOptions::default()
        }
    }

    #[test]
    fn rpmbuild_options_in_a_foreign_base() {
        insta::assert_snapshot!(rpm_options(&opts(), true, true).unwrap().join("\n"));
    }

    #[test]
    fn no_nodeps_in_an_rpm_base_nor_for_rpmspec() {
        assert!(
            !rpm_options(&opts(), false, true)
                .unwrap()
                .contains(&"--nodeps".to_owned())
        );
        assert!(
            !rpm_options(&opts(), true, false)
                .unwrap()
                .contains(&"--nodeps".to_owned())
        );
    }

    #[test]
    fn changelog_noon_becomes_midnight() {
        assert_eq!(epoch_from_changelog_time(1_704_196_800), 1_704_153_600);
        assert_eq!(epoch_from_changelog_time(1_704_153_601), 1_704_153_601);
    }

    #[test]
    fn bad_defines_are_refused() {
        let mut o = opts();
        o.defines = vec![("a b".into(), "1".into())];
        let e = rpm_options(&o, true, true).unwrap_err().to_string();
        assert!(e.contains("--define a b 1"), "{e}");
        o.defines = vec![("x".into(), "1\n2".into())];
        assert!(rpm_options(&o, true, true).is_err());
    }
}
