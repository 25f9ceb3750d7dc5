//! Which kernel modules go into the initrd: the drivers a cloud or virtual machine needs
//! to reach its root disk, the root file system's, and everything they depend on
//! (`modules.dep`) or ask to be loaded with (`modules.softdep`, names resolved through
//! `modules.alias`).

use std::collections::{BTreeMap, BTreeSet};

/// Module paths (relative to `/lib/modules/VERSION`) taken whole: a prefix ending in `/`
/// takes that directory and below, `=dir/` only the directory's own files.
pub const SELECTION: &[&str] = &[
    // disks: virtio, Xen, NVMe (EC2 Nitro, Azure), loop/nbd, AHCI/PIIX/IDE (QEMU, VMware)
    "kernel/drivers/block/",
    "kernel/drivers/ata/",
    "kernel/drivers/nvme/",
    "kernel/drivers/virtio/",
    "kernel/drivers/hv/",
    "kernel/drivers/xen/",
    // SCSI core and the paravirtual adapters (virtio-scsi on GCP, storvsc on Hyper-V,
    // pvscsi on VMware), not the hardware HBA drivers in subdirectories
    "=kernel/drivers/scsi/",
    // LSI Logic SPI/SAS, VMware's other virtual SCSI controllers
    "kernel/drivers/message/fusion/",
    // device-mapper (dm-verity, LVM, crypt)
    "kernel/drivers/md/",
    // the root file system
    "kernel/fs/ext4/",
    "kernel/fs/jbd2/",
    "kernel/fs/mbcache.ko",
    // systemd loads autofs4 as it starts
    "kernel/fs/autofs/",
];

/// The name a module is known by: file name without `.ko[.xz|.zst|.gz]`, `-` as `_`.
pub fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.find(".ko").map_or(file, |i| &file[..i]);
    stem.replace('-', "_")
}

fn selected(path: &str, selection: &[&str]) -> bool {
    selection.iter().any(|s| match s.strip_prefix('=') {
        Some(dir) => path
            .strip_prefix(dir)
            .is_some_and(|rest| !rest.contains('/')),
        None if s.ends_with('/') => path.starts_with(s),
        None => {
            path == *s
                || path
                    .strip_suffix(".xz")
                    .or(path.strip_suffix(".zst"))
                    .or(path.strip_suffix(".gz"))
                    == Some(s)
        }
    })
}

/// The kernel's module indexes as text.
#[derive(Debug, Default)]
pub struct Index {
    /// module path → paths it depends on
    deps: BTreeMap<String, Vec<String>>,
    /// module name → its path
    by_name: BTreeMap<String, String>,
    /// module name → names in its `pre:` and `post:` soft dependencies
    soft: BTreeMap<String, Vec<String>>,
    /// alias → module names
    aliases: BTreeMap<String, Vec<String>>,
}

impl Index {
    /// From the text of `modules.dep`, `modules.softdep` and `modules.alias` (the last
    /// two may be empty).
    pub fn parse(dep: &str, softdep: &str, alias: &str) -> Index {
        let mut ix = Index::default();
        for line in dep.lines() {
            let Some((m, rest)) = line.split_once(':') else {
                continue;
            };
            let m = m.trim().to_owned();
            ix.by_name.insert(module_name(&m), m.clone());
            ix.deps
                .insert(m, rest.split_whitespace().map(str::to_owned).collect());
        }
        for line in softdep.lines() {
            let mut w = line.split_whitespace();
            if w.next() != Some("softdep") {
                continue;
            }
            let Some(m) = w.next() else { continue };
            let names = w
                .filter(|t| !t.ends_with(':'))
                .map(|t| t.replace('-', "_"))
                .collect::<Vec<_>>();
            ix.soft
                .entry(m.replace('-', "_"))
                .or_default()
                .extend(names);
        }
        for line in alias.lines() {
            let mut w = line.split_whitespace();
            if let (Some("alias"), Some(a), Some(m)) = (w.next(), w.next(), w.next()) {
                ix.aliases
                    .entry(a.replace('-', "_"))
                    .or_default()
                    .push(m.replace('-', "_"));
            }
        }
        ix
    }

    /// Every module path `selection` picks, closed under hard and soft dependencies
    /// (soft dependencies that are built in or absent are skipped).
    pub fn closure(&self, selection: &[&str]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut todo: Vec<String> = self
            .deps
            .keys()
            .filter(|p| selected(p, selection))
            .cloned()
            .collect();
        while let Some(p) = todo.pop() {
            if !out.insert(p.clone()) {
                continue;
            }
            if let Some(d) = self.deps.get(&p) {
                todo.extend(d.iter().cloned());
            }
            for s in self.soft.get(&module_name(&p)).into_iter().flatten() {
                let names = match self.by_name.contains_key(s) {
                    true => vec![s.clone()],
                    false => self.aliases.get(s).cloned().unwrap_or_default(),
                };
                todo.extend(names.iter().filter_map(|n| self.by_name.get(n).cloned()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEP: &str = "\
kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/lib/crc16.ko:
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/crypto/crc32c_generic.ko:
kernel/arch/x86/crypto/crc32c-intel.ko:
kernel/drivers/scsi/sd_mod.ko: kernel/drivers/scsi/scsi_mod.ko
kernel/drivers/scsi/scsi_mod.ko:
kernel/drivers/scsi/qla2xxx/qla2xxx.ko: kernel/drivers/scsi/scsi_mod.ko
kernel/sound/core/snd.ko:
";

    #[test]
    fn names_follow_kmod() {
        assert_eq!(
            module_name("kernel/arch/x86/crypto/crc32c-intel.ko"),
            "crc32c_intel"
        );
        assert_eq!(module_name("kernel/fs/ext4/ext4.ko.xz"), "ext4");
        assert_eq!(module_name("kernel/fs/ext4/ext4.ko.zst"), "ext4");
    }

    #[test]
    fn closure_follows_hard_and_soft_dependencies_through_aliases() {
        let ix = Index::parse(
            DEP,
            "# comment\nsoftdep ext4 pre: crypto-crc32c\nsoftdep jbd2 pre: crypto-crc32c post: nothing-here\n",
            "alias crypto-crc32c crc32c_intel\nalias crypto-crc32c crc32c_generic\n",
        );
        let got = ix.closure(&["kernel/fs/ext4/", "=kernel/drivers/scsi/"]);
        let want: BTreeSet<String> = [
            "kernel/fs/ext4/ext4.ko",
            "kernel/lib/crc16.ko",
            "kernel/fs/mbcache.ko",
            "kernel/fs/jbd2/jbd2.ko",
            "kernel/crypto/crc32c_generic.ko",
            "kernel/arch/x86/crypto/crc32c-intel.ko",
            "kernel/drivers/scsi/sd_mod.ko",
            "kernel/drivers/scsi/scsi_mod.ko",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn single_files_match_compressed_names() {
        let ix = Index::parse("kernel/fs/mbcache.ko.xz:\nkernel/fs/other.ko.xz:\n", "", "");
        assert_eq!(
            ix.closure(&["kernel/fs/mbcache.ko"])
                .into_iter()
                .collect::<Vec<_>>(),
            vec!["kernel/fs/mbcache.ko.xz".to_owned()]
        );
    }
}
