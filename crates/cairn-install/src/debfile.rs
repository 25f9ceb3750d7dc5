//! The control file of a `.deb`, read in-process: an `ar` archive whose
//! `control.tar[.gz|.xz|.zst]` member holds `./control`. Reading ~100 packages this way
//! takes a few milliseconds where one `dpkg-deb --field` process per package took most of
//! a second.

use std::io::{BufReader, Read};
use std::path::Path;

/// The text of `path`'s control file, or what is wrong with the package.
pub(crate) fn control(path: &Path) -> Result<String, String> {
    let file = fs_err::File::open(path).map_err(|e| e.to_string())?;
    let mut f = BufReader::new(file);
    let mut magic = [0u8; 8];
    f.read_exact(&mut magic)
        .map_err(|e| format!("reading the ar magic: {e}"))?;
    if &magic != b"!<arch>\n" {
        return Err("not an ar archive (no `!<arch>` magic)".into());
    }
    loop {
        let mut hdr = [0u8; 60];
        match f.read_exact(&mut hdr) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err("no control.tar member".into());
            }
            Err(e) => return Err(format!("reading an ar member header: {e}")),
        }
        if &hdr[58..60] != b"`\n" {
            return Err("a malformed ar member header".into());
        }
        let name = std::str::from_utf8(&hdr[..16])
            .map_err(|_| "an ar member name that is not UTF-8".to_string())?
            .trim_end()
            .trim_end_matches('/');
        let size: u64 = std::str::from_utf8(&hdr[48..58])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| format!("ar member `{name}` has a malformed size"))?;
        if let Some(compression) = name.strip_prefix("control.tar") {
            let member = (&mut f).take(size);
            let reader: Box<dyn Read + '_> = match compression {
                "" => Box::new(member),
                ".gz" => Box::new(flate2::read::GzDecoder::new(member)),
                ".xz" => Box::new(xz2::read::XzDecoder::new(member)),
                ".zst" => Box::new(
                    zstd::stream::read::Decoder::new(member)
                        .map_err(|e| format!("control.tar.zst: {e}"))?,
                ),
                other => {
                    return Err(format!(
                        "control.tar{other}: unsupported compression (expected none, .gz, .xz or .zst)"
                    ));
                }
            };
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
        // members are padded to an even size
        let skip = size + size % 2;
        let skipped = std::io::copy(&mut (&mut f).take(skip), &mut std::io::sink())
            .map_err(|e| format!("skipping ar member `{name}`: {e}"))?;
        if skipped != skip {
            return Err(format!("ar member `{name}` is truncated"));
        }
    }
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
        // not a package, and a truncated one
        let junk = dir.path().join("junk.deb");
        fs_err::write(&junk, "hello").unwrap();
        assert!(control(&junk).unwrap_err().contains("ar"));
        let good = fs_err::read(dir.path().join("t-xz.deb")).unwrap();
        fs_err::write(&junk, &good[..80]).unwrap();
        assert!(control(&junk).is_err());
        assert!(control(&dir.path().join("missing.deb")).is_err());
    }
}
