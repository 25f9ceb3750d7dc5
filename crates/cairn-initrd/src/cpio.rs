//! The `newc` cpio format the kernel unpacks an initramfs from: entries in the order
//! given, owner root, one fixed modification time, inode numbers counted from 1.

use std::io::{self, Write};

/// What one archive entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind<'a> {
    Dir,
    /// A regular file with its content.
    File(&'a [u8]),
    /// A symbolic link to the target.
    Symlink(&'a str),
}

/// Writes entries one by one, then [`Writer::finish`] adds the trailer.
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
    ino: u32,
    mtime: u32,
    written: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W, mtime: u64) -> Self {
        Writer {
            out,
            ino: 0,
            // newc has 32 bits of time; clamp rather than wrap
            mtime: u32::try_from(mtime).unwrap_or(u32::MAX),
            written: 0,
        }
    }

    /// Adds `path` (relative, no leading `/`) with the permission bits `perm`.
    pub fn entry(&mut self, path: &str, perm: u32, kind: &Kind<'_>) -> io::Result<()> {
        let (fmt, data): (u32, &[u8]) = match kind {
            Kind::Dir => (0o040000, &[]),
            Kind::File(d) => (0o100000, d),
            Kind::Symlink(t) => (0o120000, t.as_bytes()),
        };
        self.ino += 1;
        let nlink = if matches!(kind, Kind::Dir) { 2 } else { 1 };
        self.header(self.ino, fmt | (perm & 0o7777), nlink, data.len(), path)?;
        self.put(data)?;
        self.pad()
    }

    fn header(
        &mut self,
        ino: u32,
        mode: u32,
        nlink: u32,
        size: usize,
        name: &str,
    ) -> io::Result<()> {
        let size = u32::try_from(size)
            .map_err(|_| io::Error::other(format!("{name}: larger than cpio's 4 GiB limit")))?;
        let namesize =
            u32::try_from(name.len() + 1).map_err(|_| io::Error::other("name too long"))?;
        let h = format!(
            "070701{ino:08X}{mode:08X}{:08X}{:08X}{nlink:08X}{:08X}{size:08X}{:08X}{:08X}{:08X}{:08X}{namesize:08X}{:08X}",
            0, 0, self.mtime, 0, 0, 0, 0, 0
        );
        self.put(h.as_bytes())?;
        self.put(name.as_bytes())?;
        self.put(&[0])?;
        self.pad()
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.out.write_all(b)?;
        self.written += b.len() as u64;
        Ok(())
    }

    fn pad(&mut self) -> io::Result<()> {
        let n = (4 - (self.written % 4) as usize) % 4;
        self.put(&[0; 3][..n])
    }

    /// Writes the trailer and returns the output and the archive's size.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.header(0, 0, 1, 0, "TRAILER!!!")?;
        Ok((self.out, self.written))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_and_padding() {
        let mut w = Writer::new(Vec::new(), 1_700_000_000);
        w.entry("a", 0o644, &Kind::File(b"xyz")).unwrap();
        let (out, n) = w.finish().unwrap();
        assert_eq!(n, out.len() as u64);
        // 110-byte header, "a\0" padded to 112, 3 bytes of data padded to 4
        assert_eq!(&out[..6], b"070701");
        assert_eq!(&out[6..14], b"00000001");
        assert_eq!(&out[14..22], b"000081A4");
        assert_eq!(&out[46..54], format!("{:08X}", 1_700_000_000).as_bytes());
        assert_eq!(&out[110..112], b"a\0");
        assert_eq!(&out[112..115], b"xyz");
        assert_eq!(out[115], 0);
        assert_eq!(&out[116..122], b"070701");
        assert!(out.ends_with(b"TRAILER!!!\0\0\0\0") || out.ends_with(b"TRAILER!!!\0"));
        assert_eq!(out.len() % 4, 0);
    }
}
