//! Just enough ELF to read a shared object's `DT_SONAME`, class and machine, with
//! positioned reads (no whole-file loads): what rpm's elfdeps turns into
//! `libz.so.1()(64bit)` provides.

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

/// What [`read_soname`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SharedObject {
    pub soname: String,
    pub elf64: bool,
    pub machine: u16,
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const DT_NULL: u64 = 0;
const DT_STRTAB: u64 = 5;
const DT_SONAME: u64 = 14;
const ET_DYN: u16 = 3;

struct Reader<'a> {
    file: &'a File,
    big_endian: bool,
}

impl Reader<'_> {
    fn bytes(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
        let mut buf = vec![0; len];
        self.file.read_exact_at(&mut buf, offset).ok()?;
        Some(buf)
    }
    fn num(&self, b: &[u8], at: usize, size: usize) -> Option<u64> {
        let s = b.get(at..at + size)?;
        let mut v = 0u64;
        if self.big_endian {
            for &x in s {
                v = (v << 8) | u64::from(x);
            }
        } else {
            for &x in s.iter().rev() {
                v = (v << 8) | u64::from(x);
            }
        }
        Some(v)
    }
}

/// The SONAME of the ELF shared object at `path`; `None` when it is not an ELF shared
/// object or has no SONAME.
pub(crate) fn read_soname(path: &Path) -> Option<SharedObject> {
    let file = fs_err::File::open(path).ok()?.into_parts().0;
    let mut r = Reader {
        file: &file,
        big_endian: false,
    };
    let ident = r.bytes(0, 64).or_else(|| r.bytes(0, 52))?;
    if &ident[..4] != b"\x7fELF" {
        return None;
    }
    let elf64 = match ident[4] {
        1 => false,
        2 => true,
        _ => return None,
    };
    r.big_endian = ident[5] == 2;
    let e_type = r.num(&ident, 16, 2)? as u16;
    let machine = r.num(&ident, 18, 2)? as u16;
    if e_type != ET_DYN {
        return None;
    }
    let w = if elf64 { 8 } else { 4 };
    let (phoff, phentsize, phnum) = if elf64 {
        (
            r.num(&ident, 32, 8)?,
            r.num(&ident, 54, 2)?,
            r.num(&ident, 56, 2)?,
        )
    } else {
        (
            r.num(&ident, 28, 4)?,
            r.num(&ident, 42, 2)?,
            r.num(&ident, 44, 2)?,
        )
    };
    if phnum == 0 || phnum > 512 || phentsize < if elf64 { 56 } else { 32 } {
        return None;
    }
    let table = r.bytes(phoff, usize::try_from(phentsize * phnum).ok()?)?;
    let mut loads = Vec::new();
    let mut dynamic = None;
    for i in 0..phnum as usize {
        let h = &table[i * phentsize as usize..];
        let p_type = r.num(h, 0, 4)? as u32;
        let (offset, vaddr, filesz) = if elf64 {
            (r.num(h, 8, 8)?, r.num(h, 16, 8)?, r.num(h, 32, 8)?)
        } else {
            (r.num(h, 4, 4)?, r.num(h, 8, 4)?, r.num(h, 16, 4)?)
        };
        match p_type {
            PT_LOAD => loads.push((vaddr, offset, filesz)),
            PT_DYNAMIC => dynamic = Some((offset, filesz)),
            _ => {}
        }
    }
    let (dyn_off, dyn_size) = dynamic?;
    if dyn_size > 1 << 20 {
        return None;
    }
    let dynamic = r.bytes(dyn_off, usize::try_from(dyn_size).ok()?)?;
    let (mut strtab, mut soname) = (None, None);
    for entry in dynamic.chunks_exact(2 * w) {
        let tag = r.num(entry, 0, w)?;
        let val = r.num(entry, w, w)?;
        match tag {
            DT_NULL => break,
            DT_STRTAB => strtab = Some(val),
            DT_SONAME => soname = Some(val),
            _ => {}
        }
    }
    let (strtab, soname) = (strtab?, soname?);
    let file_off = loads
        .iter()
        .find(|(vaddr, _, filesz)| strtab >= *vaddr && strtab < vaddr + filesz)
        .map(|(vaddr, offset, _)| strtab - vaddr + offset)?;
    let mut name = Vec::new();
    let mut at = file_off.checked_add(soname)?;
    'read: while name.len() < 4096 {
        let mut chunk = [0u8; 128];
        let n = file.read_at(&mut chunk, at).ok()?;
        if n == 0 {
            return None;
        }
        for &b in &chunk[..n] {
            if b == 0 {
                break 'read;
            }
            name.push(b);
        }
        at += n as u64;
    }
    let soname = String::from_utf8(name).ok().filter(|s| !s.is_empty())?;
    Some(SharedObject {
        soname,
        elf64,
        machine,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_c_library_names_itself() {
        // every glibc host has it under one of these names
        let found = [
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
            "/lib64/libc.so.6",
            "/usr/lib64/libc.so.6",
            "/lib/aarch64-linux-gnu/libc.so.6",
        ]
        .iter()
        .find_map(|p| read_soname(Path::new(p)))
        .expect("no libc.so.6 on this host");
        assert_eq!(found.soname, "libc.so.6");
    }

    #[test]
    fn non_elf_and_executables_have_no_soname() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.so.1");
        fs_err::write(&p, b"INPUT(-lc)\n").unwrap();
        assert_eq!(read_soname(&p), None);
        assert_eq!(read_soname(Path::new("/bin/sh")).map(|s| s.soname), None);
    }
}
