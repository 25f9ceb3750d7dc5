//! Running host tools, and commands in private namespaces (optionally chrooted).

use crate::InstallError;
use std::ffi::{OsStr, OsString};
use std::io::BufRead as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// How many lines of an installer's output an error carries.
pub(crate) const TAIL_LINES: usize = 40;

/// Fail unless the effective uid is 0 (read from `/proc/self/status`, no libc call).
pub(crate) fn require_root() -> Result<(), InstallError> {
    let status = fs_err::read_to_string("/proc/self/status")?;
    let euid = parse_euid(&status).ok_or_else(|| {
        InstallError::Io(std::io::Error::other(
            "/proc/self/status: no readable Uid: line",
        ))
    })?;
    if euid != 0 {
        return Err(InstallError::NotRoot { euid });
    }
    Ok(())
}

/// The effective uid from `/proc/self/status` (`Uid: real effective saved fs`).
pub(crate) fn parse_euid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
}

fn spawn_error(tool: &str, e: std::io::Error) -> InstallError {
    InstallError::ToolMissing {
        tool: tool.to_owned(),
        source: e,
    }
}

/// Run a host tool to completion and return its stdout; a failure carries its stderr.
pub(crate) fn host_output(tool: &str, args: &[&OsStr]) -> Result<Vec<u8>, InstallError> {
    let out = Command::new(tool)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| spawn_error(tool, e))?;
    if !out.status.success() {
        return Err(InstallError::Command {
            command: display_command(tool, args),
            status: out.status.to_string(),
            package: None,
            output: tail(&String::from_utf8_lossy(&out.stderr), TAIL_LINES),
        });
    }
    Ok(out.stdout)
}

pub(crate) fn display_command(tool: &str, args: &[&OsStr]) -> String {
    let mut s = tool.to_owned();
    for a in args.iter().take(6) {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    if args.len() > 6 {
        s.push_str(&format!(" … ({} more arguments)", args.len() - 6));
    }
    s
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Run `argv` chrooted into `root` (see [`in_namespace`]); a failure is an error named
/// `what`, attributed to `package` when given, with the tail of the output.
pub(crate) fn chroot(
    root: &Path,
    argv: &[&str],
    env: &[(String, String)],
    what: &str,
    package: Option<&str>,
) -> Result<(), InstallError> {
    let argv: Vec<OsString> = argv.iter().map(OsString::from).collect();
    let out = in_namespace(root, Mode::Chroot, &argv, env, &mut |_| {})?;
    if out.success {
        return Ok(());
    }
    Err(InstallError::Command {
        command: what.to_owned(),
        status: out.status.clone(),
        package: package.map(str::to_owned),
        output: out.tail(TAIL_LINES),
    })
}

/// What a command run in the namespace did.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub success: bool,
    pub status: String,
    /// stdout and stderr, interleaved as written.
    pub lines: Vec<String>,
}

impl Outcome {
    pub fn tail(&self, n: usize) -> String {
        self.lines[self.lines.len().saturating_sub(n)..].join("\n")
    }
}

/// Where the command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Mount `/proc`, `/sys`, a minimal `/dev`, and tmpfs on `/run` and `/tmp` inside the
    /// root, then `chroot` into it.
    Chroot,
    /// Mount nothing; run the command on the host's filesystem view (it takes the root
    /// as an argument, like `rpm --root`).
    Host,
}

/// The host shell script that sets up the namespace. `$1` is the root, `$2` the mode,
/// the rest the command. Every mount happens in the private mount namespace that
/// `unshare` created, so it disappears with the namespace's last process; the PID
/// namespace makes sure that is this script, its PID 1, which waits for the command
/// (its end takes every other process with it).
const NAMESPACE_SCRIPT: &str = r#"set -eu
exec 2>&1
root=$1
mode=$2
shift 2
printf 'localhost\n' >/proc/sys/kernel/hostname
if [ "$mode" = host ]; then
    exec "$@"
fi
target() {
    if [ -L "$root/$1" ] || [ ! -d "$root/$1" ]; then
        echo "cairn-install: $root/$1 is not a directory; cannot mount $2 there" >&2
        exit 125
    fi
}
target proc proc
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
target sys sysfs
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
target dev /dev
mount -t tmpfs -o mode=0755,nosuid,noexec,size=16m cairn-dev "$root/dev"
mknod -m 0666 "$root/dev/null" c 1 3
mknod -m 0666 "$root/dev/zero" c 1 5
mknod -m 0666 "$root/dev/full" c 1 7
mknod -m 0666 "$root/dev/random" c 1 8
mknod -m 0666 "$root/dev/urandom" c 1 9
mknod -m 0666 "$root/dev/tty" c 5 0
mkdir -m 0755 "$root/dev/pts"
mkdir -m 1777 "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
target run /run
mount -t tmpfs -o mode=0755,nosuid,nodev cairn-run "$root/run"
target tmp /tmp
mount -t tmpfs -o mode=1777,nosuid,nodev cairn-tmp "$root/tmp"
# Not exec: this shell stays PID 1, outside the chroot, so /proc/1/root is not the
# chroot's / and `ischroot` in maintainer scripts answers truthfully (libc6's postinst
# otherwise runs `telinit u; sleep 1`, as on a live system).
status=0
chroot "$root" "$@" || status=$?
exit "$status"
"#;

/// Run `argv` in private mount, PID, UTS, IPC and network namespaces (see [`Mode`]),
/// with exactly `env` as environment and stdin from /dev/null. `on_line` sees every
/// output line as it comes.
pub(crate) fn in_namespace(
    root: &Path,
    mode: Mode,
    argv: &[OsString],
    env: &[(String, String)],
    on_line: &mut dyn FnMut(&str),
) -> Result<Outcome, InstallError> {
    let (reader, writer) = std::io::pipe()?;
    // setpriv: unshare gets SIGKILL when cairn dies; --kill-child passes it on to the
    // namespace's PID 1, whose end kills the rest and dissolves the mounts. (A command
    // that writes also dies of SIGPIPE once cairn's end of the pipe is gone.)
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--pdeathsig",
        "KILL",
        "--",
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--pid",
        "--fork",
        "--kill-child",
        "--uts",
        "--ipc",
        "--net",
        "--",
        "/bin/sh",
        "-c",
        NAMESPACE_SCRIPT,
        "cairn-install",
    ])
    .arg(root)
    .arg(match mode {
        Mode::Chroot => "chroot",
        Mode::Host => "host",
    })
    .args(argv)
    .env_clear()
    .envs(env.iter().map(|(k, v)| (k, v)))
    .stdin(Stdio::null())
    .stdout(writer.try_clone()?)
    .stderr(writer);
    let mut child = cmd.spawn().map_err(|e| spawn_error("setpriv", e))?;
    // the Command holds the pipe's write end: drop it so the reader sees EOF
    drop(cmd);
    let mut lines = Vec::new();
    let mut reader = std::io::BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        on_line(line);
        lines.push(line.to_owned());
    }
    let status = child.wait()?;
    Ok(Outcome {
        success: status.success(),
        status: status.to_string(),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euid_is_the_second_uid_field() {
        let s = "Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t1\t1\t1\t1\n";
        assert_eq!(parse_euid(s), Some(0));
        assert_eq!(parse_euid("Uid:\t0\t1000\t0\t0\n"), Some(1000));
        assert_eq!(parse_euid("Name: x\n"), None);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 5), "");
    }
}
