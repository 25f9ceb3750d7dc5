//! Customizations declared in `cairn.toml`, applied to an installed root: users and groups,
//! files and directories, host name, locale, time zone, os-release, systemd units, the
//! first-boot hook and removals. Everything is done by editing files under the root (the way
//! `systemd-sysusers --root` and `systemctl --root` work), never by running the image's
//! programs, so it works for any package set and gives the same bytes every time.

use crate::BuildError;
use cairn_config::{Build, DirDef, FileDef, UserDef, parse_mode};
use fs_err as fs;
use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, lchown, symlink};
use std::path::{Path, PathBuf};

/// The first-boot unit cairn installs in every image with systemd.
pub const FIRST_BOOT_UNIT: &str = "cairn-firstboot.service";

fn err(what: impl Into<String>) -> BuildError {
    BuildError::Customize(what.into())
}

/// `root` joined with an absolute in-image path.
pub(crate) fn in_root(root: &Path, p: &str) -> PathBuf {
    root.join(p.trim_start_matches('/'))
}

fn io_err(path: &Path, e: std::io::Error) -> BuildError {
    BuildError::Io {
        path: path.to_owned(),
        source: e,
    }
}

fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), BuildError> {
    if let Some(parent) = path.parent() {
        mkdirs(parent)?;
    }
    // never write through a symlink the packages left (it could point out of the root)
    if let Ok(m) = fs::symlink_metadata(path)
        && (m.file_type().is_symlink() || m.is_dir())
    {
        if m.is_dir() {
            return Err(err(format!(
                "{} is a directory in the image, cannot write a file there",
                path.display()
            )));
        }
        fs::remove_file(path)?;
    }
    fs::write(path, bytes)?;
    fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn mkdirs(dir: &Path) -> Result<(), BuildError> {
    fs::create_dir_all(dir)?;
    Ok(())
}

fn chown(path: &Path, uid: u32, gid: u32) -> Result<(), BuildError> {
    lchown(path, Some(uid), Some(gid)).map_err(|e| io_err(path, e))
}

/// One line of /etc/passwd, /etc/group, /etc/shadow or /etc/gshadow, split on `:`.
#[derive(Debug, Clone)]
struct Db {
    path: PathBuf,
    lines: Vec<Vec<String>>,
    exists: bool,
}

impl Db {
    fn load(path: PathBuf) -> Result<Db, BuildError> {
        let (text, exists) = match fs::read_to_string(&path) {
            Ok(t) => (t, true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), false),
            Err(e) => return Err(e.into()),
        };
        let lines = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split(':').map(str::to_owned).collect())
            .collect();
        Ok(Db {
            path,
            lines,
            exists,
        })
    }
    fn find(&self, name: &str) -> Option<usize> {
        self.lines.iter().position(|l| l[0] == name)
    }
    fn ids(&self) -> Vec<u32> {
        self.lines
            .iter()
            .filter_map(|l| l.get(2).and_then(|x| x.parse().ok()))
            .collect()
    }
    fn save(&self, mode: u32) -> Result<(), BuildError> {
        let mut s = String::new();
        for l in &self.lines {
            s.push_str(&l.join(":"));
            s.push('\n');
        }
        write_file(&self.path, s.as_bytes(), mode)
    }
}

fn free_id(used: &[u32], from: u32) -> u32 {
    let mut id = from;
    while used.contains(&id) {
        id += 1;
    }
    id
}

struct Accounts {
    passwd: Db,
    group: Db,
    shadow: Db,
    gshadow: Db,
}

impl Accounts {
    fn load(root: &Path) -> Result<Accounts, BuildError> {
        Ok(Accounts {
            passwd: Db::load(in_root(root, "/etc/passwd"))?,
            group: Db::load(in_root(root, "/etc/group"))?,
            shadow: Db::load(in_root(root, "/etc/shadow"))?,
            gshadow: Db::load(in_root(root, "/etc/gshadow"))?,
        })
    }
    fn save(&self) -> Result<(), BuildError> {
        self.passwd.save(0o644)?;
        self.group.save(0o644)?;
        // shadow files exist only where the image's shadow suite made them
        if self.shadow.exists || !self.shadow.lines.is_empty() {
            self.shadow.save(0o640)?;
        }
        if self.gshadow.exists {
            self.gshadow.save(0o640)?;
        }
        Ok(())
    }
    fn uid(&self, name: &str) -> Option<u32> {
        if let Ok(n) = name.parse() {
            return Some(n);
        }
        self.passwd
            .find(name)
            .and_then(|i| self.passwd.lines[i].get(2)?.parse().ok())
    }
    fn gid(&self, name: &str) -> Option<u32> {
        if let Ok(n) = name.parse() {
            return Some(n);
        }
        self.group
            .find(name)
            .and_then(|i| self.group.lines[i].get(2)?.parse().ok())
    }
    fn add_group(&mut self, name: &str, gid: Option<u32>) -> Result<u32, BuildError> {
        if let Some(i) = self.group.find(name) {
            let have: u32 = self.group.lines[i][2].parse().unwrap_or(0);
            if let Some(g) = gid
                && g != have
            {
                return Err(err(format!(
                    "group `{name}` already exists in the image with gid {have}, not {g}"
                )));
            }
            return Ok(have);
        }
        let used = self.group.ids();
        let gid = match gid {
            Some(g) if used.contains(&g) => {
                return Err(err(format!(
                    "group `{name}`: gid {g} is already taken in the image"
                )));
            }
            Some(g) => g,
            None => free_id(&used, 1000),
        };
        self.group.lines.push(vec![
            name.into(),
            "x".into(),
            gid.to_string(),
            String::new(),
        ]);
        if self.gshadow.exists {
            self.gshadow
                .lines
                .push(vec![name.into(), "!".into(), String::new(), String::new()]);
        }
        Ok(gid)
    }
    fn add_member(&mut self, group: &str, user: &str) -> Result<(), BuildError> {
        let i = self.group.find(group).ok_or_else(|| {
            err(format!(
                "user `{user}`: supplementary group `{group}` is neither in the image's /etc/group nor declared in `groups`"
            ))
        })?;
        add_to_list(&mut self.group.lines[i], 3, user);
        if let Some(j) = self.gshadow.find(group) {
            add_to_list(&mut self.gshadow.lines[j], 3, user);
        }
        Ok(())
    }
}

fn add_to_list(line: &mut Vec<String>, idx: usize, name: &str) {
    while line.len() <= idx {
        line.push(String::new());
    }
    let mut members: Vec<&str> = line[idx].split(',').filter(|s| !s.is_empty()).collect();
    if !members.contains(&name) {
        members.push(name);
    }
    line[idx] = members.join(",");
}

fn copy_skel(root: &Path, home: &Path, uid: u32, gid: u32) -> Result<(), BuildError> {
    let skel = in_root(root, "/etc/skel");
    if !skel.is_dir() {
        return Ok(());
    }
    for e in walkdir::WalkDir::new(&skel)
        .min_depth(1)
        .sort_by_file_name()
    {
        let e = e.map_err(|e| err(format!("reading {}: {e}", skel.display())))?;
        let rel = e.path().strip_prefix(&skel).unwrap_or(e.path());
        let dst = home.join(rel);
        let ft = e.file_type();
        if ft.is_dir() {
            mkdirs(&dst)?;
        } else if ft.is_symlink() {
            let t = fs::read_link(e.path())?;
            if fs::symlink_metadata(&dst).is_err() {
                symlink(&t, &dst).map_err(|x| io_err(&dst, x))?;
            }
        } else if ft.is_file() && fs::symlink_metadata(&dst).is_err() {
            fs::copy(e.path(), &dst)?;
        }
        chown(&dst, uid, gid)?;
    }
    Ok(())
}

fn apply_user(root: &Path, acc: &mut Accounts, u: &UserDef, days: u64) -> Result<(), BuildError> {
    let shell_default = if in_root(root, "/bin/bash").exists() {
        "/bin/bash"
    } else {
        "/bin/sh"
    };
    let existing = acc.passwd.find(&u.name);
    let (uid, gid, home) = if let Some(i) = existing {
        let l = &mut acc.passwd.lines[i];
        let uid: u32 = l[2].parse().unwrap_or(0);
        if let Some(want) = u.uid
            && want != uid
        {
            return Err(err(format!(
                "user `{}` already exists in the image with uid {uid}, not {want}",
                u.name
            )));
        }
        if let Some(c) = &u.comment {
            l[4] = c.clone();
        }
        if let Some(h) = &u.home {
            l[5] = h.clone();
        }
        if let Some(s) = &u.shell {
            l[6] = s.clone();
        }
        let gid = match &u.group {
            Some(g) => {
                let gid = acc.gid(g).ok_or_else(|| {
                    err(format!(
                        "user `{}`: group `{g}` is not in the image",
                        u.name
                    ))
                })?;
                acc.passwd.lines[i][3] = gid.to_string();
                gid
            }
            None => acc.passwd.lines[i][3].parse().unwrap_or(0),
        };
        (uid, gid, acc.passwd.lines[i][5].clone())
    } else {
        let used = acc.passwd.ids();
        let uid = match u.uid {
            Some(x) if used.contains(&x) => {
                return Err(err(format!(
                    "user `{}`: uid {x} is already taken in the image",
                    u.name
                )));
            }
            Some(x) => x,
            None => free_id(&used, 1000),
        };
        let gid = match &u.group {
            Some(g) => acc.gid(g).ok_or_else(|| {
                err(format!(
                    "user `{}`: primary group `{g}` is neither in the image nor declared in `groups`",
                    u.name
                ))
            })?,
            None => {
                let want = if acc.group.ids().contains(&uid) {
                    None
                } else {
                    Some(uid)
                };
                acc.add_group(&u.name, want)?
            }
        };
        let home = u.home.clone().unwrap_or_else(|| {
            if u.name == "root" {
                "/root".into()
            } else {
                format!("/home/{}", u.name)
            }
        });
        acc.passwd.lines.push(vec![
            u.name.clone(),
            "x".into(),
            uid.to_string(),
            gid.to_string(),
            u.comment.clone().unwrap_or_default(),
            home.clone(),
            u.shell.clone().unwrap_or_else(|| shell_default.into()),
        ]);
        (uid, gid, home)
    };
    if let Some(sh) = &u.shell
        && !in_root(root, sh).exists()
    {
        return Err(err(format!(
            "user `{}`: shell {sh} is not in the image",
            u.name
        )));
    }
    let hash = u.password_hash.clone().unwrap_or_else(|| "!".into());
    match acc.shadow.find(&u.name) {
        Some(i) => {
            let l = &mut acc.shadow.lines[i];
            if u.password_hash.is_some() || existing.is_none() {
                l[1] = hash;
            }
            if l.len() > 2 {
                l[2] = days.to_string();
            }
        }
        None => acc.shadow.lines.push(vec![
            u.name.clone(),
            hash,
            days.to_string(),
            "0".into(),
            "99999".into(),
            "7".into(),
            String::new(),
            String::new(),
            String::new(),
        ]),
    }
    if existing.is_some() && u.password_hash.is_some() {
        // the passwd field must point at shadow
        if let Some(i) = acc.passwd.find(&u.name) {
            acc.passwd.lines[i][1] = "x".into();
        }
    }
    for g in &u.groups {
        acc.add_member(g, &u.name)?;
    }
    let home_dir = in_root(root, &home);
    if !home_dir.exists() {
        mkdirs(&home_dir)?;
        fs::set_permissions(&home_dir, std::fs::Permissions::from_mode(0o700))?;
        chown(&home_dir, uid, gid)?;
        copy_skel(root, &home_dir, uid, gid)?;
    }
    if !u.ssh_authorized_keys.is_empty() {
        let ssh = home_dir.join(".ssh");
        mkdirs(&ssh)?;
        fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700))?;
        chown(&ssh, uid, gid)?;
        let ak = ssh.join("authorized_keys");
        let mut text = u.ssh_authorized_keys.join("\n");
        text.push('\n');
        write_file(&ak, text.as_bytes(), 0o600)?;
        chown(&ak, uid, gid)?;
    }
    Ok(())
}

fn owner_of(
    acc: &Accounts,
    what: &str,
    owner: &Option<String>,
    group: &Option<String>,
) -> Result<(u32, u32), BuildError> {
    let uid = match owner {
        None => 0,
        Some(o) => acc.uid(o).ok_or_else(|| {
            err(format!(
                "{what}: owner `{o}` is not a user in the image (declare it in `users`, or give a numeric uid)"
            ))
        })?,
    };
    let gid = match group {
        None => 0,
        Some(g) => acc.gid(g).ok_or_else(|| {
            err(format!(
                "{what}: group `{g}` is not a group in the image (declare it in `groups`, or give a numeric gid)"
            ))
        })?,
    };
    Ok((uid, gid))
}

fn apply_file(
    root: &Path,
    project_dir: &Path,
    acc: &Accounts,
    f: &FileDef,
) -> Result<(), BuildError> {
    let what = format!("file {}", f.path);
    let bytes = match (&f.content, &f.source) {
        (Some(c), _) => c.as_bytes().to_vec(),
        (None, Some(src)) => {
            let p = project_dir.join(src);
            fs::read(&p).map_err(|e| {
                err(format!(
                    "{what}: cannot read its source {}: {}",
                    p.display(),
                    e.kind()
                ))
            })?
        }
        (None, None) => Vec::new(),
    };
    let mode = f.mode.as_deref().and_then(parse_mode).unwrap_or(0o644);
    let (uid, gid) = owner_of(acc, &what, &f.owner, &f.group)?;
    let dst = in_root(root, &f.path);
    write_file(&dst, &bytes, mode)?;
    chown(&dst, uid, gid)?;
    // chown clears setuid bits: set the mode again
    fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn apply_dir(root: &Path, acc: &Accounts, d: &DirDef) -> Result<(), BuildError> {
    let what = format!("directory {}", d.path);
    let mode = d.mode.as_deref().and_then(parse_mode).unwrap_or(0o755);
    let (uid, gid) = owner_of(acc, &what, &d.owner, &d.group)?;
    let dst = in_root(root, &d.path);
    if let Ok(m) = fs::symlink_metadata(&dst)
        && !m.is_dir()
    {
        return Err(err(format!("{what}: a non-directory is already there")));
    }
    mkdirs(&dst)?;
    chown(&dst, uid, gid)?;
    fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Quote an os-release value.
fn osr_quote(v: &str) -> String {
    let simple = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if simple {
        return v.to_owned();
    }
    let mut s = String::from("\"");
    for c in v.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

/// Parse os-release text into ordered (key, value) pairs.
pub fn parse_os_release(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = if v.len() >= 2
            && ((v.starts_with('"') && v.ends_with('"'))
                || (v.starts_with('\'') && v.ends_with('\'')))
        {
            let inner = &v[1..v.len() - 1];
            let mut s = String::new();
            let mut esc = false;
            for c in inner.chars() {
                if esc {
                    s.push(c);
                    esc = false;
                } else if c == '\\' {
                    esc = true;
                } else {
                    s.push(c);
                }
            }
            s
        } else {
            v.to_owned()
        };
        out.push((k.trim().to_owned(), v));
    }
    out
}

fn apply_os_release(
    root: &Path,
    image: &str,
    version: &str,
    set: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, BuildError> {
    let usr = in_root(root, "/usr/lib/os-release");
    let etc = in_root(root, "/etc/os-release");
    let base = if usr.is_file() {
        fs::read_to_string(&usr)?
    } else if etc.is_file() {
        fs::read_to_string(&etc)?
    } else {
        String::new()
    };
    let mut kv = parse_os_release(&base);
    let mut put = |k: &str, v: &str| {
        if let Some(e) = kv.iter_mut().find(|(a, _)| a == k) {
            e.1 = v.to_owned();
        } else {
            kv.push((k.to_owned(), v.to_owned()));
        }
    };
    for (k, v) in set {
        put(k, v);
    }
    put("IMAGE_ID", image);
    put("IMAGE_VERSION", version);
    let mut text = String::new();
    for (k, v) in &kv {
        text.push_str(&format!("{k}={}\n", osr_quote(v)));
    }
    if let Ok(m) = fs::symlink_metadata(&usr)
        && m.file_type().is_symlink()
    {
        fs::remove_file(&usr)?;
    }
    write_file(&usr, text.as_bytes(), 0o644)?;
    if fs::symlink_metadata(&etc).is_ok() {
        fs::remove_file(&etc)?;
    }
    mkdirs(etc.parent().unwrap_or(root))?;
    symlink("../usr/lib/os-release", &etc).map_err(|e| io_err(&etc, e))?;
    Ok(kv.into_iter().collect())
}

const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// Find a unit file in the image: (in-image path, file contents). Template instances
/// (`getty@ttyS0.service`) resolve to their template (`getty@.service`).
fn find_unit(root: &Path, unit: &str) -> Option<(String, String)> {
    let template = unit.split_once('@').and_then(|(a, b)| {
        let (_, suffix) = b.rsplit_once('.')?;
        Some(format!("{a}@.{suffix}"))
    });
    for name in std::iter::once(unit.to_owned()).chain(template) {
        for d in UNIT_DIRS {
            let p = format!("{d}/{name}");
            let host = in_root(root, &p);
            // follow symlinks inside the root only
            let Ok(meta) = fs::symlink_metadata(&host) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                let t = fs::read_link(&host).ok()?;
                if t == Path::new("/dev/null") {
                    continue;
                }
                let t = t.to_string_lossy().into_owned();
                let target = if t.starts_with('/') {
                    t
                } else {
                    format!("{d}/{t}")
                };
                if let Ok(text) = fs::read_to_string(in_root(root, &target)) {
                    return Some((target, text));
                }
                continue;
            }
            if let Ok(text) = fs::read_to_string(&host) {
                return Some((p, text));
            }
        }
    }
    None
}

/// The `[Install]` section's entries.
fn install_section(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut in_install = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_install = l == "[Install]";
            continue;
        }
        if !in_install || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if let Some((k, v)) = l.split_once('=') {
            for item in v.split_whitespace() {
                out.push((k.trim().to_owned(), item.to_owned()));
            }
        }
    }
    out
}

fn enable_unit(root: &Path, unit: &str, seen: &mut Vec<String>) -> Result<(), BuildError> {
    if seen.iter().any(|s| s == unit) {
        return Ok(());
    }
    seen.push(unit.to_owned());
    let (path, text) = find_unit(root, unit).ok_or_else(|| {
        err(format!(
            "systemd.enable: unit `{unit}` is not in the image (looked in {})",
            UNIT_DIRS.join(", ")
        ))
    })?;
    let entries = install_section(&text);
    let instance_default = entries
        .iter()
        .find(|(k, _)| k == "DefaultInstance")
        .map(|(_, v)| v.clone());
    // a template enabled without instance uses DefaultInstance
    let unit_name = if unit.contains("@.") {
        match &instance_default {
            Some(i) => unit.replacen("@.", &format!("@{i}."), 1),
            None => {
                return Err(err(format!(
                    "systemd.enable: `{unit}` is a template without DefaultInstance; name an instance like `{}`",
                    unit.replacen("@.", "@NAME.", 1)
                )));
            }
        }
    } else {
        unit.to_owned()
    };
    let etc = in_root(root, "/etc/systemd/system");
    let mut linked = false;
    for (k, v) in &entries {
        let dir = match k.as_str() {
            "WantedBy" => format!("{v}.wants"),
            "RequiredBy" => format!("{v}.requires"),
            "UpheldBy" => format!("{v}.upholds"),
            "Alias" => {
                let link = etc.join(v);
                replace_symlink(&link, &path)?;
                linked = true;
                continue;
            }
            "Also" => {
                enable_unit(root, v, seen)?;
                linked = true;
                continue;
            }
            _ => continue,
        };
        let link = etc.join(dir).join(&unit_name);
        replace_symlink(&link, &path)?;
        linked = true;
    }
    if !linked {
        return Err(err(format!(
            "systemd.enable: unit `{unit}` has no [Install] section (WantedBy=, RequiredBy=, Alias=); it is static and cannot be enabled — pull it in from another unit instead"
        )));
    }
    Ok(())
}

fn replace_symlink(link: &Path, target: &str) -> Result<(), BuildError> {
    if let Some(p) = link.parent() {
        mkdirs(p)?;
    }
    if fs::symlink_metadata(link).is_ok() {
        fs::remove_file(link)?;
    }
    symlink(target, link).map_err(|e| io_err(link, e))
}

fn disable_unit(root: &Path, unit: &str) -> Result<(), BuildError> {
    if find_unit(root, unit).is_none() {
        return Err(err(format!(
            "systemd.disable: unit `{unit}` is not in the image"
        )));
    }
    let etc = in_root(root, "/etc/systemd/system");
    if !etc.is_dir() {
        return Ok(());
    }
    // remove every symlink named after the unit in *.wants/*.requires/*.upholds, and
    // aliases pointing at it
    let mut remove = Vec::new();
    for e in walkdir::WalkDir::new(&etc).sort_by_file_name() {
        let e = e.map_err(|e| err(format!("reading {}: {e}", etc.display())))?;
        if !e.path_is_symlink() {
            continue;
        }
        let name = e.file_name().to_string_lossy();
        let target = fs::read_link(e.path())?;
        let points_here = target
            .file_name()
            .is_some_and(|f| f.to_string_lossy() == unit);
        let in_deps = e
            .path()
            .parent()
            .and_then(|p| p.extension())
            .is_some_and(|x| x == "wants" || x == "requires" || x == "upholds");
        if (in_deps && name == unit) || (points_here && target != Path::new("/dev/null")) {
            remove.push(e.path().to_owned());
        }
    }
    for p in remove {
        fs::remove_file(&p)?;
    }
    Ok(())
}

fn mask_unit(root: &Path, unit: &str) -> Result<(), BuildError> {
    let link = in_root(root, &format!("/etc/systemd/system/{unit}"));
    replace_symlink(&link, "/dev/null")
}

const FIRST_BOOT_SCRIPT: &str = r#"#!/bin/sh
# cairn first-boot hook: runs once, at the first boot of an image, as root.
# Drop executable files into /etc/cairn/first-boot.d/ (or /usr/lib/cairn/first-boot.d/);
# they run in name order. The service is skipped once /var/lib/cairn/first-boot.done exists.
set -e
for dir in /usr/lib/cairn/first-boot.d /etc/cairn/first-boot.d; do
  [ -d "$dir" ] || continue
  for f in "$dir"/*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    echo "cairn-firstboot: running $f"
    "$f"
  done
done
mkdir -p /var/lib/cairn
: > /var/lib/cairn/first-boot.done
"#;

const FIRST_BOOT_UNIT_TEXT: &str = "[Unit]
Description=cairn first-boot provisioning hooks
Documentation=file:///usr/lib/cairn/first-boot
ConditionPathExists=!/var/lib/cairn/first-boot.done
After=local-fs.target network.target
Before=multi-user.target

[Service]
Type=oneshot
ExecStart=/usr/lib/cairn/first-boot
RemainAfterExit=yes
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
";

fn install_first_boot(root: &Path, commands: &[String]) -> Result<(), BuildError> {
    let has_systemd = in_root(root, "/usr/lib/systemd/system").is_dir()
        || in_root(root, "/lib/systemd/system").is_dir();
    if !has_systemd {
        if commands.is_empty() {
            return Ok(());
        }
        return Err(err(
            "first-boot commands need systemd in the image (cairn runs them from cairn-firstboot.service)",
        ));
    }
    write_file(
        &in_root(root, "/usr/lib/cairn/first-boot"),
        FIRST_BOOT_SCRIPT.as_bytes(),
        0o755,
    )?;
    mkdirs(&in_root(root, "/usr/lib/cairn/first-boot.d"))?;
    mkdirs(&in_root(root, "/etc/cairn/first-boot.d"))?;
    if !commands.is_empty() {
        let mut s = String::from("#!/bin/sh\n# from cairn.toml: first-boot\nset -e\n");
        for c in commands {
            s.push_str(c);
            s.push('\n');
        }
        write_file(
            &in_root(root, "/usr/lib/cairn/first-boot.d/50-cairn-toml"),
            s.as_bytes(),
            0o755,
        )?;
    }
    let unit_path = format!("/usr/lib/systemd/system/{FIRST_BOOT_UNIT}");
    write_file(
        &in_root(root, &unit_path),
        FIRST_BOOT_UNIT_TEXT.as_bytes(),
        0o644,
    )?;
    replace_symlink(
        &in_root(
            root,
            &format!("/etc/systemd/system/multi-user.target.wants/{FIRST_BOOT_UNIT}"),
        ),
        &unit_path,
    )
}

/// What customizing did, for the build summary.
#[derive(Debug, Clone, Default)]
pub struct Customized {
    /// os-release after branding (key → value).
    pub os_release: BTreeMap<String, String>,
}

/// Apply every customization of `b` to `root`. `project_dir` resolves `source` files;
/// `epoch` (SOURCE_DATE_EPOCH) sets the shadow "last changed" day.
pub fn customize(
    root: &Path,
    project_dir: &Path,
    image: &str,
    b: &Build,
    epoch: u64,
) -> Result<Customized, BuildError> {
    let days = epoch / 86_400;
    if let Some(h) = &b.hostname {
        write_file(
            &in_root(root, "/etc/hostname"),
            format!("{h}\n").as_bytes(),
            0o644,
        )?;
        let hosts = in_root(root, "/etc/hosts");
        let short = h.split('.').next().unwrap_or(h);
        let line = if short == h {
            format!("127.0.1.1\t{h}")
        } else {
            format!("127.0.1.1\t{h} {short}")
        };
        let old = fs::read_to_string(&hosts).unwrap_or_else(|_| {
            "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n".into()
        });
        let mut text: String = old
            .lines()
            .filter(|l| !l.starts_with("127.0.1.1"))
            .map(|l| format!("{l}\n"))
            .collect();
        text.push_str(&line);
        text.push('\n');
        write_file(&hosts, text.as_bytes(), 0o644)?;
    }
    if let Some(l) = &b.locale {
        let text = format!("LANG={l}\n");
        write_file(&in_root(root, "/etc/locale.conf"), text.as_bytes(), 0o644)?;
        if in_root(root, "/etc/default").is_dir() {
            write_file(
                &in_root(root, "/etc/default/locale"),
                text.as_bytes(),
                0o644,
            )?;
        }
    }
    if let Some(tz) = &b.timezone {
        let zone = in_root(root, &format!("/usr/share/zoneinfo/{tz}"));
        let lt = in_root(root, "/etc/localtime");
        if zone.is_file() {
            replace_symlink(&lt, &format!("../usr/share/zoneinfo/{tz}"))?;
        } else if tz == "UTC" || tz == "Etc/UTC" {
            // without tzdata, no /etc/localtime means UTC to glibc and systemd
            if fs::symlink_metadata(&lt).is_ok() {
                fs::remove_file(&lt)?;
            }
        } else {
            return Err(err(format!(
                "timezone `{tz}`: /usr/share/zoneinfo/{tz} is not in the image (add the tzdata package, or check the name)"
            )));
        }
        if in_root(root, "/etc/timezone").exists() || in_root(root, "/etc/debian_version").exists()
        {
            write_file(
                &in_root(root, "/etc/timezone"),
                format!("{tz}\n").as_bytes(),
                0o644,
            )?;
        }
    }
    let os_release = apply_os_release(root, image, &b.version, &b.os_release)?;

    let mut acc = Accounts::load(root)?;
    for g in &b.groups {
        acc.add_group(&g.name, g.gid)?;
    }
    for u in &b.users {
        apply_user(root, &mut acc, u, days)?;
    }
    acc.save()?;

    for d in &b.directories {
        apply_dir(root, &acc, d)?;
    }
    for f in &b.files {
        apply_file(root, project_dir, &acc, f)?;
    }

    install_first_boot(root, &b.first_boot)?;
    let mut seen = Vec::new();
    for u in &b.systemd.enable {
        enable_unit(root, u, &mut seen)?;
    }
    for u in &b.systemd.disable {
        disable_unit(root, u)?;
    }
    for u in &b.systemd.mask {
        mask_unit(root, u)?;
    }
    Ok(Customized { os_release })
}

/// Delete what `remove` names (globs: `*` within one path component, `**` across).
/// Returns the in-image paths removed, sorted.
pub fn remove_paths(root: &Path, patterns: &[String]) -> Result<Vec<String>, BuildError> {
    if patterns.is_empty() {
        return Ok(Vec::new());
    }
    let mut b = globset::GlobSetBuilder::new();
    for p in patterns {
        let g = globset::GlobBuilder::new(p.trim_end_matches('/'))
            .literal_separator(true)
            .build()
            .map_err(|e| err(format!("remove: bad pattern `{p}`: {e}")))?;
        b.add(g);
    }
    let set = b
        .build()
        .map_err(|e| err(format!("remove: bad patterns: {e}")))?;
    let mut removed = Vec::new();
    let mut it = walkdir::WalkDir::new(root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    while let Some(e) = it.next() {
        let e = e.map_err(|e| err(format!("reading {}: {e}", root.display())))?;
        let rel = e.path().strip_prefix(root).unwrap_or(e.path());
        let inimg = format!("/{}", rel.to_string_lossy());
        if set.is_match(&inimg) {
            if e.file_type().is_dir() {
                fs::remove_dir_all(e.path())?;
                it.skip_current_dir();
            } else {
                fs::remove_file(e.path())?;
            }
            removed.push(inimg);
        }
    }
    Ok(removed)
}

/// Clamp every modification time under `root` newer than `epoch` to `epoch` (symlinks
/// themselves, not their targets), as reproducible-builds.org's SOURCE_DATE_EPOCH asks.
pub fn clamp_mtimes(root: &Path, epoch: u64) -> Result<u64, BuildError> {
    let t = filetime::FileTime::from_unix_time(epoch as i64, 0);
    let mut n = 0;
    // children before parents: touching a child changes nothing of the parent's mtime, but
    // removing/creating would; we only set times, so order is for clarity
    for e in walkdir::WalkDir::new(root).contents_first(true) {
        let e = e.map_err(|e| err(format!("reading {}: {e}", root.display())))?;
        let m = e
            .metadata()
            .map_err(|x| err(format!("{}: {x}", e.path().display())))?;
        let mt = filetime::FileTime::from_last_modification_time(&m);
        if mt.unix_seconds() > epoch as i64
            || (mt.unix_seconds() == epoch as i64 && mt.nanoseconds() != 0)
        {
            filetime::set_symlink_file_times(e.path(), t, t).map_err(|x| io_err(e.path(), x))?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_round_trip_and_quoting() {
        let kv =
            parse_os_release("NAME=\"Debian GNU/Linux\"\nID=debian\n# c\nX='a b'\nY=\"q\\\"x\"\n");
        assert_eq!(kv[0], ("NAME".into(), "Debian GNU/Linux".into()));
        assert_eq!(kv[1], ("ID".into(), "debian".into()));
        assert_eq!(kv[2], ("X".into(), "a b".into()));
        assert_eq!(kv[3], ("Y".into(), "q\"x".into()));
        assert_eq!(osr_quote("debian"), "debian");
        assert_eq!(osr_quote("a \"b\" $c"), "\"a \\\"b\\\" \\$c\"");
    }

    #[test]
    fn install_section_lists_every_target() {
        let t = "[Unit]\nWantedBy=x\n[Install]\nWantedBy=multi-user.target graphical.target\nAlias=sshd.service\n";
        let v = install_section(t);
        assert_eq!(
            v,
            vec![
                ("WantedBy".into(), "multi-user.target".into()),
                ("WantedBy".into(), "graphical.target".into()),
                ("Alias".into(), "sshd.service".into())
            ]
        );
    }
}
