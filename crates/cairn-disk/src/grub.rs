//! GRUB for legacy BIOS and UEFI, set up without `grub-install`.
//!
//! Both images come from `grub-mkimage` with every module they need built in and the
//! same embedded early config: find the ESP by its FAT serial and read `/grub/grub.cfg`
//! from it. For BIOS, this module does what `grub-bios-setup` does for a GPT disk with a
//! BIOS boot partition (GRUB 2.06 `util/setup.c`, without Reed-Solomon codes):
//! - sector 0 becomes GRUB's `boot.img`, keeping the protective MBR's BPB area
//!   (0x03..0x5a) and its disk signature and partition table (0x1b8..0x1fe); the
//!   "kernel sector" field (0x5c, u64) points at the first sector of core.img, the boot
//!   drive byte (0x64) is 0xff and the floppy check jump (0x66) becomes two NOPs;
//! - core.img goes to the start of the BIOS boot partition; the blocklist at the end of
//!   its first sector (diskboot.img: u64 start, u16 sectors, u16 segment) names the rest
//!   of core.img: start + 1, sectors - 1, segment 0x820; the entry below it is zeroed as
//!   the terminator.

use crate::DiskError;
use crate::ids::DiskIds;
use crate::tools::{self, GRUB_MKIMAGE};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Modules built into both images.
const COMMON_MODULES: &[&str] = &[
    "part_gpt",
    "fat",
    "ext2",
    "normal",
    "linux",
    "search",
    "search_fs_uuid",
    "serial",
    "terminal",
    "echo",
    "configfile",
    "test",
    "cat",
    "boot",
    "gzio",
];
const BIOS_MODULES: &[&str] = &["biosdisk"];
const EFI_MODULES: &[&str] = &["efi_gop", "all_video"];

/// Where GRUB's config lives on the ESP (prefix `($root)/grub`).
pub(crate) const ESP_GRUB_DIR: &str = "grub";

const BPB_START: usize = 0x03;
const BPB_END: usize = 0x5a;
const KERNEL_SECTOR: usize = 0x5c;
const BOOT_DRIVE: usize = 0x64;
const DRIVE_CHECK: usize = 0x66;
const WINDOWS_NT_MAGIC: usize = 0x1b8;
const PART_END: usize = 0x1fe;
const BLOCKLIST_SIZE: usize = 12;
/// GRUB_BOOT_I386_PC_KERNEL_SEG + (512 >> 4): where the second sector of core.img loads.
const FIRST_SEGMENT: u16 = 0x820;
/// (0x78000 - GRUB_KERNEL_I386_PC_LINK_ADDR 0x9000) / 512: sectors GRUB will load.
const MAX_CORE_SECTORS: u64 = (0x78000 - 0x9000) / 512;

/// What goes into `grub.cfg`.
#[derive(Debug)]
pub(crate) struct MenuConfig<'a> {
    pub ids: &'a DiskIds,
    pub title: &'a str,
    pub kernel: &'a str,
    pub initrd: Option<&'a str>,
    pub cmdline: &'a str,
    pub timeout_secs: u32,
    pub extra: Option<&'a str>,
}

fn single_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The early config embedded in both images.
pub(crate) fn early_config(ids: &DiskIds) -> String {
    // GRUB prints FAT serials in lower case; search.fs_uuid compares case-insensitively.
    format!(
        "search.fs_uuid {} root\nset prefix=($root)/{ESP_GRUB_DIR}\n",
        ids.esp_serial_string().to_ascii_lowercase()
    )
}

/// `grub.cfg`: serial and console terminals, a short timeout, one entry that finds the
/// root filesystem by UUID and loads the kernel and initrd from it.
pub(crate) fn grub_cfg(c: &MenuConfig<'_>) -> String {
    let uuid = c.ids.root_fs_uuid;
    let mut args = format!("root=UUID={uuid} ro");
    if !c.cmdline.trim().is_empty() {
        args.push(' ');
        args.push_str(c.cmdline.trim());
    }
    let mut s = String::new();
    s.push_str("# grub.cfg written by cairn-disk\n");
    s.push_str("serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1\n");
    s.push_str("terminal_input serial console\n");
    s.push_str("terminal_output serial console\n");
    s.push_str(&format!("set timeout={}\n", c.timeout_secs));
    s.push_str("set timeout_style=menu\n");
    s.push_str("set default=0\n");
    s.push_str(&format!("search --no-floppy --fs-uuid --set=root {uuid}\n"));
    if let Some(extra) = c.extra {
        s.push_str("# extra configuration given by the image definition\n");
        s.push_str(extra);
        if !extra.ends_with('\n') {
            s.push('\n');
        }
    }
    s.push_str(&format!(
        "menuentry {} --id cairn {{\n",
        single_quote(c.title)
    ));
    s.push_str(&format!(
        "\tsearch --no-floppy --fs-uuid --set=root {uuid}\n"
    ));
    s.push_str(&format!(
        "\techo {}\n",
        single_quote(&format!("Loading {}", c.kernel))
    ));
    s.push_str(&format!("\tlinux {} {args}\n", c.kernel));
    if let Some(initrd) = c.initrd {
        s.push_str(&format!(
            "\techo {}\n",
            single_quote(&format!("Loading {initrd}"))
        ));
        s.push_str(&format!("\tinitrd {initrd}\n"));
    }
    s.push_str("}\n");
    s
}

/// Checks that GRUB's module directory for `platform` exists.
pub(crate) fn module_dir(lib: &Path, platform: &str) -> Result<PathBuf, DiskError> {
    let dir = lib.join(platform);
    let marker = dir.join("moddep.lst");
    if !fs_err::metadata(&marker).is_ok_and(|m| m.is_file()) {
        return Err(DiskError::ToolMissing {
            tool: format!("GRUB modules for {platform} ({})", dir.display()),
            package: if platform == "i386-pc" {
                "grub-pc-bin"
            } else {
                "grub-efi-amd64-bin"
            },
        });
    }
    Ok(dir)
}

/// Runs grub-mkimage for `format` (`i386-pc` or `x86_64-efi`).
pub(crate) fn mkimage(
    module_dir: &Path,
    format: &str,
    early_cfg: &Path,
    out: &Path,
) -> Result<(), DiskError> {
    let tool = tools::find(&GRUB_MKIMAGE)?;
    let extra = if format == "i386-pc" {
        BIOS_MODULES
    } else {
        EFI_MODULES
    };
    let mut cmd = Command::new(tool);
    cmd.arg("-O")
        .arg(format)
        .arg("-d")
        .arg(module_dir)
        .arg("-c")
        .arg(early_cfg)
        .arg("-p")
        .arg(format!("/{ESP_GRUB_DIR}"))
        .arg("-o")
        .arg(out)
        .args(COMMON_MODULES)
        .args(extra);
    tools::run(&mut cmd)?;
    Ok(())
}

/// Patches core.img's blocklist for a core image placed at `first_sector` and returns
/// the image padded to whole sectors. Fails when it does not fit in `max_bytes`.
pub(crate) fn place_core(
    core: &[u8],
    core_path: &Path,
    first_sector: u64,
    max_bytes: u64,
) -> Result<Vec<u8>, DiskError> {
    let sectors = (core.len() as u64).div_ceil(512);
    let limit = max_bytes.min(MAX_CORE_SECTORS * 512);
    if sectors * 512 > limit || core.len() < 1024 {
        return Err(DiskError::CoreImageTooLarge {
            path: core_path.to_path_buf(),
            size: core.len() as u64,
            limit,
        });
    }
    let mut img = core.to_vec();
    img.resize((sectors * 512) as usize, 0);
    // Clear every existing entry (grub-mkimage writes a default one), from the last
    // slot of the first sector downwards, as grub-bios-setup does.
    let mut slot = 512 - BLOCKLIST_SIZE;
    loop {
        let len = u16::from_le_bytes([img[slot + 8], img[slot + 9]]);
        if len == 0 {
            break;
        }
        img[slot..slot + BLOCKLIST_SIZE].fill(0);
        if slot < BLOCKLIST_SIZE + 0x100 {
            break;
        }
        slot -= BLOCKLIST_SIZE;
    }
    let first = 512 - BLOCKLIST_SIZE;
    img[first..first + 8].copy_from_slice(&(first_sector + 1).to_le_bytes());
    img[first + 8..first + 10].copy_from_slice(&((sectors - 1) as u16).to_le_bytes());
    img[first + 10..first + 12].copy_from_slice(&FIRST_SEGMENT.to_le_bytes());
    img[first - BLOCKLIST_SIZE..first].fill(0);
    Ok(img)
}

/// GRUB's boot.img merged into the existing sector 0 (`mbr`), pointing at core.img.
pub(crate) fn boot_sector(
    boot_img: &[u8],
    boot_path: &Path,
    mbr: &[u8; 512],
    core_sector: u64,
) -> Result<[u8; 512], DiskError> {
    let mut b: [u8; 512] = boot_img.try_into().map_err(|_| DiskError::BadInput {
        path: boot_path.to_path_buf(),
        reason: format!("GRUB's boot.img is {} bytes, expected 512", boot_img.len()),
    })?;
    b[BPB_START..BPB_END].copy_from_slice(&mbr[BPB_START..BPB_END]);
    b[WINDOWS_NT_MAGIC..PART_END].copy_from_slice(&mbr[WINDOWS_NT_MAGIC..PART_END]);
    b[KERNEL_SECTOR..KERNEL_SECTOR + 8].copy_from_slice(&core_sector.to_le_bytes());
    b[BOOT_DRIVE] = 0xff;
    b[DRIVE_CHECK] = 0x90;
    b[DRIVE_CHECK + 1] = 0x90;
    b[510] = 0x55;
    b[511] = 0xaa;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_blocklist_points_at_the_rest_of_core() {
        let mut core = vec![0xabu8; 512 * 10 + 100];
        // A default entry as grub-mkimage writes it, and an old second entry.
        core[500..512].copy_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0x20, 0x08]);
        core[488..500].copy_from_slice(&[9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
        let img = place_core(&core, Path::new("core.img"), 2048, 1 << 20).unwrap();
        assert_eq!(img.len(), 512 * 11);
        assert_eq!(u64::from_le_bytes(img[500..508].try_into().unwrap()), 2049);
        assert_eq!(u16::from_le_bytes([img[508], img[509]]), 10);
        assert_eq!(u16::from_le_bytes([img[510], img[511]]), 0x820);
        assert!(img[488..500].iter().all(|&b| b == 0));
        assert_eq!(&img[512..512 * 10 + 100], &core[512..]);
        assert!(img[512 * 10 + 100..].iter().all(|&b| b == 0));
    }

    #[test]
    fn core_too_large_is_refused() {
        // Over GRUB's 888-sector load limit, though the partition would hold it.
        let core = vec![1u8; 900 * 512];
        let Err(e) = place_core(&core, Path::new("core.img"), 2048, 1 << 20) else {
            panic!("a 900-sector core image was accepted");
        };
        assert!(matches!(e, DiskError::CoreImageTooLarge { .. }), "{e}");
        // Over the partition size.
        let core = vec![1u8; 200 * 512];
        let Err(e) = place_core(&core, Path::new("core.img"), 2048, 100 * 512) else {
            panic!("a core image larger than its partition was accepted");
        };
        assert!(e.to_string().contains("51200"), "{e}");
    }

    #[test]
    fn boot_sector_keeps_partition_table_and_sets_pointers() {
        let boot = vec![0x11u8; 512];
        let mbr = crate::gpt::protective_mbr(1 << 20);
        let b = boot_sector(&boot, Path::new("boot.img"), &mbr, 2048).unwrap();
        assert_eq!(&b[0x1b8..0x200], &mbr[0x1b8..0x200]);
        assert_eq!(&b[0..3], &[0x11; 3]);
        assert_eq!(&b[3..0x5a], &mbr[3..0x5a]);
        assert_eq!(u64::from_le_bytes(b[0x5c..0x64].try_into().unwrap()), 2048);
        assert_eq!(b[0x64], 0xff);
        assert_eq!(&b[0x66..0x68], &[0x90, 0x90]);
        assert!(boot_sector(&boot[..511], Path::new("boot.img"), &mbr, 1).is_err());
    }

    #[test]
    fn grub_cfg_has_terminal_search_and_entry() {
        let ids = DiskIds::derive("cfg");
        let c = MenuConfig {
            ids: &ids,
            title: "It's cairn",
            kernel: "/boot/vmlinuz-6.1.0-28-amd64",
            initrd: Some("/boot/initrd.img-6.1.0-28-amd64"),
            cmdline: "console=ttyS0,115200 quiet",
            timeout_secs: 1,
            extra: Some("set foo=bar"),
        };
        let s = grub_cfg(&c);
        let u = ids.root_fs_uuid;
        assert!(s.contains("terminal_output serial console\n"));
        assert!(s.contains("set timeout=1\n"));
        assert!(s.contains("set foo=bar\n"));
        assert!(s.contains(r"menuentry 'It'\''s cairn' --id cairn {"));
        assert!(s.contains(&format!(
            "\tlinux /boot/vmlinuz-6.1.0-28-amd64 root=UUID={u} ro console=ttyS0,115200 quiet\n"
        )));
        assert!(s.contains("\tinitrd /boot/initrd.img-6.1.0-28-amd64\n"));
        assert!(s.contains(&format!("\tsearch --no-floppy --fs-uuid --set=root {u}\n")));
        let early = early_config(&ids);
        assert!(early.starts_with(&format!(
            "search.fs_uuid {} root\n",
            ids.esp_serial_string().to_lowercase()
        )));
    }
}
