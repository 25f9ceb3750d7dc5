//! Offline checks of a `.wsl` file, after Microsoft's distribution validator
//! (`distributions/validate-modern.py` in microsoft/WSL) and the rules in Microsoft's guide
//! "Build a Custom Linux Distribution for WSL".

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::ArchiveError;
use crate::ini;
use crate::wsl::{DISCOURAGED_UNITS, MAX_WSL_ASSET_SIZE, WSL_CONF_KEYS, WSL1_UNSUPPORTED_XATTRS};

/// How bad a finding is: Microsoft's validator fails a distribution on errors and reports
/// warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// The rule a [`Finding`] breaks. [`WslRule::id`] is the stable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum WslRule {
    /// The file is gzip or xz compressed (the formats WSL installs).
    TarFormat,
    /// The tar stream reads to its end.
    TarReadable,
    /// No member name has a `..` component.
    TarUnsafePath,
    /// No path appears twice.
    TarDuplicate,
    /// The archive's root is the file system root, not a directory holding it.
    TarNotRootfs,
    /// A file the validator requires is present.
    FileMissing,
    /// A file the validator reads is a regular file.
    FileType,
    /// Mode, uid and gid of the files the validator checks.
    FileOwnerMode,
    /// Icon and terminal profile are at most 1 MiB.
    FileTooBig,
    /// `/sbin/init` (with systemd), `/bin/sh` and `/bin/bash` are x86-64 ELF executables.
    ElfArch,
    /// `wsl-distribution.conf` and `wsl.conf` parse.
    ConfigSyntax,
    /// Only known keys in `wsl-distribution.conf` and `wsl.conf`.
    ConfigKeys,
    /// `oobe.command` lies under `/usr/lib/wsl` or `/usr/libexec/wsl`.
    OobeCommandLocation,
    /// `oobe.command` is a `#!` script whose interpreter the archive has, or an ELF file.
    OobeCommandInterpreter,
    /// `oobe.defaultUid` is an integer, and 1000.
    DefaultUid,
    /// The default uid is created by `oobe.command` or exists, but not both.
    DefaultUidUser,
    /// `oobe.defaultName` is set.
    DefaultName,
    /// `shortcut.icon` is set, is a `.ico`, and lies under `/usr/lib/wsl` or `/usr/share/wsl`.
    ShortcutIcon,
    /// `windowsterminal.profileTemplate` is JSON and lies under `/usr/lib/wsl`.
    TerminalProfile,
    /// `/etc/wsl.conf` is present.
    WslConfMissing,
    /// `/etc/wsl.conf` does not set the discouraged `user.default`.
    WslConfDefaultUser,
    /// `/etc/passwd` parses, has unique uids and a root with uid 0.
    Passwd,
    /// `/etc/shadow` holds no password hashes.
    ShadowPasswordHash,
    /// No discouraged systemd unit is enabled without being masked.
    DiscouragedUnit,
    /// No extended attributes WSL 1 cannot store.
    Wsl1Xattr,
    /// No `/etc/resolv.conf` (WSL writes it).
    ResolvConf,
    /// No kernel or initramfs.
    Kernel,
}

impl WslRule {
    /// Stable kebab-case name of the rule.
    pub fn id(self) -> &'static str {
        match self {
            WslRule::TarFormat => "tar-format",
            WslRule::TarReadable => "tar-readable",
            WslRule::TarUnsafePath => "tar-unsafe-path",
            WslRule::TarDuplicate => "tar-duplicate",
            WslRule::TarNotRootfs => "tar-not-rootfs",
            WslRule::FileMissing => "file-missing",
            WslRule::FileType => "file-type",
            WslRule::FileOwnerMode => "file-owner-mode",
            WslRule::FileTooBig => "file-too-big",
            WslRule::ElfArch => "elf-arch",
            WslRule::ConfigSyntax => "config-syntax",
            WslRule::ConfigKeys => "config-keys",
            WslRule::OobeCommandLocation => "oobe-command-location",
            WslRule::OobeCommandInterpreter => "oobe-command-interpreter",
            WslRule::DefaultUid => "default-uid",
            WslRule::DefaultUidUser => "default-uid-user",
            WslRule::DefaultName => "default-name",
            WslRule::ShortcutIcon => "shortcut-icon",
            WslRule::TerminalProfile => "terminal-profile",
            WslRule::WslConfMissing => "wsl-conf-missing",
            WslRule::WslConfDefaultUser => "wsl-conf-default-user",
            WslRule::Passwd => "passwd",
            WslRule::ShadowPasswordHash => "shadow-password-hash",
            WslRule::DiscouragedUnit => "discouraged-unit",
            WslRule::Wsl1Xattr => "wsl1-xattr",
            WslRule::ResolvConf => "resolv-conf",
            WslRule::Kernel => "kernel",
        }
    }
}

impl fmt::Display for WslRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One broken rule: which, how bad, where (a path inside the archive such as `/etc/passwd`,
/// or the archive's own path for archive-level rules) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: WslRule,
    pub severity: Severity,
    pub path: String,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev} [{}] {}: {}", self.rule, self.path, self.message)
    }
}

#[derive(Debug, Clone)]
enum Kind {
    File,
    Dir,
    Symlink(String),
    HardLink(String),
    Other,
}

#[derive(Debug, Clone)]
struct Entry {
    kind: Kind,
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    head: Vec<u8>,
    content: Option<Vec<u8>>,
    xattrs: Vec<String>,
}

const HEAD_LEN: usize = 512;
const MAX_SYMLINK_HOPS: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    Gzip,
    Xz,
    None,
}

/// Checks the WSL distribution file at `path` against every rule of Microsoft's validator that
/// needs no network, plus the rules of Microsoft's guide (see [`WslRule`]). Returns the
/// findings, sorted by rule and path; an empty list means the file passes. `Err` only when
/// `path` cannot be read at all.
pub fn validate_wsl(path: &Path) -> Result<Vec<Finding>, ArchiveError> {
    let mut v = Validator {
        archive: path.to_owned(),
        findings: Vec::new(),
        entries: HashMap::new(),
        names: Vec::new(),
    };
    v.run()?;
    let mut findings = v.findings;
    findings.sort_by(|a, b| (a.rule, &a.path, &a.message).cmp(&(b.rule, &b.path, &b.message)));
    findings.dedup();
    Ok(findings)
}

struct Validator {
    archive: PathBuf,
    findings: Vec<Finding>,
    entries: HashMap<String, Entry>,
    names: Vec<String>,
}

fn abs(key: &str) -> String {
    format!("/{key}")
}

fn key_of(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

fn is_elf_x86_64(head: &[u8]) -> bool {
    head.len() >= 20
        && head.starts_with(b"\x7fELF")
        && head[4] == 2 // 64-bit
        && head[5] == 1 // little endian
        && head[6] == 1 // ELF version 1
        && u16::from_le_bytes([head[18], head[19]]) == 0x3e // x86-64
}

fn default_capture(key: &str, size: u64) -> bool {
    size <= MAX_WSL_ASSET_SIZE as u64
        && (key.starts_with("etc/")
            || key.starts_with("usr/lib/wsl/")
            || key.starts_with("usr/libexec/wsl/")
            || key.starts_with("usr/share/wsl/"))
}

impl Validator {
    fn find(
        &mut self,
        rule: WslRule,
        severity: Severity,
        path: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.findings.push(Finding {
            rule,
            severity,
            path: path.into(),
            message: message.into(),
        });
    }

    fn open(&self) -> Result<(Compression, Box<dyn Read>), ArchiveError> {
        let mut file = fs_err::File::open(&self.archive)?;
        let mut magic = [0u8; 512];
        let mut n = 0;
        while n < magic.len() {
            let got = file.read(&mut magic[n..])?;
            if got == 0 {
                break;
            }
            n += got;
        }
        let file = fs_err::File::open(&self.archive)?;
        let magic = &magic[..n];
        if magic.starts_with(&[0x1f, 0x8b]) {
            Ok((
                Compression::Gzip,
                Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(file))),
            ))
        } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Ok((
                Compression::Xz,
                Box::new(xz2::read::XzDecoder::new_multi_decoder(io::BufReader::new(
                    file,
                ))),
            ))
        } else if magic.len() >= 263 && &magic[257..262] == b"ustar" {
            Ok((Compression::None, Box::new(io::BufReader::new(file))))
        } else {
            Err(ArchiveError::Corrupt {
                path: self.archive.clone(),
                reason: "not a gzip, xz or tar file".into(),
            })
        }
    }

    /// Reads the archive. With `only`, fills in contents of those keys; otherwise builds the
    /// index. Returns a description of the first read error (a corrupt archive).
    fn scan(&mut self, only: Option<&HashSet<String>>) -> Result<Option<String>, ArchiveError> {
        let (_, reader) = self.open()?;
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => return Ok(Some(e.to_string())),
        };
        let mut seen = HashSet::new();
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => return Ok(Some(e.to_string())),
            };
            let raw = entry.path_bytes().into_owned();
            let name = String::from_utf8_lossy(&raw).into_owned();
            if name.split('/').any(|p| p == "..") {
                if only.is_none() {
                    self.find(
                        WslRule::TarUnsafePath,
                        Severity::Error,
                        name.clone(),
                        "member name has a `..` component; WSL would write outside the root",
                    );
                }
                continue;
            }
            let key = key_of(&name);
            if let Some(only) = only {
                if only.contains(&key) {
                    let mut data = Vec::new();
                    if let Err(e) = entry.read_to_end(&mut data) {
                        return Ok(Some(format!("{name}: {e}")));
                    }
                    if let Some(slot) = self.entries.get_mut(&key) {
                        slot.content = Some(data);
                    }
                }
                continue;
            }
            let header = entry.header();
            let mut mode = header.mode().unwrap_or(0) & 0o7777;
            let mut uid = header.uid().unwrap_or(u64::MAX);
            let mut gid = header.gid().unwrap_or(u64::MAX);
            let link = entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default();
            let kind = match header.entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => Kind::File,
                tar::EntryType::Directory => Kind::Dir,
                tar::EntryType::Symlink => Kind::Symlink(link),
                tar::EntryType::Link => Kind::HardLink(link),
                _ => Kind::Other,
            };
            if matches!(kind, Kind::Symlink(_)) {
                mode = 0o777;
            }
            let mut xattrs = Vec::new();
            if let Ok(Some(exts)) = entry.pax_extensions() {
                for ext in exts.flatten() {
                    let k = ext.key_bytes();
                    if let Some(name) = k.strip_prefix(b"SCHILY.xattr.") {
                        xattrs.push(String::from_utf8_lossy(name).into_owned());
                    } else if k == b"uid" {
                        uid = ext.value().ok().and_then(|v| v.parse().ok()).unwrap_or(uid);
                    } else if k == b"gid" {
                        gid = ext.value().ok().and_then(|v| v.parse().ok()).unwrap_or(gid);
                    }
                }
            }
            let size = entry.size();
            let mut head = Vec::new();
            let mut content = None;
            if matches!(kind, Kind::File) {
                let mut data = Vec::new();
                let res = if default_capture(&key, size) {
                    entry.read_to_end(&mut data)
                } else {
                    (&mut entry).take(HEAD_LEN as u64).read_to_end(&mut data)
                };
                if let Err(e) = res {
                    return Ok(Some(format!("{name}: {e}")));
                }
                head = data[..data.len().min(HEAD_LEN)].to_vec();
                if default_capture(&key, size) {
                    content = Some(data);
                }
            }
            if !seen.insert(key.clone()) && !key.is_empty() {
                self.find(
                    WslRule::TarDuplicate,
                    Severity::Warning,
                    abs(&key),
                    "path appears more than once; the last member wins on extraction",
                );
            }
            self.names.push(key.clone());
            self.entries.insert(
                key,
                Entry {
                    kind,
                    mode,
                    uid,
                    gid,
                    size,
                    head,
                    content,
                    xattrs,
                },
            );
        }
        Ok(None)
    }

    /// Resolves `path` inside the archive, following symlinks in every component and, with
    /// `follow`, in the last one. Returns the resolved key (even when nothing is there).
    fn resolve(&self, path: &str, follow: bool) -> (String, Option<&Entry>) {
        let mut todo: Vec<String> = key_of(path)
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        todo.reverse();
        let mut done: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = todo.pop() {
            if part == ".." {
                done.pop();
                continue;
            }
            if part == "." {
                continue;
            }
            done.push(part);
            let key = done.join("/");
            let last = todo.is_empty();
            if let Some(Entry {
                kind: Kind::Symlink(target),
                ..
            }) = self.entries.get(&key)
                && (!last || follow)
            {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return (key, None);
                }
                done.pop();
                if target.starts_with('/') {
                    done.clear();
                }
                for p in target.split('/').rev().filter(|s| !s.is_empty()) {
                    todo.push(p.to_owned());
                }
            }
        }
        let key = done.join("/");
        let entry = self.entries.get(&key);
        (key, entry)
    }

    /// The entry holding the data of `key` (the target of a hard link).
    fn data_key(&self, key: &str) -> String {
        match self.entries.get(key) {
            Some(Entry {
                kind: Kind::HardLink(target),
                ..
            }) => key_of(target),
            _ => key.to_owned(),
        }
    }

    fn head(&self, key: &str) -> &[u8] {
        self.entries
            .get(&self.data_key(key))
            .map(|e| e.head.as_slice())
            .unwrap_or(&[])
    }

    fn size(&self, key: &str) -> u64 {
        self.entries
            .get(&self.data_key(key))
            .map(|e| e.size)
            .unwrap_or(0)
    }

    fn content(&mut self, key: &str) -> Result<Option<Vec<u8>>, ArchiveError> {
        let key = self.data_key(key);
        let Some(entry) = self.entries.get(&key) else {
            return Ok(None);
        };
        if entry.content.is_none()
            && matches!(entry.kind, Kind::File)
            && entry.size <= 16 * MAX_WSL_ASSET_SIZE as u64
        {
            let only: HashSet<String> = [key.clone()].into();
            if let Some(err) = self.scan(Some(&only))? {
                let path = self.archive.display().to_string();
                self.find(
                    WslRule::TarReadable,
                    Severity::Error,
                    path,
                    format!("cannot read the archive: {err}"),
                );
            }
        }
        Ok(self.entries.get(&key).and_then(|e| e.content.clone()))
    }

    /// Microsoft's `validate_mode`: presence, type, mode, owner, size. Returns the resolved key
    /// of a regular file.
    #[allow(clippy::too_many_arguments)]
    fn check_file(
        &mut self,
        path: &str,
        modes: &[u32],
        uid: u64,
        gid: Option<u64>,
        max_size: Option<u64>,
        optional: bool,
        follow: bool,
    ) -> Option<String> {
        let (key, entry) = self.resolve(path, follow);
        let Some(entry) = entry.cloned() else {
            if !optional {
                self.find(
                    WslRule::FileMissing,
                    Severity::Error,
                    path,
                    "file not found in the archive",
                );
            }
            return None;
        };
        if !modes.contains(&entry.mode) {
            let expected: Vec<String> = modes.iter().map(|m| format!("{m:04o}")).collect();
            self.find(
                WslRule::FileOwnerMode,
                Severity::Warning,
                path,
                format!(
                    "mode {:04o}, expected one of {}",
                    entry.mode,
                    expected.join(", ")
                ),
            );
        }
        if entry.uid != uid {
            self.find(
                WslRule::FileOwnerMode,
                Severity::Warning,
                path,
                format!("uid {}, expected {uid}", entry.uid),
            );
        }
        if let Some(gid) = gid
            && entry.gid != gid
        {
            self.find(
                WslRule::FileOwnerMode,
                Severity::Warning,
                path,
                format!("gid {}, expected {gid}", entry.gid),
            );
        }
        // A symlink checked without following: its target must still be a file.
        let key = if matches!(entry.kind, Kind::Symlink(_)) {
            self.resolve(path, true).0
        } else {
            key
        };
        match self.entries.get(&key).map(|e| &e.kind) {
            Some(Kind::File | Kind::HardLink(_)) => {}
            other => {
                let what = match other {
                    Some(Kind::Dir) => "a directory",
                    Some(Kind::Symlink(_)) => "a symlink loop",
                    None => "a dangling symlink",
                    _ => "a device, fifo or other special file",
                };
                self.find(
                    WslRule::FileType,
                    Severity::Error,
                    path,
                    format!("expected a regular file, found {what}"),
                );
                return None;
            }
        }
        if let Some(max) = max_size
            && self.size(&key) > max
        {
            self.find(
                WslRule::FileTooBig,
                Severity::Error,
                path,
                format!("{} bytes, at most {max} allowed", self.size(&key)),
            );
        }
        Some(key)
    }

    fn check_elf(&mut self, path: &str, key: &str) {
        if !is_elf_x86_64(self.head(key)) {
            self.find(
                WslRule::ElfArch,
                Severity::Error,
                path,
                "expected an x86-64 ELF executable (ELF 64-bit LSB, version 1, machine x86-64)",
            );
        }
    }

    fn parse_config(
        &mut self,
        path: &str,
        key: &str,
        valid: &[&str],
    ) -> Result<Option<HashMap<String, String>>, ArchiveError> {
        let Some(data) = self.content(key)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&data);
        let parsed = match ini::parse(&text) {
            Ok(p) => p,
            Err(e) => {
                self.find(WslRule::ConfigSyntax, Severity::Error, path, e);
                return Ok(None);
            }
        };
        let mut keys = HashMap::new();
        let mut unexpected = Vec::new();
        for (section, k, value) in parsed {
            let full = format!("{section}.{k}");
            let folded = full.to_lowercase();
            if !valid.contains(&folded.as_str()) {
                unexpected.push(full);
            }
            keys.insert(folded, value);
        }
        if !unexpected.is_empty() {
            self.find(
                WslRule::ConfigKeys,
                Severity::Error,
                path,
                format!(
                    "unexpected keys {}; expected only {}",
                    unexpected.join(", "),
                    valid.join(", ")
                ),
            );
        }
        Ok(Some(keys))
    }

    fn run(&mut self) -> Result<(), ArchiveError> {
        let archive_name = self.archive.display().to_string();
        let compression = match self.open() {
            Ok((c, _)) => c,
            Err(ArchiveError::Corrupt { reason, .. }) => {
                self.find(
                    WslRule::TarFormat,
                    Severity::Error,
                    archive_name,
                    format!("{reason}: expected a gzip-compressed tar"),
                );
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if compression == Compression::None {
            self.find(
                WslRule::TarFormat,
                Severity::Error,
                archive_name.clone(),
                "uncompressed tar: WSL installs gzip (recommended) or xz compressed tars",
            );
        }
        if let Some(err) = self.scan(None)? {
            self.find(
                WslRule::TarReadable,
                Severity::Error,
                archive_name,
                format!("cannot read the archive: {err}"),
            );
            return Ok(());
        }
        self.check_layout();

        let mut default_uid: Option<u32> = None;
        let mut oobe_command: Option<String> = None;
        const DIST: &str = "/etc/wsl-distribution.conf";
        if let Some(key) = self.check_file(DIST, &[0o664, 0o644], 0, Some(0), None, false, true) {
            let valid = [
                "oobe.command",
                "oobe.defaultuid",
                "oobe.defaultname",
                "shortcut.icon",
                "shortcut.enabled",
                "windowsterminal.profiletemplate",
                "windowsterminal.enabled",
            ];
            if let Some(conf) = self.parse_config(DIST, &key, &valid)? {
                if let Some(cmd) = conf.get("oobe.command") {
                    oobe_command = Some(cmd.clone());
                    self.check_oobe_command(cmd);
                }
                if let Some(uid) = conf.get("oobe.defaultuid") {
                    match uid.trim().parse::<u32>() {
                        Ok(n) => {
                            default_uid = Some(n);
                            if n != 1000 {
                                self.find(
                                    WslRule::DefaultUid,
                                    Severity::Warning,
                                    DIST,
                                    format!("oobe.defaultUid is {n}, expected 1000"),
                                );
                            }
                        }
                        Err(_) => self.find(
                            WslRule::DefaultUid,
                            Severity::Error,
                            DIST,
                            format!("oobe.defaultUid {uid:?} is not an integer"),
                        ),
                    }
                }
                match conf.get("oobe.defaultname") {
                    None => self.find(
                        WslRule::DefaultName,
                        Severity::Warning,
                        DIST,
                        "no oobe.defaultName: WSL needs it to install the file by double-click",
                    ),
                    Some(name)
                        if name.is_empty()
                            || !name.bytes().all(|b| {
                                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
                            }) =>
                    {
                        self.find(WslRule::DefaultName, Severity::Warning, DIST, format!("oobe.defaultName {name:?}: expected letters, digits, '.', '_' and '-'"));
                    }
                    Some(_) => {}
                }
                match conf.get("shortcut.icon") {
                    Some(icon) => self.check_icon(icon),
                    None => self.find(
                        WslRule::ShortcutIcon,
                        Severity::Warning,
                        DIST,
                        "no shortcut.icon provided",
                    ),
                }
                if let Some(profile) = conf.get("windowsterminal.profiletemplate") {
                    self.check_profile(profile)?;
                }
            }
        }

        const WSL_CONF: &str = "/etc/wsl.conf";
        match self.check_file(WSL_CONF, &[0o664, 0o644], 0, Some(0), None, true, true) {
            None => {
                if self.resolve(WSL_CONF, true).1.is_none() {
                    self.find(
                        WslRule::WslConfMissing,
                        Severity::Warning,
                        WSL_CONF,
                        "no /etc/wsl.conf: Microsoft's guide asks for one (with [boot] systemd)",
                    );
                }
            }
            Some(key) => {
                if let Some(conf) = self.parse_config(WSL_CONF, &key, WSL_CONF_KEYS)? {
                    let systemd = conf.get("boot.systemd").is_some_and(|v| {
                        matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1" | "on")
                    });
                    if systemd
                        && let Some(init) = self.check_file(
                            "/sbin/init",
                            &[0o775, 0o755, 0o555],
                            0,
                            Some(0),
                            None,
                            false,
                            true,
                        )
                    {
                        self.check_elf("/sbin/init", &init);
                    }
                    if let Some(user) = conf.get("user.default") {
                        self.find(WslRule::WslConfDefaultUser, Severity::Warning, WSL_CONF, format!("user.default={user} is discouraged: set oobe.defaultUid in /etc/wsl-distribution.conf instead"));
                    }
                }
            }
        }

        self.check_passwd(default_uid, oobe_command.is_some())?;
        if let Some(key) = self.check_file(
            "/etc/shadow",
            &[0o640, 0o600, 0],
            0,
            None,
            None,
            false,
            false,
        ) {
            self.check_shadow(&key)?;
        }
        if let Some(key) = self.check_file(
            "/bin/bash",
            &[0o755, 0o775, 0o555],
            0,
            Some(0),
            None,
            true,
            true,
        ) {
            self.check_elf("/bin/bash", &key);
        }
        if let Some(key) = self.check_file(
            "/bin/sh",
            &[0o755, 0o775, 0o555],
            0,
            Some(0),
            None,
            false,
            true,
        ) {
            self.check_elf("/bin/sh", &key);
        }
        self.check_units();
        self.check_xattrs();
        if self.entries.contains_key("etc/resolv.conf") {
            self.find(
                WslRule::ResolvConf,
                Severity::Warning,
                "/etc/resolv.conf",
                "WSL generates /etc/resolv.conf; the archive should not contain it",
            );
        }
        self.check_kernel();
        Ok(())
    }

    fn check_layout(&mut self) {
        if self.resolve("/etc", true).1.is_some() {
            return;
        }
        let tops: HashSet<&str> = self
            .names
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| n.split('/').next().unwrap_or(""))
            .collect();
        if tops.len() == 1 {
            let top = tops.into_iter().next().unwrap_or_default().to_owned();
            if self.entries.contains_key(&format!("{top}/etc")) {
                self.find(WslRule::TarNotRootfs, Severity::Error, abs(&top), "the archive holds a directory containing the root file system; its root must be the file system root");
            }
        }
    }

    fn check_oobe_command(&mut self, cmd: &str) {
        const DIST: &str = "/etc/wsl-distribution.conf";
        if !cmd.starts_with("/usr/lib/wsl") && !cmd.starts_with("/usr/libexec/wsl") {
            self.find(
                WslRule::OobeCommandLocation,
                Severity::Warning,
                cmd,
                format!("oobe.command in {DIST} is not under /usr/lib/wsl or /usr/libexec/wsl"),
            );
        }
        let Some(key) = self.check_file(cmd, &[0o775, 0o755], 0, Some(0), None, false, false)
        else {
            return;
        };
        let head = self.head(&key).to_vec();
        if let Some(rest) = head.strip_prefix(b"#!") {
            let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
            let line = String::from_utf8_lossy(line);
            let interpreter = line.split_whitespace().next().unwrap_or("").to_owned();
            let found = !interpreter.is_empty()
                && matches!(
                    self.resolve(&interpreter, true).1.map(|e| &e.kind),
                    Some(Kind::File | Kind::HardLink(_))
                );
            if !found {
                self.find(
                    WslRule::OobeCommandInterpreter,
                    Severity::Error,
                    cmd,
                    format!("interpreter {interpreter:?} named by #! is not in the archive"),
                );
            }
        } else if !head.starts_with(b"\x7fELF") {
            self.find(
                WslRule::OobeCommandInterpreter,
                Severity::Error,
                cmd,
                "neither a #! script nor an ELF executable",
            );
        }
    }

    fn check_icon(&mut self, icon: &str) {
        if !icon.starts_with("/usr/lib/wsl") && !icon.starts_with("/usr/share/wsl") {
            self.find(
                WslRule::ShortcutIcon,
                Severity::Warning,
                icon,
                "shortcut.icon is not under /usr/lib/wsl or /usr/share/wsl",
            );
        }
        if let Some(key) = self.check_file(
            icon,
            &[0o664, 0o644],
            0,
            Some(0),
            Some(MAX_WSL_ASSET_SIZE as u64),
            false,
            false,
        ) && !self.head(&key).starts_with(&[0, 0, 1, 0])
        {
            self.find(
                WslRule::ShortcutIcon,
                Severity::Warning,
                icon,
                "not a Windows .ico file (expected it to start with 00 00 01 00)",
            );
        }
    }

    fn check_profile(&mut self, profile: &str) -> Result<(), ArchiveError> {
        if !profile.starts_with("/usr/lib/wsl") {
            self.find(
                WslRule::TerminalProfile,
                Severity::Warning,
                profile,
                "windowsterminal.profileTemplate is not under /usr/lib/wsl",
            );
        }
        if let Some(key) = self.check_file(
            profile,
            &[0o660, 0o640],
            0,
            Some(0),
            Some(MAX_WSL_ASSET_SIZE as u64),
            false,
            false,
        ) && let Some(data) = self.content(&key)?
            && let Err(e) = serde_json::from_slice::<serde_json::Value>(&data)
        {
            self.find(
                WslRule::TerminalProfile,
                Severity::Error,
                profile,
                format!("not valid JSON: {e}"),
            );
        }
        Ok(())
    }

    fn check_passwd(
        &mut self,
        default_uid: Option<u32>,
        has_oobe: bool,
    ) -> Result<(), ArchiveError> {
        const PASSWD: &str = "/etc/passwd";
        let Some(key) = self.check_file(PASSWD, &[0o664, 0o644], 0, Some(0), None, false, false)
        else {
            return Ok(());
        };
        let Some(data) = self.content(&key)? else {
            return Ok(());
        };
        let text = String::from_utf8_lossy(&data).into_owned();
        let mut lines: Vec<&str> = text.split('\n').collect();
        if text.ends_with('\n') || text.is_empty() {
            lines.pop();
        }
        let mut users: HashMap<i64, String> = HashMap::new();
        for line in lines {
            let fields: Vec<&str> = line.split(':').collect();
            let uid = (fields.len() == 7)
                .then(|| fields[2].trim().parse::<i64>().ok())
                .flatten();
            let Some(uid) = uid else {
                self.find(
                    WslRule::Passwd,
                    Severity::Error,
                    PASSWD,
                    format!(
                        "invalid entry {line:?}: expected 7 ':'-separated fields with a numeric uid"
                    ),
                );
                continue;
            };
            if let std::collections::hash_map::Entry::Vacant(slot) = users.entry(uid) {
                slot.insert(fields[0].to_owned());
            } else {
                self.find(
                    WslRule::Passwd,
                    Severity::Error,
                    PASSWD,
                    format!("uid {uid} appears more than once"),
                );
            }
        }
        match users.get(&0) {
            None => self.find(
                WslRule::Passwd,
                Severity::Error,
                PASSWD,
                "no root user (uid 0)",
            ),
            Some(name) if name != "root" => self.find(
                WslRule::Passwd,
                Severity::Error,
                PASSWD,
                format!("uid 0 is {name:?}, expected root"),
            ),
            Some(_) => {}
        }
        if let Some(uid) = default_uid {
            match users.get(&i64::from(uid)) {
                Some(name) => self.find(
                    WslRule::DefaultUidUser,
                    Severity::Warning,
                    PASSWD,
                    format!("already has an entry for the default uid {uid} ({name})"),
                ),
                None if !has_oobe => self.find(
                    WslRule::DefaultUidUser,
                    Severity::Error,
                    PASSWD,
                    format!("no user has the default uid {uid} and no oobe.command creates one"),
                ),
                None => {}
            }
        }
        Ok(())
    }

    fn check_shadow(&mut self, key: &str) -> Result<(), ArchiveError> {
        let Some(data) = self.content(key)? else {
            return Ok(());
        };
        let text = String::from_utf8_lossy(&data);
        let with_hash: Vec<&str> = text
            .lines()
            .filter_map(|line| {
                let mut fields = line.split(':');
                let user = fields.next()?;
                let hash = fields.next()?;
                (!hash.is_empty() && !hash.bytes().all(|b| b == b'!' || b == b'*')).then_some(user)
            })
            .collect();
        if !with_hash.is_empty() {
            self.find(
                WslRule::ShadowPasswordHash,
                Severity::Warning,
                "/etc/shadow",
                format!(
                    "password hashes for {}: expected none (\"*\" or \"!\")",
                    with_hash.join(", ")
                ),
            );
        }
        Ok(())
    }

    fn check_units(&mut self) {
        const DIRS: [&str; 4] = [
            "usr/local/lib/systemd/system",
            "usr/lib/systemd/system",
            "lib/systemd/system",
            "etc/systemd/system",
        ];
        let mut found = Vec::new();
        for name in &self.names {
            for dir in DIRS {
                let Some(rest) = name.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) else {
                    continue;
                };
                let Some((wants, unit)) = rest.split_once('/') else {
                    continue;
                };
                if !wants.ends_with(".wants")
                    || unit.contains('/')
                    || !DISCOURAGED_UNITS.contains(&unit)
                {
                    continue;
                }
                let target = self.resolve(name, true).0;
                let mask = self.resolve(&format!("etc/systemd/system/{unit}"), true).0;
                if target != "dev/null" && mask != "dev/null" {
                    found.push(name.clone());
                }
            }
        }
        for name in found {
            self.find(WslRule::DiscouragedUnit, Severity::Warning, abs(&name), "enables a unit known to break WSL; mask it (/etc/systemd/system/<unit> -> /dev/null)");
        }
    }

    fn check_xattrs(&mut self) {
        let mut first: HashMap<&str, String> = HashMap::new();
        for name in &self.names {
            if let Some(entry) = self.entries.get(name) {
                for x in &entry.xattrs {
                    for bad in WSL1_UNSUPPORTED_XATTRS {
                        if x.starts_with(bad) {
                            first.entry(bad).or_insert_with(|| name.clone());
                        }
                    }
                }
            }
        }
        let mut first: Vec<_> = first.into_iter().collect();
        first.sort();
        for (xattr, path) in first {
            self.find(
                WslRule::Wsl1Xattr,
                Severity::Warning,
                abs(&path),
                format!("extended attribute {xattr} is not supported by WSL 1"),
            );
        }
    }

    fn check_kernel(&mut self) {
        let mut found = Vec::new();
        for name in &self.names {
            let file = name.rsplit('/').next().unwrap_or("");
            let in_boot = name.starts_with("boot/");
            let in_modules =
                name.starts_with("usr/lib/modules/") || name.starts_with("lib/modules/");
            let kernel = (in_boot || in_modules)
                && (file.starts_with("vmlinuz")
                    || file.starts_with("vmlinux")
                    || file.starts_with("bzImage"));
            let initrd = in_boot && (file.starts_with("initrd") || file.starts_with("initramfs"));
            if kernel || initrd {
                found.push(name.clone());
            }
        }
        for name in found {
            self.find(
                WslRule::Kernel,
                Severity::Warning,
                abs(&name),
                "the archive should contain no kernel or initramfs: WSL boots its own",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elf_check_reads_machine() {
        let mut head = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
        head.resize(20, 0);
        head[18] = 0x3e;
        assert!(is_elf_x86_64(&head));
        head[18] = 0xb7; // aarch64
        assert!(!is_elf_x86_64(&head));
    }

    #[test]
    fn keys_drop_dot_prefixes() {
        assert_eq!(key_of("./etc/passwd"), "etc/passwd");
        assert_eq!(key_of("/etc/"), "etc");
        assert_eq!(key_of("./"), "");
    }
}
