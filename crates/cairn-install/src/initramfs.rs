//! Debian: build the initramfs once, after every package is configured.
//!
//! A kernel's postinst runs `update-initramfs -c` at once, and every package that adds
//! an initramfs hook later (udev, systemd, cryptsetup, …) activates initramfs-tools'
//! trigger, which runs `update-initramfs -u` again at the end of that dpkg run. With
//! `MODULES=most`, one run takes about 20 s here, and a disk image's install paid for two.
//! Like live-build, cairn diverts `update-initramfs` while packages are installed (a real
//! `dpkg-divert`, so initramfs-tools' own file goes to the diverted name) and puts a
//! stand-in there that only records what was asked. Once everything is configured, the
//! stand-in goes, the diversion is removed (dpkg's database ends as if it had never
//! been there) and the recorded requests are run for real: every distinct `-c` (create
//! for a kernel; run last, it sees every hook), or the `-u` requests when there was none.

use crate::InstallError;
use crate::run;
use std::path::Path;

const TOOL: &str = "/usr/sbin/update-initramfs";
const DIVERTED: &str = "/usr/sbin/update-initramfs.cairn-deferred";
/// Where the stand-in records requests (inside the root; removed when they are run or
/// dropped).
const LOG: &str = "/var/lib/cairn-install.update-initramfs.requests";

/// The stand-in. Requests are recorded one per line, arguments separated by tabs.
fn stand_in(log: &str) -> String {
    format!(
        "#!/bin/sh\n\
         # cairn-install: the initramfs is built once, after every package is configured;\n\
         # this stand-in only records the request.\n\
         (IFS='\t'; printf '%s\\n' \"$*\") >>{log}\n\
         echo \"update-initramfs: deferred by cairn until every package is configured\"\n"
    )
}

/// Whether the set has initramfs-tools (whose `update-initramfs` is deferred).
pub(crate) fn wanted<'a>(names: impl IntoIterator<Item = &'a str>) -> bool {
    names
        .into_iter()
        .any(|n| n == "initramfs-tools-core" || n == "initramfs-tools")
}

/// Divert `update-initramfs` and put the stand-in in its place.
pub(crate) fn defer(root: &Path, env: &[(String, String)]) -> Result<(), InstallError> {
    use std::os::unix::fs::PermissionsExt as _;
    divert(
        root,
        "--add",
        env,
        "diverting update-initramfs until every package is configured",
    )?;
    let path = root.join(TOOL.trim_start_matches('/'));
    fs_err::create_dir_all(path.parent().expect("has a parent"))?;
    fs_err::write(&path, stand_in(LOG))?;
    fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// Remove the stand-in and the diversion, then run what was recorded. Returns the
/// requests that were run.
pub(crate) fn replay(
    root: &Path,
    env: &[(String, String)],
    on_run: &mut dyn FnMut(&str),
) -> Result<Vec<Vec<String>>, InstallError> {
    let log = root.join(LOG.trim_start_matches('/'));
    let text = match fs_err::read_to_string(&log) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e.into()),
    };
    undivert(root, env)?;
    let todo = requests_to_run(&text);
    for args in &todo {
        let shown = format!("update-initramfs {}", args.join(" "));
        on_run(&shown);
        let mut argv = vec!["update-initramfs"];
        argv.extend(args.iter().map(String::as_str));
        run::chroot(
            root,
            &argv,
            env,
            &format!("{shown} (deferred from the package scripts)"),
            Some("initramfs-tools"),
        )?;
    }
    Ok(todo)
}

/// Remove the stand-in, the diversion and the record of requests (which stay unrun).
pub(crate) fn undivert(root: &Path, env: &[(String, String)]) -> Result<(), InstallError> {
    fs_err::remove_file(root.join(TOOL.trim_start_matches('/')))?;
    match fs_err::remove_file(root.join(LOG.trim_start_matches('/'))) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    divert(
        root,
        "--remove",
        env,
        "removing the diversion of update-initramfs",
    )
}

/// The recorded requests worth running: every distinct create (`-c`) in order, or, when
/// there is none, every distinct other request.
fn requests_to_run(log: &str) -> Vec<Vec<String>> {
    let mut seen = std::collections::BTreeSet::new();
    let all: Vec<Vec<String>> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_owned).collect::<Vec<_>>())
        .filter(|r| seen.insert(r.clone()))
        .collect();
    let creates: Vec<Vec<String>> = all
        .iter()
        .filter(|r| r.iter().any(|a| a == "-c"))
        .cloned()
        .collect();
    if creates.is_empty() { all } else { creates }
}

/// `dpkg-divert --local --rename --divert DIVERTED ACTION TOOL` in the root.
fn divert(
    root: &Path,
    action: &str,
    env: &[(String, String)],
    what: &str,
) -> Result<(), InstallError> {
    run::chroot(
        root,
        &[
            "dpkg-divert",
            "--local",
            "--rename",
            "--divert",
            DIVERTED,
            action,
            TOOL,
        ],
        env,
        what,
        Some("initramfs-tools"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_win_and_repeats_go() {
        let log = "-c\t-k\t6.1.0-57-amd64\t-b\t/boot\n-u\n-c\t-k\t6.1.0-57-amd64\t-b\t/boot\n\
                   -u\n-c\t-k\t6.2.0-1-amd64\n";
        assert_eq!(
            requests_to_run(log),
            vec![
                vec!["-c", "-k", "6.1.0-57-amd64", "-b", "/boot"],
                vec!["-c", "-k", "6.2.0-1-amd64"],
            ]
        );
        assert_eq!(
            requests_to_run("-u\n-u\n-u\t-k\tall\n"),
            vec![
                vec!["-u".to_owned()],
                vec!["-u".to_owned(), "-k".into(), "all".into()]
            ]
        );
        assert!(requests_to_run("").is_empty());
    }

    #[test]
    fn the_stand_in_records_its_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests");
        let script = dir.path().join("update-initramfs");
        fs_err::write(&script, stand_in(log.to_str().unwrap())).unwrap();
        for args in [&["-c", "-k", "6.1.0-57-amd64"][..], &["-u"][..]] {
            let o = std::process::Command::new("sh")
                .arg(&script)
                .args(args)
                .output()
                .unwrap();
            assert!(o.status.success());
        }
        assert_eq!(
            fs_err::read_to_string(&log).unwrap(),
            "-c\t-k\t6.1.0-57-amd64\n-u\n"
        );
        assert!(wanted(["bash", "initramfs-tools"]));
        assert!(!wanted(["bash", "dracut"]));
    }
}
