//! [`read_record`]: what rpm-md metadata says about one RPM file, filled the way
//! createrepo_c fills its package structure from a header (`cr_package_from_header`), so
//! that the writers in `cairn-rpmmd` produce the same `primary.xml`, `filelists.xml` and
//! `other.xml` entries.
//!
//! createrepo_c's rules kept here:
//! - `arch` is `src` for a source package (`RPMTAG_SOURCEPACKAGE` set), whatever the header's
//!   build arch says;
//! - dependency flags map to `LT`/`GT`/`EQ`/`LE`/`GE` from the low 4 bits, anything else is
//!   unversioned; the version string splits as `[epoch:]version[-release]` with epoch `0`
//!   when absent; an entry with a non-numeric epoch is dropped;
//! - requires drop `rpmlib(…)` entries, files of this package that primary.xml lists
//!   (`/etc/…`, `…bin/…`, `/usr/lib/sendmail`), entries equal (name, flags, version) to one of
//!   the package's provides, and repeats of the previous entry for the same name; of several
//!   `libc.so.6…` requires only the highest is kept (moved last); `pre` is set for
//!   `PREREQ`/`SCRIPT_PRE`/`SCRIPT_POST` flags (Requires(pre), Requires(post), Requires(pre,post));
//!   Requires(preun)/(postun)/(pretrans)/(posttrans) are not `pre`;
//! - legacy weak dependencies (createrepo_c is built with them here): a `MISSINGOK` require
//!   is a recommends, old-style suggests/enhances with the `STRONG` flag are
//!   recommends/supplements;
//! - files are directories by mode (`S_IFDIR`), else ghosts by `%ghost` flag.
//!
//! Changelog entries are kept exactly as in the header (newest first; author with trailing
//! spaces trimmed). createrepo_c's changelog limit, its oldest-first order in `other.xml` and
//! its "bump the newer of two entries with the same time by one second" adjustment depend on
//! the limit and belong to the writer.

use crate::RpmFileError;
use crate::raw;
use cairn_rpmmd::{RpmChangelog, RpmDep, RpmFile, RpmFileKind, RpmRecord};
use rpm::{Header, IndexSignatureTag, IndexTag};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::UNIX_EPOCH;

const SENSE_LESS: u32 = 1 << 1;
const SENSE_GREATER: u32 = 1 << 2;
const SENSE_EQUAL: u32 = 1 << 3;
const SENSE_PREREQ: u32 = 1 << 6;
const SENSE_SCRIPT_PRE: u32 = 1 << 9;
const SENSE_SCRIPT_POST: u32 = 1 << 10;
const SENSE_MISSINGOK: u32 = 1 << 19;
const SENSE_STRONG: u32 = 1 << 27;
const FILE_GHOST: u32 = 1 << 6;
const S_IFMT: u16 = 0o170000;
const S_IFDIR: u16 = 0o040000;

/// Read `path` once: hash the whole file (SHA-256, the `pkgid`), parse its lead and headers
/// (the payload is streamed through the hash, never held in memory) and fill an
/// [`RpmRecord`] whose `location` is `location`.
pub fn read_record(path: &Path, location: &str) -> Result<RpmRecord, RpmFileError> {
    let mut opened = raw::open(path)?;
    let mtime = opened
        .file
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let (checksum, size) = opened.finish(path, |_| Ok(()))?;
    let bad = |e: rpm::Error| RpmFileError::malformed(path, e.to_string());
    let meta = &opened.meta;
    let mut record = record_from_headers(&meta.header, &meta.signature).map_err(bad)?;
    record.checksum = checksum;
    record.checksum_type = "sha256".to_owned();
    record.time_file = mtime;
    record.size_package = size;
    record.location = location.to_owned();
    record.header_start = opened.header_start;
    record.header_end = opened.header_end;
    Ok(record)
}

type Res<T> = Result<T, rpm::Error>;

fn missing<T>(r: Res<T>) -> Res<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(rpm::Error::TagNotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn string(h: &Header<IndexTag>, tag: IndexTag) -> Res<String> {
    Ok(missing(h.get_entry_data_as_string(tag))?
        .unwrap_or_default()
        .to_owned())
}

fn i18n(h: &Header<IndexTag>, tag: IndexTag) -> Res<String> {
    Ok(missing(h.get_entry_data_as_i18n_string(tag))?
        .unwrap_or_default()
        .to_owned())
}

fn number(h: &Header<IndexTag>, tag: IndexTag) -> Res<Option<u64>> {
    if let Some(v) = missing(h.get_entry_data_as_u32(tag))? {
        return Ok(Some(u64::from(v)));
    }
    Ok(None)
}

fn long(h: &Header<IndexTag>, long_tag: IndexTag, short_tag: IndexTag) -> Res<Option<u64>> {
    if let Some(v) = missing(h.get_entry_data_as_u64(long_tag))? {
        return Ok(Some(v));
    }
    number(h, short_tag)
}

/// The archive (uncompressed payload) size: in the main header for old packages, in the
/// signature header since rpm 4.14 (rpm merges it back into the header on reading).
fn archive_size(h: &Header<IndexTag>, sig: &Header<IndexSignatureTag>) -> Res<u64> {
    if let Some(v) = long(
        h,
        IndexTag::RPMTAG_LONGARCHIVESIZE,
        IndexTag::RPMTAG_ARCHIVESIZE,
    )? {
        return Ok(v);
    }
    if let Some(v) =
        missing(sig.get_entry_data_as_u64(IndexSignatureTag::RPMSIGTAG_LONGARCHIVESIZE))?
    {
        return Ok(v);
    }
    if let Some(v) = missing(sig.get_entry_data_as_u32(IndexSignatureTag::RPMSIGTAG_PAYLOADSIZE))? {
        return Ok(u64::from(v));
    }
    // rpm 6 keeps it in the main header.
    Ok(missing(h.get_entry_data_as_u64(IndexTag::RPMTAG_PAYLOADSIZE))?.unwrap_or(0))
}

pub(crate) fn record_from_headers(
    h: &Header<IndexTag>,
    sig: &Header<IndexSignatureTag>,
) -> Res<RpmRecord> {
    let name = string(h, IndexTag::RPMTAG_NAME)?;
    let is_source = number(h, IndexTag::RPMTAG_SOURCEPACKAGE)?.is_some_and(|v| v != 0);
    let arch = if is_source {
        "src".to_owned()
    } else {
        string(h, IndexTag::RPMTAG_ARCH)?
    };
    let epoch = number(h, IndexTag::RPMTAG_EPOCH)?.unwrap_or(0);
    let files = files(h)?;
    let deps = dependencies(h, &files)?;
    Ok(RpmRecord {
        name,
        epoch: u32::try_from(epoch).unwrap_or(u32::MAX),
        version: string(h, IndexTag::RPMTAG_VERSION)?,
        release: string(h, IndexTag::RPMTAG_RELEASE)?,
        arch,
        checksum: String::new(),
        checksum_type: String::new(),
        summary: i18n(h, IndexTag::RPMTAG_SUMMARY)?,
        description: i18n(h, IndexTag::RPMTAG_DESCRIPTION)?,
        packager: string(h, IndexTag::RPMTAG_PACKAGER)?,
        url: string(h, IndexTag::RPMTAG_URL)?,
        time_file: 0,
        time_build: number(h, IndexTag::RPMTAG_BUILDTIME)?.unwrap_or(0),
        size_package: 0,
        size_installed: long(h, IndexTag::RPMTAG_LONGSIZE, IndexTag::RPMTAG_SIZE)?.unwrap_or(0),
        size_archive: archive_size(h, sig)?,
        location: String::new(),
        license: string(h, IndexTag::RPMTAG_LICENSE)?,
        vendor: string(h, IndexTag::RPMTAG_VENDOR)?,
        group: i18n(h, IndexTag::RPMTAG_GROUP)?,
        buildhost: string(h, IndexTag::RPMTAG_BUILDHOST)?,
        sourcerpm: if is_source {
            String::new()
        } else {
            string(h, IndexTag::RPMTAG_SOURCERPM)?
        },
        header_start: 0,
        header_end: 0,
        provides: deps.provides,
        requires: deps.requires,
        conflicts: deps.conflicts,
        obsoletes: deps.obsoletes,
        recommends: deps.recommends,
        suggests: deps.suggests,
        supplements: deps.supplements,
        enhances: deps.enhances,
        files,
        changelogs: changelogs(h)?,
    })
}

fn inconsistent(what: &str) -> rpm::Error {
    rpm::Error::Nom(format!("{what}: related tag arrays have different lengths"))
}

fn files(h: &Header<IndexTag>) -> Res<Vec<RpmFile>> {
    let modes =
        missing(h.get_entry_data_as_u16_array(IndexTag::RPMTAG_FILEMODES))?.unwrap_or_default();
    let flags =
        missing(h.get_entry_data_as_u32_array(IndexTag::RPMTAG_FILEFLAGS))?.unwrap_or_default();
    let paths: Vec<String> =
        match missing(h.get_entry_data_as_string_array(IndexTag::RPMTAG_BASENAMES))? {
            Some(base) => {
                let dirs = h.get_entry_data_as_string_array(IndexTag::RPMTAG_DIRNAMES)?;
                let idx = h.get_entry_data_as_u32_array(IndexTag::RPMTAG_DIRINDEXES)?;
                if idx.len() != base.len() {
                    return Err(inconsistent("file names"));
                }
                base.iter()
                    .zip(&idx)
                    .map(|(b, &i)| {
                        let dir =
                            dirs.get(i as usize)
                                .ok_or_else(|| rpm::Error::InvalidTagIndex {
                                    tag: "RPMTAG_DIRINDEXES".to_owned(),
                                    index: i,
                                    bound: dirs.len() as u32,
                                })?;
                        let mut p = String::with_capacity(dir.len() + b.len());
                        p.push_str(dir);
                        p.push_str(b);
                        Ok(p)
                    })
                    .collect::<Res<_>>()?
            }
            // Packages from before rpm 4 store whole paths.
            None => missing(h.get_entry_data_as_string_array(IndexTag::RPMTAG_OLDFILENAMES))?
                .unwrap_or_default()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        };
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    if modes.len() != paths.len() || flags.len() != paths.len() {
        return Err(inconsistent("file modes and flags"));
    }
    Ok(paths
        .into_iter()
        .zip(modes.iter().zip(&flags))
        .map(|(path, (&mode, &flag))| {
            let kind = if mode & S_IFMT == S_IFDIR {
                RpmFileKind::Dir
            } else if flag & FILE_GHOST != 0 {
                RpmFileKind::Ghost
            } else {
                RpmFileKind::File
            };
            RpmFile { path, kind }
        })
        .collect())
}

fn changelogs(h: &Header<IndexTag>) -> Res<Vec<RpmChangelog>> {
    let Some(times) = missing(h.get_entry_data_as_u32_array(IndexTag::RPMTAG_CHANGELOGTIME))?
    else {
        return Ok(Vec::new());
    };
    let names = h.get_entry_data_as_string_array(IndexTag::RPMTAG_CHANGELOGNAME)?;
    let texts = h.get_entry_data_as_string_array(IndexTag::RPMTAG_CHANGELOGTEXT)?;
    if names.len() != times.len() || texts.len() != times.len() {
        return Err(inconsistent("changelog"));
    }
    Ok(times
        .iter()
        .zip(names)
        .zip(texts)
        .map(|((&date, author), text)| RpmChangelog {
            author: author.trim_end_matches(' ').to_owned(),
            date: u64::from(date),
            text: text.to_owned(),
        })
        .collect())
}

/// `LT`, `GT`, `EQ`, `LE`, `GE` from the comparison bits of a dependency's flags.
pub(crate) fn flag_name(flags: u32) -> Option<&'static str> {
    match flags & 0xf {
        x if x == SENSE_LESS => Some("LT"),
        x if x == SENSE_GREATER => Some("GT"),
        x if x == SENSE_EQUAL => Some("EQ"),
        x if x == SENSE_LESS | SENSE_EQUAL => Some("LE"),
        x if x == SENSE_GREATER | SENSE_EQUAL => Some("GE"),
        _ => None,
    }
}

/// Epoch, version and release of a dependency's version string, split as createrepo_c
/// does: `[epoch:]version[-release]`, epoch `0` when there is none, the release after the
/// first `-`. `None` when the part before `:` is not a number (createrepo_c drops such
/// entries). An empty string gives no parts.
pub(crate) fn split_evr(s: &str) -> Option<(Option<String>, Option<String>, Option<String>)> {
    if s.is_empty() {
        return Some((None, None, None));
    }
    let (epoch, rest) = match s.find(':') {
        Some(i) => {
            let e = &s[..i];
            // C's strtol must consume exactly the text before the colon.
            let t = e.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
            let t = t.strip_prefix(['+', '-']).unwrap_or(t);
            let numeric = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
            if e.is_empty() {
                ("0".to_owned(), &s[i + 1..])
            } else if numeric {
                (e.to_owned(), &s[i + 1..])
            } else {
                return None;
            }
        }
        None => ("0".to_owned(), s),
    };
    let (version, release) = match rest.find('-') {
        Some(j) => {
            let rel = &rest[j + 1..];
            (
                rest[..j].to_owned(),
                (!rel.is_empty()).then(|| rel.to_owned()),
            )
        }
        None => (rest.to_owned(), None),
    };
    Some((Some(epoch), Some(version), release))
}

/// Files primary.xml lists (and whose requires createrepo_c therefore drops).
pub(crate) fn is_primary_file(path: &str) -> bool {
    path.starts_with("/etc/") || path == "/usr/lib/sendmail" || path.contains("bin/")
}

/// createrepo_c's ordering of two `libc.so.6(…)` names by the version in the first
/// parentheses: `Greater` when `b` should replace `a`.
fn libc_newer(a: &str, b: &str) -> bool {
    // Mirrors cr_compare_dependency: 2 ("second is bigger") means replace.
    let (Some(pa), Some(pb)) = (a.find('('), b.find('(')) else {
        return a.find('(').is_none() && b.find('(').is_some();
    };
    let (ea, eb) = (a[pa..].find(')'), b[pb..].find(')'));
    let (ea, eb) = match (ea, eb) {
        (None, None) => return false,
        (None, Some(_)) => return true,
        (Some(_), None) => return false,
        (Some(x), Some(y)) => (pa + x, pb + y),
    };
    let (sa, sb) = (pa + 1, pb + 1);
    match (sa == ea, sb == eb) {
        (true, true) => return false,
        (true, false) => return true,
        (false, true) => return false,
        _ => {}
    }
    let first_digit = |s: &str, from: usize| {
        s[from..]
            .bytes()
            .position(|c| c.is_ascii_digit())
            .map_or(s.len(), |p| from + p)
    };
    let (da, db) = (first_digit(a, sa), first_digit(b, sb));
    match (da > ea, db > eb) {
        (true, true) => return false,
        (true, false) => return true,
        (false, true) => return false,
        _ => {}
    }
    cairn_version::rpmvercmp(&a[da..ea], &b[db..eb]) == std::cmp::Ordering::Less
}

#[derive(Default)]
struct Deps {
    provides: Vec<RpmDep>,
    conflicts: Vec<RpmDep>,
    obsoletes: Vec<RpmDep>,
    requires: Vec<RpmDep>,
    suggests: Vec<RpmDep>,
    enhances: Vec<RpmDep>,
    recommends: Vec<RpmDep>,
    supplements: Vec<RpmDep>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Provides,
    Conflicts,
    Obsoletes,
    Requires,
    Suggests,
    Enhances,
    Recommends,
    Supplements,
    OldSuggests,
    OldEnhances,
}

/// createrepo_c's order of processing: provides first (requires are compared with them).
const KINDS: [(Kind, IndexTag, IndexTag, IndexTag); 10] = [
    (
        Kind::Provides,
        IndexTag::RPMTAG_PROVIDENAME,
        IndexTag::RPMTAG_PROVIDEFLAGS,
        IndexTag::RPMTAG_PROVIDEVERSION,
    ),
    (
        Kind::Conflicts,
        IndexTag::RPMTAG_CONFLICTNAME,
        IndexTag::RPMTAG_CONFLICTFLAGS,
        IndexTag::RPMTAG_CONFLICTVERSION,
    ),
    (
        Kind::Obsoletes,
        IndexTag::RPMTAG_OBSOLETENAME,
        IndexTag::RPMTAG_OBSOLETEFLAGS,
        IndexTag::RPMTAG_OBSOLETEVERSION,
    ),
    (
        Kind::Requires,
        IndexTag::RPMTAG_REQUIRENAME,
        IndexTag::RPMTAG_REQUIREFLAGS,
        IndexTag::RPMTAG_REQUIREVERSION,
    ),
    (
        Kind::Suggests,
        IndexTag::RPMTAG_SUGGESTNAME,
        IndexTag::RPMTAG_SUGGESTFLAGS,
        IndexTag::RPMTAG_SUGGESTVERSION,
    ),
    (
        Kind::Enhances,
        IndexTag::RPMTAG_ENHANCENAME,
        IndexTag::RPMTAG_ENHANCEFLAGS,
        IndexTag::RPMTAG_ENHANCEVERSION,
    ),
    (
        Kind::Recommends,
        IndexTag::RPMTAG_RECOMMENDNAME,
        IndexTag::RPMTAG_RECOMMENDFLAGS,
        IndexTag::RPMTAG_RECOMMENDVERSION,
    ),
    (
        Kind::Supplements,
        IndexTag::RPMTAG_SUPPLEMENTNAME,
        IndexTag::RPMTAG_SUPPLEMENTFLAGS,
        IndexTag::RPMTAG_SUPPLEMENTVERSION,
    ),
    (
        Kind::OldSuggests,
        IndexTag::RPMTAG_OLDSUGGESTSNAME,
        IndexTag::RPMTAG_OLDSUGGESTSFLAGS,
        IndexTag::RPMTAG_OLDSUGGESTSVERSION,
    ),
    (
        Kind::OldEnhances,
        IndexTag::RPMTAG_OLDENHANCESNAME,
        IndexTag::RPMTAG_OLDENHANCESFLAGS,
        IndexTag::RPMTAG_OLDENHANCESVERSION,
    ),
];

fn dependencies(h: &Header<IndexTag>, files: &[RpmFile]) -> Res<Deps> {
    let own_files: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    // name + flags + version of every provide.
    let mut provided: HashSet<String> = HashSet::new();
    // Last kept require per name: (flags, version, pre).
    let mut kept: HashMap<String, (Option<&'static str>, String, bool)> = HashMap::new();
    let mut out = Deps::default();
    for (kind, name_tag, flags_tag, version_tag) in KINDS {
        let Some(names) = missing(h.get_entry_data_as_string_array(name_tag))? else {
            continue;
        };
        let flags = h.get_entry_data_as_u32_array(flags_tag)?;
        let versions = h.get_entry_data_as_string_array(version_tag)?;
        if flags.len() != names.len() || versions.len() != names.len() {
            return Err(inconsistent("dependencies"));
        }
        let mut libc: Option<RpmDep> = None;
        for ((&name, &bits), &version) in names.iter().zip(&flags).zip(&versions) {
            let flag = flag_name(bits);
            let mut pre = false;
            if kind == Kind::Requires {
                if name.starts_with("rpmlib(") {
                    continue;
                }
                if name.starts_with('/') && own_files.contains(name) && is_primary_file(name) {
                    continue;
                }
                if provided.contains(&nfv(name, flag, version)) {
                    continue;
                }
                pre = bits & (SENSE_PREREQ | SENSE_SCRIPT_PRE | SENSE_SCRIPT_POST) != 0;
                if let Some((f, v, p)) = kept.get(name)
                    && *f == flag
                    && v == version
                    && *p == pre
                {
                    continue;
                }
            }
            let Some((epoch, ver, rel)) = split_evr(version) else {
                continue;
            };
            let dep = RpmDep {
                name: name.to_owned(),
                flags: flag.map(str::to_owned),
                epoch,
                version: ver,
                release: rel,
                pre: false,
            };
            match kind {
                Kind::Provides => {
                    provided.insert(nfv(name, flag, version));
                    out.provides.push(dep);
                }
                Kind::Conflicts => out.conflicts.push(dep),
                Kind::Obsoletes => out.obsoletes.push(dep),
                Kind::Requires => {
                    if bits & SENSE_MISSINGOK != 0 {
                        out.recommends.push(dep);
                        continue;
                    }
                    let dep = RpmDep { pre, ..dep };
                    if name.starts_with("libc.so.6") {
                        match &libc {
                            Some(best) if !libc_newer(&best.name, name) => {}
                            _ => libc = Some(dep),
                        }
                        continue;
                    }
                    out.requires.push(dep);
                    kept.insert(name.to_owned(), (flag, version.to_owned(), pre));
                }
                Kind::Suggests => out.suggests.push(dep),
                Kind::Enhances => out.enhances.push(dep),
                Kind::Recommends => out.recommends.push(dep),
                Kind::Supplements => out.supplements.push(dep),
                Kind::OldSuggests if bits & SENSE_STRONG != 0 => out.recommends.push(dep),
                Kind::OldSuggests => out.suggests.push(dep),
                Kind::OldEnhances if bits & SENSE_STRONG != 0 => out.supplements.push(dep),
                Kind::OldEnhances => out.enhances.push(dep),
            }
        }
        if let Some(dep) = libc {
            out.requires.push(dep);
        }
    }
    Ok(out)
}

fn nfv(name: &str, flag: Option<&str>, version: &str) -> String {
    let mut s = String::with_capacity(name.len() + 2 + version.len());
    s.push_str(name);
    s.push_str(flag.unwrap_or(""));
    s.push_str(version);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evr(s: &str) -> Option<(Option<String>, Option<String>, Option<String>)> {
        split_evr(s)
    }

    fn parts(
        e: Option<&str>,
        v: Option<&str>,
        r: Option<&str>,
    ) -> Option<(Option<String>, Option<String>, Option<String>)> {
        Some((e.map(Into::into), v.map(Into::into), r.map(Into::into)))
    }

    #[test]
    fn splits_versions_like_createrepo_c() {
        assert_eq!(evr(""), parts(None, None, None));
        assert_eq!(evr("1.2"), parts(Some("0"), Some("1.2"), None));
        assert_eq!(
            evr("1.2-3.fc40"),
            parts(Some("0"), Some("1.2"), Some("3.fc40"))
        );
        assert_eq!(evr("2:1.2-3"), parts(Some("2"), Some("1.2"), Some("3")));
        assert_eq!(evr("2:1.2"), parts(Some("2"), Some("1.2"), None));
        assert_eq!(evr(":1.2"), parts(Some("0"), Some("1.2"), None));
        assert_eq!(evr("1.2-"), parts(Some("0"), Some("1.2"), None));
        assert_eq!(evr("1-2-3"), parts(Some("0"), Some("1"), Some("2-3")));
        assert_eq!(evr("3:"), parts(Some("3"), Some(""), None));
        assert_eq!(evr("x:1.2"), None);
        assert_eq!(evr("1a:1.2"), None);
    }

    #[test]
    fn flags() {
        assert_eq!(flag_name(0), None);
        assert_eq!(flag_name(2), Some("LT"));
        assert_eq!(flag_name(4), Some("GT"));
        assert_eq!(flag_name(8), Some("EQ"));
        assert_eq!(flag_name(10), Some("LE"));
        assert_eq!(flag_name(12), Some("GE"));
        // Other bits (pre, script flags) do not change the comparison.
        assert_eq!(flag_name(12 | SENSE_SCRIPT_POST | SENSE_PREREQ), Some("GE"));
        assert_eq!(flag_name(6), None);
    }

    #[test]
    fn primary_files() {
        assert!(is_primary_file("/etc/hello.conf"));
        assert!(is_primary_file("/usr/bin/hello"));
        assert!(is_primary_file("/opt/x/sbin/y"));
        assert!(is_primary_file("/usr/lib/sendmail"));
        assert!(!is_primary_file("/usr/lib/libhello.so.1"));
        assert!(!is_primary_file("/etcetera"));
    }

    #[test]
    fn libc_ordering() {
        assert!(libc_newer(
            "libc.so.6(GLIBC_2.2.5)(64bit)",
            "libc.so.6(GLIBC_2.34)(64bit)"
        ));
        assert!(!libc_newer(
            "libc.so.6(GLIBC_2.34)(64bit)",
            "libc.so.6(GLIBC_2.2.5)(64bit)"
        ));
        assert!(libc_newer(
            "libc.so.6()(64bit)",
            "libc.so.6(GLIBC_2.2.5)(64bit)"
        ));
        assert!(libc_newer("libc.so.6", "libc.so.6(GLIBC_2.2.5)(64bit)"));
        assert!(!libc_newer("libc.so.6(GLIBC_2.4)", "libc.so.6(GLIBC_2.4)"));
    }
}
