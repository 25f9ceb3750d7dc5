use cairn_build::customize::{clamp_mtimes, customize, remove_paths};
use cairn_config::parse_project;
use fs_err as fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

/// A small root that looks like what Debian's base packages leave.
fn fake_root(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    for d in [
        "etc/skel",
        "etc/default",
        "usr/lib/systemd/system",
        "usr/share/zoneinfo/Europe",
        "bin",
        "home",
        "usr/share/doc/pkg",
        "usr/share/man/man1",
    ] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
    )
    .unwrap();
    fs::write(
        root.join("etc/group"),
        "root:x:0:\nsudo:x:27:\nusers:x:100:\n",
    )
    .unwrap();
    fs::write(
        root.join("etc/shadow"),
        "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
    )
    .unwrap();
    fs::write(root.join("etc/gshadow"), "root:*::\nsudo:*::\nusers:*::\n").unwrap();
    fs::write(root.join("etc/skel/.bashrc"), "# bashrc\n").unwrap();
    fs::write(root.join("bin/bash"), "").unwrap();
    fs::write(root.join("etc/debian_version"), "12.8\n").unwrap();
    fs::write(root.join("usr/share/zoneinfo/Europe/Berlin"), "TZif").unwrap();
    fs::write(
        root.join("usr/lib/os-release"),
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
    )
    .unwrap();
    symlink("../usr/lib/os-release", root.join("etc/os-release")).unwrap();
    fs::write(
        root.join("usr/lib/systemd/system/ssh.service"),
        "[Unit]\nDescription=ssh\n[Service]\nExecStart=/usr/sbin/sshd\n[Install]\nWantedBy=multi-user.target\nAlias=sshd.service\n",
    )
    .unwrap();
    fs::write(
        root.join("usr/lib/systemd/system/getty@.service"),
        "[Service]\nExecStart=agetty\n[Install]\nWantedBy=getty.target\nDefaultInstance=tty1\n",
    )
    .unwrap();
    fs::write(
        root.join("usr/lib/systemd/system/static.service"),
        "[Service]\nExecStart=/bin/true\n",
    )
    .unwrap();
    fs::write(root.join("usr/share/doc/pkg/README"), "doc").unwrap();
    fs::write(root.join("usr/share/man/man1/x.1.gz"), "man").unwrap();
    root
}

fn project(extra: &str) -> cairn_config::Project {
    let text = format!(
        "[sources.host]\nkind = \"host-apt\"\n\n[images.vm]\npackages = [\"bash\"]\n{extra}"
    );
    parse_project(&text, "cairn.toml", PathBuf::from("/proj")).unwrap()
}

const FULL: &str = r#"
version = "1.2"
hostname = "box.example.org"
locale = "C.UTF-8"
timezone = "Europe/Berlin"
first-boot = ["echo hello > /run/hello"]
remove = ["/usr/share/doc/**", "/usr/share/man"]

[images.vm.os-release]
NAME = "Acme Cloud"
ID = "acme"
ID_LIKE = "debian"
VERSION_ID = "1.2"

[[images.vm.groups]]
name = "ops"
gid = 2000

[[images.vm.users]]
name = "admin"
uid = 1000
groups = ["sudo", "ops"]
ssh-authorized-keys = ["ssh-ed25519 AAAAC3Nza admin@example"]
password-hash = "$6$salt$hash"

[[images.vm.users]]
name = "root"
password-hash = "$6$r$r"

[[images.vm.files]]
path = "/etc/motd"
content = "welcome\n"
mode = "0600"
owner = "admin"
group = "ops"

[[images.vm.directories]]
path = "/srv/data"
mode = "0750"
owner = "admin"

[images.vm.systemd]
enable = ["ssh.service", "getty@ttyS0.service"]
mask = ["systemd-timesyncd.service"]
"#;

#[test]
fn every_customization_lands_where_the_system_reads_it() {
    let t = tempfile::tempdir().unwrap();
    let root = fake_root(t.path());
    let p = project(FULL);
    let b = &p.images["vm"].build;
    let epoch = 1_700_000_000;
    let c = customize(&root, t.path(), "vm", b, epoch).unwrap();

    assert_eq!(
        fs::read_to_string(root.join("etc/hostname")).unwrap(),
        "box.example.org\n"
    );
    assert!(
        fs::read_to_string(root.join("etc/hosts"))
            .unwrap()
            .contains("127.0.1.1\tbox.example.org box\n")
    );
    assert_eq!(
        fs::read_to_string(root.join("etc/locale.conf")).unwrap(),
        "LANG=C.UTF-8\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("etc/default/locale")).unwrap(),
        "LANG=C.UTF-8\n"
    );
    assert_eq!(
        fs::read_link(root.join("etc/localtime")).unwrap(),
        Path::new("../usr/share/zoneinfo/Europe/Berlin")
    );
    let osr = fs::read_to_string(root.join("usr/lib/os-release")).unwrap();
    assert!(osr.contains("NAME=\"Acme Cloud\"\n"), "{osr}");
    assert!(
        osr.contains("ID=acme\n") && osr.contains("ID_LIKE=debian\n"),
        "{osr}"
    );
    assert!(osr.contains("IMAGE_ID=vm\nIMAGE_VERSION=1.2\n"), "{osr}");
    assert!(
        osr.contains("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\""),
        "kept: {osr}"
    );
    assert_eq!(c.os_release["ID"], "acme");
    assert_eq!(
        fs::read_link(root.join("etc/os-release")).unwrap(),
        Path::new("../usr/lib/os-release")
    );

    let passwd = fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(
        passwd.contains("admin:x:1000:1000::/home/admin:/bin/bash\n"),
        "{passwd}"
    );
    let group = fs::read_to_string(root.join("etc/group")).unwrap();
    assert!(
        group.contains("sudo:x:27:admin\n")
            && group.contains("ops:x:2000:admin\n")
            && group.contains("admin:x:1000:\n"),
        "{group}"
    );
    let gshadow = fs::read_to_string(root.join("etc/gshadow")).unwrap();
    assert!(
        gshadow.contains("sudo:*::admin\n") && gshadow.contains("ops:!::admin\n"),
        "{gshadow}"
    );
    let shadow = fs::read_to_string(root.join("etc/shadow")).unwrap();
    let day = epoch / 86_400;
    assert!(
        shadow.contains(&format!("admin:$6$salt$hash:{day}:0:99999:7:::\n")),
        "{shadow}"
    );
    assert!(shadow.contains(&format!("root:$6$r$r:{day}:")), "{shadow}");
    let home = root.join("home/admin");
    let hm = fs::metadata(&home).unwrap();
    assert_eq!(
        (hm.uid(), hm.gid(), hm.permissions().mode() & 0o7777),
        (1000, 1000, 0o700)
    );
    assert!(home.join(".bashrc").is_file());
    let ak = home.join(".ssh/authorized_keys");
    assert_eq!(
        fs::read_to_string(&ak).unwrap(),
        "ssh-ed25519 AAAAC3Nza admin@example\n"
    );
    let am = fs::metadata(&ak).unwrap();
    assert_eq!((am.uid(), am.permissions().mode() & 0o777), (1000, 0o600));

    let motd = fs::metadata(root.join("etc/motd")).unwrap();
    assert_eq!(
        (motd.uid(), motd.gid(), motd.permissions().mode() & 0o7777),
        (1000, 2000, 0o600)
    );
    let srv = fs::metadata(root.join("srv/data")).unwrap();
    assert_eq!(
        (srv.uid(), srv.permissions().mode() & 0o7777),
        (1000, 0o750)
    );

    let wants = root.join("etc/systemd/system/multi-user.target.wants/ssh.service");
    assert_eq!(
        fs::read_link(&wants).unwrap(),
        Path::new("/usr/lib/systemd/system/ssh.service")
    );
    assert!(
        fs::symlink_metadata(root.join("etc/systemd/system/sshd.service"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read_link(root.join("etc/systemd/system/getty.target.wants/getty@ttyS0.service"))
            .unwrap(),
        Path::new("/usr/lib/systemd/system/getty@.service")
    );
    assert_eq!(
        fs::read_link(root.join("etc/systemd/system/systemd-timesyncd.service")).unwrap(),
        Path::new("/dev/null")
    );
    // first-boot hook
    assert!(
        root.join("usr/lib/systemd/system/cairn-firstboot.service")
            .is_file()
    );
    assert!(
        fs::symlink_metadata(
            root.join("etc/systemd/system/multi-user.target.wants/cairn-firstboot.service")
        )
        .is_ok()
    );
    let hook = fs::read_to_string(root.join("usr/lib/cairn/first-boot.d/50-cairn-toml")).unwrap();
    assert!(hook.contains("echo hello > /run/hello"));

    let removed = remove_paths(&root, &b.remove).unwrap();
    assert_eq!(removed, vec!["/usr/share/doc/pkg", "/usr/share/man"]);
    assert!(root.join("usr/share/doc").is_dir() && !root.join("usr/share/doc/pkg").exists());
    assert!(!root.join("usr/share/man").exists());
}

#[test]
fn disable_removes_the_links_enable_made() {
    let t = tempfile::tempdir().unwrap();
    let root = fake_root(t.path());
    let b = &project("[images.vm.systemd]\nenable = [\"ssh.service\"]\n").images["vm"].build;
    customize(&root, t.path(), "vm", b, 0).unwrap();
    let b = &project("[images.vm.systemd]\ndisable = [\"ssh.service\"]\n").images["vm"].build;
    customize(&root, t.path(), "vm", b, 0).unwrap();
    assert!(
        fs::symlink_metadata(root.join("etc/systemd/system/multi-user.target.wants/ssh.service"))
            .is_err()
    );
    assert!(fs::symlink_metadata(root.join("etc/systemd/system/sshd.service")).is_err());
}

fn fails(extra: &str) -> String {
    let t = tempfile::tempdir().unwrap();
    let root = fake_root(t.path());
    let p = project(extra);
    customize(&root, t.path(), "vm", &p.images["vm"].build, 0)
        .unwrap_err()
        .to_string()
}

#[test]
fn references_to_missing_things_are_named() {
    let e = fails("[[images.vm.users]]\nname = \"bob\"\ngroups = [\"wheel\"]\n");
    assert!(
        e.contains("user `bob`") && e.contains("group `wheel`"),
        "{e}"
    );
    let e = fails("[[images.vm.files]]\npath = \"/etc/x\"\ncontent = \"\"\nowner = \"nobody2\"\n");
    assert!(
        e.contains("file /etc/x") && e.contains("owner `nobody2`"),
        "{e}"
    );
    let e = fails("[[images.vm.files]]\npath = \"/etc/x\"\nsource = \"missing/file.txt\"\n");
    assert!(
        e.contains("file /etc/x") && e.contains("missing/file.txt"),
        "{e}"
    );
    let e = fails("[images.vm.systemd]\nenable = [\"nope.service\"]\n");
    assert!(e.contains("unit `nope.service` is not in the image"), "{e}");
    let e = fails("[images.vm.systemd]\nenable = [\"static.service\"]\n");
    assert!(e.contains("no [Install] section"), "{e}");
    let e = fails("timezone = \"Mars/Olympus\"\n");
    assert!(e.contains("Mars/Olympus") && e.contains("tzdata"), "{e}");
    let e = fails("[[images.vm.users]]\nname = \"x\"\nuid = 1\n");
    assert!(e.contains("uid 1 is already taken"), "{e}");
    let e = fails("[[images.vm.users]]\nname = \"x\"\nshell = \"/bin/zsh\"\n");
    assert!(e.contains("shell /bin/zsh is not in the image"), "{e}");
}

#[test]
fn clamping_touches_only_newer_entries() {
    let t = tempfile::tempdir().unwrap();
    let root = fake_root(t.path());
    let old = filetime::FileTime::from_unix_time(1_000, 0);
    filetime::set_file_mtime(root.join("bin/bash"), old).unwrap();
    let n = clamp_mtimes(&root, 2_000).unwrap();
    assert!(n > 10);
    for e in walkdir::WalkDir::new(&root) {
        let m = fs::symlink_metadata(e.unwrap().path()).unwrap();
        assert!(m.mtime() <= 2_000);
    }
    assert_eq!(fs::metadata(root.join("bin/bash")).unwrap().mtime(), 1_000);
    assert_eq!(
        fs::symlink_metadata(root.join("etc/os-release"))
            .unwrap()
            .mtime(),
        2_000
    );
}
