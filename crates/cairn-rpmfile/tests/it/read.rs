//! `read_record` against what `rpm -qp` says about the same files and what createrepo_c
//! writes for them.

use crate::common::{Createrepo, Node, createrepo, fixtures, rpm_query, scratch};
use cairn_rpmfile::read_record;
use cairn_rpmmd::{RpmChangelog, RpmDep, RpmFile, RpmFileKind, RpmRecord};
use std::path::Path;

fn record(path: &Path) -> RpmRecord {
    read_record(path, path.file_name().unwrap().to_str().unwrap()).unwrap()
}

fn none_empty(s: &str) -> String {
    if s == "(none)" {
        String::new()
    } else {
        s.to_owned()
    }
}

/// rpm's numeric flags as createrepo_c names them.
fn flag_name(bits: u32) -> Option<String> {
    match bits & 0xf {
        2 => Some("LT"),
        4 => Some("GT"),
        8 => Some("EQ"),
        10 => Some("LE"),
        12 => Some("GE"),
        _ => None,
    }
    .map(str::to_owned)
}

/// A record dependency turned back into rpm's version string.
fn evr_string(d: &RpmDep) -> String {
    let mut s = String::new();
    if let Some(v) = &d.version {
        // createrepo_c fills epoch 0 in when the string had none.
        if let Some(e) = d.epoch.as_deref().filter(|e| *e != "0") {
            s.push_str(e);
            s.push(':');
        }
        s.push_str(v);
        if let Some(r) = &d.release {
            s.push('-');
            s.push_str(r);
        }
    }
    s
}

struct RpmDepLine {
    name: String,
    flags: u32,
    deptype: String,
    version: String,
}

fn rpm_deps(file: &Path, tag: &str) -> Vec<RpmDepLine> {
    let q = format!(
        "[%{{{tag}NAME}}\\t%{{{tag}FLAGS}}\\t%{{{tag}FLAGS:deptype}}\\t%{{{tag}VERSION}}\\n]"
    );
    rpm_query(file, &q)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            RpmDepLine {
                name: f[0].to_owned(),
                flags: f[1].parse().unwrap(),
                deptype: f[2].to_owned(),
                version: f[3].to_owned(),
            }
        })
        .collect()
}

fn same_dep(r: &RpmDep, l: &RpmDepLine) -> bool {
    r.name == l.name && r.flags == flag_name(l.flags) && evr_string(r) == l.version
}

fn check_against_rpm(file: &Path, rec: &RpmRecord) {
    let q = "%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SUMMARY}\\t%{LICENSE}\\t%{VENDOR}\\t%{GROUP}\\t%{BUILDHOST}\\t%{SOURCERPM}\\t%{BUILDTIME}\\t%{LONGSIZE}\\t%{LONGARCHIVESIZE}\\t%{URL}\\t%{PACKAGER}\\t%{SOURCEPACKAGE}";
    let out = rpm_query(file, q);
    let f: Vec<&str> = out.split('\t').collect();
    assert_eq!(f.len(), 17, "{out}");
    assert_eq!(rec.name, f[0]);
    assert_eq!(rec.epoch.to_string(), f[1]);
    assert_eq!(rec.version, f[2]);
    assert_eq!(rec.release, f[3]);
    let is_source = f[16] == "1";
    assert_eq!(rec.is_source(), is_source, "{}", rec.arch);
    if is_source {
        // The header names the build arch; repositories say "src".
        assert_eq!(rec.arch, "src");
        assert_eq!(f[4], std::env::consts::ARCH);
    } else {
        assert_eq!(rec.arch, f[4]);
    }
    assert_eq!(rec.summary, f[5]);
    assert_eq!(rec.license, f[6]);
    assert_eq!(rec.vendor, none_empty(f[7]));
    assert_eq!(rec.group, none_empty(f[8]));
    assert_eq!(rec.buildhost, f[9]);
    assert_eq!(rec.sourcerpm, none_empty(f[10]));
    assert_eq!(rec.time_build.to_string(), f[11]);
    assert_eq!(rec.size_installed.to_string(), f[12]);
    assert_eq!(rec.size_archive.to_string(), f[13]);
    assert_eq!(rec.url, none_empty(f[14]));
    assert_eq!(rec.packager, none_empty(f[15]));
    assert_eq!(rec.description, rpm_query(file, "%{DESCRIPTION}"));

    // Files, in header order, with their kind from mode and flags.
    let files: Vec<RpmFile> = rpm_query(file, "[%{FILENAMES}\\t%{FILEMODES}\\t%{FILEFLAGS}\\n]")
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let mode: u32 = f[1].parse().unwrap();
            let flags: u32 = f[2].parse().unwrap();
            let kind = if mode & 0o170000 == 0o040000 {
                RpmFileKind::Dir
            } else if flags & 64 != 0 {
                RpmFileKind::Ghost
            } else {
                RpmFileKind::File
            };
            RpmFile {
                path: f[0].to_owned(),
                kind,
            }
        })
        .collect();
    assert_eq!(rec.files, files);

    // Unfiltered dependency kinds match rpm's lists entry by entry.
    for (tag, ours) in [
        ("PROVIDE", &rec.provides),
        ("CONFLICT", &rec.conflicts),
        ("OBSOLETE", &rec.obsoletes),
        ("RECOMMEND", &rec.recommends),
        ("SUGGEST", &rec.suggests),
        ("SUPPLEMENT", &rec.supplements),
        ("ENHANCE", &rec.enhances),
    ] {
        let theirs = rpm_deps(file, tag);
        assert_eq!(ours.len(), theirs.len(), "{tag}");
        for (r, l) in ours.iter().zip(&theirs) {
            assert!(
                same_dep(r, l),
                "{tag}: {r:?} vs {} {} {}",
                l.name,
                l.flags,
                l.version
            );
            assert!(!r.pre);
        }
    }

    // Requires: every entry createrepo_c keeps is one of rpm's, `pre` exactly for
    // Requires(pre)/(post); every entry dropped has one of createrepo_c's reasons.
    let theirs = rpm_deps(file, "REQUIRE");
    for r in &rec.requires {
        let l = theirs
            .iter()
            .find(|l| {
                let scriptlet = l.deptype.split(',').any(|t| t == "pre" || t == "post");
                same_dep(r, l) && r.pre == scriptlet && r.pre == (l.flags & (64 | 512 | 1024) != 0)
            })
            .unwrap_or_else(|| panic!("{r:?} is not among rpm's requires"));
        assert!(!l.name.starts_with("rpmlib("));
    }
    for l in &theirs {
        if rec.requires.iter().any(|r| same_dep(r, l)) {
            continue;
        }
        let own_primary = l.name.starts_with('/')
            && rec.files.iter().any(|f| f.path == l.name)
            && (l.name.starts_with("/etc/") || l.name.contains("bin/"));
        let provided = rec.provides.iter().any(|p| {
            p.name == l.name && p.flags == flag_name(l.flags) && evr_string(p) == l.version
        });
        let lower_libc = l.name.starts_with("libc.so.6");
        assert!(
            l.name.starts_with("rpmlib(") || own_primary || provided || lower_libc,
            "{} ({}) was dropped without reason",
            l.name,
            l.deptype
        );
    }

    // Changelog, newest first as in the header.
    let times: Vec<String> = rpm_query(file, "[%{CHANGELOGTIME}\\t%{CHANGELOGNAME}\\n]")
        .lines()
        .map(str::to_owned)
        .collect();
    let ours: Vec<String> = rec
        .changelogs
        .iter()
        .map(|c| format!("{}\t{}", c.date, c.author))
        .collect();
    assert_eq!(ours, times);
    let texts = rpm_query(file, "[%{CHANGELOGTEXT}@@END@@]");
    let ours: Vec<&str> = rec.changelogs.iter().map(|c| c.text.as_str()).collect();
    let texts: Vec<&str> = texts.split("@@END@@").filter(|t| !t.is_empty()).collect();
    assert_eq!(ours, texts);
}

#[test]
fn binary_package_matches_rpm_query() {
    let f = fixtures();
    let rec = record(&f.binary);
    check_against_rpm(&f.binary, &rec);
    // Spot checks of what the spec says, so that the comparison cannot pass vacuously.
    assert_eq!(rec.nevra(), "hello-3:1.2.3-4.test.x86_64");
    assert_eq!(rec.summary, "A greeting program — for tests");
    assert_eq!(rec.sourcerpm, "hello-1.2.3-4.test.src.rpm");
    let kinds: Vec<(&str, RpmFileKind)> = rec
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.kind))
        .collect();
    assert!(
        kinds.contains(&("/etc/hello", RpmFileKind::Dir)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("/var/lib/hello", RpmFileKind::Dir)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("/usr/share/hello", RpmFileKind::Dir)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("/var/log/hello/hello.log", RpmFileKind::Ghost)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("/etc/hello/hello.conf", RpmFileKind::File)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("/usr/bin/hello", RpmFileKind::File)),
        "{kinds:?}"
    );
    let req = |n: &str| {
        rec.requires
            .iter()
            .filter(|d| d.name == n)
            .collect::<Vec<_>>()
    };
    assert_eq!(req("(foo if bar)").len(), 1);
    assert!(req("/usr/bin/hello").is_empty(), "own primary file");
    assert_eq!(
        req("/usr/share/hello/data.txt").len(),
        1,
        "own non-primary file"
    );
    assert!(req("hello-compat").is_empty(), "provided by itself");
    assert!(rec.requires.iter().all(|d| !d.name.starts_with("rpmlib(")));
    assert!(req("shadow-utils")[0].pre && req("systemd")[0].pre && req("setup")[0].pre);
    assert!(!req("grep")[0].pre && !req("gawk")[0].pre && !req("pretrans-helper")[0].pre);
    let glibc = req("glibc-common");
    assert_eq!(
        glibc[0],
        &RpmDep {
            name: "glibc-common".into(),
            flags: Some("LT".into()),
            epoch: Some("1".into()),
            version: Some("2.40".into()),
            release: Some("1".into()),
            pre: false,
        }
    );
    let libc: Vec<&str> = rec
        .requires
        .iter()
        .filter(|d| d.name.starts_with("libc.so.6"))
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(libc, ["libc.so.6(GLIBC_2.34)(64bit)"]);
    assert_eq!(
        rec.requires.last().unwrap().name,
        "libc.so.6(GLIBC_2.34)(64bit)"
    );
    assert_eq!(rec.changelogs.len(), 3);
    assert_eq!(rec.changelogs[0].text, "- Newest entry");
    assert_eq!(
        rec.changelogs[0].date, rec.changelogs[1].date,
        "raw header dates"
    );
    assert_eq!(rec.checksum_type, "sha256");
    assert_eq!(rec.size_package, fs_err::metadata(&f.binary).unwrap().len());
    assert!(rec.header_start > 96 && rec.header_end > rec.header_start);
}

#[test]
fn source_and_empty_packages_match_rpm_query() {
    let f = fixtures();
    let src = record(&f.source);
    check_against_rpm(&f.source, &src);
    assert_eq!(src.arch, "src");
    assert!(src.is_source());
    assert_eq!(src.sourcerpm, "");
    assert!(
        src.files.iter().any(|f| f.path == "hello.spec"),
        "{:?}",
        src.files
    );

    let empty = record(&f.empty);
    check_against_rpm(&f.empty, &empty);
    assert_eq!(empty.arch, "noarch");
    assert!(empty.files.is_empty());
    assert_eq!(empty.summary, "A package without files");
}

fn deps_of(pkg: &Node, section: &str) -> Vec<RpmDep> {
    let Some(format) = pkg.child("format") else {
        return Vec::new();
    };
    let Some(list) = format.child(section) else {
        return Vec::new();
    };
    list.all("rpm:entry")
        .map(|e| RpmDep {
            name: e.attr("name").unwrap().to_owned(),
            flags: e.attr("flags").map(str::to_owned),
            epoch: e.attr("epoch").map(str::to_owned),
            version: e.attr("ver").map(str::to_owned),
            release: e.attr("rel").map(str::to_owned),
            pre: e.attr("pre") == Some("1"),
        })
        .collect()
}

/// createrepo_c's changelog view of a record: oldest first, and of two entries with the
/// same time the newer one moved one second later (the writer's job, see cairn-rpmmd).
fn createrepo_changelogs(header_order: &[RpmChangelog]) -> Vec<RpmChangelog> {
    let mut dates: Vec<u64> = header_order.iter().map(|c| c.date).collect();
    let mut last = 0;
    for (i, entry) in header_order.iter().enumerate() {
        let t = entry.date;
        if t == last {
            let mut tmp = t;
            let mut j = i;
            while j > 0 && dates[j - 1] == tmp {
                dates[j - 1] += 1;
                tmp += 1;
                j -= 1;
            }
        } else {
            last = t;
        }
    }
    let mut out: Vec<RpmChangelog> = header_order
        .iter()
        .zip(dates)
        .map(|(c, date)| RpmChangelog { date, ..c.clone() })
        .collect();
    out.reverse();
    out
}

#[test]
fn every_field_matches_createrepo_c() {
    let f = fixtures();
    let repo = scratch("createrepo");
    for p in [&f.binary, &f.empty, &f.source] {
        crate::common::copy_to(p, &repo);
    }
    // createrepo_c reports the file's mtime: read the copies, not the originals.
    let records: Vec<RpmRecord> = [&f.binary, &f.empty, &f.source]
        .iter()
        .map(|p| record(&repo.join(p.file_name().unwrap())))
        .collect();
    assert_matches_createrepo(&records, &createrepo(&repo));
}

/// Every record equals what createrepo_c wrote for the same file, field by field.
pub fn assert_matches_createrepo(records: &[RpmRecord], cr: &Createrepo) {
    let packages: Vec<&Node> = cr.primary.all("package").collect();
    assert_eq!(packages.len(), records.len());
    for rec in records {
        let pkg = packages
            .iter()
            .find(|p| p.child("checksum").unwrap().text == rec.checksum)
            .unwrap_or_else(|| panic!("createrepo_c has no {}", rec.nevra()));
        assert_eq!(pkg.child("name").unwrap().text, rec.name);
        assert_eq!(pkg.child("arch").unwrap().text, rec.arch);
        let text = |n: &str| pkg.child(n).unwrap().text.clone();
        let version = pkg.child("version").unwrap();
        assert_eq!(version.attr("epoch"), Some(rec.epoch.to_string().as_str()));
        assert_eq!(version.attr("ver"), Some(rec.version.as_str()));
        assert_eq!(version.attr("rel"), Some(rec.release.as_str()));
        let checksum = pkg.child("checksum").unwrap();
        assert_eq!(checksum.text, rec.checksum);
        assert_eq!(checksum.attr("type"), Some(rec.checksum_type.as_str()));
        assert_eq!(text("summary"), rec.summary);
        assert_eq!(text("description"), rec.description);
        assert_eq!(text("packager"), rec.packager);
        assert_eq!(text("url"), rec.url);
        let time = pkg.child("time").unwrap();
        assert_eq!(time.attr("file"), Some(rec.time_file.to_string().as_str()));
        assert_eq!(
            time.attr("build"),
            Some(rec.time_build.to_string().as_str())
        );
        let size = pkg.child("size").unwrap();
        assert_eq!(
            size.attr("package"),
            Some(rec.size_package.to_string().as_str())
        );
        assert_eq!(
            size.attr("installed"),
            Some(rec.size_installed.to_string().as_str())
        );
        assert_eq!(
            size.attr("archive"),
            Some(rec.size_archive.to_string().as_str())
        );
        assert_eq!(
            pkg.child("location").unwrap().attr("href"),
            Some(rec.location.as_str())
        );
        let format = pkg.child("format").unwrap();
        let ftext = |n: &str| format.child(n).unwrap().text.clone();
        assert_eq!(ftext("rpm:license"), rec.license);
        assert_eq!(ftext("rpm:vendor"), rec.vendor);
        assert_eq!(ftext("rpm:group"), rec.group);
        assert_eq!(ftext("rpm:buildhost"), rec.buildhost);
        assert_eq!(ftext("rpm:sourcerpm"), rec.sourcerpm);
        let range = format.child("rpm:header-range").unwrap();
        assert_eq!(
            range.attr("start"),
            Some(rec.header_start.to_string().as_str())
        );
        assert_eq!(range.attr("end"), Some(rec.header_end.to_string().as_str()));
        for (section, ours) in [
            ("rpm:provides", &rec.provides),
            ("rpm:requires", &rec.requires),
            ("rpm:conflicts", &rec.conflicts),
            ("rpm:obsoletes", &rec.obsoletes),
            ("rpm:suggests", &rec.suggests),
            ("rpm:enhances", &rec.enhances),
            ("rpm:recommends", &rec.recommends),
            ("rpm:supplements", &rec.supplements),
        ] {
            assert_eq!(&deps_of(pkg, section), ours, "{} {section}", rec.nevra());
        }

        let fl = cr
            .filelists
            .all("package")
            .find(|p| p.attr("pkgid") == Some(rec.checksum.as_str()))
            .unwrap();
        let files: Vec<RpmFile> = fl
            .all("file")
            .map(|n| RpmFile {
                path: n.text.clone(),
                kind: match n.attr("type") {
                    Some("dir") => RpmFileKind::Dir,
                    Some("ghost") => RpmFileKind::Ghost,
                    None => RpmFileKind::File,
                    Some(other) => panic!("file type {other}"),
                },
            })
            .collect();
        assert_eq!(files, rec.files, "{}", rec.nevra());

        let other = cr
            .other
            .all("package")
            .find(|p| p.attr("pkgid") == Some(rec.checksum.as_str()))
            .unwrap();
        let logs: Vec<RpmChangelog> = other
            .all("changelog")
            .map(|n| RpmChangelog {
                author: n.attr("author").unwrap().to_owned(),
                date: n.attr("date").unwrap().parse().unwrap(),
                text: n.text.clone(),
            })
            .collect();
        assert_eq!(
            logs,
            createrepo_changelogs(&rec.changelogs),
            "{}",
            rec.nevra()
        );
    }
}

#[test]
fn checksum_is_the_sha256_of_the_file_and_time_its_mtime() {
    // The checksum is the SHA-256 of the whole file, as sha256sum computes it.
    let f = fixtures();
    let rec = record(&f.binary);
    let out = crate::common::run(std::process::Command::new("sha256sum").arg(&f.binary));
    assert_eq!(out.split_whitespace().next(), Some(rec.checksum.as_str()));
    let mtime = fs_err::metadata(&f.binary)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(rec.time_file, mtime);
    assert_eq!(rec.location, "hello-1.2.3-4.test.x86_64.rpm");
}
