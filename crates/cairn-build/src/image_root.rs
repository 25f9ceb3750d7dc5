//! Where the image's root file system is assembled: in memory (a tmpfs) or on disk.
//!
//! dpkg and rpm write tens of thousands of small files, rename each into place and sync
//! their databases after every package; on a disk that is most of an install's time
//! (minbase: 13.9 s on this project's ext4, 7.2 s in memory). The root is only an
//! intermediate: every output except `dir` is written from it to `out/`, so by default
//! it lives in a tmpfs when the machine has the memory for it.
//!
//! The tmpfs is mounted in a mount namespace private to the building thread (and the
//! threads and processes it starts), created with `unshare(CLONE_NEWNS)` and made
//! recursively private so nothing propagates to the host. Whatever ends the build (an
//! error, Ctrl-C, even SIGKILL), the kernel frees the tmpfs with the namespace's last
//! process: no mount and no memory is left behind. The outputs themselves are written
//! to `out/` on disk, which the namespace sees as before.

use crate::BuildError;
use std::path::{Path, PathBuf};

/// Where to assemble the root.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ImageRoot {
    /// Memory when the outputs allow it and the machine has room (see [`choose`]),
    /// else disk.
    #[default]
    Auto,
    /// Always a tmpfs; an error when that cannot be set up.
    Memory,
    /// Always on disk, beside the outputs (`out/.IMAGE.building-PID/root`).
    Disk,
}

impl std::str::FromStr for ImageRoot {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(ImageRoot::Auto),
            "memory" => Ok(ImageRoot::Memory),
            "disk" => Ok(ImageRoot::Disk),
            other => Err(format!(
                "unknown image root {other:?}: expected auto, memory or disk"
            )),
        }
    }
}

/// What [`choose`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A tmpfs limited to this many bytes (a limit, not a reservation).
    Memory { limit: u64 },
    /// On disk, and why when memory was not chosen automatically.
    Disk { why: Option<String> },
}

impl Placement {
    /// `memory` or `disk`, for the build summary.
    pub fn label(&self) -> &'static str {
        match self {
            Placement::Memory { .. } => "memory",
            Placement::Disk { .. } => "disk",
        }
    }
}

/// The most a root built from `download_bytes` of packages holds at once, with room for
/// what maintainer scripts and finalizing create (initramfs, caches): compressed packages
/// unpack to 3–5 times their size (Debian's xz, Fedora's zstd), and while dpkg works,
/// the batch it installs is staged beside it, decompressed. (Measured: a VM set of 122 MiB
/// of packages installs to 614 MiB and peaks at 1.1 GiB.)
pub fn estimate(download_bytes: u64) -> u64 {
    download_bytes.saturating_mul(8) + (256 << 20)
}

/// Decide where the root goes. `available` is the memory the kernel reports as available
/// (`MemAvailable`), `None` when unknown. Auto picks memory when no output needs the root
/// on disk (`dir` makes the root itself the output) and the estimate fits in half of the
/// available memory.
pub fn choose(
    want: ImageRoot,
    needs_disk: Option<&str>,
    estimate: u64,
    available: Option<u64>,
) -> Result<Placement, BuildError> {
    let limit = |avail: u64| (avail / 4 * 3) & !((1 << 20) - 1);
    match want {
        ImageRoot::Disk => Ok(Placement::Disk { why: None }),
        ImageRoot::Memory => {
            if let Some(what) = needs_disk {
                return Err(BuildError::Invalid(format!(
                    "--image-root memory: {what} needs the root on disk (use --image-root disk or auto)"
                )));
            }
            let Some(avail) = available else {
                return Err(BuildError::Invalid(
                    "--image-root memory: /proc/meminfo has no MemAvailable line".into(),
                ));
            };
            Ok(Placement::Memory {
                limit: limit(avail),
            })
        }
        ImageRoot::Auto => {
            if let Some(what) = needs_disk {
                return Ok(Placement::Disk {
                    why: Some(format!("{what} needs the root on disk")),
                });
            }
            match available {
                Some(avail) if estimate <= avail / 2 => Ok(Placement::Memory {
                    limit: limit(avail),
                }),
                Some(avail) => Ok(Placement::Disk {
                    why: Some(format!(
                        "the root may need {} MiB, more than half of the {} MiB of memory available",
                        estimate >> 20,
                        avail >> 20
                    )),
                }),
                None => Ok(Placement::Disk {
                    why: Some("/proc/meminfo has no MemAvailable line".into()),
                }),
            }
        }
    }
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
pub fn mem_available() -> Option<u64> {
    let text = fs_err::read_to_string("/proc/meminfo").ok()?;
    parse_mem_available(&text)
}

fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let rest = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?;
    let mut words = rest.split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") | None => Some(n * 1024),
        _ => None,
    }
}

/// A tmpfs mounted on the root directory in this thread's private mount namespace;
/// unmounted when dropped.
#[derive(Debug)]
pub struct MemoryRoot {
    dir: PathBuf,
}

impl MemoryRoot {
    /// Enter a private mount namespace (this thread and what it starts from now on) and
    /// mount a tmpfs of at most `limit` bytes on `dir` (an existing empty directory),
    /// owned by root with mode 0755 like any root directory.
    pub fn mount(dir: &Path, limit: u64) -> Result<MemoryRoot, BuildError> {
        use nix::mount::{MsFlags, mount};
        let fail = |what: &str, e: nix::Error| {
            BuildError::Invalid(format!(
                "cannot put the image root in memory ({what}: {e}); build with --image-root disk"
            ))
        };
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
            .map_err(|e| fail("unshare(CLONE_NEWNS)", e))?;
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .map_err(|e| fail("making / private in the new mount namespace", e))?;
        let opts = format!("mode=0755,uid=0,gid=0,size={limit}");
        mount(
            Some("cairn-root"),
            dir,
            Some("tmpfs"),
            MsFlags::empty(),
            Some(opts.as_str()),
        )
        .map_err(|e| fail(&format!("mounting a tmpfs on {}", dir.display()), e))?;
        Ok(MemoryRoot {
            dir: dir.to_owned(),
        })
    }
}

impl Drop for MemoryRoot {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.dir, nix::mount::MntFlags::MNT_DETACH);
    }
}

/// Whether `e` (or what it wraps) is a full file system.
pub(crate) fn is_no_space(e: &BuildError) -> bool {
    let text = e.to_string();
    text.contains("No space left on device") || text.contains("disk is full")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn auto_takes_memory_only_when_it_fits_and_no_output_needs_disk() {
        let est = estimate(200 << 20); // 1856 MiB
        assert_eq!(
            choose(ImageRoot::Auto, None, est, Some(24 * GIB)).unwrap(),
            Placement::Memory { limit: 18 * GIB }
        );
        let Placement::Disk { why: Some(why) } =
            choose(ImageRoot::Auto, None, est, Some(2 * GIB)).unwrap()
        else {
            panic!("2 GiB available is too little for a 1856 MiB root")
        };
        assert!(
            why.contains("1856 MiB") && why.contains("2048 MiB"),
            "{why}"
        );
        let Placement::Disk { why: Some(why) } =
            choose(ImageRoot::Auto, Some("the dir output"), est, Some(24 * GIB)).unwrap()
        else {
            panic!("dir needs disk")
        };
        assert!(why.contains("dir output"), "{why}");
        assert!(matches!(
            choose(ImageRoot::Auto, None, est, None).unwrap(),
            Placement::Disk { why: Some(_) }
        ));
    }

    #[test]
    fn explicit_choices_are_obeyed_or_refused_clearly() {
        assert_eq!(
            choose(ImageRoot::Disk, None, 1, Some(24 * GIB)).unwrap(),
            Placement::Disk { why: None }
        );
        assert!(matches!(
            choose(ImageRoot::Memory, None, 100 * GIB, Some(GIB)).unwrap(),
            Placement::Memory { .. }
        ));
        let e = choose(ImageRoot::Memory, Some("the dir output"), 1, Some(GIB)).unwrap_err();
        assert!(e.to_string().contains("--image-root disk"), "{e}");
        assert!("memory".parse::<ImageRoot>().is_ok());
        let e = "ram".parse::<ImageRoot>().unwrap_err();
        assert!(e.contains("auto, memory or disk"), "{e}");
    }

    #[test]
    fn reads_mem_available() {
        let m = "MemTotal:       24567890 kB\nMemFree:  100 kB\nMemAvailable:   23000000 kB\n";
        assert_eq!(parse_mem_available(m), Some(23_000_000 * 1024));
        assert_eq!(parse_mem_available("MemTotal: 1 kB\n"), None);
    }
}
