//! A built disk, checked with the real tools: sfdisk for the table, fsck.vfat and
//! mtools for the ESP, e2fsck and debugfs for the root filesystem.

use crate::common::*;
use anyhow::{Context, Result, ensure};
use cairn_disk::{DiskIds, TYPE_BIOS_BOOT, TYPE_ESP, TYPE_LINUX_ROOT_X86_64, build_raw};
use std::process::Command;

fn debugfs(img: &std::path::Path, req: &str) -> Result<String> {
    stdout(Command::new(need("debugfs")).arg("-R").arg(req).arg(img))
}

#[test]
fn layout_esp_and_root_are_what_the_tools_expect() -> Result<()> {
    let dir = scratch()?;
    let ids = DiskIds::derive("cairn-it/layout");
    let root = dir.path().join("root");
    make_tree(&root, &ids, false)?;
    let disk = dir.path().join("disk.raw");
    let info = build_raw(&spec(&ids, &root), &disk)?;

    // --- partition table
    let sfdisk = need("sfdisk");
    let verify = stdout(Command::new(&sfdisk).arg("--verify").arg(&disk))?;
    ensure!(
        verify.contains("No errors detected"),
        "sfdisk --verify: {verify}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&stdout(Command::new(&sfdisk).arg("--json").arg(&disk))?)?;
    let t = &v["partitiontable"];
    ensure!(t["label"] == "gpt", "{t}");
    ensure!(
        t["id"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&ids.disk.to_string()),
        "disk GUID {t}"
    );
    let size = fs_err::metadata(&disk)?.len();
    ensure!(size == info.size && size % (1 << 20) == 0, "size {size}");
    ensure!(t["lastlba"].as_u64() == Some(size / 512 - 34), "{t}");
    let parts = t["partitions"].as_array().context("partitions")?;
    let expected = [
        (TYPE_BIOS_BOOT, ids.bios_boot_partition, "bios-boot"),
        (TYPE_ESP, ids.esp_partition, "esp"),
        (TYPE_LINUX_ROOT_X86_64, ids.root_partition, "root-x86-64"),
    ];
    ensure!(parts.len() == 3, "{t}");
    for ((p, (ty, guid, name)), i) in parts.iter().zip(expected).zip(&info.partitions) {
        ensure!(
            p["type"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(&ty.to_string()),
            "type of {p}"
        );
        ensure!(
            p["uuid"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(&guid.to_string()),
            "uuid of {p}"
        );
        ensure!(p["name"] == name, "{p}");
        let start = p["start"].as_u64().unwrap();
        ensure!(start % 2048 == 0, "alignment of {p}");
        ensure!(start == i.start_lba && p["size"].as_u64().unwrap() * 512 == i.size);
    }
    ensure!(
        parts[0]["size"].as_u64() == Some(2048),
        "BIOS boot is 1 MiB"
    );
    ensure!(
        parts[1]["size"].as_u64() == Some(64 * 2048),
        "ESP is 64 MiB"
    );

    // --- ESP
    let (off, len) = partition(&disk, 2)?;
    let esp = dir.path().join("esp.img");
    extract(&disk, off, len, &esp)?;
    let fsck = stdout(Command::new(need("fsck.vfat")).arg("-n").arg(&esp))?;
    ensure!(!fsck.contains("differences"), "fsck.vfat: {fsck}");
    let env = [("MTOOLS_SKIP_CHECK", "1")];
    let cfg = stdout(
        Command::new(need("mtype"))
            .envs(env)
            .args(["-i"])
            .arg(&esp)
            .arg("::/grub/grub.cfg"),
    )?;
    ensure!(
        cfg.contains(&format!("root=UUID={} ro", ids.root_fs_uuid)),
        "{cfg}"
    );
    ensure!(cfg.contains(&format!("linux /{KERNEL} ")), "{cfg}");
    ensure!(cfg.contains(&format!("initrd /{INITRD}")), "{cfg}");
    ensure!(cfg.contains("console=ttyS0,115200 console=tty0"), "{cfg}");
    ensure!(cfg.contains("terminal_output serial console"), "{cfg}");
    let listing = stdout(
        Command::new(need("mdir"))
            .envs(env)
            .arg("-i")
            .arg(&esp)
            .arg("::/EFI/BOOT"),
    )?;
    ensure!(listing.contains("BOOTX64  EFI"), "{listing}");
    ensure!(
        listing.contains(&format!(
            "Volume Serial Number is {}",
            ids.esp_serial_string()
        )),
        "{listing}"
    );
    // Every FAT timestamp is the source date epoch (2023-11-14 22:13 UTC).
    ensure!(listing.contains("2023-11-14  22:13"), "{listing}");
    let efi = stdout(
        Command::new(need("minfo"))
            .envs(env)
            .arg("-i")
            .arg(&esp)
            .arg("::"),
    )?;
    ensure!(efi.contains("FAT32"), "{efi}");

    // --- root filesystem
    let (off, len) = partition(&disk, 3)?;
    let rootfs = dir.path().join("root.img");
    extract(&disk, off, len, &rootfs)?;
    run(Command::new(need("e2fsck")).arg("-fn").arg(&rootfs))?;
    let sb = stdout(Command::new(need("dumpe2fs")).arg("-h").arg(&rootfs))?;
    ensure!(
        sb.contains(&format!("Filesystem UUID:          {}", ids.root_fs_uuid)),
        "{sb}"
    );
    ensure!(sb.contains("Filesystem volume name:   root"), "{sb}");
    ensure!(
        sb.contains(&format!("Directory Hash Seed:      {}", ids.root_hash_seed)),
        "{sb}"
    );
    ensure!(
        sb.contains("Filesystem created:       Tue Nov 14 22:13:20 2023"),
        "{sb}"
    );

    let stat = debugfs(&rootfs, "stat /usr/bin/su")?;
    ensure!(stat.contains("Mode:  04755"), "{stat}");
    let stat = debugfs(&rootfs, "stat /etc/shadow")?;
    ensure!(
        stat.contains("Mode:  0640") && stat.contains("Group:    42"),
        "{stat}"
    );
    let stat = debugfs(&rootfs, "stat /home/user")?;
    ensure!(
        stat.contains("Type: directory")
            && stat.contains("Mode:  0700")
            && stat.contains("User:  1000")
            && stat.contains("Group:  1000"),
        "{stat}"
    );
    ensure!(stat.contains(&format!("mtime: {:#010x}", T0)), "{stat}");
    // Times: ctime/atime/crtime are the source date epoch; future mtimes are clamped.
    ensure!(stat.contains(&format!("ctime: {SDE:#010x}")), "{stat}");
    let stat = debugfs(&rootfs, "stat /etc/hostname")?;
    ensure!(
        stat.contains(&format!("mtime: {SDE:#010x}")),
        "clamped: {stat}"
    );
    let stat = debugfs(&rootfs, "stat /srv/empty")?;
    ensure!(stat.contains("Mode:  01777"), "{stat}");
    let stat = debugfs(&rootfs, "stat /dev/null")?;
    ensure!(
        stat.contains("Type: character special") && stat.contains("Mode:  0666"),
        "{stat}"
    );
    ensure!(stat.contains("Device major/minor number: 01:03"), "{stat}");
    let stat = debugfs(&rootfs, "stat /run/initctl")?;
    ensure!(stat.contains("Type: FIFO"), "{stat}");

    // security.capability, byte for byte.
    let cap = dir.path().join("cap.bin");
    run(Command::new(need("debugfs"))
        .arg("-R")
        .arg(format!(
            "ea_get -f {} /usr/bin/ping security.capability",
            cap.display()
        ))
        .arg(&rootfs))?;
    ensure!(
        fs_err::read(&cap)? == cap_net_raw(),
        "security.capability differs"
    );
    let ea = debugfs(&rootfs, "ea_list /home/user")?;
    ensure!(ea.contains("user.cairn") && ea.contains("dir attr"), "{ea}");

    // Hard links share one inode with the right count; symlinks keep their targets.
    let stat = debugfs(&rootfs, "stat /usr/lib/other-link")?;
    ensure!(stat.contains("Links: 301"), "{stat}");
    let a = debugfs(&rootfs, "stat /usr/bin/python3")?;
    ensure!(a.contains("Links: 2"), "{a}");
    let ino = |s: &str| s.split_whitespace().nth(1).map(str::to_string);
    let b = debugfs(&rootfs, "stat /usr/bin/python3.11")?;
    ensure!(ino(&a) == ino(&b), "python3 and python3.11 are one inode");
    let l = debugfs(&rootfs, "cat /usr/lib/long-symlink")?;
    ensure!(
        l.contains(&format!("/usr/share/{}/target", "d".repeat(80))),
        "{l}"
    );
    let l = debugfs(&rootfs, "stat /lib")?;
    ensure!(l.contains("Fast link dest: \"usr/lib\""), "{l}");

    // Content survives, holes included.
    for rel in ["usr/lib/big.bin", "srv/-dash name \"quoted\"", KERNEL] {
        let out = dir.path().join("dumped");
        run(Command::new(need("debugfs"))
            .arg("-R")
            .arg(format!(
                "dump \"/{}\" {}",
                rel.replace('"', "\"\""),
                out.display()
            ))
            .arg(&rootfs))?;
        ensure!(
            fs_err::read(&out)? == fs_err::read(root.join(rel))?,
            "content of {rel}"
        );
    }
    let fstab = debugfs(&rootfs, "cat /etc/fstab")?;
    ensure!(
        fstab.contains(&format!(
            "UUID={}  /boot/efi  vfat  umask=0077",
            ids.esp_serial_string()
        )),
        "{fstab}"
    );

    // --- BIOS boot code: boot.img in sector 0 with the partition table kept, pointing
    // at core.img in the BIOS boot partition.
    let head = {
        use std::io::Read;
        let mut b = vec![0u8; 512];
        fs_err::File::open(&disk)?.read_exact(&mut b)?;
        b
    };
    let boot_img = fs_err::read("/usr/lib/grub/i386-pc/boot.img")?;
    ensure!(head[0..3] == boot_img[0..3], "boot.img jump");
    ensure!(head[0x5a..0x5c] == boot_img[0x5a..0x5c]);
    ensure!(u64::from_le_bytes(head[0x5c..0x64].try_into()?) == 2048);
    ensure!(head[0x1be + 4] == 0xee && head[510..] == [0x55, 0xaa]);
    Ok(())
}

#[test]
fn uefi_only_disk_has_no_bios_boot_partition() -> Result<()> {
    let dir = scratch()?;
    let ids = DiskIds::derive("cairn-it/uefi-only");
    let root = dir.path().join("root");
    make_tree(&root, &ids, false)?;
    let disk = dir.path().join("disk.raw");
    let mut s = spec(&ids, &root);
    s.boot.bios = false;
    s.sizes.root = cairn_disk::RootSize::Exact(200 << 20);
    s.sizes.extra_free = 56 << 20;
    let info = build_raw(&s, &disk)?;
    ensure!(info.partitions.len() == 2, "{info:?}");
    ensure!(info.partitions[1].size == 256 << 20, "{info:?}");
    let v: serde_json::Value = serde_json::from_str(&stdout(
        Command::new(need("sfdisk")).arg("--json").arg(&disk),
    )?)?;
    let parts = v["partitiontable"]["partitions"].as_array().unwrap();
    ensure!(parts.len() == 2 && parts[0]["start"] == 2048, "{v}");
    // No GRUB boot code in the MBR.
    let mut head = vec![0u8; 512];
    std::io::Read::read_exact(&mut fs_err::File::open(&disk)?, &mut head)?;
    ensure!(
        head[..0x1b8].iter().all(|&b| b == 0),
        "MBR boot code must be empty"
    );
    Ok(())
}
