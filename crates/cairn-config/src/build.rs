//! What `cairn build` makes of an image: outputs and customizations.
//!
//! These settings never change which packages are installed, so they are left out of the
//! lock's fingerprint: editing a user or an output does not make `cairn.lock` stale.

use crate::{ConfigError, Locator};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

/// An output format of `cairn build`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum OutputKind {
    /// The root file system as a directory.
    Dir,
    /// A reproducible tar of the root.
    Tar,
    /// A WSL distribution file (`.wsl`).
    Wsl,
    /// An OCI image layout plus a docker-archive tarball.
    Oci,
    /// A GPT disk image (BIOS and UEFI boot, ext4 root).
    Raw,
    /// A fixed VHD (Azure).
    Vhd,
    /// A qcow2 disk image.
    Qcow2,
}

impl OutputKind {
    pub const ALL: [OutputKind; 7] = [
        OutputKind::Dir,
        OutputKind::Tar,
        OutputKind::Wsl,
        OutputKind::Oci,
        OutputKind::Raw,
        OutputKind::Vhd,
        OutputKind::Qcow2,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            OutputKind::Dir => "dir",
            OutputKind::Tar => "tar",
            OutputKind::Wsl => "wsl",
            OutputKind::Oci => "oci",
            OutputKind::Raw => "raw",
            OutputKind::Vhd => "vhd",
            OutputKind::Qcow2 => "qcow2",
        }
    }
    /// Needs a kernel and a boot loader.
    pub fn is_disk(self) -> bool {
        matches!(self, OutputKind::Raw | OutputKind::Vhd | OutputKind::Qcow2)
    }
}

impl fmt::Display for OutputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OutputKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OutputKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = OutputKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown output `{s}`; expected one of {}", all.join(", "))
            })
    }
}

/// Firmware a disk image boots with.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Firmware {
    /// Legacy BIOS (GRUB in the protective MBR and a BIOS boot partition).
    Bios,
    /// UEFI (GRUB as `EFI/BOOT/BOOTX64.EFI` on the ESP).
    Uefi,
}

/// A user account to create.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct UserDef {
    /// Login name.
    pub name: String,
    /// Numeric user id. Default: the first free id from 1000.
    pub uid: Option<u32>,
    /// Primary group name. Default: a group named like the user, with gid = uid.
    pub group: Option<String>,
    /// Supplementary groups (must exist in the image or be declared in `groups`).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Full name (GECOS).
    pub comment: Option<String>,
    /// Home directory. Default `/home/NAME` (`/root` for root).
    pub home: Option<String>,
    /// Login shell. Default `/bin/bash` when the image has it, else `/bin/sh`.
    pub shell: Option<String>,
    /// crypt(3) password hash (`$6$…`, `$y$…`). Without it the password is locked.
    pub password_hash: Option<String>,
    /// Lines for `~/.ssh/authorized_keys`.
    #[serde(default)]
    pub ssh_authorized_keys: Vec<String>,
}

/// A group to create.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GroupDef {
    pub name: String,
    /// Numeric group id. Default: the first free id from 1000.
    pub gid: Option<u32>,
}

/// A file to place into the image.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileDef {
    /// Absolute path inside the image.
    pub path: String,
    /// The file's text.
    pub content: Option<String>,
    /// Or: a file to copy, relative to the project file.
    pub source: Option<String>,
    /// Octal mode, e.g. `"0644"` (default) or `"0755"`.
    pub mode: Option<String>,
    /// Owner: a user name from the image or a numeric uid. Default root.
    pub owner: Option<String>,
    /// Group: a group name from the image or a numeric gid. Default root.
    pub group: Option<String>,
}

/// A directory to create.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DirDef {
    /// Absolute path inside the image (parents are created, owned by root, 0755).
    pub path: String,
    /// Octal mode, default `"0755"`.
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

/// systemd units to enable, disable or mask (offline, like `systemctl --root`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SystemdDef {
    #[serde(default)]
    pub enable: Vec<String>,
    #[serde(default)]
    pub disable: Vec<String>,
    #[serde(default)]
    pub mask: Vec<String>,
}

/// Disk layout of `raw`, `vhd` and `qcow2` outputs.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DiskDef {
    /// Total disk size (`"4G"`, `"2048M"`). Default: the content plus room to grow.
    pub size: Option<String>,
    /// Firmware to boot with. Default both: `["bios", "uefi"]`.
    pub firmware: Option<Vec<Firmware>>,
    /// Who builds the initrd. Default `"distribution"`.
    pub initrd: Option<InitrdKind>,
}

/// Who builds a disk image's initrd.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum InitrdKind {
    /// The distribution's own generator, as its packages run it (Debian's
    /// `update-initramfs`, Fedora's `dracut` through `kernel-install`).
    #[default]
    Distribution,
    /// cairn: a systemd initrd assembled from the image's own files in one pass (the
    /// distribution's generator is not run). Needs systemd, udev and kmod in the image.
    Cairn,
}

/// OCI image configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OciDef {
    /// Tag (the `ref.name` in index.json, `RepoTags` in the docker archive). Default
    /// `IMAGE:VERSION`.
    pub tag: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    /// Default `["/bin/sh"]` when the image has it.
    pub cmd: Option<Vec<String>>,
    /// `KEY=value` entries. Default `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`.
    pub env: Option<Vec<String>>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    /// Extra labels (cairn adds the os-release identity and the SBOM digest).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// WSL distribution settings (`/etc/wsl-distribution.conf`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WslDef {
    /// Name WSL shows (`[shortcut]`/terminal profile). Default: os-release NAME.
    pub default_name: Option<String>,
    /// UID of the user the out-of-box experience creates. Default 1000.
    pub default_uid: Option<u32>,
    /// Groups the OOBE adds the new user to (those that exist). Default `["sudo", "wheel"]`.
    pub user_groups: Option<Vec<String>>,
    /// An `.ico` file for the Start menu shortcut, relative to the project file.
    pub icon: Option<String>,
}

/// Everything `cairn build` does to an image beyond installing its packages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Build {
    /// Image version, in the SBOM, os-release `IMAGE_VERSION` and output labels.
    pub version: String,
    pub outputs: Vec<OutputKind>,
    pub hostname: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub kernel_cmdline: Vec<String>,
    pub os_release: BTreeMap<String, String>,
    pub users: Vec<UserDef>,
    pub groups: Vec<GroupDef>,
    pub files: Vec<FileDef>,
    pub directories: Vec<DirDef>,
    pub systemd: SystemdDef,
    pub remove: Vec<String>,
    pub first_boot: Vec<String>,
    pub disk: DiskDef,
    pub oci: OciDef,
    pub wsl: WslDef,
}

/// Outputs when the image names none.
pub const DEFAULT_OUTPUTS: &[OutputKind] = &[OutputKind::Tar];

pub(crate) struct RawBuild<'a> {
    pub version: &'a Option<String>,
    pub outputs: &'a Option<Spanned<Vec<OutputKind>>>,
    pub hostname: &'a Option<Spanned<String>>,
    pub locale: &'a Option<String>,
    pub timezone: &'a Option<String>,
    pub kernel_cmdline: &'a Option<Vec<String>>,
    pub os_release: &'a Option<Spanned<BTreeMap<String, String>>>,
    pub users: &'a [Spanned<UserDef>],
    pub groups: &'a [Spanned<GroupDef>],
    pub files: &'a [Spanned<FileDef>],
    pub directories: &'a [Spanned<DirDef>],
    pub systemd: &'a Option<Spanned<SystemdDef>>,
    pub remove: &'a Option<Spanned<Vec<String>>>,
    pub first_boot: &'a Option<Vec<String>>,
    pub disk: &'a Option<Spanned<DiskDef>>,
    pub oci: &'a Option<OciDef>,
    pub wsl: &'a Option<Spanned<WslDef>>,
}

fn is_account_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && cs.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c))
        && s.len() <= 32
}

/// Parse an octal mode string such as `"0644"`.
pub fn parse_mode(s: &str) -> Option<u32> {
    let t = s.strip_prefix("0o").unwrap_or(s);
    if t.is_empty() || t.len() > 5 {
        return None;
    }
    u32::from_str_radix(t, 8).ok().filter(|m| *m <= 0o7777)
}

/// Parse a size such as `4G`, `512M`, `1073741824` into bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (s, 1u64),
        Some((i, _)) => {
            let unit = s[i..].trim().to_ascii_uppercase();
            let m = match unit.trim_end_matches("IB").trim_end_matches('B') {
                "" => 1,
                "K" => 1 << 10,
                "M" => 1 << 20,
                "G" => 1 << 30,
                "T" => 1 << 40,
                _ => return None,
            };
            (&s[..i], m)
        }
    };
    num.parse::<u64>()
        .ok()?
        .checked_mul(mult)
        .filter(|n| *n > 0)
}

fn check_abs_path(p: &str) -> Result<(), String> {
    if !p.starts_with('/') {
        return Err(format!("path `{p}` must be absolute (start with /)"));
    }
    if p.split('/').any(|c| c == "..") {
        return Err(format!("path `{p}` must not contain `..`"));
    }
    if p.contains('\0') {
        return Err(format!("path `{p}` contains a NUL byte"));
    }
    Ok(())
}

fn check_unit(u: &str) -> Result<(), String> {
    const SUFFIXES: &[&str] = &[
        ".service",
        ".socket",
        ".timer",
        ".target",
        ".mount",
        ".automount",
        ".path",
        ".swap",
        ".slice",
        ".scope",
        ".device",
    ];
    let ok = SUFFIXES.iter().any(|s| u.ends_with(s) && u.len() > s.len())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || ":-_.\\@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{u}` is not a systemd unit name (like `ssh.service` or `fstrim.timer`)"
        ))
    }
}

pub(crate) fn validate_build(
    raw: RawBuild<'_>,
    loc: &Locator<'_>,
    image: &str,
    fallback: std::ops::Range<usize>,
) -> Result<Build, ConfigError> {
    let field = |f: &str| format!("images.{image}.{f}");
    let mut b = Build {
        version: raw.version.clone().unwrap_or_else(|| "0".into()),
        ..Build::default()
    };
    if b.version.is_empty() || b.version.chars().any(char::is_whitespace) {
        return Err(loc.err(
            fallback.clone(),
            field("version"),
            "must be a non-empty version without spaces",
        ));
    }
    match raw.outputs {
        Some(o) => {
            if o.get_ref().is_empty() {
                return Err(loc.err(o.span(), field("outputs"), "list at least one output"));
            }
            let mut v = o.get_ref().clone();
            v.sort();
            v.dedup();
            if v.contains(&OutputKind::Vhd) || v.contains(&OutputKind::Qcow2) {
                // converted from the raw disk, which is then kept too only if asked for
            }
            b.outputs = v;
        }
        None => b.outputs = DEFAULT_OUTPUTS.to_vec(),
    }
    if let Some(h) = raw.hostname {
        let s = h.get_ref();
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.split('.').all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !ok {
            return Err(loc.err(
                h.span(),
                field("hostname"),
                format!("`{s}` is not a valid host name (letters, digits, `-`, dots between labels, at most 64)"),
            ));
        }
        b.hostname = Some(s.clone());
    }
    b.locale.clone_from(raw.locale);
    if let Some(tz) = raw.timezone {
        if tz.is_empty() || tz.starts_with('/') || tz.contains("..") {
            return Err(loc.err(
                fallback.clone(),
                field("timezone"),
                format!("`{tz}` is not a time zone name like `UTC` or `Europe/Berlin`"),
            ));
        }
        b.timezone = Some(tz.clone());
    }
    b.kernel_cmdline = raw.kernel_cmdline.clone().unwrap_or_default();
    if let Some(osr) = raw.os_release {
        for (k, v) in osr.get_ref() {
            let key_ok = !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && !k.starts_with(|c: char| c.is_ascii_digit());
            if !key_ok {
                return Err(loc.err(
                    osr.span(),
                    field(&format!("os-release.{k}")),
                    "os-release keys are upper case letters, digits and `_` (like `PRETTY_NAME`)",
                ));
            }
            if v.contains('\n') {
                return Err(loc.err(
                    osr.span(),
                    field(&format!("os-release.{k}")),
                    "must be a single line",
                ));
            }
            if k == "ID" || k == "VERSION_ID" {
                let ok = !v.is_empty()
                    && v.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
                if !ok {
                    return Err(loc.err(
                        osr.span(),
                        field(&format!("os-release.{k}")),
                        "must be lower case letters, digits, `.`, `_` or `-` (os-release(5))",
                    ));
                }
            }
        }
        b.os_release = osr.get_ref().clone();
    }
    let mut group_names = Vec::new();
    for (i, g) in raw.groups.iter().enumerate() {
        let f = field(&format!("groups[{i}].name"));
        if !is_account_name(&g.get_ref().name) {
            return Err(loc.err(
                g.span(),
                f,
                format!(
                    "`{}` is not a valid group name (lower case letters, digits, `_`, `-`; at most 32)",
                    g.get_ref().name
                ),
            ));
        }
        if group_names.contains(&g.get_ref().name) {
            return Err(loc.err(g.span(), f, "declared twice"));
        }
        group_names.push(g.get_ref().name.clone());
        b.groups.push(g.get_ref().clone());
    }
    let mut user_names = Vec::new();
    for (i, u) in raw.users.iter().enumerate() {
        let def = u.get_ref();
        let f = |x: &str| field(&format!("users[{i}].{x}"));
        if !is_account_name(&def.name) {
            return Err(loc.err(
                u.span(),
                f("name"),
                format!(
                    "`{}` is not a valid user name (lower case letters, digits, `_`, `-`; at most 32)",
                    def.name
                ),
            ));
        }
        if user_names.contains(&def.name) {
            return Err(loc.err(u.span(), f("name"), "declared twice"));
        }
        user_names.push(def.name.clone());
        if let Some(h) = &def.password_hash
            && (!h.starts_with('$') || h.contains(':') || h.contains('\n'))
        {
            return Err(loc.err(
                u.span(),
                f("password-hash"),
                "expected a crypt(3) hash such as `$6$salt$…` or `$y$…` (make one with `openssl passwd -6` or `mkpasswd`); leave it out to lock the password",
            ));
        }
        for p in [&def.home, &def.shell].into_iter().flatten() {
            check_abs_path(p).map_err(|m| loc.err(u.span(), f("home"), m))?;
        }
        for k in &def.ssh_authorized_keys {
            if k.contains('\n') || k.trim().is_empty() {
                return Err(loc.err(
                    u.span(),
                    f("ssh-authorized-keys"),
                    "one key per list entry, on one line",
                ));
            }
        }
        b.users.push(def.clone());
    }
    for (i, fd) in raw.files.iter().enumerate() {
        let def = fd.get_ref();
        let f = |x: &str| field(&format!("files[{i}].{x}"));
        check_abs_path(&def.path).map_err(|m| loc.err(fd.span(), f("path"), m))?;
        match (&def.content, &def.source) {
            (Some(_), Some(_)) => {
                return Err(loc.err(
                    fd.span(),
                    f("source"),
                    "give either `content` or `source`, not both",
                ));
            }
            (None, None) => {
                return Err(loc.err(
                    fd.span(),
                    f("content"),
                    "give the file's `content`, or a `source` file to copy",
                ));
            }
            _ => {}
        }
        if let Some(m) = &def.mode
            && parse_mode(m).is_none()
        {
            return Err(loc.err(
                fd.span(),
                f("mode"),
                format!("`{m}` is not an octal mode like \"0644\""),
            ));
        }
        b.files.push(def.clone());
    }
    for (i, dd) in raw.directories.iter().enumerate() {
        let def = dd.get_ref();
        let f = |x: &str| field(&format!("directories[{i}].{x}"));
        check_abs_path(&def.path).map_err(|m| loc.err(dd.span(), f("path"), m))?;
        if let Some(m) = &def.mode
            && parse_mode(m).is_none()
        {
            return Err(loc.err(
                dd.span(),
                f("mode"),
                format!("`{m}` is not an octal mode like \"0755\""),
            ));
        }
        b.directories.push(def.clone());
    }
    if let Some(s) = raw.systemd {
        for (what, list) in [
            ("enable", &s.get_ref().enable),
            ("disable", &s.get_ref().disable),
            ("mask", &s.get_ref().mask),
        ] {
            for u in list {
                check_unit(u)
                    .map_err(|m| loc.err(s.span(), field(&format!("systemd.{what}")), m))?;
            }
        }
        b.systemd = s.get_ref().clone();
    }
    if let Some(r) = raw.remove {
        for p in r.get_ref() {
            check_abs_path(p).map_err(|m| loc.err(r.span(), field("remove"), m))?;
            if p.trim_end_matches(['/', '*']).is_empty() {
                return Err(loc.err(
                    r.span(),
                    field("remove"),
                    format!("`{p}` would remove the whole root"),
                ));
            }
        }
        b.remove = r.get_ref().clone();
    }
    b.first_boot = raw.first_boot.clone().unwrap_or_default();
    if let Some(d) = raw.disk {
        if let Some(s) = &d.get_ref().size
            && parse_size(s).is_none()
        {
            return Err(loc.err(
                d.span(),
                field("disk.size"),
                format!("`{s}` is not a size like \"4G\" or \"2048M\""),
            ));
        }
        if let Some(fw) = &d.get_ref().firmware
            && fw.is_empty()
        {
            return Err(loc.err(
                d.span(),
                field("disk.firmware"),
                "name at least one of \"bios\", \"uefi\"",
            ));
        }
        b.disk = d.get_ref().clone();
    }
    if let Some(o) = raw.oci {
        for e in o.env.iter().flatten() {
            if !e.contains('=') || e.starts_with('=') {
                return Err(loc.err(
                    fallback.clone(),
                    field("oci.env"),
                    format!("`{e}` is not KEY=value"),
                ));
            }
        }
        b.oci = o.clone();
    }
    if let Some(w) = raw.wsl {
        if w.get_ref().default_uid == Some(0) {
            return Err(loc.err(
                w.span(),
                field("wsl.default-uid"),
                "the default WSL user must not be root (uid 0)",
            ));
        }
        b.wsl = w.get_ref().clone();
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_modes() {
        assert_eq!(parse_size("4G"), Some(4 << 30));
        assert_eq!(parse_size("512MiB"), Some(512 << 20));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("0"), None);
        assert_eq!(parse_size("4X"), None);
        assert_eq!(parse_mode("0644"), Some(0o644));
        assert_eq!(parse_mode("4755"), Some(0o4755));
        assert_eq!(parse_mode("0999"), None);
        assert_eq!(parse_mode(""), None);
    }

    #[test]
    fn account_and_unit_names() {
        assert!(is_account_name("admin"));
        assert!(is_account_name("_apt"));
        assert!(!is_account_name("Admin"));
        assert!(!is_account_name("1abc"));
        assert!(check_unit("ssh.service").is_ok());
        assert!(check_unit("getty@ttyS0.service").is_ok());
        assert!(check_unit("ssh").is_err());
    }
}
