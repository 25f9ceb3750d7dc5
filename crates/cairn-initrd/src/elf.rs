//! Just enough of ELF to find what a dynamically linked executable or library needs at
//! run time: its interpreter (`PT_INTERP`), the libraries it names (`DT_NEEDED`) and
//! where it asks to look for them (`DT_RUNPATH`, `DT_RPATH`). 64-bit little-endian only
//! (x86-64, aarch64); anything else is reported as not ELF.

/// What the dynamic loader needs for one file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Dynamic {
    pub interpreter: Option<String>,
    pub needed: Vec<String>,
    /// `DT_RUNPATH`, else `DT_RPATH`, split at `:` (`$ORIGIN` not yet expanded).
    pub search: Vec<String>,
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

fn c_str(b: &[u8], o: usize) -> Option<String> {
    let rest = b.get(o..)?;
    let end = rest.iter().position(|&c| c == 0)?;
    String::from_utf8(rest[..end].to_vec()).ok()
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;

/// Parses `b` (a whole file). `None` when it is not a 64-bit little-endian ELF file;
/// `Some` with nothing in it for a static executable.
pub fn parse(b: &[u8]) -> Option<Dynamic> {
    if b.get(..4)? != b"\x7fELF" || *b.get(4)? != 2 || *b.get(5)? != 1 {
        return None;
    }
    let phoff = usize::try_from(u64_at(b, 0x20)?).ok()?;
    let phentsize = usize::from(u16_at(b, 0x36)?);
    let phnum = usize::from(u16_at(b, 0x38)?);
    let mut out = Dynamic::default();
    // (vaddr, offset, filesz) of PT_LOAD segments, to map DT_STRTAB's address
    let mut loads = Vec::new();
    let mut dynamic = None;
    for i in 0..phnum {
        let p = phoff.checked_add(i.checked_mul(phentsize)?)?;
        let kind = u32_at(b, p)?;
        let offset = u64_at(b, p + 8)?;
        let vaddr = u64_at(b, p + 16)?;
        let filesz = u64_at(b, p + 32)?;
        match kind {
            PT_LOAD => loads.push((vaddr, offset, filesz)),
            PT_DYNAMIC => dynamic = Some((offset, filesz)),
            PT_INTERP => out.interpreter = c_str(b, usize::try_from(offset).ok()?),
            _ => {}
        }
    }
    let Some((dyn_off, dyn_size)) = dynamic else {
        return Some(out);
    };
    let mut entries = Vec::new();
    let mut strtab = None;
    let mut o = usize::try_from(dyn_off).ok()?;
    let end = o.checked_add(usize::try_from(dyn_size).ok()?)?;
    while o + 16 <= end {
        let tag = u64_at(b, o)?;
        let val = u64_at(b, o + 8)?;
        o += 16;
        match tag {
            DT_NULL => break,
            DT_STRTAB => strtab = Some(val),
            DT_NEEDED | DT_RPATH | DT_RUNPATH => entries.push((tag, val)),
            _ => {}
        }
    }
    let strtab_addr = strtab?;
    let strtab_off = loads
        .iter()
        .find(|(va, _, sz)| strtab_addr >= *va && strtab_addr < va + sz)
        .map(|(va, off, _)| strtab_addr - va + off)?;
    let (mut runpath, mut rpath) = (None, None);
    for (tag, val) in entries {
        let s = c_str(b, usize::try_from(strtab_off.checked_add(val)?).ok()?)?;
        match tag {
            DT_NEEDED => out.needed.push(s),
            DT_RUNPATH => runpath = Some(s),
            _ => rpath = Some(s),
        }
    }
    if let Some(p) = runpath.or(rpath) {
        out.search = p
            .split(':')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_real_dynamic_executable() {
        // the test binary itself is a dynamically linked ELF built for this host
        let exe = std::env::current_exe().unwrap();
        let d = parse(&fs_err::read(exe).unwrap()).expect("ELF");
        assert!(
            d.interpreter
                .as_deref()
                .is_some_and(|i| i.contains("ld-linux")),
            "{d:?}"
        );
        assert!(d.needed.iter().any(|n| n.starts_with("libc.so")), "{d:?}");
    }

    #[test]
    fn not_elf_and_truncated_input_are_none() {
        assert_eq!(parse(b"#!/bin/sh\n"), None);
        assert_eq!(parse(b"\x7fELF\x02\x01"), None);
        let exe = fs_err::read(std::env::current_exe().unwrap()).unwrap();
        // cut inside the program headers
        assert_eq!(parse(&exe[..0x50]), None);
    }
}
