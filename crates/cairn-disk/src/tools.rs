//! Finding and running host tools with errors that name the command, its stderr, and
//! the Debian package to install when a tool is missing.

use crate::DiskError;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A host program and the Debian package that ships it.
#[derive(Debug)]
pub(crate) struct Tool {
    pub name: &'static str,
    pub package: &'static str,
}

pub(crate) const MKFS_EXT4: Tool = Tool {
    name: "mkfs.ext4",
    package: "e2fsprogs",
};
pub(crate) const DEBUGFS: Tool = Tool {
    name: "debugfs",
    package: "e2fsprogs",
};
pub(crate) const E2FSCK: Tool = Tool {
    name: "e2fsck",
    package: "e2fsprogs",
};
pub(crate) const MFORMAT: Tool = Tool {
    name: "mformat",
    package: "mtools",
};
pub(crate) const MMD: Tool = Tool {
    name: "mmd",
    package: "mtools",
};
pub(crate) const MCOPY: Tool = Tool {
    name: "mcopy",
    package: "mtools",
};
pub(crate) const GRUB_MKIMAGE: Tool = Tool {
    name: "grub-mkimage",
    package: "grub-common (pulled in by grub-pc-bin and grub-efi-amd64-bin)",
};
pub(crate) const QEMU_IMG: Tool = Tool {
    name: "qemu-img",
    package: "qemu-utils",
};

/// Looks for `tool` in `PATH`, then in the sbin directories (which a non-root `PATH`
/// often lacks, and which hold e2fsprogs).
pub(crate) fn find(tool: &Tool) -> Result<PathBuf, DiskError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let extra = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from);
    for dir in std::env::split_paths(&path).chain(extra) {
        let candidate = dir.join(tool.name);
        if is_executable(&candidate) {
            return Ok(candidate);
        }
    }
    Err(DiskError::ToolMissing {
        tool: tool.name.to_string(),
        package: tool.package,
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs_err::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Quotes one argument for display the way a POSIX shell would need it.
fn shell_quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%^".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The command line as text, for error messages.
pub(crate) fn display(cmd: &Command) -> String {
    let mut out = shell_quote(cmd.get_program());
    for a in cmd.get_args() {
        out.push(' ');
        out.push_str(&shell_quote(a));
    }
    out
}

/// Runs `cmd` with `LC_ALL=C`, capturing its output; a non-zero exit becomes
/// [`DiskError::ToolFailed`] with the command line and stderr.
pub(crate) fn run(cmd: &mut Command) -> Result<Output, DiskError> {
    cmd.env("LC_ALL", "C").stdin(std::process::Stdio::null());
    let out = cmd.output().map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot run `{}`: {e}", cmd.get_program().to_string_lossy()),
        )
    })?;
    if !out.status.success() {
        return Err(failed(cmd, &out, None));
    }
    Ok(out)
}

/// A [`DiskError::ToolFailed`] for `cmd`; `detail` replaces stderr when given.
pub(crate) fn failed(cmd: &Command, out: &Output, detail: Option<String>) -> DiskError {
    let mut stderr = detail.unwrap_or_else(|| String::from_utf8_lossy(&out.stderr).into_owned());
    if stderr.trim().is_empty() {
        stderr = String::from_utf8_lossy(&out.stdout).into_owned();
    }
    const MAX: usize = 8000;
    if stderr.len() > MAX {
        let mut cut = MAX;
        while !stderr.is_char_boundary(cut) {
            cut -= 1;
        }
        stderr.truncate(cut);
        stderr.push_str("\n[… truncated]");
    }
    DiskError::ToolFailed {
        command: display(cmd),
        status: if out.status.success() {
            // debugfs exits 0 even when script commands fail
            "exited 0 but reported errors".to_string()
        } else {
            out.status.to_string()
        },
        stderr: stderr.trim_end().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tool_names_the_package() {
        let t = Tool {
            name: "cairn-no-such-tool",
            package: "cairn-pkg",
        };
        let e = find(&t).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("cairn-no-such-tool") && msg.contains("cairn-pkg"),
            "{msg}"
        );
    }

    #[test]
    fn failing_command_shows_command_and_stderr() {
        let mut c = Command::new("sh");
        c.args(["-c", "echo 'it broke' >&2; exit 3", "x y"]);
        let e = run(&mut c).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("sh -c"), "{msg}");
        assert!(msg.contains("'x y'"), "{msg}");
        assert!(msg.contains("it broke"), "{msg}");
        assert!(msg.contains("exit status: 3"), "{msg}");
    }
}
