//! Host tools a build needs, checked before anything is written.

use crate::BuildError;
use cairn_config::OutputKind;

fn on_path(tool: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|d| d.join(tool).is_file())
        || ["/usr/sbin", "/sbin"]
            .iter()
            .any(|d| std::path::Path::new(d).join(tool).is_file())
}

/// Fail early, naming the missing tool and its Debian package.
pub(crate) fn check(outputs: &[OutputKind], deb: bool) -> Result<(), BuildError> {
    let mut need: Vec<(&str, &str, &str)> = vec![];
    if deb {
        need.push(("dpkg", "dpkg", "installing Debian packages"));
        need.push(("dpkg-deb", "dpkg", "installing Debian packages"));
        need.push((
            "unshare",
            "util-linux",
            "a private mount namespace for the install",
        ));
    } else {
        need.push(("rpm", "rpm", "installing RPM packages"));
    }
    if outputs.iter().any(|o| o.is_disk()) {
        need.push((
            "mkfs.ext4",
            "e2fsprogs",
            "the ext4 root file system of disk images",
        ));
        need.push((
            "grub-mkimage",
            "grub-common",
            "the boot loader of disk images",
        ));
    }
    if outputs.contains(&OutputKind::Qcow2) {
        need.push(("qemu-img", "qemu-utils", "qcow2 output"));
    }
    for (tool, package, why) in need {
        if !on_path(tool) {
            return Err(BuildError::MissingTool {
                tool: tool.into(),
                package: package.into(),
                why: why.into(),
            });
        }
    }
    Ok(())
}
