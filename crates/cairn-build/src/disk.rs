//! Disk outputs: find the kernel the packages installed, write /etc/fstab for the derived
//! file system identifiers, and hand the root to cairn-disk.

use crate::BuildError;
use crate::customize::in_root;
use cairn_config::{Build, Firmware};
use fs_err as fs;
use std::path::{Path, PathBuf};

/// What the disk step will boot.
#[derive(Debug, Clone)]
pub(crate) struct DiskPlan {
    pub identity: String,
    /// Relative to the root, e.g. `boot/vmlinuz-6.1.0-28-amd64`.
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    pub cmdline: String,
    pub bios: bool,
    pub uefi: bool,
    pub size: Option<u64>,
}

/// Order kernel versions like `6.1.0-9-amd64` < `6.1.0-28-amd64`: compare digit runs as
/// numbers.
fn version_key(s: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut num = String::new();
    let mut txt = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !txt.is_empty() {
                out.push((0, std::mem::take(&mut txt)));
            }
            num.push(c);
        } else {
            if !num.is_empty() {
                out.push((num.parse().unwrap_or(0), String::new()));
                num.clear();
            }
            txt.push(c);
        }
    }
    if !num.is_empty() {
        out.push((num.parse().unwrap_or(0), String::new()));
    }
    if !txt.is_empty() {
        out.push((0, txt));
    }
    out
}

/// The newest kernel version in `/boot` (`vmlinuz-VERSION`).
fn newest_kernel(root: &Path) -> Result<String, BuildError> {
    let boot = in_root(root, "/boot");
    let mut versions: Vec<String> = Vec::new();
    if let Ok(rd) = fs::read_dir(&boot) {
        for e in rd {
            let e = e?;
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(v) = n.strip_prefix("vmlinuz-")
                && e.file_type()?.is_file()
            {
                versions.push(v.to_owned());
            }
        }
    }
    versions.sort_by_key(|v| version_key(v));
    let Some(v) = versions.last() else {
        return Err(BuildError::Invalid(format!(
            "disk outputs need a kernel, but {} has no vmlinuz-*; add the kernel package to the image (Debian: linux-image-amd64, Fedora: kernel)",
            boot.display()
        )));
    };
    Ok(v.clone())
}

/// Builds cairn's own initrd for the newest kernel into `/boot` (Debian
/// `initrd.img-V`, otherwise `initramfs-V.img`). Returns its path in the root and a
/// line saying what it holds.
pub(crate) fn build_initrd(
    root: &Path,
    deb: bool,
    os_release: &std::collections::BTreeMap<String, String>,
    epoch: u64,
    opts: &cairn_install::InstallOptions,
) -> Result<(PathBuf, String), BuildError> {
    let v = newest_kernel(root)?;
    let name = os_release
        .get("PRETTY_NAME")
        .or_else(|| os_release.get("NAME"))
        .map_or("Linux", String::as_str);
    let spec = cairn_initrd::Spec {
        root,
        kernel_version: &v,
        source_date_epoch: epoch,
        name,
    };
    let depmod = |base: &str, version: &str| {
        cairn_install::run_in_root(
            root,
            &["depmod", "-b", base, version],
            opts,
            &format!("depmod -b {base} {version} (indexing the initrd's modules)"),
        )
        .map_err(|e| cairn_initrd::InitrdError::Depmod(e.to_string()))
    };
    let built = cairn_initrd::build(&spec, &depmod)?;
    let rel = match deb {
        true => format!("boot/initrd.img-{v}"),
        false => format!("boot/initramfs-{v}.img"),
    };
    let path = in_root(root, &format!("/{rel}"));
    fs::write(&path, &built.data)?;
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(epoch);
    filetime::set_file_mtime(&path, filetime::FileTime::from_system_time(t))?;
    let what = format!(
        "cairn's systemd initrd, {} entries, {} kernel modules, {} MiB {} ({} MiB unpacked)",
        built.entries,
        built.modules,
        built.data.len().div_ceil(1 << 20),
        built.compression,
        built.uncompressed.div_ceil(1 << 20),
    );
    Ok((PathBuf::from(rel), what))
}

/// The newest kernel in `/boot` and its initramfs (Debian `initrd.img-V`, Fedora
/// `initramfs-V.img`).
pub(crate) fn find_kernel(root: &Path) -> Result<(PathBuf, PathBuf), BuildError> {
    let v = &newest_kernel(root)?;
    let kernel = PathBuf::from(format!("boot/vmlinuz-{v}"));
    for cand in [
        format!("boot/initrd.img-{v}"),
        format!("boot/initramfs-{v}.img"),
    ] {
        if root.join(&cand).is_file() {
            return Ok((kernel, PathBuf::from(cand)));
        }
    }
    Err(BuildError::Invalid(format!(
        "kernel /{} has no initramfs (/boot/initrd.img-{v} or /boot/initramfs-{v}.img); Debian images need initramfs-tools (a dependency of linux-image-*), Fedora images dracut",
        kernel.display()
    )))
}

pub(crate) fn prepare(root: &Path, identity: &str, b: &Build) -> Result<DiskPlan, BuildError> {
    let (kernel, initrd) = find_kernel(root)?;
    let ids = cairn_disk::DiskIds::derive(identity);
    let fstab = in_root(root, "/etc/fstab");
    let mut text = String::from("# written by cairn build: the disk's root and ESP\n");
    text.push_str(&cairn_disk::fstab(&ids));
    fs::create_dir_all(in_root(root, "/boot/efi"))?;
    if fs::symlink_metadata(&fstab).is_ok() {
        fs::remove_file(&fstab)?;
    }
    fs::write(&fstab, text)?;
    let fw = b
        .disk
        .firmware
        .clone()
        .unwrap_or_else(|| vec![Firmware::Bios, Firmware::Uefi]);
    let mut cmdline = b.kernel_cmdline.join(" ");
    if cmdline.is_empty() {
        cmdline = "console=tty0 console=ttyS0,115200n8".into();
    }
    Ok(DiskPlan {
        identity: identity.to_owned(),
        kernel,
        initrd,
        cmdline,
        bios: fw.contains(&Firmware::Bios),
        uefi: fw.contains(&Firmware::Uefi),
        size: b.disk.size.as_deref().and_then(cairn_config::parse_size),
    })
}

pub(crate) fn write_raw(
    root: &Path,
    plan: &DiskPlan,
    out: &Path,
    epoch: u64,
    title: &str,
) -> Result<cairn_disk::RawInfo, BuildError> {
    let ids = cairn_disk::DiskIds::derive(&plan.identity);
    let mut spec = cairn_disk::RawSpec::new(
        ids,
        root,
        plan.kernel.clone(),
        Some(plan.initrd.clone()),
        epoch,
    );
    spec.cmdline = plan.cmdline.clone();
    spec.boot = cairn_disk::BootFlags {
        bios: plan.bios,
        uefi: plan.uefi,
    };
    spec.menu_title = title.to_owned();
    if let Some(total) = plan.size {
        // the disk's total size: GPT (1 MiB at the start, 1 MiB at the end), BIOS boot
        // partition, ESP, the rest for the root
        const MIB: u64 = 1 << 20;
        let fixed = 2 * MIB + if plan.bios { MIB } else { 0 } + spec.sizes.esp;
        let root_bytes = total.checked_sub(fixed).filter(|r| *r >= 64 * MIB).ok_or_else(|| {
            BuildError::Invalid(format!(
                "disk.size {total} bytes leaves no room for the root file system (the boot partitions take {} MiB)",
                fixed / MIB
            ))
        })?;
        spec.sizes.root = cairn_disk::RootSize::Exact(root_bytes);
    }
    Ok(cairn_disk::build_raw(&spec, out)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn kernel_versions_sort_numerically() {
        let mut v = vec!["6.1.0-28-amd64", "6.1.0-9-amd64", "6.10.0-1-amd64"];
        v.sort_by_key(|s| super::version_key(s));
        assert_eq!(v, vec!["6.1.0-9-amd64", "6.1.0-28-amd64", "6.10.0-1-amd64"]);
    }
}
