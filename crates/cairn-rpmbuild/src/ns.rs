//! The isolated build root: one `unshare` invocation (private mount, PID, UTS, IPC and
//! network namespaces) running a host shell script that mounts an overlay over the base,
//! gives it fresh `/proc`, `/dev`, `/tmp`, installs packages, adds the build user and runs
//! rpmbuild or rpmspec as that user. Everything mounted lives in the private mount
//! namespace and goes away with its last process; the PID namespace makes the script's
//! end (or its kill) the end of every process it started.

use crate::RpmbuildError;
use fs_err::File;

use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How many log lines an error carries.
pub(crate) const TAIL_LINES: usize = 30;

/// The database path used in every root (Debian's rpm defaults to `~/.rpmdb`).
pub(crate) const DBPATH: &str = "/usr/lib/sysimage/rpm";

/// The build user's home; `%_topdir` is `BUILDDIR/build`.
pub(crate) const BUILDDIR: &str = "/builddir";

/// The script run as PID 1 of the new namespaces, on the host's view of the file system.
/// Its configuration comes from `CAIRN_*` environment variables; its arguments are the
/// options for rpmbuild (mode `build`) or rpmspec (mode `query`), without the spec. It
/// writes the stage it is in to `$CAIRN_WORK/stage`, the isolation it got to
/// `$CAIRN_WORK/isolation`, and (mode `build`) the packages to `$CAIRN_WORK/result/`.
const SCRIPT: &str = r#"set -eu
exec 2>&1
umask 022
W=$CAIRN_WORK
M=$W/merged
T=/builddir/build
stage() { printf '%s\n' "$1" >"$W/stage"; printf 'cairn-rpmbuild: %s\n' "$2"; }

stage setup "isolating $CAIRN_BASE (hostname localhost, no network)"
printf 'localhost\n' >/proc/sys/kernel/hostname
mkdir -p "$M" "$W/upper" "$W/ovl"
if [ "$CAIRN_OVERLAY" = yes ] &&
    mount -t overlay -o "lowerdir=$CAIRN_BASE,upperdir=$W/upper,workdir=$W/ovl" cairn-build "$M" 2>"$W/overlay.err"; then
    echo overlay >"$W/isolation"
    printf 'cairn-rpmbuild: overlay over %s mounted\n' "$CAIRN_BASE"
else
    printf 'cairn-rpmbuild: no overlay mount (%s)\n' "${CAIRN_NO_OVERLAY:-$(cat "$W/overlay.err" 2>/dev/null)}"
    if [ "$CAIRN_COPY" != yes ]; then
        printf 'cairn-rpmbuild: cannot copy the base either: %s\n' "$CAIRN_NO_COPY"
        exit 1
    fi
    printf 'cairn-rpmbuild: copying %s instead (cp -a --reflink=auto)\n' "$CAIRN_BASE"
    cp -a --reflink=auto "$CAIRN_BASE/." "$M/"
    echo copy >"$W/isolation"
fi
for d in proc dev tmp var/tmp run sys etc; do
    if [ -L "$M/$d" ] || { [ -e "$M/$d" ] && [ ! -d "$M/$d" ]; }; then
        printf 'cairn-rpmbuild: /%s in the base is not a directory\n' "$d"
        exit 1
    fi
    mkdir -p "$M/$d"
done
mount -t proc -o nosuid,nodev,noexec proc "$M/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$M/sys"
mount -t tmpfs -o mode=0755,nosuid,noexec,size=16m cairn-dev "$M/dev"
mknod -m 0666 "$M/dev/null" c 1 3
mknod -m 0666 "$M/dev/zero" c 1 5
mknod -m 0666 "$M/dev/full" c 1 7
mknod -m 0666 "$M/dev/random" c 1 8
mknod -m 0666 "$M/dev/urandom" c 1 9
mknod -m 0666 "$M/dev/tty" c 5 0
mkdir -m 0755 "$M/dev/pts"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$M/dev/pts"
ln -s pts/ptmx "$M/dev/ptmx"
mkdir -m 1777 "$M/dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev cairn-shm "$M/dev/shm"
ln -s /proc/self/fd "$M/dev/fd"
ln -s /proc/self/fd/0 "$M/dev/stdin"
ln -s /proc/self/fd/1 "$M/dev/stdout"
ln -s /proc/self/fd/2 "$M/dev/stderr"
mount -t tmpfs -o mode=1777,nosuid,nodev cairn-tmp "$M/tmp"
mount -t tmpfs -o mode=1777,nosuid,nodev cairn-vartmp "$M/var/tmp"
mount -t tmpfs -o mode=0755,nosuid,nodev cairn-run "$M/run"

stage tools "looking for $CAIRN_TOOL in the base"
if ! chroot "$M" /bin/sh -c "command -v $CAIRN_TOOL" >/dev/null 2>&1; then
    printf 'cairn-rpmbuild: %s is not in the base (PATH=/usr/bin:/bin)\n' "$CAIRN_TOOL"
    echo missing >"$W/stage"
    exit 1
fi

if [ -d "$W/install" ]; then
    stage install "installing $(ls "$W/install" | tr '\n' ' ')"
    mkdir -p "$M/tmp/.cairn-install"
    cp "$W/install/"* "$M/tmp/.cairn-install/"
    # shellcheck disable=SC2086
    chroot "$M" /bin/sh -c 'cd /tmp/.cairn-install && exec rpm --dbpath "$0" -i "$@" ./*.rpm' \
        "$CAIRN_DBPATH" $CAIRN_RPM_FLAGS
    rm -rf "$M/tmp/.cairn-install"
fi

stage user "adding the build user"
if ! grep -q '^builder:' "$M/etc/passwd"; then
    uid=1000
    while cut -d: -f3 "$M/etc/passwd" | grep -qx "$uid"; do uid=$((uid + 1)); done
    gid=1000
    while cut -d: -f3 "$M/etc/group" | grep -qx "$gid"; do gid=$((gid + 1)); done
    printf 'builder:x:%s:%s:cairn build user:/builddir:/bin/sh\n' "$uid" "$gid" >>"$M/etc/passwd"
    printf 'builder:x:%s:\n' "$gid" >>"$M/etc/group"
fi
uid=$(grep '^builder:' "$M/etc/passwd" | head -n1 | cut -d: -f3)
gid=$(grep '^builder:' "$M/etc/passwd" | head -n1 | cut -d: -f4)

stage sources "copying $CAIRN_SRCDIR"
rm -rf "$M/builddir"
mkdir -p "$M$T/SOURCES" "$M$T/SPECS" "$M$T/BUILD" "$M$T/BUILDROOT" "$M$T/RPMS" "$M$T/SRPMS"
cp -a "$CAIRN_SRCDIR/." "$M$T/SOURCES/"
rm -f "$M$T/SOURCES/$CAIRN_SPEC"
cp "$CAIRN_SRCDIR/$CAIRN_SPEC" "$M$T/SPECS/$CAIRN_SPEC"
chown -R "$uid:$gid" "$M/builddir"

as_builder() {
    env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/builddir LANG=C.UTF-8 TZ=UTC \
        ${CAIRN_SDE:+SOURCE_DATE_EPOCH=$CAIRN_SDE} \
        chroot --userspec="$uid:$gid" --groups="$gid" "$M" "$@"
}

if [ "$CAIRN_MODE" = query ]; then
    stage query "querying $CAIRN_SPEC with rpmspec"
    S=$T/SPECS/$CAIRN_SPEC
    as_builder rpmspec -q --buildrequires "$@" "$S" >"$W/q.buildrequires"
    as_builder rpmspec -q --qf '%{name}\n' "$@" "$S" >"$W/q.packages"
    as_builder rpmspec -q --provides "$@" "$S" >"$W/q.provides"
    as_builder rpmspec -q --srpm --qf '%|CHANGELOGTIME?{%{CHANGELOGTIME}}:{}|\n' "$@" "$S" >"$W/q.changelogtime"
    exit 0
fi

if chroot "$M" rpm --showrc 2>/dev/null | grep -q 'rpmlib(PayloadIsZstd)'; then
    set -- --define '_binary_payload w19.zstdio' --define '_source_payload w19.zstdio' "$@"
else
    printf 'cairn-rpmbuild: this rpm has no zstd payloads; keeping its default compression\n'
fi
stage build "rpmbuild -ba $* $T/SPECS/$CAIRN_SPEC"
as_builder rpmbuild -ba "$@" "$T/SPECS/$CAIRN_SPEC"

stage collect "collecting the packages"
mkdir -p "$W/result"
find "$M$T/RPMS" "$M$T/SRPMS" -type f -name '*.rpm' -exec cp {} "$W/result/" \;
stage done "done"
"#;

/// One run of [`SCRIPT`].
#[derive(Debug)]
pub(crate) struct Run<'a> {
    pub work: &'a Path,
    pub base: &'a Path,
    pub srcdir: &'a Path,
    pub spec: &'a str,
    pub query: bool,
    pub foreign: bool,
    /// rpmbuild/rpmspec options (defines), without the spec.
    pub args: &'a [String],
    pub source_date_epoch: Option<u64>,
    pub timeout: Option<Duration>,
    /// The log: the script's and the tools' stdout and stderr.
    pub log: &'a Path,
}

/// How [`Run`] ended.
#[derive(Debug)]
pub(crate) enum Ended {
    Exited(ExitStatus),
    TimedOut,
}

/// Where the script stopped: the content of `$CAIRN_WORK/stage`.
pub(crate) fn stage(work: &Path) -> String {
    fs_err::read_to_string(work.join("stage"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Why the overlay cannot be tried, if it cannot: overlayfs option strings split on `,`
/// and `:` and treat `\` as an escape.
fn overlay_refusal(base: &Path, work: &Path) -> Option<String> {
    for p in [base, work] {
        let s = p.to_string_lossy();
        if s.contains([',', ':', '\\']) {
            return Some(format!(
                "{} contains ',', ':' or '\\', which overlayfs options cannot carry",
                p.display()
            ));
        }
    }
    None
}

/// Why the base cannot be copied, if it cannot: the work directory lies inside it.
fn copy_refusal(base: &Path, work: &Path) -> Option<String> {
    let base = base.canonicalize().ok()?;
    let work = work.canonicalize().ok()?;
    work.starts_with(&base).then(|| {
        format!(
            "the work directory {} is inside the base {}",
            work.display(),
            base.display()
        )
    })
}

/// Run the script under `setpriv --pdeathsig KILL unshare …`, output to the log.
pub(crate) fn run(r: &Run<'_>) -> Result<Ended, RpmbuildError> {
    let log = File::create(r.log)?.into_parts().0;
    let log2 = log.try_clone()?;
    let mut env: Vec<(&str, String)> = vec![
        ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin".into()),
        ("LC_ALL", "C.UTF-8".into()),
        ("CAIRN_WORK", path_str(r.work)?),
        ("CAIRN_BASE", path_str(r.base)?),
        ("CAIRN_SRCDIR", path_str(r.srcdir)?),
        ("CAIRN_SPEC", r.spec.to_owned()),
        ("CAIRN_MODE", if r.query { "query" } else { "build" }.into()),
        (
            "CAIRN_TOOL",
            if r.query { "rpmspec" } else { "rpmbuild" }.into(),
        ),
        ("CAIRN_DBPATH", DBPATH.into()),
        (
            "CAIRN_RPM_FLAGS",
            if r.foreign { "--nodeps" } else { "" }.into(),
        ),
    ];
    match overlay_refusal(r.base, r.work) {
        Some(why) => {
            env.push(("CAIRN_OVERLAY", "no".into()));
            env.push(("CAIRN_NO_OVERLAY", why));
        }
        None => env.push(("CAIRN_OVERLAY", "yes".into())),
    }
    match copy_refusal(r.base, r.work) {
        Some(why) => {
            env.push(("CAIRN_COPY", "no".into()));
            env.push(("CAIRN_NO_COPY", why));
        }
        None => env.push(("CAIRN_COPY", "yes".into())),
    }
    if let Some(sde) = r.source_date_epoch {
        env.push(("CAIRN_SDE", sde.to_string()));
    }
    // setpriv: unshare dies with cairn; --kill-child passes that on to the namespace's
    // PID 1, whose end takes every other process in the namespace with it.
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
        SCRIPT,
        "cairn-rpmbuild",
    ])
    .args(r.args)
    .env_clear()
    .envs(env)
    .current_dir("/")
    .stdin(Stdio::null())
    .stdout(log)
    .stderr(log2);
    let mut child = cmd.spawn().map_err(|e| RpmbuildError::ToolMissing {
        tool: "setpriv (util-linux)".into(),
        source: e,
    })?;
    drop(cmd);
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Ended::Exited(status));
        }
        if r.timeout.is_some_and(|t| started.elapsed() >= t) {
            kill_namespace(&mut child);
            return Ok(Ended::TimedOut);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kill the namespace's PID 1 (unshare's child), which takes the whole PID namespace
/// with it, then reap unshare; fall back to killing unshare itself.
fn kill_namespace(child: &mut Child) {
    let pid = child.id();
    let children =
        fs_err::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    for p in children.split_whitespace() {
        let _ = Command::new("kill")
            .args(["-KILL", p])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn path_str(p: &Path) -> Result<String, RpmbuildError> {
    p.to_str()
        .map(str::to_owned)
        .ok_or_else(|| RpmbuildError::BadInput {
            path: p.to_owned(),
            message: "the path is not valid UTF-8".into(),
        })
}

/// The last `n` lines of the file at `path` (reading at most its last 256 KiB).
pub(crate) fn tail_of(path: &Path, n: usize) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(256 * 1024);
    if f.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut buf = Vec::new();
    if f.read_to_end(&mut buf).is_err() {
        return String::new();
    }
    tail(&String::from_utf8_lossy(&buf), n)
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The spec section rpmbuild names in its last `error: Bad exit status from … (%build)`
/// line, or `%files` for file list errors.
pub(crate) fn failed_stage(log: &str) -> Option<String> {
    let mut found = None;
    for line in log.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("error: Bad exit status from ") {
            if let (Some(open), true) = (rest.rfind("(%"), rest.ends_with(')')) {
                found = Some(rest[open + 1..rest.len() - 1].to_owned());
            }
        } else if line.starts_with("error: File not found")
            || line.starts_with("error: Installed (but unpackaged) file(s) found")
            || line.starts_with("error: Directory not found")
        {
            found = Some("%files".to_owned());
        } else if line.starts_with("error: Bad source") || line.starts_with("error: Bad file") {
            found = Some("%prep (sources)".to_owned());
        } else if line.starts_with("error: Failed build dependencies") {
            found = Some("BuildRequires".to_owned());
        } else if line.starts_with("error: line ") || line.contains(": parse error") {
            found.get_or_insert_with(|| "spec parsing".to_owned());
        }
    }
    found
}

/// The whole log as text (lossy), for stage detection.
pub(crate) fn read_log(path: &Path) -> String {
    fs_err::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// A fresh work directory under `parent`, removed on drop.
pub(crate) fn work_dir(parent: &Path) -> Result<tempfile::TempDir, RpmbuildError> {
    fs_err::create_dir_all(parent)?;
    tempfile::Builder::new()
        .prefix(".cairn-rpmbuild-")
        .tempdir_in(parent)
        .map_err(|e| {
            RpmbuildError::Io(std::io::Error::new(
                e.kind(),
                format!("creating a work directory in {}: {e}", parent.display()),
            ))
        })
}

/// The effective uid from `/proc/self/status` (`Uid: real effective saved fs`).
pub(crate) fn parse_euid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
}

/// Fail unless running as root.
pub(crate) fn require_root() -> Result<(), RpmbuildError> {
    let path = PathBuf::from("/proc/self/status");
    let status = fs_err::read_to_string(&path)?;
    match parse_euid(&status) {
        Some(0) => Ok(()),
        Some(euid) => Err(RpmbuildError::NotRoot { euid }),
        None => Err(RpmbuildError::BadInput {
            path,
            message: "no readable Uid: line".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_comes_from_the_last_bad_exit_status() {
        let log = "+ make\nerror: Bad exit status from /var/tmp/rpm-tmp.x1 (%prep)\n\
                   error: Bad exit status from /var/tmp/rpm-tmp.Ab3 (%build)\n\nRPM build errors:\n";
        assert_eq!(failed_stage(log).as_deref(), Some("%build"));
        assert_eq!(
            failed_stage("error: File not found: /builddir/x\n").as_deref(),
            Some("%files")
        );
        assert_eq!(failed_stage("all good\n"), None);
        assert_eq!(
            failed_stage("error: line 3: Unknown tag: Foo: bar\n").as_deref(),
            Some("spec parsing")
        );
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("", 3), "");
    }

    #[test]
    fn euid_is_the_second_uid_field() {
        assert_eq!(parse_euid("Uid:\t1000\t0\t0\t0\n"), Some(0));
        assert_eq!(parse_euid("Name: x\n"), None);
    }

    #[test]
    fn overlay_options_cannot_carry_commas() {
        assert!(overlay_refusal(Path::new("/a,b"), Path::new("/w")).is_some());
        assert!(overlay_refusal(Path::new("/a"), Path::new("/w:x")).is_some());
        assert!(overlay_refusal(Path::new("/a"), Path::new("/w")).is_none());
    }

    #[test]
    fn a_work_dir_inside_the_base_cannot_take_a_copy() {
        let base = tempfile::tempdir().unwrap();
        let inner = base.path().join("w");
        fs_err::create_dir(&inner).unwrap();
        assert!(copy_refusal(base.path(), &inner).is_some());
        let other = tempfile::tempdir().unwrap();
        assert!(copy_refusal(base.path(), other.path()).is_none());
    }
}
