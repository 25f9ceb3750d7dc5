//! `cairn build` and `cairn boot` end to end: RPM roots from a fixture repository built
//! with rpmbuild (busybox as the shell), Debian images from the host's apt sources booted
//! in QEMU, reproducibility by comparing bytes, and faults (failing scriptlet, Ctrl-C,
//! kill -9, full disk, missing user, missing tool, not root) with the previous outputs
//! checked to survive.

use super::{Project, edit, root, run_script, stderr, stdout};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const SDE: &str = "1700000000";

/// The RPM fixture root repository (fixtures/rpm/root), unsigned, built once.
fn root_repo() -> &'static Path {
    static R: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &R.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        run_script(&[
            "scripts/fixtures/rpm-repo.sh",
            "fixtures/rpm/root",
            repo.to_str().unwrap(),
        ]);
        (dir, repo)
    })
    .1
}

fn rpm_project(image_extra: &str) -> Project {
    Project::new(&format!(
        r#"
[project]
name = "fixture-distro"
arch = "x86_64"

[sources.fx]
kind = "rpm-md"
baseurl = "file://{repo}"
gpgcheck = false
repo-gpgcheck = false

[images.base]
packages = ["fixture-hello", "fixture-caps"]
outputs = ["dir", "tar", "oci"]
version = "3.1"
hostname = "fixture"

[images.base.os-release]
NAME = "Fixture Linux"
ID = "fixture"
VERSION_ID = "3.1"

[[images.base.users]]
name = "app"
uid = 1500

[[images.base.files]]
path = "/etc/app.conf"
content = "level = 3\n"
mode = "0640"
owner = "app"
{image_extra}
"#,
        repo = root_repo().display()
    ))
}

fn build(p: &Project, args: &[&str]) -> std::process::Output {
    let mut a = vec!["build"];
    a.extend_from_slice(args);
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.arg("-C")
        .arg(p.dir.path())
        .arg("--cache-dir")
        .arg(&p.cache)
        .args(&a)
        .env("SOURCE_DATE_EPOCH", SDE);
    c.output().unwrap()
}

fn sha256(p: &Path) -> String {
    use sha2::Digest;
    let mut f = fs_err::File::open(p).unwrap();
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h).unwrap();
    hex::encode(h.finalize())
}

/// Every file under `dir` but a `rootfs/` output (relative path → sha256), for "nothing
/// changed" and "bit-identical" checks.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let walk = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.file_name() != "rootfs");
    for e in walk {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            m.insert(rel, sha256(e.path()));
        }
    }
    m
}

fn leftovers(out: &Path) -> Vec<String> {
    fs_err::read_dir(out)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

fn tool(cmd: &str, args: &[&str]) -> String {
    let o = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e} (run scripts/setup-host.sh)"));
    assert!(
        o.status.success(),
        "{cmd} {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn locked_names(p: &Project, image: &str) -> Vec<String> {
    let lock = fs_err::read_to_string(p.path("cairn.lock")).unwrap();
    let v: toml::Value = toml::from_str(&lock).unwrap();
    let mut names: Vec<String> = v["images"][image]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn rpm_root_builds_tar_oci_and_dir_that_rpm_skopeo_and_umoci_accept() {
    let p = rpm_project("");
    let o = build(&p, &["-O", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let s = &v[0];
    assert_eq!(s["image"], "base");
    assert_eq!(s["version"], "3.1");
    // the dir output is the root itself: assembled on disk, not in memory
    assert_eq!(s["image_root"], "disk");
    let out = p.path("out/base");
    for f in [
        "base.tar",
        "base.docker.tar",
        "base.spdx.json",
        "base.cdx.json",
        "SHA256SUMS",
        "build.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let kinds: Vec<&str> = s["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    for k in [
        "tar",
        "oci",
        "docker-archive",
        "dir",
        "sbom-spdx",
        "sbom-cyclonedx",
    ] {
        assert!(kinds.contains(&k), "{k} not in {kinds:?}");
    }
    // the digests in the summary are the files' digests, and SHA256SUMS agrees
    let sums = fs_err::read_to_string(out.join("SHA256SUMS")).unwrap();
    let tar_sum = sha256(&out.join("base.tar"));
    assert!(sums.contains(&format!("{tar_sum}  base.tar\n")), "{sums}");

    // rpm in the result lists exactly the lock
    let rootfs = out.join("rootfs");
    let qa = tool(
        "rpm",
        &[
            "--root",
            rootfs.to_str().unwrap(),
            "--dbpath",
            "/usr/lib/sysimage/rpm",
            "-qa",
            "--qf",
            "%{NAME}\n",
        ],
    );
    let mut got: Vec<String> = qa.lines().map(str::to_owned).collect();
    got.sort();
    assert_eq!(got, locked_names(&p, "base"));

    // customizations
    let osr = fs_err::read_to_string(rootfs.join("usr/lib/os-release")).unwrap();
    assert!(
        osr.contains("ID=fixture") && osr.contains("IMAGE_VERSION=3.1"),
        "{osr}"
    );
    assert_eq!(
        fs_err::read_to_string(rootfs.join("etc/hostname")).unwrap(),
        "fixture\n"
    );
    let tarlist = tool(
        "tar",
        &[
            "--numeric-owner",
            "-tvf",
            out.join("base.tar").to_str().unwrap(),
        ],
    );
    let conf = tarlist
        .lines()
        .find(|l| l.ends_with("./etc/app.conf"))
        .unwrap_or_else(|| panic!("{tarlist}"));
    assert!(conf.starts_with("-rw-r----- 1500/0"), "{conf}");
    assert!(
        tarlist.contains("./var/lib/fixture-hello/post-ran"),
        "%post ran in the root"
    );

    // OCI: skopeo reads the layout and the docker archive; umoci unpacks it
    let layout = format!("oci:{}:3.1", out.join("base.oci").display());
    let insp: serde_json::Value =
        serde_json::from_str(&tool("skopeo", &["inspect", &layout])).unwrap();
    assert_eq!(insp["Labels"]["io.cairn.os-release.id"], "fixture");
    assert_eq!(insp["Labels"]["org.opencontainers.image.version"], "3.1");
    let spdx_digest = format!("sha256:{}", sha256(&out.join("base.spdx.json")));
    assert_eq!(
        insp["Labels"]["io.cairn.sbom.spdx.digest"],
        spdx_digest.as_str()
    );
    assert_eq!(insp["Created"], "2023-11-14T22:13:20Z");
    let da = format!("docker-archive:{}", out.join("base.docker.tar").display());
    let insp2: serde_json::Value =
        serde_json::from_str(&tool("skopeo", &["inspect", &da])).unwrap();
    assert_eq!(insp2["Labels"], insp["Labels"]);
    let un = tempfile::tempdir().unwrap();
    let bundle = un.path().join("bundle");
    tool(
        "umoci",
        &[
            "unpack",
            "--image",
            &format!("{}:3.1", out.join("base.oci").display()),
            bundle.to_str().unwrap(),
        ],
    );
    assert!(
        bundle
            .join("rootfs/usr/share/fixture-hello/README")
            .is_file()
    );

    // SBOMs pass the real validators
    let py = root().join("target/pyenv/bin");
    tool(
        py.join("pyspdxtools").to_str().unwrap(),
        &["-i", out.join("base.spdx.json").to_str().unwrap()],
    );
    let cdx_ok = tool(
        py.join("python").to_str().unwrap(),
        &[
            "-c",
            "import sys\nfrom cyclonedx.schema import SchemaVersion\nfrom cyclonedx.validation.json import JsonStrictValidator\nprint(JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read()))",
            out.join("base.cdx.json").to_str().unwrap(),
        ],
    );
    assert_eq!(cdx_ok.trim(), "None");
    let spdx: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(out.join("base.spdx.json")).unwrap()).unwrap();
    let purls: Vec<String> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["externalRefs"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["referenceLocator"].as_str().map(str::to_owned))
        .collect();
    assert!(
        purls
            .iter()
            .any(|u| u == "pkg:rpm/fx/fixture-hello@1.0-1?arch=noarch"),
        "{purls:?}"
    );

    // the same lock and SOURCE_DATE_EPOCH again: bit-identical tar and OCI
    let before = snapshot(&out);
    let o = build(&p, &["--locked"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let after = snapshot(&out);
    for f in [
        "base.tar",
        "base.docker.tar",
        "base.spdx.json",
        "base.cdx.json",
        "base.oci/index.json",
    ] {
        assert_eq!(
            before.get(f),
            after.get(f),
            "{f} differs between two builds"
        );
    }
    assert!(
        leftovers(&p.path("out")).is_empty(),
        "{:?}",
        leftovers(&p.path("out"))
    );
}

#[test]
fn a_failing_scriptlet_fails_the_build_and_keeps_the_previous_outputs() {
    let p = rpm_project("");
    let o = build(&p, &["--outputs", "tar"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = p.path("out/base");
    let good = snapshot(&out);
    edit(
        &p.path("cairn.toml"),
        r#"packages = ["fixture-hello", "fixture-caps"]"#,
        r#"packages = ["fixture-hello", "fixture-caps", "fixture-badpost"]"#,
    );
    // --locked refuses the changed definition
    let o = build(&p, &["--locked", "--outputs", "tar"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("stale") && stderr(&o).contains("base"),
        "{}",
        stderr(&o)
    );
    let o = build(&p, &["--outputs", "tar"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("fixture-badpost") && e.contains("%post"), "{e}");
    assert_eq!(snapshot(&out), good, "previous outputs changed");
    assert!(
        leftovers(&p.path("out")).is_empty(),
        "{:?}",
        leftovers(&p.path("out"))
    );
}

#[test]
fn customizations_naming_missing_things_fail_clearly() {
    let p = rpm_project("");
    let o = build(&p, &["--outputs", "tar"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let good = snapshot(&p.path("out/base"));
    edit(
        &p.path("cairn.toml"),
        "owner = \"app\"",
        "owner = \"ghost\"",
    );
    let o = build(&p, &["--outputs", "tar"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("file /etc/app.conf: owner `ghost`"),
        "{}",
        stderr(&o)
    );
    edit(
        &p.path("cairn.toml"),
        "owner = \"ghost\"",
        "owner = \"app\"\n\n[images.base.systemd]\nenable = [\"nothere.service\"]",
    );
    let o = build(&p, &["--outputs", "tar"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nothere.service"), "{}", stderr(&o));
    assert_eq!(snapshot(&p.path("out/base")), good);
}

#[test]
fn missing_host_tool_and_missing_root_are_named() {
    let p = rpm_project("");
    // lock and fetch first, so the build itself is what fails
    let o = p.cairn(&["lock"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let empty = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("-C")
        .arg(p.dir.path())
        .arg("--cache-dir")
        .arg(&p.cache)
        .args(["build", "--outputs", "tar"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("rpm is not installed (Debian package rpm)"),
        "{}",
        stderr(&o)
    );
    // not root: run as nobody (the project and cache must be readable to it)
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_cairn"))
        .arg("-C")
        .arg(p.dir.path())
        .arg("--cache-dir")
        .arg(empty.path().join("c"))
        .args(["--offline", "build", "--outputs", "tar"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("must run as root") || e.contains("Permission denied"),
        "{e}"
    );
}

#[test]
fn ctrl_c_and_kill_leave_the_previous_outputs_and_no_temporary_files() {
    use std::os::unix::process::CommandExt;
    let p = rpm_project("");
    let o = build(&p, &["--outputs", "tar"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let good = snapshot(&p.path("out/base"));
    edit(
        &p.path("cairn.toml"),
        r#"packages = ["fixture-hello", "fixture-caps"]"#,
        r#"packages = ["fixture-hello", "fixture-caps", "fixture-slowpost"]"#,
    );
    let o = p.cairn(&["lock"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out_dir = p.path("out");
    let start = |sig: &str| {
        let child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("-C")
            .arg(p.dir.path())
            .arg("--cache-dir")
            .arg(&p.cache)
            .args(["build", "--outputs", "tar"])
            .env("SOURCE_DATE_EPOCH", SDE)
            .process_group(0)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // wait until the build is installing (its staging root has an rpm database); the
        // root is a tmpfs in the build's own mount namespace, seen through /proc/PID/root
        let t = std::time::Instant::now();
        let seen_by_cairn = PathBuf::from(format!("/proc/{}/root", child.id()))
            .join(out_dir.strip_prefix("/").unwrap());
        loop {
            let staging = leftovers(&out_dir)
                .into_iter()
                .find(|n| n.starts_with(".base.building-"));
            if let Some(s) = staging
                && seen_by_cairn.join(&s).join("root/usr/bin/busybox").exists()
            {
                assert!(
                    !out_dir.join(&s).join("root/usr/bin").exists(),
                    "the root in memory is not visible outside the build"
                );
                break;
            }
            assert!(
                t.elapsed().as_secs() < 60,
                "the build never reached install"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        // like a terminal's Ctrl-C: the whole process group
        let st = Command::new("kill")
            .args([sig, "--", &format!("-{}", child.id())])
            .status()
            .unwrap();
        assert!(st.success());
        child.wait_with_output().unwrap()
    };
    let o = start("-INT");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
    assert!(leftovers(&out_dir).is_empty(), "{:?}", leftovers(&out_dir));
    assert_eq!(snapshot(&p.path("out/base")), good);

    let o = start("-KILL");
    assert!(!o.status.success());
    assert!(!leftovers(&out_dir).is_empty(), "kill -9 cannot clean up");
    assert_eq!(snapshot(&p.path("out/base")), good);
    // but the in-memory root went with the build's mount namespace: no process anywhere
    // still sees a mount under out/
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut survivors = vec![];
    for e in fs_err::read_dir("/proc").unwrap() {
        let e = e.unwrap();
        if !e
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(mounts) = fs_err::read_to_string(e.path().join("mountinfo")) else {
            continue;
        };
        let out = out_dir.to_string_lossy();
        survivors.extend(
            mounts
                .lines()
                .filter(|l| l.split(' ').nth(4).is_some_and(|m| m.starts_with(&*out)))
                .map(|l| format!("{}: {l}", e.path().display())),
        );
    }
    assert!(survivors.is_empty(), "{survivors:#?}");
    // the next build removes what the killed one left
    edit(
        &p.path("cairn.toml"),
        r#""fixture-caps", "fixture-slowpost"]"#,
        r#""fixture-caps"]"#,
    );
    let o = build(&p, &["--outputs", "tar"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(leftovers(&out_dir).is_empty(), "{:?}", leftovers(&out_dir));
}

#[test]
fn a_full_disk_is_named_and_the_previous_outputs_survive() {
    let p = rpm_project("");
    // measure what one build needs, then give it a file system just big enough for one
    let o = build(&p, &["--outputs", "tar"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let size: u64 = snapshot(&p.path("out/base"))
        .keys()
        .map(|f| fs_err::metadata(p.path("out/base").join(f)).unwrap().len())
        .sum();
    struct Umount(PathBuf);
    impl Drop for Umount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    // with the root on disk, the build's peak is its root (about the tar's size) plus its
    // outputs; with the root in memory (the default here), only the outputs
    for (image_root, kib) in [
        ("disk", (size * 2 + size / 2) / 1024 + 256),
        ("memory", (size + size / 2) / 1024 + 256),
    ] {
        let mnt = tempfile::tempdir().unwrap();
        tool(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={kib}k"),
                "tmpfs",
                mnt.path().to_str().unwrap(),
            ],
        );
        let _u = Umount(mnt.path().to_owned());
        let out = mnt.path().to_str().unwrap();
        let args = [
            "--outputs",
            "tar",
            "--out-dir",
            out,
            "--image-root",
            image_root,
        ];
        let o = build(&p, &args);
        assert!(
            o.status.success(),
            "first build into {kib} KiB, root on {image_root}: {}",
            stderr(&o)
        );
        let good = snapshot(&mnt.path().join("base"));
        // a second build needs room for the old outputs and the new ones: there is none
        let o = build(&p, &args);
        assert!(!o.status.success(), "root on {image_root}");
        let e = stderr(&o);
        assert!(
            e.contains("disk is full") || e.contains("No space left"),
            "root on {image_root}: {e}"
        );
        assert_eq!(snapshot(&mnt.path().join("base")), good);
        assert!(
            leftovers(mnt.path()).is_empty(),
            "{:?}",
            leftovers(mnt.path())
        );
    }
}

/// Runs cairn in `dir` with SOURCE_DATE_EPOCH set and the .deb cache shared with
/// cairn-install's tests (downloaded once per machine); asserts success.
fn apt_cairn(dir: &Path) -> impl Fn(&[&str]) -> std::process::Output + '_ {
    let cache = root().join("target/test-cache");
    move |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("-C")
            .arg(dir)
            .arg("--cache-dir")
            .arg(&cache)
            .args(args)
            .env("SOURCE_DATE_EPOCH", SDE)
            .output()
            .unwrap();
        assert!(o.status.success(), "cairn {args:?}: {}", stderr(&o));
        o
    }
}

/// The main job: with no cairn.toml, `cairn build` builds the built-in minimal VM (raw +
/// VHD) and WSL image from real Debian packages through the host's apt; the raw disk
/// boots (as a disk) to multi-user under BIOS and UEFI; the VHD and a qcow2 pass
/// qemu-img; then two more builds of the VM with every output are compared byte for byte.
#[test]
fn builtin_default_builds_boots_and_rebuilds_bit_identically() {
    let dir = tempfile::tempdir().unwrap();
    let cairn = apt_cairn(dir.path());
    let o = cairn(&["build"]);
    let text = stdout(&o);
    assert!(text.contains("# image minimal-vm 1: "), "{text}");
    assert!(text.contains("# try: cairn boot minimal-vm"), "{text}");
    assert!(text.contains("# try: wsl --install --from-file"), "{text}");
    let vm = dir.path().join("out/minimal-vm");
    let raw = vm.join("minimal-vm.raw");
    let vhd = vm.join("minimal-vm.vhd");
    let summary = |dir: &Path| -> serde_json::Value {
        serde_json::from_str(&fs_err::read_to_string(dir.join("build.json")).unwrap()).unwrap()
    };
    assert_eq!(summary(&vm)["image_root"], "memory");
    assert!(dir.path().join("out/minimal-wsl/minimal-wsl.wsl").is_file());

    // VHD: qemu-img sees a vpc whose virtual size is the raw size rounded up to a MiB
    let info: serde_json::Value = serde_json::from_str(&tool(
        "qemu-img",
        &["info", "-f", "vpc", "--output=json", vhd.to_str().unwrap()],
    ))
    .unwrap();
    let raw_len = fs_err::metadata(&raw).unwrap().len();
    assert_eq!(info["format"], "vpc");
    assert_eq!(
        info["virtual-size"].as_u64().unwrap(),
        raw_len.div_ceil(1 << 20) << 20
    );
    assert_eq!(
        fs_err::metadata(&vhd).unwrap().len(),
        (raw_len.div_ceil(1 << 20) << 20) + 512
    );
    let tail = {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = fs_err::File::open(&vhd).unwrap();
        f.seek(SeekFrom::End(-512)).unwrap();
        let mut b = [0u8; 8];
        f.read_exact(&mut b).unwrap();
        b
    };
    assert_eq!(&tail, b"conectix");
    let scratch = tempfile::tempdir().unwrap();
    let q = scratch.path().join("converted.qcow2");
    tool(
        "qemu-img",
        &[
            "convert",
            "-f",
            "vpc",
            "-O",
            "qcow2",
            vhd.to_str().unwrap(),
            q.to_str().unwrap(),
        ],
    );
    tool("qemu-img", &["check", q.to_str().unwrap()]);
    tool(
        "qemu-img",
        &[
            "compare",
            "-f",
            "raw",
            "-F",
            "qcow2",
            raw.to_str().unwrap(),
            q.to_str().unwrap(),
        ],
    );

    // boot the raw disk to multi-user, BIOS and UEFI
    for fw in ["bios", "uefi"] {
        let o = cairn(&[
            "-O",
            "json",
            "boot",
            "minimal-vm",
            "--check",
            "--firmware",
            fw,
        ]);
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["reached"], "multi-user", "{v}");
        assert_eq!(v["firmware"], fw);
    }

    // every output, twice, from the same lock and SOURCE_DATE_EPOCH; what is checked
    // already is removed first, so the test needs less disk
    let raw_sha = sha256(&raw);
    drop(scratch);
    for f in [&raw, &vhd] {
        fs_err::remove_file(f).unwrap();
    }
    let all = "dir,tar,wsl,oci,raw,vhd,qcow2";
    let b1 = dir.path().join("b1");
    let b2 = dir.path().join("b2");
    let mut snaps = vec![];
    for b in [&b1, &b2] {
        cairn(&[
            "build",
            "--locked",
            "minimal-vm",
            "--outputs",
            all,
            "--out-dir",
            b.to_str().unwrap(),
        ]);
        let vm = b.join("minimal-vm");
        // with the dir output the root is on disk; the raw disk is compared below with
        // the first build's, whose root was in memory
        assert_eq!(summary(&vm)["image_root"], "disk");
        snaps.push(snapshot(&vm));
        for f in ["raw", "vhd", "qcow2", "tar", "wsl", "docker.tar"] {
            fs_err::remove_file(vm.join(format!("minimal-vm.{f}"))).unwrap();
        }
    }
    let (s1, s2) = (&snaps[0], &snaps[1]);
    for f in [
        "minimal-vm.tar",
        "minimal-vm.wsl",
        "minimal-vm.docker.tar",
        "minimal-vm.oci/index.json",
        "minimal-vm.raw",
        "minimal-vm.vhd",
        "minimal-vm.spdx.json",
        "minimal-vm.cdx.json",
        "SHA256SUMS",
    ] {
        assert!(s1.contains_key(f), "{f} missing");
        assert_eq!(s1.get(f), s2.get(f), "{f} differs between two builds");
    }
    // the raw disk is the same whichever outputs were asked for, and wherever the root
    // was assembled
    assert_eq!(s1["minimal-vm.raw"], raw_sha);
    let blobs1: Vec<_> = s1.keys().filter(|k| k.contains("/blobs/")).collect();
    let blobs2: Vec<_> = s2.keys().filter(|k| k.contains("/blobs/")).collect();
    assert_eq!(blobs1, blobs2);

    // dpkg in the result lists exactly the lock; customizations are in place
    let rootfs = b1.join("minimal-vm/rootfs");
    let q = tool(
        "dpkg-query",
        &[
            "--admindir",
            rootfs.join("var/lib/dpkg").to_str().unwrap(),
            "-W",
            "-f",
            "${db:Status-Abbrev}${Package}\n",
        ],
    );
    let mut got: Vec<String> = q
        .lines()
        .filter_map(|l| l.strip_prefix("ii "))
        .map(str::to_owned)
        .collect();
    got.sort();
    let lock = fs_err::read_to_string(dir.path().join("cairn.lock")).unwrap();
    let v: toml::Value = toml::from_str(&lock).unwrap();
    let mut want: Vec<String> = v["images"]["minimal-vm"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    want.sort();
    assert_eq!(got, want);
    let osr = fs_err::read_to_string(rootfs.join("usr/lib/os-release")).unwrap();
    assert!(
        osr.contains("ID=cairn\n") && osr.contains("ID_LIKE=debian\n"),
        "{osr}"
    );
    assert_eq!(
        fs_err::read_to_string(rootfs.join("etc/hostname")).unwrap(),
        "cairn\n"
    );
    assert_eq!(fs_err::read(rootfs.join("etc/machine-id")).unwrap(), b"");
    assert!(
        !rootfs.join("usr/share/man").exists()
            || walkdir::WalkDir::new(rootfs.join("usr/share/man"))
                .into_iter()
                .count()
                == 1
    );
    assert!(
        fs_err::symlink_metadata(
            rootfs.join("etc/systemd/system/multi-user.target.wants/systemd-networkd.service")
        )
        .is_ok()
    );
    let insp: serde_json::Value = serde_json::from_str(&tool(
        "skopeo",
        &[
            "inspect",
            &format!("oci:{}:1", b1.join("minimal-vm/minimal-vm.oci").display()),
        ],
    ))
    .unwrap();
    assert_eq!(insp["Labels"]["io.cairn.os-release.id"], "cairn");
    let py = root().join("target/pyenv/bin");
    tool(
        py.join("pyspdxtools").to_str().unwrap(),
        &[
            "-i",
            b1.join("minimal-vm/minimal-vm.spdx.json").to_str().unwrap(),
        ],
    );
}

/// cairn's own initrd (`disk.initrd = "cairn"`): the built-in VM's package list builds
/// without Debian's update-initramfs, the initrd is a zstd cpio cairn wrote after the
/// customizations (a `modprobe.d` file from `files` is in it), the disk
/// boots (as a disk) to multi-user under BIOS and UEFI, and a second build, with the
/// root in memory rather than on disk, gives the same bytes.
#[test]
fn own_initrd_boots_and_rebuilds_bit_identically() {
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(
        dir.path().join("cairn.toml"),
        r##"[sources.host]
kind = "host-apt"

[images.vm]
packages = ["linux-image-amd64", "systemd-sysv", "udev", "iproute2", "openssh-server"]
weak-deps = false
outputs = ["raw", "dir"]
kernel-cmdline = ["console=ttyS0,115200n8"]

[images.vm.disk]
initrd = "cairn"

[[images.vm.files]]
path = "/etc/modprobe.d/cairn-test.conf"
content = "# customizations reach the initrd\n"
"##,
    )
    .unwrap();
    let cairn = apt_cairn(dir.path());
    cairn(&["build"]);
    let vm = dir.path().join("out/vm");
    let summary: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(vm.join("build.json")).unwrap()).unwrap();
    let phases: Vec<&str> = summary["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    assert!(phases.contains(&"initrd"), "{phases:?}");
    let rootfs = vm.join("rootfs");
    let boot: Vec<String> = fs_err::read_dir(rootfs.join("boot"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let initrd = boot
        .iter()
        .find(|n| n.starts_with("initrd.img-"))
        .unwrap_or_else(|| panic!("no initrd in /boot: {boot:?}"));
    let version = initrd.trim_start_matches("initrd.img-");
    // zstd magic; update-initramfs never ran (it records each initrd it makes)
    let data = fs_err::read(rootfs.join("boot").join(initrd)).unwrap();
    assert_eq!(&data[..4], b"\x28\xb5\x2f\xfd");
    assert!(
        !rootfs
            .join(format!("var/lib/initramfs-tools/{version}"))
            .exists()
    );
    // the archive: systemd as /init, the initrd marker, the module index
    let cpio = zstd::decode_all(&data[..]).unwrap();
    let list = {
        let mut child = Command::new("cpio")
            .args(["-t", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(&cpio).unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success());
        String::from_utf8(o.stdout).unwrap()
    };
    for want in [
        "init".to_owned(),
        "etc/initrd-release".to_owned(),
        "usr/lib/systemd/systemd".to_owned(),
        format!("usr/lib/modules/{version}/modules.dep.bin"),
        format!("usr/lib/modules/{version}/kernel/drivers/block/virtio_blk.ko"),
        "etc/modprobe.d/cairn-test.conf".to_owned(),
    ] {
        assert!(list.lines().any(|l| l == want), "{want} not in the initrd");
    }

    for fw in ["bios", "uefi"] {
        let o = cairn(&["-O", "json", "boot", "vm", "--check", "--firmware", fw]);
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["reached"], "multi-user", "{v}");
    }

    let first = sha256(&vm.join("vm.raw"));
    let b2 = dir.path().join("b2");
    cairn(&[
        "build",
        "--locked",
        "--outputs",
        "raw",
        "--out-dir",
        b2.to_str().unwrap(),
    ]);
    assert_eq!(sha256(&b2.join("vm/vm.raw")), first);
}
