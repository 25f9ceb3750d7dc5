//! Boot a built disk image in QEMU with a serial console.
//!
//! Two firmware paths, chosen by what the machine offers: legacy BIOS (SeaBIOS) with KVM
//! when `/dev/kvm` works, and UEFI with OVMF, which on machines whose KVM cannot run OVMF
//! uses software emulation (TCG). [`boot`] either hands the console to the user or, in
//! check mode, watches the serial output until the guest reaches multi-user (or a login
//! prompt) and stops QEMU — exit status for CI.
//!
//! The image is opened with `snapshot=on` unless asked otherwise, so booting never changes a
//! built output. This crate never prints; serial lines go to the caller's callback.

use fs_err as fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Firmware to boot with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    Bios,
    Uefi,
}

/// How QEMU executes the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// KVM when it works for the firmware, else TCG.
    Auto,
    Kvm,
    Tcg,
}

#[derive(Debug, Clone)]
pub struct BootOptions {
    pub disk: PathBuf,
    /// `raw`, `qcow2` or `vpc`; default from the file name.
    pub format: Option<String>,
    pub firmware: Firmware,
    pub accel: Accel,
    pub memory_mib: u32,
    pub cpus: u32,
    /// Write to the image (default: a snapshot, the image is never changed).
    pub persist: bool,
    /// Forward this host port to the guest's SSH port 22.
    pub ssh_port: Option<u16>,
    /// Check mode: how long to wait for multi-user.
    pub timeout: Duration,
    /// Check mode: also keep the whole serial console in this file.
    pub serial_log: Option<PathBuf>,
}

impl BootOptions {
    pub fn new(disk: impl Into<PathBuf>, firmware: Firmware) -> Self {
        BootOptions {
            disk: disk.into(),
            format: None,
            firmware,
            accel: Accel::Auto,
            memory_mib: 1024,
            cpus: 2,
            persist: false,
            ssh_port: None,
            timeout: Duration::from_secs(300),
            serial_log: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BootError {
    #[error(
        "{tool} is not installed (Debian package {package}); run scripts/setup-host.sh or apt-get install {package}"
    )]
    MissingTool {
        tool: &'static str,
        package: &'static str,
    },
    #[error(
        "no OVMF firmware found (looked for {looked}); install the Debian package ovmf to boot with UEFI"
    )]
    NoOvmf { looked: String },
    #[error("disk image {0} does not exist (run `cairn build` first)")]
    NoDisk(PathBuf),
    #[error("/dev/kvm is not usable here: {0}; use software emulation (--accel tcg)")]
    NoKvm(String),
    #[error("starting {cmd}: {source}")]
    Spawn { cmd: String, source: std::io::Error },
    #[error(
        "the guest did not reach multi-user within {secs} s ({firmware:?}, {accel}); last console lines:\n{tail}"
    )]
    Timeout {
        secs: u64,
        firmware: Firmware,
        accel: &'static str,
        tail: String,
    },
    #[error(
        "QEMU exited with {status} before the guest reached multi-user; last console lines:\n{tail}"
    )]
    Exited { status: String, tail: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What a check-mode boot saw.
#[derive(Debug, Clone)]
pub struct BootOutcome {
    /// The console line that proved multi-user.
    pub matched: String,
    pub elapsed: Duration,
    pub accel: &'static str,
    pub firmware: Firmware,
}

/// True when `/dev/kvm` can be opened for reading and writing.
pub fn kvm_usable() -> Result<(), String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map(|_| ())
        .map_err(|e| format!("/dev/kvm: {e}"))
}

/// OVMF code and variable-store templates, 4M builds first.
pub fn find_ovmf() -> Result<(PathBuf, PathBuf), BootError> {
    let pairs = [
        (
            "/usr/share/OVMF/OVMF_CODE_4M.fd",
            "/usr/share/OVMF/OVMF_VARS_4M.fd",
        ),
        (
            "/usr/share/OVMF/OVMF_CODE.fd",
            "/usr/share/OVMF/OVMF_VARS.fd",
        ),
        (
            "/usr/share/edk2/ovmf/OVMF_CODE.fd",
            "/usr/share/edk2/ovmf/OVMF_VARS.fd",
        ),
    ];
    for (c, v) in pairs {
        if Path::new(c).is_file() && Path::new(v).is_file() {
            return Ok((c.into(), v.into()));
        }
    }
    Err(BootError::NoOvmf {
        looked: pairs.iter().map(|p| p.0).collect::<Vec<_>>().join(", "),
    })
}

fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// True when the host's KVM is PVM (`kvm_pvm`, the page-table-based KVM used for nested
/// guests without hardware virtualization): it runs protected- and long-mode code fast but
/// emulates real mode instruction by instruction, so firmware and boot loaders crawl
/// (measured: GRUB under SeaBIOS took 150 s to read an 8 MB kernel; TCG takes 2 s).
pub fn kvm_is_pvm() -> bool {
    Path::new("/sys/module/kvm_pvm").exists()
}

/// Which accelerator `opts` ends up with. `Auto`: KVM for BIOS when `/dev/kvm` opens and
/// runs real-mode code natively (not PVM); otherwise, and always for UEFI (OVMF under
/// KVM fails on these machines with an emulation failure), software emulation.
pub fn choose_accel(opts: &BootOptions) -> Result<&'static str, BootError> {
    match opts.accel {
        Accel::Tcg => Ok("tcg"),
        Accel::Kvm => kvm_usable().map(|_| "kvm").map_err(BootError::NoKvm),
        Accel::Auto => Ok(match (opts.firmware, kvm_usable()) {
            (Firmware::Bios, Ok(())) if !kvm_is_pvm() => "kvm",
            _ => "tcg",
        }),
    }
}

/// The QEMU command line for `opts`; `vars` is a writable copy of the OVMF variable store.
pub fn qemu_command(
    opts: &BootOptions,
    accel: &str,
    vars: Option<&Path>,
    interactive: bool,
) -> Result<Command, BootError> {
    let qemu = which("qemu-system-x86_64").ok_or(BootError::MissingTool {
        tool: "qemu-system-x86_64",
        package: "qemu-system-x86",
    })?;
    if !opts.disk.is_file() {
        return Err(BootError::NoDisk(opts.disk.clone()));
    }
    let format = opts.format.clone().unwrap_or_else(|| {
        match opts.disk.extension().and_then(|e| e.to_str()) {
            Some("qcow2") => "qcow2".into(),
            Some("vhd") => "vpc".into(),
            _ => "raw".into(),
        }
    });
    let mut c = Command::new(qemu);
    c.args(["-machine", "q35"]);
    if accel == "kvm" {
        c.args(["-accel", "kvm", "-cpu", "host,-arch-capabilities"]);
    } else {
        c.args(["-accel", "tcg", "-cpu", "max"]);
    }
    c.arg("-m").arg(opts.memory_mib.to_string());
    c.arg("-smp").arg(opts.cpus.to_string());
    if opts.firmware == Firmware::Uefi {
        let (code, _) = find_ovmf()?;
        let vars = vars.ok_or_else(|| {
            BootError::Io(std::io::Error::other(
                "internal: UEFI boot without a vars copy",
            ))
        })?;
        c.arg("-drive").arg(format!(
            "if=pflash,format=raw,unit=0,readonly=on,file={}",
            code.display()
        ));
        c.arg("-drive").arg(format!(
            "if=pflash,format=raw,unit=1,file={}",
            vars.display()
        ));
    }
    let disk = opts.disk.display().to_string().replace(',', ",,");
    c.arg("-drive").arg(format!(
        "file={disk},format={format},if=virtio{}",
        if opts.persist { "" } else { ",snapshot=on" }
    ));
    match opts.ssh_port {
        Some(p) => c.arg("-nic").arg(format!(
            "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:{p}-:22"
        )),
        None => c.args(["-nic", "user,model=virtio-net-pci"]),
    };
    c.args(["-device", "virtio-rng-pci", "-no-reboot"]);
    if interactive {
        c.arg("-nographic");
    } else {
        c.args(["-display", "none", "-serial", "stdio", "-monitor", "none"]);
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
    }
    Ok(c)
}

/// Console lines that prove the guest reached multi-user.
pub fn is_multi_user(line: &str) -> bool {
    line.contains("Reached target multi-user.target")
        || line.contains("Reached target Multi-User System")
        || line.contains("Reached target \u{1b}[0;1;39mMulti-User System")
        || (line.contains(" login: ") || line.trim_end().ends_with(" login:"))
}

/// Strip ANSI escape sequences and carriage returns from a console line.
pub fn clean_line(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        if c != '\r' {
            out.push(c);
        }
    }
    out
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Boot interactively: QEMU owns the terminal (serial console on stdio; `Ctrl-a x` quits).
pub fn run_interactive(opts: &BootOptions) -> Result<std::process::ExitStatus, BootError> {
    let accel = choose_accel(opts)?;
    let tmp = tempfile::tempdir()?;
    let vars = uefi_vars(opts, tmp.path())?;
    let mut c = qemu_command(opts, accel, vars.as_deref(), true)?;
    let cmd = format!("{c:?}");
    c.status()
        .map_err(|source| BootError::Spawn { cmd, source })
}

fn uefi_vars(opts: &BootOptions, dir: &Path) -> Result<Option<PathBuf>, BootError> {
    if opts.firmware != Firmware::Uefi {
        return Ok(None);
    }
    let (_, vars) = find_ovmf()?;
    let copy = dir.join("OVMF_VARS.fd");
    fs::copy(&vars, &copy)?;
    Ok(Some(copy))
}

/// Boot and wait until the guest reaches multi-user; then stop QEMU. `on_line` sees every
/// console line (cleaned of escape codes).
pub fn check(opts: &BootOptions, on_line: &mut dyn FnMut(&str)) -> Result<BootOutcome, BootError> {
    let accel = choose_accel(opts)?;
    let tmp = tempfile::tempdir()?;
    let vars = uefi_vars(opts, tmp.path())?;
    let mut c = qemu_command(opts, accel, vars.as_deref(), false)?;
    let cmd = format!("{c:?}");
    let start = Instant::now();
    let mut child = Kill(
        c.spawn()
            .map_err(|source| BootError::Spawn { cmd, source })?,
    );
    let mut stdout = child
        .0
        .stdout
        .take()
        .ok_or_else(|| std::io::Error::other("no stdout"))?;
    let mut stderr = child
        .0
        .stderr
        .take()
        .ok_or_else(|| std::io::Error::other("no stderr"))?;
    let (tx, rx) = mpsc::channel::<Option<Vec<u8>>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut line = Vec::new();
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => {
                    if !line.is_empty() {
                        let _ = tx.send(Some(std::mem::take(&mut line)));
                    }
                    let _ = tx.send(None);
                    return;
                }
                Ok(n) => {
                    for &b in &buf[..n] {
                        if b == b'\n' {
                            let _ = tx.send(Some(std::mem::take(&mut line)));
                        } else {
                            line.push(b);
                        }
                    }
                    // a login prompt has no newline after it
                    if line.ends_with(b"login: ") && tx.send(Some(line.clone())).is_ok() {
                        line.clear();
                    }
                }
            }
        }
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut log = match &opts.serial_log {
        Some(p) => Some(fs::File::create(p)?),
        None => None,
    };
    let mut tail: std::collections::VecDeque<String> = Default::default();
    let deadline = start + opts.timeout;
    let result = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Some(raw)) => {
                let l = clean_line(&raw);
                if let Some(f) = log.as_mut() {
                    use std::io::Write;
                    writeln!(f, "{l}")?;
                }
                on_line(&l);
                if tail.len() == 30 {
                    tail.pop_front();
                }
                tail.push_back(l.clone());
                if is_multi_user(&l) {
                    break Ok(BootOutcome {
                        matched: l,
                        elapsed: start.elapsed(),
                        accel,
                        firmware: opts.firmware,
                    });
                }
            }
            Ok(None) => {
                let status = child
                    .0
                    .wait()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|e| e.to_string());
                let mut t: Vec<String> = tail.iter().cloned().collect();
                drop(child);
                let errs = err_reader.join().unwrap_or_default();
                if !errs.trim().is_empty() {
                    t.push(format!("(qemu stderr) {}", errs.trim()));
                }
                let _ = reader.join();
                return Err(BootError::Exited {
                    status,
                    tail: t.join("\n"),
                });
            }
            Err(_) => {
                break Err(BootError::Timeout {
                    secs: opts.timeout.as_secs(),
                    firmware: opts.firmware,
                    accel,
                    tail: tail.iter().cloned().collect::<Vec<_>>().join("\n"),
                });
            }
        }
    };
    drop(child);
    let _ = reader.join();
    let _ = err_reader.join();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_lines_are_cleaned_and_recognised() {
        let l = clean_line(b"[  OK  ] \x1b[0;1;39mReached target\x1b[0m \x1b[0;1;39mmulti-user.target\x1b[0m - Multi-User System.\r");
        assert_eq!(
            l,
            "[  OK  ] Reached target multi-user.target - Multi-User System."
        );
        assert!(is_multi_user(&l));
        assert!(is_multi_user(
            "Debian GNU/Linux 12 cairn ttyS0\n\ncairn login: "
        ));
        assert!(!is_multi_user("Reached target basic.target"));
    }

    #[test]
    fn command_line_matches_the_firmware() {
        let dir = tempfile::tempdir().unwrap();
        let disk = dir.path().join("d.raw");
        fs::write(&disk, b"").unwrap();
        let o = BootOptions::new(&disk, Firmware::Bios);
        let c = qemu_command(&o, "kvm", None, false).unwrap();
        let args: Vec<String> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(
            args.iter()
                .any(|a| a.contains("snapshot=on") && a.contains("format=raw"))
        );
        assert!(args.contains(&"kvm".to_owned()));
        assert!(!args.iter().any(|a| a.contains("pflash")));
    }
}
