//! Integration tests for cairn-boot against the real QEMU. Booting a real image to
//! multi-user is tested end to end where images are built (cairn-cli's tests); here: a
//! disk that cannot boot must make `check` fail, for both firmwares, and say why.

use cairn_boot::{BootError, BootOptions, Firmware, check};
use std::time::Duration;

fn blank_disk() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("blank.raw");
    let f = fs_err::File::create(&disk).unwrap();
    f.set_len(8 << 20).unwrap();
    (dir, disk)
}

#[test]
fn a_disk_without_a_boot_loader_times_out_with_the_console_tail() {
    for fw in [Firmware::Bios, Firmware::Uefi] {
        let (_d, disk) = blank_disk();
        let mut o = BootOptions::new(&disk, fw);
        o.timeout = Duration::from_secs(if fw == Firmware::Uefi { 45 } else { 10 });
        o.memory_mib = 256;
        let mut lines = Vec::new();
        let e = check(&o, &mut |l| lines.push(l.to_owned())).unwrap_err();
        match &e {
            BootError::Timeout { .. } | BootError::Exited { .. } => {}
            other => panic!("{fw:?}: unexpected error {other}"),
        }
        let msg = e.to_string();
        assert!(
            msg.contains("did not reach multi-user") || msg.contains("exited"),
            "{msg}"
        );
        // OVMF reports its failed boot attempts on the serial console (SeaBIOS only on VGA)
        if fw == Firmware::Uefi {
            let all = lines.join("\n");
            assert!(all.contains("BdsDxe") || all.contains("Boot"), "{all}");
        }
    }
}

#[test]
fn a_missing_disk_is_named() {
    let o = BootOptions::new("/nonexistent/disk.raw", Firmware::Bios);
    let e = check(&o, &mut |_| {}).unwrap_err().to_string();
    assert!(
        e.contains("/nonexistent/disk.raw") && e.contains("cairn build"),
        "{e}"
    );
}
