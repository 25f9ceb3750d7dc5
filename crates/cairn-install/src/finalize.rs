//! Make an installed root reproducible: remove what package managers leave behind that
//! depends on the time or on randomness, and what must be unique per machine.

use crate::{Format, InstallError};
use std::path::Path;

/// What [`finalize_for_reproducibility`] did, as paths relative to the root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FinalizeReport {
    pub removed: Vec<String>,
    pub rewritten: Vec<String>,
    pub added: Vec<String>,
}

/// Files removed when present: logs, caches and backups of package managers, random
/// seeds, and secrets that must differ per machine.
const REMOVE: &[&str] = &[
    "var/log/dpkg.log",
    "var/log/alternatives.log",
    "var/log/bootstrap.log",
    "var/log/apt/history.log",
    "var/log/apt/term.log",
    "var/log/apt/eipp.log.xz",
    "var/cache/ldconfig/aux-cache",
    "var/lib/systemd/random-seed",
    "var/lib/systemd/credential.secret",
    "var/lib/urandom/random-seed",
    "var/cache/debconf/passwords.dat-old",
    "usr/lib/sysimage/rpm/rpmdb.sqlite-shm",
];

/// `(directory, prefix, suffix)`: files in the directory whose name matches, removed.
const REMOVE_MATCHING: &[(&str, &str, &str)] = &[
    ("var/cache/apt", "", ".bin"),
    ("var/cache/debconf", "", "-old"),
    ("var/lib/dpkg", "", "-old"),
    ("usr/lib/sysimage/rpm", "__db.", ""),
    ("var/lib/rpm", "__db.", ""),
    ("etc/ssh", "ssh_host_", ""),
];

/// Directories whose contents are removed (never the directory itself).
const EMPTY_DIRS: &[&str] = &["tmp", "var/tmp"];

const SSH_KEYGEN_UNIT: &str = "cairn-ssh-keygen.service";

/// Make `root` (a finished install) reproducible. In detail:
///
/// * removes package-manager logs and caches (dpkg.log, apt logs and `*.bin` caches,
///   alternatives.log, `*-old` backups of dpkg and debconf, ldconfig's aux-cache, rpm's
///   `__db.*` and sqlite `-shm`, plus an empty `-wal`), random seeds, systemd's
///   credential secret, and the contents of `/tmp` and `/var/tmp`;
/// * empties `/etc/machine-id` when present (not removed): with systemd ≥ 250 an empty
///   file means "generate an ID at each boot and commit it when /etc is writable" without
///   first-boot semantics, so the presets are not re-applied over what the package
///   scripts enabled, and a read-only root still works (systemd bind-mounts the ID over
///   the empty file). A `/var/lib/dbus/machine-id` that is a file is removed (dbus falls
///   back to /etc/machine-id); the symlink Debian makes is kept;
/// * removes the SSH host keys. When Debian's `ssh.service` exists, adds
///   `cairn-ssh-keygen.service` (`ssh-keygen -A`), pulled in and ordered before
///   `ssh.service` and the socket-activated `ssh@.service` by drop-ins, because
///   bookworm's sshd refuses to start without keys and nothing else creates them at boot
///   (the drop-ins change nothing when ssh is disabled);
/// * sets the "last password change" field of every `/etc/shadow` (and `shadow-`)
///   entry that has one to `source_date_epoch / 86400`.
///
/// Idempotent. File times are left for the caller to clamp.
pub fn finalize_for_reproducibility(
    format: Format,
    root: &Path,
    source_date_epoch: u64,
) -> Result<FinalizeReport, InstallError> {
    let _ = format; // both formats get the same treatment; paths that do not exist are skipped
    let mut rep = FinalizeReport::default();
    for rel in REMOVE {
        remove_file(root, rel, &mut rep)?;
    }
    for (dir, prefix, suffix) in REMOVE_MATCHING {
        let Ok(entries) = fs_err::read_dir(root.join(dir)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
            .collect();
        names.sort();
        for n in names {
            remove_file(root, &format!("{dir}/{n}"), &mut rep)?;
        }
    }
    for wal in [
        "usr/lib/sysimage/rpm/rpmdb.sqlite-wal",
        "var/lib/rpm/rpmdb.sqlite-wal",
    ] {
        // an empty write-ahead log holds nothing; a full one would lose data
        if fs_err::symlink_metadata(root.join(wal)).is_ok_and(|m| m.is_file() && m.len() == 0) {
            remove_file(root, wal, &mut rep)?;
        }
    }
    for dir in EMPTY_DIRS {
        empty_dir(root, dir, &mut rep)?;
    }
    machine_id(root, &mut rep)?;
    ssh_keygen_unit(root, &mut rep)?;
    for f in ["etc/shadow", "etc/shadow-"] {
        shadow_last_change(root, f, source_date_epoch / 86400, &mut rep)?;
    }
    Ok(rep)
}

fn remove_file(root: &Path, rel: &str, rep: &mut FinalizeReport) -> Result<(), InstallError> {
    let path = root.join(rel);
    match fs_err::symlink_metadata(&path) {
        Ok(m) if m.is_dir() => Err(InstallError::Finalize {
            path,
            message: "expected a file, found a directory".into(),
        }),
        Ok(_) => {
            fs_err::remove_file(&path)?;
            rep.removed.push(rel.to_owned());
            Ok(())
        }
        Err(_) => Ok(()),
    }
}

fn empty_dir(root: &Path, rel: &str, rep: &mut FinalizeReport) -> Result<(), InstallError> {
    let dir = root.join(rel);
    if !fs_err::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    let mut entries: Vec<_> = fs_err::read_dir(&dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if e.file_type()?.is_dir() {
            fs_err::remove_dir_all(&p)?;
        } else {
            fs_err::remove_file(&p)?;
        }
        rep.removed
            .push(format!("{rel}/{}", e.file_name().to_string_lossy()));
    }
    Ok(())
}

fn machine_id(root: &Path, rep: &mut FinalizeReport) -> Result<(), InstallError> {
    let id = root.join("etc/machine-id");
    if let Ok(m) = fs_err::symlink_metadata(&id) {
        if !m.is_file() {
            return Err(InstallError::Finalize {
                path: id,
                message: "expected a regular file".into(),
            });
        }
        if m.len() > 0 {
            fs_err::write(&id, b"")?;
            rep.rewritten.push("etc/machine-id".into());
        }
    }
    let dbus = root.join("var/lib/dbus/machine-id");
    if fs_err::symlink_metadata(&dbus).is_ok_and(|m| m.is_file()) {
        fs_err::remove_file(&dbus)?;
        rep.removed.push("var/lib/dbus/machine-id".into());
    }
    Ok(())
}

fn ssh_keygen_unit(root: &Path, rep: &mut FinalizeReport) -> Result<(), InstallError> {
    let has_ssh = [
        "lib/systemd/system/ssh.service",
        "usr/lib/systemd/system/ssh.service",
    ]
    .iter()
    .any(|p| fs_err::symlink_metadata(root.join(p)).is_ok());
    if !has_ssh {
        return Ok(());
    }
    let unit = String::from(
        "# Added by cairn: the image ships without SSH host keys, so every machine\n\
         # generates its own on first boot.\n\
         [Unit]\n\
         Description=Generate missing SSH host keys\n\
         Documentation=man:ssh-keygen(1)\n\
         Before=ssh.service sshd.service\n\
         ConditionPathExists=/usr/bin/ssh-keygen\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         RemainAfterExit=yes\n\
         ExecStart=/usr/bin/ssh-keygen -A\n",
    );
    let dropin = format!(
        "# Added by cairn: generate SSH host keys before sshd needs them.\n\
         [Unit]\n\
         Wants={SSH_KEYGEN_UNIT}\n\
         After={SSH_KEYGEN_UNIT}\n"
    );
    let files = [
        (format!("etc/systemd/system/{SSH_KEYGEN_UNIT}"), &unit),
        (
            "etc/systemd/system/ssh.service.d/cairn-ssh-keygen.conf".to_owned(),
            &dropin,
        ),
        (
            "etc/systemd/system/ssh@.service.d/cairn-ssh-keygen.conf".to_owned(),
            &dropin,
        ),
    ];
    for (rel, text) in files {
        let path = root.join(&rel);
        if fs_err::read_to_string(&path).is_ok_and(|t| &t == text) {
            continue;
        }
        fs_err::create_dir_all(path.parent().expect("has a parent"))?;
        fs_err::write(&path, text)?;
        rep.added.push(rel);
    }
    Ok(())
}

fn shadow_last_change(
    root: &Path,
    rel: &str,
    day: u64,
    rep: &mut FinalizeReport,
) -> Result<(), InstallError> {
    let path = root.join(rel);
    let Ok(text) = fs_err::read_to_string(&path) else {
        return Ok(());
    };
    let fixed = set_last_change(&text, day);
    if fixed != text {
        // rewriting in place keeps the file's owner and mode
        fs_err::write(&path, fixed)?;
        rep.rewritten.push(rel.to_owned());
    }
    Ok(())
}

/// Set field 3 (days since 1970 of the last password change) of every shadow entry that
/// has one to `day`. An empty field (aging disabled) and `0` (change at next login)
/// are kept.
pub(crate) fn set_last_change(text: &str, day: u64) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let mut fields: Vec<&str> = body.split(':').collect();
        let day_s = day.to_string();
        if fields.len() >= 3 && !fields[2].is_empty() && fields[2] != "0" {
            fields[2] = &day_s;
            out.push_str(&fields.join(":"));
        } else {
            out.push_str(body);
        }
        out.push_str(nl);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shadow_last_change_is_set_where_present() {
        let text = "root:*:19700:0:99999:7:::\nsystemd-network:!*:19701::::::\nnew:x:0:0:99999:7:::\nnolast:*::0:99999:7:::";
        assert_eq!(
            set_last_change(text, 19000),
            "root:*:19000:0:99999:7:::\nsystemd-network:!*:19000::::::\nnew:x:0:0:99999:7:::\nnolast:*::0:99999:7:::"
        );
    }

    #[test]
    fn finalize_cleans_a_tree_and_is_idempotent() {
        let dir = std::env::temp_dir().join(format!("cairn-finalize-unit-{}", std::process::id()));
        let _ = fs_err::remove_dir_all(&dir);
        for (p, c) in [
            ("var/log/dpkg.log", "x"),
            ("var/cache/apt/pkgcache.bin", "x"),
            ("var/lib/dpkg/status-old", "x"),
            ("etc/machine-id", "0123456789abcdef0123456789abcdef\n"),
            ("etc/ssh/ssh_host_ed25519_key", "k"),
            ("etc/ssh/sshd_config", "keep"),
            ("lib/systemd/system/ssh.service", "[Unit]\n"),
            ("etc/shadow", "root:*:20000:0:99999:7:::\n"),
            ("tmp/leftover/x", "x"),
        ] {
            let path = dir.join(p);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(&path, c).unwrap();
        }
        let rep = finalize_for_reproducibility(Format::Deb, &dir, 86400 * 19000 + 5).unwrap();
        assert!(
            rep.removed.contains(&"var/log/dpkg.log".to_owned()),
            "{rep:?}"
        );
        assert!(!dir.join("var/cache/apt/pkgcache.bin").exists());
        assert!(!dir.join("var/lib/dpkg/status-old").exists());
        assert!(!dir.join("etc/ssh/ssh_host_ed25519_key").exists());
        assert!(dir.join("etc/ssh/sshd_config").exists());
        assert!(!dir.join("tmp/leftover").exists() && dir.join("tmp").is_dir());
        assert_eq!(fs_err::read(dir.join("etc/machine-id")).unwrap(), b"");
        assert_eq!(
            fs_err::read_to_string(dir.join("etc/shadow")).unwrap(),
            "root:*:19000:0:99999:7:::\n"
        );
        let unit = fs_err::read_to_string(dir.join("etc/systemd/system/cairn-ssh-keygen.service"))
            .unwrap();
        assert!(unit.contains("ExecStart=/usr/bin/ssh-keygen -A"));
        assert!(
            dir.join("etc/systemd/system/ssh.service.d/cairn-ssh-keygen.conf")
                .exists()
        );
        let again = finalize_for_reproducibility(Format::Deb, &dir, 86400 * 19000 + 5).unwrap();
        assert_eq!(again, FinalizeReport::default());
        fs_err::remove_dir_all(&dir).unwrap();
    }
}
