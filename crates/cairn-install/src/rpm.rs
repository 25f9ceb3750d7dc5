//! RPM: one `rpm --root ROOT -i` transaction over the whole set.
//!
//! * The database goes to `ROOT/usr/lib/sysimage/rpm` (`--dbpath` and `%_dbpath` both
//!   set: Debian's rpm defaults to `~/.rpmdb`); the install checks it landed there.
//! * `--noplugins`: the host's rpm plugins (syslog, systemd-inhibit, dbus-announce,
//!   audit, selinux, ima, fsverity) act on the build host, not on the image.
//! * rpm chroots into the root for scriptlets, which need `/bin/sh` there (the
//!   packages' business). Nothing is mounted (as with `dnf --installroot`); rpm still
//!   runs in private PID, UTS, IPC and network namespaces so nothing a scriptlet starts
//!   outlives the transaction and no scriptlet reaches the network.
//! * `SOURCE_DATE_EPOCH` is exported: rpm ≥ 4.18 takes install times from it.
//! * A failing scriptlet is an error naming the package, even `%post`/`%posttrans`
//!   (rpm only warns and keeps the package installed, exiting 0).

use crate::query::{rpm_entries, rpm_root_args, strip_zero_epoch};
use crate::run::{self, Mode, TAIL_LINES};
use crate::{InstallError, InstallOptions, InstallPackage, InstallReport, InstallReporter};
use std::ffi::OsString;
use std::path::Path;

/// Where the rpm database lives inside the root.
pub(crate) const DBPATH: &str = "/usr/lib/sysimage/rpm";

pub(crate) fn install(
    root: &Path,
    pkgs: &[InstallPackage],
    opts: &InstallOptions,
    rep: &dyn InstallReporter,
) -> Result<InstallReport, InstallError> {
    for p in pkgs {
        if fs_err::metadata(&p.path).is_err() {
            return Err(InstallError::BadPackage {
                path: p.path.clone(),
                message: format!("the package file of {} is missing", p.name),
            });
        }
    }
    rep.step(&format!(
        "installing {} packages (one rpm transaction)",
        pkgs.len()
    ));
    let mut argv: Vec<OsString> = vec!["rpm".into()];
    argv.extend(rpm_root_args(root));
    argv.extend(["--noplugins", "--install", "--verbose"].map(OsString::from));
    // rpm orders the transaction by dependencies and, among equals, by argument order;
    // that order reaches the database and the install times, so it must not depend on
    // the caller's order
    let mut sorted: Vec<&InstallPackage> = pkgs.iter().collect();
    sorted.sort_by(|a, b| (&a.name, &a.arch, &a.version).cmp(&(&b.name, &b.arch, &b.version)));
    argv.extend(sorted.iter().map(|p| p.path.as_os_str().to_owned()));
    let mut env = crate::script_env(opts);
    // rpm itself runs on the host: use the host's PATH first
    env.retain(|(k, _)| k != "PATH");
    env.push(("PATH".into(), "/usr/sbin:/usr/bin:/sbin:/bin".into()));

    let names = nevra_names(pkgs);
    let total = pkgs.len();
    let mut done = 0;
    let mut on_line = |line: &str| {
        if let Some(name) = names.iter().find(|(n, _)| n == line.trim()).map(|(_, n)| n) {
            done = (done + 1).min(total);
            rep.package(done, total, name);
        }
    };
    let out = run::in_namespace(root, Mode::Host, &argv, &env, &mut on_line)?;
    if let Some(f) = scriptlet_failure(&out.lines, &names) {
        return Err(InstallError::Script {
            package: f.0,
            script: f.1,
            status: f.2,
            during: "installing the rpm transaction".into(),
            output: out.tail(TAIL_LINES),
        });
    }
    if !out.success {
        let output = out.tail(TAIL_LINES);
        return Err(InstallError::Command {
            command: "rpm --install".into(),
            status: out.status,
            package: None,
            output,
        });
    }
    let db = root.join(DBPATH.trim_start_matches('/'));
    if !db.join("rpmdb.sqlite").exists() && !db.join("Packages").exists() {
        return Err(InstallError::Mismatch {
            root: root.to_path_buf(),
            problems: format!("  rpm wrote no database under {}", db.display()),
        });
    }
    verify(root, pkgs)?;
    Ok(InstallReport {
        packages: pkgs.len(),
        essential: Vec::new(),
        batches: vec![pkgs.iter().map(|p| p.name.clone()).collect()],
        initramfs_deferred: false,
    })
}

/// How rpm prints each package (`name-[epoch:]version-release.arch`, with and without
/// the epoch) → its name.
fn nevra_names(pkgs: &[InstallPackage]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in pkgs {
        let v = strip_zero_epoch(&p.version);
        out.push((format!("{}-{v}.{}", p.name, p.arch), p.name.clone()));
        if let Some((_, no_epoch)) = v.split_once(':') {
            out.push((format!("{}-{no_epoch}.{}", p.name, p.arch), p.name.clone()));
        }
    }
    out
}

/// Find `%post(foo-1.0-1.noarch) scriptlet failed, exit status 1` (a warning for
/// `%post`, an error for `%pre`) → (package, `%post`, `exit status 1`).
fn scriptlet_failure(
    lines: &[String],
    names: &[(String, String)],
) -> Option<(String, String, String)> {
    lines.iter().find_map(|l| {
        let (head, status) = l.split_once(" scriptlet failed")?;
        let start = head.rfind('%')?;
        let (tag, rest) = head[start..].split_once('(')?;
        let nevra = rest.strip_suffix(')')?;
        let package = names
            .iter()
            .find(|(n, _)| n == nevra)
            .map_or_else(|| nevra.to_owned(), |(_, name)| name.clone());
        let script = match tag {
            "%prein" => "%pre",
            "%preun" => "%preun",
            other => other,
        };
        let status = status.trim_start_matches([',', ' ']).to_owned();
        Some((package, script.to_owned(), status))
    })
}

fn verify(root: &Path, pkgs: &[InstallPackage]) -> Result<(), InstallError> {
    let mut want: std::collections::BTreeMap<(String, String), &str> = pkgs
        .iter()
        .map(|p| {
            (
                (p.name.clone(), p.arch.clone()),
                strip_zero_epoch(&p.version),
            )
        })
        .collect();
    let mut problems = Vec::new();
    for e in rpm_entries(root)? {
        match want.remove(&(e.name.clone(), e.arch.clone())) {
            None => problems.push(format!(
                "  {} {} {} is installed but not in the set",
                e.name, e.version, e.arch
            )),
            Some(v) if v != e.version => problems.push(format!(
                "  {} {}: the set has {v}, rpm has {}",
                e.name, e.arch, e.version
            )),
            Some(_) => {}
        }
    }
    crate::mismatch(root, problems, want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scriptlet_failures_name_the_package() {
        let pkgs = vec![InstallPackage {
            name: "fixture-caps".into(),
            arch: "noarch".into(),
            version: "1:2.1-3".into(),
            path: "x".into(),
        }];
        let names = nevra_names(&pkgs);
        let lines: Vec<String> = [
            "fixture-caps-1:2.1-3.noarch",
            "warning: %post(fixture-caps-2.1-3.noarch) scriptlet failed, exit status 1",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            scriptlet_failure(&lines, &names),
            Some((
                "fixture-caps".into(),
                "%post".into(),
                "exit status 1".into()
            ))
        );
        let pre = ["error: %prein(other-1-1.x86_64) scriptlet failed, exit status 3".to_owned()];
        assert_eq!(
            scriptlet_failure(&pre, &names),
            Some((
                "other-1-1.x86_64".into(),
                "%pre".into(),
                "exit status 3".into()
            ))
        );
        assert_eq!(scriptlet_failure(&lines[..1], &names), None);
    }
}
