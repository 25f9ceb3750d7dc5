//! The raw disk: layout, partition table, and the pieces put together in one file.

use crate::esp::{self, EspFile};
use crate::ext4;
use crate::gpt::{self, GptPartition, SECTOR};
use crate::grub;
use crate::ids::{DiskIds, Guid};
use crate::tools;
use crate::{DiskError, TYPE_BIOS_BOOT, TYPE_ESP, TYPE_LINUX_ROOT_X86_64};
use serde::Serialize;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};

const MIB: u64 = 1 << 20;
/// Smallest ESP that mtools formats as FAT32 (65525 clusters plus FATs).
const MIN_ESP: u64 = 36 * MIB;
const MIN_ROOT: u64 = 32 * MIB;
const BIOS_BOOT_SIZE: u64 = MIB;

/// Which firmware the disk boots with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BootFlags {
    /// Legacy BIOS: boot.img in the MBR, core.img in a BIOS boot partition.
    pub bios: bool,
    /// UEFI: `EFI/BOOT/BOOTX64.EFI` on the ESP.
    pub uefi: bool,
}

impl Default for BootFlags {
    fn default() -> Self {
        BootFlags {
            bios: true,
            uefi: true,
        }
    }
}

/// How big the root filesystem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootSize {
    /// The tree's content plus a generous margin (20 % plus inode tables, journal and
    /// 5 % reserved blocks; at least 128 MiB).
    Auto,
    /// Exactly this many bytes (rounded up to whole MiB).
    Exact(u64),
}

/// Partition sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sizes {
    /// Size of the ESP in bytes (rounded up to whole MiB, at least 36 MiB); default 64 MiB.
    pub esp: u64,
    /// Size of the root filesystem.
    pub root: RootSize,
    /// Free space added to the root filesystem on top of `root`, in bytes.
    pub extra_free: u64,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            esp: 64 * MIB,
            root: RootSize::Auto,
            extra_free: 0,
        }
    }
}

/// What to build. Create it with [`RawSpec::new`] and adjust the public fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RawSpec {
    /// Identifiers of the disk; use the same [`DiskIds`] that produced the root's fstab.
    pub ids: DiskIds,
    /// The prepared root tree (owners, modes, xattrs as they must appear; mtimes
    /// clamped; times later than `source_date_epoch` are clamped again).
    pub root_dir: PathBuf,
    /// Every timestamp written into the disk.
    pub source_date_epoch: u64,
    /// The kernel, relative to the root, e.g. `boot/vmlinuz-6.1.0-28-amd64`.
    pub kernel: PathBuf,
    /// The initrd, relative to the root.
    pub initrd: Option<PathBuf>,
    /// Kernel arguments after `root=UUID=… ro`, e.g. `console=ttyS0,115200`.
    pub cmdline: String,
    /// Firmware to support.
    pub boot: BootFlags,
    /// Partition sizes.
    pub sizes: Sizes,
    /// Title of the GRUB menu entry.
    pub menu_title: String,
    /// GRUB menu timeout in seconds.
    pub grub_timeout_secs: u32,
    /// Extra lines for grub.cfg, placed after the root filesystem has been found (as
    /// `$root`) and before the menu entry.
    pub grub_extra: Option<String>,
    /// GRUB's library directory holding `i386-pc/` and `x86_64-efi/`.
    pub grub_lib_dir: PathBuf,
}

impl RawSpec {
    /// A spec with defaults: BIOS and UEFI, 64 MiB ESP, automatic root size, no extra
    /// kernel arguments, menu title `cairn`, timeout 1 s, GRUB from `/usr/lib/grub`.
    pub fn new(
        ids: DiskIds,
        root_dir: impl Into<PathBuf>,
        kernel: impl Into<PathBuf>,
        initrd: Option<PathBuf>,
        source_date_epoch: u64,
    ) -> RawSpec {
        RawSpec {
            ids,
            root_dir: root_dir.into(),
            source_date_epoch,
            kernel: kernel.into(),
            initrd,
            cmdline: String::new(),
            boot: BootFlags::default(),
            sizes: Sizes::default(),
            menu_title: "cairn".into(),
            grub_timeout_secs: 1,
            grub_extra: None,
            grub_lib_dir: PathBuf::from("/usr/lib/grub"),
        }
    }
}

/// One partition of the built disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionInfo {
    /// 1-based partition number.
    pub number: u32,
    /// GPT partition name.
    pub name: String,
    /// Partition type GUID.
    pub type_guid: Guid,
    /// Unique partition GUID.
    pub partition_guid: Guid,
    /// `ext4`, `vfat`, or none (BIOS boot partition).
    pub filesystem: Option<String>,
    /// Filesystem UUID or FAT serial (`ABCD-1234`).
    pub fs_id: Option<String>,
    /// First sector (512 bytes).
    pub start_lba: u64,
    /// Size in bytes.
    pub size: u64,
}

/// What [`build_raw`] produced, for the build summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawInfo {
    /// Size of the disk in bytes (a whole number of MiB).
    pub size: u64,
    /// GPT disk GUID.
    pub disk_guid: Guid,
    /// Partitions in table order.
    pub partitions: Vec<PartitionInfo>,
    /// Firmware the disk boots with.
    pub boot: BootFlags,
}

/// Progress of a build, for a caller that draws it.
pub trait Progress {
    /// A step starts, e.g. `populating root filesystem`.
    fn step(&self, step: &str);
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn step(&self, _step: &str) {}
}

/// Builds a bootable raw disk at `out` from `spec`.
pub fn build_raw(spec: &RawSpec, out: &Path) -> Result<RawInfo, DiskError> {
    build_raw_with_progress(spec, out, &NoProgress)
}

fn invalid(field: &'static str, reason: impl Into<String>) -> DiskError {
    DiskError::InvalidSpec {
        field,
        reason: reason.into(),
    }
}

/// Checks a boot file path and returns it as GRUB sees it (`/boot/...`).
fn boot_path(root: &Path, rel: &Path, what: &'static str) -> Result<String, DiskError> {
    let field = if what == "kernel" { "kernel" } else { "initrd" };
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(s) => {
                let s = s
                    .to_str()
                    .ok_or_else(|| invalid(field, "path is not UTF-8"))?;
                if !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._+~@=,:-".contains(c))
                {
                    return Err(invalid(
                        field,
                        format!(
                            "`{}` has characters GRUB would need quoted; use letters, digits and ._+~@=,:-",
                            rel.display()
                        ),
                    ));
                }
                parts.push(s);
            }
            _ => {
                return Err(invalid(
                    field,
                    format!(
                        "`{}` must be a plain path relative to the root (no `/`, `.`, `..` components)",
                        rel.display()
                    ),
                ));
            }
        }
    }
    if parts.is_empty() {
        return Err(invalid(field, "the path is empty"));
    }
    if ext4::resolve_in_root(root, rel).is_none() {
        return Err(DiskError::MissingBootFile {
            what,
            rel: rel.to_path_buf(),
            path: root.join(rel),
        });
    }
    Ok(format!("/{}", parts.join("/")))
}

fn one_line(field: &'static str, s: &str) -> Result<(), DiskError> {
    if s.contains(['\n', '\r']) {
        return Err(invalid(field, "must be a single line"));
    }
    Ok(())
}

struct Layout {
    bios: Option<(u64, u64)>,
    esp: (u64, u64),
    root: (u64, u64),
    total_sectors: u64,
}

/// Partitions at 1 MiB alignment: [BIOS boot 1 MiB], ESP, root; 1 MiB at the end for the
/// backup GPT. Values are (start LBA, sectors).
fn layout(bios: bool, esp_bytes: u64, root_bytes: u64) -> Layout {
    let mut lba = MIB / SECTOR;
    let bios = bios.then(|| {
        let p = (lba, BIOS_BOOT_SIZE / SECTOR);
        lba += p.1;
        p
    });
    let esp = (lba, esp_bytes / SECTOR);
    lba += esp.1;
    let root = (lba, root_bytes / SECTOR);
    lba += root.1;
    Layout {
        bios,
        esp,
        root,
        total_sectors: lba + MIB / SECTOR,
    }
}

fn write_at(f: &mut fs_err::File, offset: u64, data: &[u8]) -> Result<(), DiskError> {
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(data)?;
    Ok(())
}

/// [`build_raw`], reporting steps to `progress`.
pub fn build_raw_with_progress(
    spec: &RawSpec,
    out: &Path,
    progress: &dyn Progress,
) -> Result<RawInfo, DiskError> {
    let sde = spec.source_date_epoch;
    if !spec.boot.bios && !spec.boot.uefi {
        return Err(invalid("boot", "enable at least one of bios and uefi"));
    }
    let esp_bytes = spec.sizes.esp.div_ceil(MIB) * MIB;
    if esp_bytes < MIN_ESP {
        return Err(invalid(
            "sizes.esp",
            format!(
                "{} bytes is too small for FAT32; use at least 36 MiB",
                spec.sizes.esp
            ),
        ));
    }
    one_line("cmdline", &spec.cmdline)?;
    one_line("menu_title", &spec.menu_title)?;
    let root_dir = fs_err::canonicalize(&spec.root_dir)?;
    let kernel = boot_path(&root_dir, &spec.kernel, "kernel")?;
    let initrd = match &spec.initrd {
        Some(p) => Some(boot_path(&root_dir, p, "initrd")?),
        None => None,
    };
    // Fail early, before the long steps, when something is not installed.
    for t in [
        &tools::MKFS_EXT4,
        &tools::DEBUGFS,
        &tools::E2FSCK,
        &tools::MFORMAT,
        &tools::MMD,
        &tools::MCOPY,
        &tools::GRUB_MKIMAGE,
    ] {
        tools::find(t)?;
    }
    let bios_dir = match spec.boot.bios {
        true => Some(grub::module_dir(&spec.grub_lib_dir, "i386-pc")?),
        false => None,
    };
    let efi_dir = match spec.boot.uefi {
        true => Some(grub::module_dir(&spec.grub_lib_dir, "x86_64-efi")?),
        false => None,
    };

    progress.step("scanning root tree");
    let tree = ext4::scan(&root_dir, sde)?;
    let base = match spec.sizes.root {
        RootSize::Auto => ext4::auto_size(&tree),
        RootSize::Exact(b) => b,
    };
    let root_bytes = (base + spec.sizes.extra_free).div_ceil(MIB) * MIB;
    if root_bytes < MIN_ROOT {
        return Err(invalid(
            "sizes.root",
            format!("{root_bytes} bytes is too small; use at least 32 MiB"),
        ));
    }
    let lay = layout(spec.boot.bios, esp_bytes, root_bytes);

    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let parent = fs_err::canonicalize(parent)?;
    let out_abs = parent.join(
        out.file_name()
            .ok_or_else(|| invalid("out", format!("`{}` does not name a file", out.display())))?,
    );
    let work = tempfile::Builder::new()
        .prefix(".cairn-disk-")
        .tempdir_in(&parent)
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "creating a temporary directory in {}: {e}",
                    parent.display()
                ),
            )
        })?;
    let w = work.path();
    std::os::unix::fs::symlink(&out_abs, w.join("d"))
        .map_err(|e| std::io::Error::new(e.kind(), format!("symlink in {}: {e}", w.display())))?;
    std::os::unix::fs::symlink(&root_dir, w.join("r"))
        .map_err(|e| std::io::Error::new(e.kind(), format!("symlink in {}: {e}", w.display())))?;

    progress.step("writing partition table");
    let ids = &spec.ids;
    let mut parts = Vec::new();
    let mut infos = Vec::new();
    let mut push = |name: &str,
                    type_guid: Guid,
                    guid: Guid,
                    (start, len): (u64, u64),
                    fs: Option<(&str, String)>| {
        parts.push(GptPartition {
            type_guid,
            guid,
            first_lba: start,
            last_lba: start + len - 1,
            attributes: 0,
            name: name.to_string(),
        });
        infos.push(PartitionInfo {
            number: infos.len() as u32 + 1,
            name: name.to_string(),
            type_guid,
            partition_guid: guid,
            filesystem: fs.as_ref().map(|f| f.0.to_string()),
            fs_id: fs.map(|f| f.1),
            start_lba: start,
            size: len * SECTOR,
        });
    };
    if let Some(b) = lay.bios {
        push(
            "bios-boot",
            TYPE_BIOS_BOOT,
            ids.bios_boot_partition,
            b,
            None,
        );
    }
    push(
        "esp",
        TYPE_ESP,
        ids.esp_partition,
        lay.esp,
        Some(("vfat", ids.esp_serial_string())),
    );
    push(
        "root-x86-64",
        TYPE_LINUX_ROOT_X86_64,
        ids.root_partition,
        lay.root,
        Some(("ext4", ids.root_fs_uuid.to_string())),
    );
    let table = gpt::build(ids.disk, lay.total_sectors, &parts);

    let mut file = fs_err::File::create(&out_abs)?;
    file.set_len(lay.total_sectors * SECTOR)?;
    write_at(&mut file, 0, &table.mbr)?;
    write_at(&mut file, SECTOR, &table.primary_header)?;
    write_at(&mut file, 2 * SECTOR, &table.entries)?;
    write_at(&mut file, table.backup_entries_lba * SECTOR, &table.entries)?;
    write_at(&mut file, table.last_lba * SECTOR, &table.backup_header)?;

    progress.step("making GRUB images");
    let early = w.join("early.cfg");
    fs_err::write(&early, grub::early_config(ids))?;
    let cfg = w.join("grub.cfg");
    fs_err::write(
        &cfg,
        grub::grub_cfg(&grub::MenuConfig {
            ids,
            title: &spec.menu_title,
            kernel: &kernel,
            initrd: initrd.as_deref(),
            cmdline: &spec.cmdline,
            timeout_secs: spec.grub_timeout_secs,
            extra: spec.grub_extra.as_deref(),
        }),
    )?;
    let core_path = w.join("core.img");
    if let Some(dir) = &bios_dir {
        grub::mkimage(dir, "i386-pc", &early, &core_path)?;
    }
    let efi_path = w.join("BOOTX64.EFI");
    if let Some(dir) = &efi_dir {
        grub::mkimage(dir, "x86_64-efi", &early, &efi_path)?;
    }

    progress.step("writing EFI System Partition");
    let cfg_target = format!("{}/grub.cfg", grub::ESP_GRUB_DIR);
    let mut files = vec![EspFile {
        path: &cfg_target,
        source: &cfg,
    }];
    if efi_dir.is_some() {
        files.push(EspFile {
            path: "EFI/BOOT/BOOTX64.EFI",
            source: &efi_path,
        });
    }
    esp::make(w, "d", lay.esp.0, lay.esp.1, ids.esp_serial, &files, sde)?;

    progress.step("populating root filesystem");
    ext4::make(w, "d", lay.root.0 * SECTOR, root_bytes, ids, &tree, sde)?;

    if let Some((start, len)) = lay.bios {
        progress.step("installing GRUB for BIOS");
        let core = fs_err::read(&core_path)?;
        let placed = grub::place_core(&core, &core_path, start, len * SECTOR)?;
        write_at(&mut file, start * SECTOR, &placed)?;
        let boot_path = bios_dir
            .as_ref()
            .map(|d| d.join("boot.img"))
            .unwrap_or_default();
        let boot_img = fs_err::read(&boot_path)?;
        let sector0 = grub::boot_sector(&boot_img, &boot_path, &table.mbr, start)?;
        write_at(&mut file, 0, &sector0)?;
    }
    file.sync_all()?;
    drop(file);
    let work_path = w.to_path_buf();
    work.close().map_err(|e| {
        std::io::Error::new(e.kind(), format!("removing {}: {e}", work_path.display()))
    })?;

    Ok(RawInfo {
        size: lay.total_sectors * SECTOR,
        disk_guid: ids.disk,
        partitions: infos,
        boot: spec.boot,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_mib_aligned_with_room_for_backup_gpt() {
        for bios in [true, false] {
            let l = layout(bios, 64 * MIB, 300 * MIB);
            let mut parts = vec![l.esp, l.root];
            if let Some(b) = l.bios {
                assert_eq!(b, (2048, 2048));
                parts.insert(0, b);
            }
            assert_eq!(parts[0].0, 2048);
            for w in parts.windows(2) {
                assert_eq!(w[0].0 + w[0].1, w[1].0);
            }
            for p in &parts {
                assert_eq!(p.0 % 2048, 0);
            }
            let end = l.root.0 + l.root.1;
            assert!(end - 1 <= gpt::last_usable_lba(l.total_sectors));
            assert_eq!(l.total_sectors % 2048, 0);
        }
    }

    #[test]
    fn boot_paths_are_checked() {
        let d = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(d.path().join("boot")).unwrap();
        fs_err::write(d.path().join("boot/vmlinuz-6.1"), b"x").unwrap();
        assert_eq!(
            boot_path(d.path(), Path::new("boot/vmlinuz-6.1"), "kernel").unwrap(),
            "/boot/vmlinuz-6.1"
        );
        let e = boot_path(d.path(), Path::new("boot/initrd.img"), "initrd").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("initrd") && msg.contains("boot/initrd.img"),
            "{msg}"
        );
        assert!(matches!(e, DiskError::MissingBootFile { .. }));
        for bad in [
            "/boot/vmlinuz-6.1",
            "boot/../boot/vmlinuz-6.1",
            "boot/vm linuz",
        ] {
            assert!(
                matches!(
                    boot_path(d.path(), Path::new(bad), "kernel"),
                    Err(DiskError::InvalidSpec { .. })
                ),
                "{bad}"
            );
        }
    }
}
