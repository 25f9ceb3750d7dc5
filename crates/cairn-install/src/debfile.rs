//! The control file of a `.deb`, read in-process: an `ar` archive whose
//! `control.tar[.gz|.xz|.zst]` member holds `./control`. Reading ~100 packages this way
//! takes a few milliseconds where one `dpkg-deb --field` process per package took most of
//! a second.

use std::io::{BufReader, BufWriter, Read, Seek as _, SeekFrom, Write};
use std::path::Path;

/// One member header of an `ar` archive.
struct Member {
    header: [u8; 60],
    name: String,
    size: u64,
}

/// Open `path` and check the `ar` magic.
fn open_ar(path: &Path) -> Result<BufReader<fs_err::File>, String> {
    let file = fs_err::File::open(path).map_err(|e| e.to_string())?;
    let mut f = BufReader::with_capacity(1 << 16, file);
    let mut magic = [0u8; 8];
    f.read_exact(&mut magic)
        .map_err(|e| format!("reading the ar magic: {e}"))?;
    if &magic != b"!<arch>\n" {
        return Err("not an ar archive (no `!<arch>` magic)".into());
    }
    Ok(f)
}

/// The next member's header, `None` at the end of the archive.
fn next_member(f: &mut impl Read) -> Result<Option<Member>, String> {
    let mut header = [0u8; 60];
    match f.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(format!("reading an ar member header: {e}")),
    }
    if &header[58..60] != b"`\n" {
        return Err("a malformed ar member header".into());
    }
    let name = std::str::from_utf8(&header[..16])
        .map_err(|_| "an ar member name that is not UTF-8".to_string())?
        .trim_end()
        .trim_end_matches('/')
        .to_owned();
    let size: u64 = std::str::from_utf8(&header[48..58])
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| format!("ar member `{name}` has a malformed size"))?;
    Ok(Some(Member { header, name, size }))
}

/// A reader decompressing a `*.tar{compression}` member.
fn decoder<'a>(
    name: &str,
    compression: &str,
    member: impl Read + 'a,
) -> Result<Box<dyn Read + 'a>, String> {
    Ok(match compression {
        "" => Box::new(member),
        ".gz" => Box::new(flate2::read::GzDecoder::new(member)),
        ".xz" => Box::new(xz2::read::XzDecoder::new(member)),
        ".zst" => {
            Box::new(zstd::stream::read::Decoder::new(member).map_err(|e| format!("{name}: {e}"))?)
        }
        ".bz2" => Box::new(bzip2::read::BzDecoder::new(member)),
        other => {
            return Err(format!(
                "{name}: unsupported compression {other} (expected none, .gz, .xz, .zst or .bz2)"
            ));
        }
    })
}

/// Skip a member's data and its padding to an even size.
fn skip(f: &mut impl Read, m: &Member) -> Result<(), String> {
    let n = m.size + m.size % 2;
    let skipped = std::io::copy(&mut f.take(n), &mut std::io::sink())
        .map_err(|e| format!("skipping ar member `{}`: {e}", m.name))?;
    if skipped != n {
        return Err(format!("ar member `{}` is truncated", m.name));
    }
    Ok(())
}

/// The text of `path`'s control file, or what is wrong with the package.
pub(crate) fn control(path: &Path) -> Result<String, String> {
    let mut f = open_ar(path)?;
    while let Some(m) = next_member(&mut f)? {
        let Some(compression) = m.name.strip_prefix("control.tar") else {
            skip(&mut f, &m)?;
            continue;
        };
        let name = &m.name;
        let reader = decoder(name, compression, (&mut f).take(m.size))?;
        let mut tar = tar::Archive::new(reader);
        let entries = tar.entries().map_err(|e| format!("{name}: {e}"))?;
        for entry in entries {
            let mut e = entry.map_err(|e| format!("{name}: {e}"))?;
            let is_control = e
                .path()
                .map(|p| p == Path::new("./control") || p == Path::new("control"))
                .unwrap_or(false);
            if is_control {
                let mut text = String::new();
                e.read_to_string(&mut text)
                    .map_err(|e| format!("{name}: ./control: {e}"))?;
                return Ok(text);
            }
        }
        return Err(format!("{name} has no ./control"));
    }
    Err("no control.tar member".into())
}

/// Write `dst`: the package `src` with its `data.tar` member stored uncompressed and every
/// other member byte for byte. dpkg installs it exactly like the original (dpkg-deb reads
/// an uncompressed `data.tar`) without spending its own, serial, time decompressing; this
/// runs on every core ahead of dpkg. The decompressed tar also goes to `tee` when given,
/// so the same pass can extract it. Returns the size of the data tar.
pub(crate) fn repack_uncompressed(
    src: &Path,
    dst: &Path,
    mut tee: Option<&mut dyn Write>,
) -> Result<u64, String> {
    let mut f = open_ar(src)?;
    let file = fs_err::File::create(dst).map_err(|e| e.to_string())?;
    let mut out = BufWriter::with_capacity(1 << 17, file);
    let werr = |e: std::io::Error| format!("writing {}: {e}", dst.display());
    out.write_all(b"!<arch>\n").map_err(werr)?;
    let mut pos: u64 = 8;
    let mut data_size = None;
    while let Some(m) = next_member(&mut f)? {
        let compression = m.name.strip_prefix("data.tar");
        let Some(compression) = compression.filter(|_| data_size.is_none()) else {
            // copied as it is, padding included
            out.write_all(&m.header).map_err(werr)?;
            let n = m.size + m.size % 2;
            let copied = std::io::copy(&mut (&mut f).take(n), &mut out).map_err(werr)?;
            if copied != n {
                return Err(format!("ar member `{}` is truncated", m.name));
            }
            pos += 60 + n;
            continue;
        };
        let mut header = [b' '; 60];
        header[..8].copy_from_slice(b"data.tar");
        header[16..28].copy_from_slice(&m.header[16..28]); // mtime
        header[28..29].copy_from_slice(b"0");
        header[34..35].copy_from_slice(b"0");
        header[40..46].copy_from_slice(b"100644");
        header[58..60].copy_from_slice(b"`\n");
        out.write_all(&header).map_err(werr)?;
        let mut reader = decoder(&m.name, compression, (&mut f).take(m.size))?;
        let mut buf = vec![0u8; 1 << 17];
        let mut n: u64 = 0;
        loop {
            let k = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("decompressing {}: {e}", m.name)),
            };
            out.write_all(&buf[..k]).map_err(werr)?;
            if let Some(t) = tee.as_mut() {
                t.write_all(&buf[..k])
                    .map_err(|e| format!("passing {} on for extraction: {e}", m.name))?;
            }
            n += k as u64;
        }
        drop(reader);
        // the compressed member's padding, if any
        if m.size % 2 == 1 {
            let mut pad = [0u8; 1];
            f.read_exact(&mut pad)
                .map_err(|e| format!("ar member `{}` is truncated: {e}", m.name))?;
        }
        if n % 2 == 1 {
            out.write_all(b"\n").map_err(werr)?;
        }
        let size = format!("{n:<10}");
        if size.len() != 10 {
            return Err(format!(
                "{}: a data.tar of {n} bytes does not fit ar",
                m.name
            ));
        }
        out.seek(SeekFrom::Start(pos + 48)).map_err(werr)?;
        out.write_all(size.as_bytes()).map_err(werr)?;
        pos += 60 + n + n % 2;
        out.seek(SeekFrom::Start(pos)).map_err(werr)?;
        data_size = Some(n);
    }
    out.flush().map_err(werr)?;
    data_size.ok_or_else(|| "no data.tar member".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Builds a package with the real `dpkg-deb` in every compression it offers, and
    /// checks that we read what `dpkg-deb --field` prints.
    #[test]
    fn reads_what_dpkg_deb_reads() {
        if Command::new("dpkg-deb").arg("--version").output().is_err() {
            panic!("dpkg-deb is needed (Debian package dpkg)");
        }
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("pkg");
        fs_err::create_dir_all(pkg.join("DEBIAN")).unwrap();
        fs_err::create_dir_all(pkg.join("usr/share/doc/t")).unwrap();
        fs_err::write(pkg.join("usr/share/doc/t/README"), "hello\n").unwrap();
        let fields = "Package: t\nVersion: 1:2.0-3\nArchitecture: all\n\
                       Maintainer: Nobody <n@example.org>\nDepends: a (>= 1), b | c\n\
                       Description: test\n a package\n .\n with a long description\n";
        fs_err::write(pkg.join("DEBIAN/control"), fields).unwrap();
        for z in ["none", "gzip", "xz", "zstd"] {
            let deb = dir.path().join(format!("t-{z}.deb"));
            let o = Command::new("dpkg-deb")
                .args(["--root-owner-group", "-Z", z, "--build"])
                .arg(&pkg)
                .arg(&deb)
                .output()
                .unwrap();
            if !o.status.success() && z == "zstd" {
                continue; // a dpkg without zstd support
            }
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let want = Command::new("dpkg-deb")
                .arg("--field")
                .arg(&deb)
                .output()
                .unwrap();
            assert_eq!(
                control(&deb).unwrap(),
                String::from_utf8(want.stdout).unwrap(),
                "{z}"
            );
        }
        // repacked with an uncompressed data.tar: dpkg-deb sees the same package
        for z in ["none", "gzip", "xz", "zstd"] {
            let deb = dir.path().join(format!("t-{z}.deb"));
            if !deb.exists() {
                continue;
            }
            let re = dir.path().join(format!("t-{z}-re.deb"));
            let mut teed = Vec::new();
            let n = repack_uncompressed(&deb, &re, Some(&mut teed)).unwrap();
            let tarfile = |p: &Path| {
                let o = Command::new("dpkg-deb")
                    .arg("--fsys-tarfile")
                    .arg(p)
                    .output()
                    .unwrap();
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                o.stdout
            };
            let want = tarfile(&deb);
            assert_eq!(tarfile(&re), want, "{z}");
            assert_eq!(teed, want, "{z}");
            assert_eq!(n, want.len() as u64);
            let info = |p: &Path| {
                Command::new("dpkg-deb")
                    .arg("--info")
                    .arg(p)
                    .output()
                    .unwrap()
            };
            let (a, b) = (info(&deb), info(&re));
            assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
            // the same control member; only the sizes dpkg-deb prints differ
            let fields = |o: &std::process::Output| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter(|l| !l.contains("bytes"))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            };
            assert_eq!(fields(&a), fields(&b), "{z}");
            let mut f = open_ar(&re).unwrap();
            let mut names = vec![];
            while let Some(m) = next_member(&mut f).unwrap() {
                skip(&mut f, &m).unwrap();
                names.push(m.name);
            }
            assert_eq!(names[0], "debian-binary");
            assert!(names[1].starts_with("control.tar"), "{names:?}");
            assert_eq!(names[2..], ["data.tar"]);
        }
        let e = repack_uncompressed(&junk_path(dir.path()), &dir.path().join("x.deb"), None)
            .unwrap_err();
        assert!(e.contains("ar"), "{e}");
        // not a package, and a truncated one
        let junk = dir.path().join("junk.deb");
        fs_err::write(&junk, "hello").unwrap();
        assert!(control(&junk).unwrap_err().contains("ar"));
        let good = fs_err::read(dir.path().join("t-xz.deb")).unwrap();
        fs_err::write(&junk, &good[..80]).unwrap();
        assert!(control(&junk).is_err());
        assert!(control(&dir.path().join("missing.deb")).is_err());
    }

    fn junk_path(dir: &Path) -> std::path::PathBuf {
        let p = dir.join("not-a-deb");
        fs_err::write(&p, "hello").unwrap();
        p
    }
}
