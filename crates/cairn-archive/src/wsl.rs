//! WSL distribution files (`.wsl`): a gzip tar with WSL's configuration added.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use crate::gzip::write_tar_gz;
use crate::{ArchiveError, OverlayEntry, TarOptions, TarSummary};

/// Where the generated first-start script goes (`oobe.command`).
pub const OOBE_COMMAND: &str = "/usr/lib/wsl/oobe.sh";
/// Where a given shortcut icon goes (`shortcut.icon`).
pub const SHORTCUT_ICON: &str = "/usr/lib/wsl/shortcut.ico";
/// Where a given Windows Terminal profile template goes (`windowsterminal.profileTemplate`).
pub const TERMINAL_PROFILE: &str = "/usr/lib/wsl/terminal-profile.json";

/// Largest icon or terminal profile Microsoft's validator accepts (1 MiB).
pub const MAX_WSL_ASSET_SIZE: usize = 1024 * 1024;

/// systemd units Microsoft's validator and WSL documentation say cause trouble under WSL.
/// [`write_wsl`] masks each one whose unit file the root has.
pub const DISCOURAGED_UNITS: &[&str] = &[
    "NetworkManager-wait-online.service",
    "NetworkManager.service",
    "hypervkvpd.service",
    "networking.service",
    "systemd-networkd-wait-online.service",
    "systemd-networkd.service",
    "systemd-resolved.service",
    "systemd-tmpfiles-clean.service",
    "systemd-tmpfiles-clean.timer",
    "systemd-tmpfiles-setup-dev-early.service",
    "systemd-tmpfiles-setup-dev.service",
    "systemd-tmpfiles-setup.service",
    "tmp.mount",
];

/// Paths [`write_wsl`] leaves out: kernel, initramfs and boot loader (all of `/boot`), kernel
/// modules (WSL brings its own kernel and modules) and `/etc/resolv.conf` (WSL writes it).
pub const WSL_EXCLUDES: &[&str] = &[
    "boot/*",
    "usr/lib/modules/*",
    "lib/modules/*",
    "etc/resolv.conf",
];

/// Extended attributes WSL 1 cannot store; [`write_wsl`] drops them.
pub const WSL1_UNSUPPORTED_XATTRS: &[&str] = &["security.selinux", "security.ima", "security.evm"];

/// `/etc/wsl.conf` keys (lowercase `section.key`) that Microsoft's validator accepts.
pub const WSL_CONF_KEYS: &[&str] = &[
    "automount.enabled",
    "automount.ldconfig",
    "automount.mountfstab",
    "automount.options",
    "automount.root",
    "boot.command",
    "boot.protectbinfmt",
    "boot.systemd",
    "fileserver.enabled",
    "filesystem.umask",
    "general.hostname",
    "gpu.appendlibpath",
    "gpu.enabled",
    "interop.appendwindowspath",
    "interop.enabled",
    "network.generatehosts",
    "network.generateresolvconf",
    "network.hostname",
    "time.usewindowstimezone",
    "user.default",
];

/// What goes into `/etc/wsl-distribution.conf`, `/etc/wsl.conf` and the first-start script.
///
/// Construct with [`WslConfig::new`] and set the public fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WslConfig {
    /// `oobe.defaultName`: the name WSL registers the distribution under
    /// (`[A-Za-z0-9._-]`, at most 64 characters).
    pub default_name: String,
    /// `oobe.defaultUid`, and the uid the first-start script gives the new user (1000).
    pub default_uid: u32,
    /// Supplementary groups for the new user; those the root's `/etc/group` lacks are skipped
    /// at first start (default `adm`, `wheel`, `sudo`).
    pub user_groups: Vec<String>,
    /// `[boot] systemd` in `/etc/wsl.conf` (default true).
    pub systemd: bool,
    /// Further `/etc/wsl.conf` settings as `section.key` → value, keys from [`WSL_CONF_KEYS`]
    /// (not `user.default`, which WSL discourages, nor `boot.systemd`).
    pub wsl_conf: BTreeMap<String, String>,
    /// `.ico` bytes for the Start-menu shortcut (stored at [`SHORTCUT_ICON`]).
    pub icon: Option<Vec<u8>>,
    /// `[shortcut] enabled` (default true).
    pub shortcut_enabled: bool,
    /// Windows Terminal profile template JSON (stored at [`TERMINAL_PROFILE`]).
    pub terminal_profile: Option<String>,
    /// `[windowsterminal] enabled` (default true).
    pub terminal_enabled: bool,
    /// gzip level (default 9, as Microsoft's guide recommends).
    pub gzip_level: u32,
    /// Extra excludes and overlay entries; [`WSL_EXCLUDES`] and the WSL files are added to these.
    pub tar: TarOptions,
}

impl WslConfig {
    /// A distribution registered as `default_name`, default user uid 1000, systemd on.
    pub fn new(default_name: impl Into<String>, source_date_epoch: u64) -> Self {
        WslConfig {
            default_name: default_name.into(),
            default_uid: 1000,
            user_groups: vec!["adm".into(), "wheel".into(), "sudo".into()],
            systemd: true,
            wsl_conf: BTreeMap::new(),
            icon: None,
            shortcut_enabled: true,
            terminal_profile: None,
            terminal_enabled: true,
            gzip_level: 9,
            tar: TarOptions::new(source_date_epoch),
        }
    }
}

/// What [`write_wsl`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WslSummary {
    pub tar: TarSummary,
    /// Length of the `.wsl` file.
    pub bytes: u64,
    /// SHA-256 of the `.wsl` file (the `Sha256` of a WSL distribution manifest), lowercase hex.
    pub sha256: String,
    /// Units masked (`/etc/systemd/system/<unit>` → `/dev/null`).
    pub masked_units: Vec<String>,
}

/// Writes `root` as a modern WSL distribution file (a gzip tar, WSL 2.4.4 and later) to `out`.
///
/// Adds `/etc/wsl-distribution.conf`, `/etc/wsl.conf`, the first-start script
/// [`OOBE_COMMAND`] (creates the default user with uid [`WslConfig::default_uid`] and asks for
/// a password), the icon and terminal profile if given, an empty `/etc/fstab` (WSL mounts
/// the root itself), and masks the [`DISCOURAGED_UNITS`] the root has. Leaves out
/// [`WSL_EXCLUDES`] and drops [`WSL1_UNSUPPORTED_XATTRS`]. The root on disk is not changed.
/// Check the result with [`crate::validate_wsl`]. On error `out` is removed.
pub fn write_wsl(root: &Path, out: &Path, cfg: &WslConfig) -> Result<WslSummary, ArchiveError> {
    let (opts, masked_units) = wsl_tar_options(root, cfg)?;
    let result = (|| {
        let mut file = fs_err::File::create(out)?;
        let summary = write_tar_gz(root, &mut file, &opts, cfg.gzip_level)?;
        file.flush()?;
        file.sync_all()?;
        Ok(WslSummary {
            tar: summary.tar,
            bytes: summary.compressed_bytes,
            sha256: summary.compressed_sha256,
            masked_units,
        })
    })();
    if result.is_err() {
        let _ = fs_err::remove_file(out);
    }
    result
}

fn invalid(field: &'static str, value: impl Into<String>, expected: &'static str) -> ArchiveError {
    ArchiveError::InvalidConfig {
        field,
        value: value.into(),
        expected,
    }
}

fn wsl_tar_options(
    root: &Path,
    cfg: &WslConfig,
) -> Result<(TarOptions, Vec<String>), ArchiveError> {
    let name_ok = !cfg.default_name.is_empty()
        && cfg.default_name.len() <= 64
        && cfg
            .default_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !name_ok {
        return Err(invalid(
            "WSL oobe.defaultName",
            &cfg.default_name,
            "1-64 characters of [A-Za-z0-9._-]",
        ));
    }
    if cfg.default_uid == 0 {
        return Err(invalid(
            "WSL oobe.defaultUid",
            "0",
            "the uid of a normal user (1000)",
        ));
    }
    for group in &cfg.user_groups {
        let ok = group
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
            && group
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
        if !ok {
            return Err(invalid(
                "WSL user group",
                group,
                "a group name of [a-z0-9_-] starting with a letter or _",
            ));
        }
    }
    let mut wsl_conf_sections: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (key, value) in &cfg.wsl_conf {
        let lower = key.to_ascii_lowercase();
        if !WSL_CONF_KEYS.contains(&lower.as_str())
            || lower == "user.default"
            || lower == "boot.systemd"
        {
            return Err(invalid(
                "/etc/wsl.conf key",
                key,
                "a section.key from Microsoft's list (not user.default; set boot.systemd through WslConfig::systemd)",
            ));
        }
        if value.contains(['\n', '\r']) {
            return Err(invalid("/etc/wsl.conf value", value, "a single line"));
        }
        let (section, k) = key.split_once('.').unwrap_or((key, ""));
        wsl_conf_sections
            .entry(section.to_owned())
            .or_default()
            .push((k.to_owned(), value.clone()));
    }
    if let Some(icon) = &cfg.icon
        && (icon.len() > MAX_WSL_ASSET_SIZE || !icon.starts_with(&[0, 0, 1, 0]))
    {
        return Err(invalid(
            "WSL shortcut icon",
            format!("{} bytes", icon.len()),
            "a Windows .ico file (starts with 00 00 01 00) of at most 1 MiB",
        ));
    }
    if let Some(profile) = &cfg.terminal_profile
        && (profile.len() > MAX_WSL_ASSET_SIZE
            || serde_json::from_str::<serde_json::Value>(profile).is_err())
    {
        return Err(invalid(
            "Windows Terminal profile template",
            profile.chars().take(60).collect::<String>(),
            "JSON of at most 1 MiB",
        ));
    }

    let mut opts = cfg.tar.clone();
    opts.exclude
        .extend(WSL_EXCLUDES.iter().map(|s| (*s).to_owned()));
    opts.drop_xattrs
        .extend(WSL1_UNSUPPORTED_XATTRS.iter().map(|s| (*s).to_owned()));

    let mut dist =
        String::from("# Written by cairn: how WSL sets this distribution up on first start.\n");
    dist.push_str(&format!(
        "[oobe]\ncommand = {OOBE_COMMAND}\ndefaultUid = {}\ndefaultName = {}\n\n",
        cfg.default_uid, cfg.default_name
    ));
    dist.push_str(&format!("[shortcut]\nenabled = {}\n", cfg.shortcut_enabled));
    if let Some(icon) = &cfg.icon {
        dist.push_str(&format!("icon = {SHORTCUT_ICON}\n"));
        opts.overlay
            .push(OverlayEntry::file(SHORTCUT_ICON, icon.clone(), 0o644));
    }
    dist.push_str(&format!(
        "\n[windowsterminal]\nenabled = {}\n",
        cfg.terminal_enabled
    ));
    if let Some(profile) = &cfg.terminal_profile {
        dist.push_str(&format!("ProfileTemplate = {TERMINAL_PROFILE}\n"));
        // Microsoft's validator expects 0640 or 0660 for the template.
        opts.overlay.push(OverlayEntry::file(
            TERMINAL_PROFILE,
            profile.clone().into_bytes(),
            0o640,
        ));
    }
    opts.overlay.push(OverlayEntry::file(
        "/etc/wsl-distribution.conf",
        dist,
        0o644,
    ));

    let mut conf = String::from(
        "# Written by cairn: settings WSL applies when it starts this distribution.\n",
    );
    let boot = wsl_conf_sections.entry("boot".into()).or_default();
    boot.insert(0, ("systemd".into(), cfg.systemd.to_string()));
    for (i, (section, keys)) in wsl_conf_sections.iter().enumerate() {
        if i > 0 {
            conf.push('\n');
        }
        conf.push_str(&format!("[{section}]\n"));
        for (k, v) in keys {
            conf.push_str(&format!("{k} = {v}\n"));
        }
    }
    opts.overlay
        .push(OverlayEntry::file("/etc/wsl.conf", conf, 0o644));
    opts.overlay.push(OverlayEntry::file(
        "/etc/fstab",
        "# Written by cairn: WSL mounts the root file system itself.\n",
        0o644,
    ));
    opts.overlay
        .push(OverlayEntry::file(OOBE_COMMAND, oobe_script(cfg), 0o755));

    let mut masked = Vec::new();
    for unit in DISCOURAGED_UNITS {
        let dirs = [
            "usr/lib/systemd/system",
            "lib/systemd/system",
            "usr/local/lib/systemd/system",
            "etc/systemd/system",
        ];
        if dirs
            .iter()
            .any(|dir| exists_in_root(root, &format!("{dir}/{unit}")))
        {
            opts.overlay.push(OverlayEntry::symlink(
                format!("etc/systemd/system/{unit}"),
                "/dev/null",
            ));
            masked.push((*unit).to_owned());
        }
    }
    Ok((opts, masked))
}

/// Whether `rel` exists below `root` without following any symlink on the way (a symlink
/// there would point into the host, not the root).
fn exists_in_root(root: &Path, rel: &str) -> bool {
    let mut path = root.to_owned();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        match fs_err::symlink_metadata(&path) {
            Ok(meta) if i + 1 == parts.len() || meta.is_dir() => {}
            _ => return false,
        }
    }
    true
}

fn oobe_script(cfg: &WslConfig) -> String {
    const TEMPLATE: &str = r#"#!/bin/sh
# Written by cairn: WSL runs this on the first interactive start (oobe.command in
# /etc/wsl-distribution.conf). It creates the default user with uid @UID@, which is the
# distribution's oobe.defaultUid.
set -u
uid=@UID@
groups='@GROUPS@'

if grep -q "^[^:]*:[^:]*:$uid:" /etc/passwd; then
    echo "A user with uid $uid exists already."
    exit 0
fi

shell=/bin/sh
if [ -x /bin/bash ]; then shell=/bin/bash; fi

echo 'Please create a default UNIX user account. The username does not need to match your Windows username.'
echo 'For more information visit: https://aka.ms/wslusers'
while :; do
    printf 'Enter new UNIX username: '
    IFS= read -r name || exit 1
    case "$name" in
        '' | [!a-z_]* | *[!a-z0-9_-]*)
            echo "Use lowercase letters, digits, '_' and '-', starting with a letter or '_'."
            continue ;;
    esac
    if grep -q "^$name:" /etc/passwd; then
        echo "User $name exists already."
        continue
    fi
    extra=''
    for g in $groups; do
        if grep -q "^$g:" /etc/group; then extra="${extra:+$extra,}$g"; fi
    done
    if command -v useradd >/dev/null 2>&1; then
        useradd --create-home --user-group --uid "$uid" --shell "$shell" ${extra:+--groups "$extra"} "$name" || continue
    else
        adduser -D -u "$uid" -s "$shell" "$name" || continue
        for g in $(echo "$extra" | tr ',' ' '); do addgroup "$name" "$g"; done
    fi
    break
done

tries=0
until passwd "$name"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 3 ]; then
        echo "No password set; set one later with: passwd $name"
        break
    fi
    echo 'Try again.'
done
exit 0
"#;
    TEMPLATE
        .replace("@UID@", &cfg.default_uid.to_string())
        .replace("@GROUPS@", &cfg.user_groups.join(" "))
}
