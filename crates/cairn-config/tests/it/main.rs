use cairn_config::{Source, builtin_project, json_schema, parse_project};
use std::path::PathBuf;

fn parse(text: &str) -> Result<cairn_config::Project, cairn_config::ConfigError> {
    parse_project(text, "cairn.toml", PathBuf::from("/proj"))
}

const GOOD: &str = r#"
[project]
name = "acme"
arch = "x86_64"

[sources.fedora]
kind = "rpm-md"
baseurl = "https://mirror.example/fedora/"
gpgkey = "keys/RPM-GPG-KEY-fedora"
priority = 10
exclude = ["foo*"]

[sources.extras]
kind = "rpm-md"
baseurl = ["file:///srv/extras", "http://mirror.example/extras/"]
gpgcheck = false
repo-gpgcheck = false

[images.base]
packages = ["bash", "systemd >= 254"]
weak-deps = false
"#;

#[test]
fn parses_a_good_project() {
    let p = parse(GOOD).unwrap();
    assert_eq!(p.name.as_deref(), Some("acme"));
    let Source::RpmMd(f) = &p.sources["fedora"] else {
        panic!("kind")
    };
    assert_eq!(f.baseurl, vec!["https://mirror.example/fedora/"]);
    assert!(f.gpgcheck && f.repo_gpgcheck);
    assert_eq!(f.priority, 10);
    let Source::RpmMd(e) = &p.sources["extras"] else {
        panic!("kind")
    };
    assert_eq!(e.baseurl.len(), 2);
    assert_eq!(e.priority, 99);
    let img = &p.images["base"];
    assert_eq!(img.sources, vec!["extras", "fedora"]);
    assert!(!img.weak_deps && !img.deb);
    assert!(img.installonly.contains(&"kernel".to_owned()));
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let text = GOOD.replace("priority = 10", "priority = 10\nbaseurls = \"x\"");
    let e = parse(&text).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("cairn.toml:11:"), "{msg}");
    assert!(msg.contains("unknown field `baseurls`"), "{msg}");
}

#[test]
fn wrong_type_is_located() {
    let text = GOOD.replace("priority = 10", "priority = \"high\"");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, 10, "{e}");
    assert!(e.to_string().contains("integer"), "{e}");
}

#[test]
fn semantic_errors_name_the_field() {
    let text = GOOD.replace("gpgkey = \"keys/RPM-GPG-KEY-fedora\"\n", "");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("sources.fedora.gpgkey"), "{e}");
    assert_eq!(e.line, 7, "{e}");

    let text = GOOD.replace("https://mirror.example/fedora/", "ftp://x");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("sources.fedora.baseurl"), "{e}");
    assert!(e.message.contains("ftp://x"));

    let text = GOOD.replace("weak-deps = false", "sources = [\"nope\"]");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("images.base.sources"), "{e}");
    assert!(e.message.contains("unknown source `nope`"), "{e}");

    let text = GOOD.replace("priority = 10", "priority = 10\nsuites = [\"bookworm\"]");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("sources.fedora.suites"), "{e}");

    let text = format!("{GOOD}\n[sources.deb]\nkind = \"host-apt\"\n");
    let e =
        parse(&text.replace("weak-deps = false", "sources = [\"deb\", \"fedora\"]")).unwrap_err();
    assert!(e.message.contains("cannot mix"), "{e}");

    let e = parse("[sources.x]\nkind = \"host-apt\"\n").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("images"));

    let e = parse("[sources.x]\nkind = \"yum\"\n").unwrap_err();
    assert!(e.to_string().contains("unknown variant `yum`"), "{e}");
}

#[test]
fn builtin_default_is_a_minimal_vm_from_host_apt() {
    let p = builtin_project(PathBuf::from("."));
    assert!(p.builtin);
    assert_eq!(p.sources["host"].kind(), cairn_config::SourceKind::HostApt);
    let img = &p.images["minimal-vm"];
    assert!(img.deb && img.essential && img.priority_required && !img.weak_deps);
    assert!(img.packages.contains(&"linux-image-amd64".to_owned()));
}

#[test]
fn committed_schema_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/cairn.schema.json");
    let committed = fs_err::read_to_string(path).unwrap_or_default();
    let current = json_schema();
    if std::env::var_os("CAIRN_UPDATE_SCHEMA").is_some() {
        fs_err::write(path, &current).unwrap();
        return;
    }
    assert!(
        committed == current,
        "docs/cairn.schema.json is stale; regenerate with CAIRN_UPDATE_SCHEMA=1 cargo test -p cairn-config"
    );
}

#[test]
fn schema_rejects_nothing_the_parser_accepts_and_names_fields() {
    let v: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
    let props = &v["properties"];
    assert!(props.get("sources").is_some() && props.get("images").is_some());
    let text = json_schema();
    for key in [
        "repo-gpgcheck",
        "signed-by",
        "weak-deps",
        "priority-required",
        "host-apt",
    ] {
        assert!(text.contains(key), "schema lacks {key}");
    }
}

const BUILD: &str = r#"
[sources.host]
kind = "host-apt"

[images.vm]
packages = ["linux-image-amd64"]
outputs = ["vhd", "raw", "raw"]
version = "2.0"
hostname = "node1"
kernel-cmdline = ["console=ttyS0"]

[images.vm.os-release]
ID = "acme"

[[images.vm.users]]
name = "admin"
groups = ["sudo"]

[[images.vm.files]]
path = "/etc/motd"
content = "hi"
mode = "0644"
"#;

#[test]
fn build_settings_parse_and_stay_out_of_the_package_fields() {
    let p = parse(BUILD).unwrap();
    let b = &p.images["vm"].build;
    assert_eq!(
        b.outputs,
        vec![cairn_config::OutputKind::Raw, cairn_config::OutputKind::Vhd]
    );
    assert_eq!(b.version, "2.0");
    assert_eq!(b.users[0].name, "admin");
    assert_eq!(b.files[0].mode.as_deref(), Some("0644"));
    // an image without build settings gets a tar
    let p = parse(GOOD).unwrap();
    assert_eq!(
        p.images["base"].build.outputs,
        cairn_config::DEFAULT_OUTPUTS
    );
}

#[test]
fn bad_build_settings_name_line_and_field() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "outputs = [\"vhd\", \"raw\", \"raw\"]",
            "outputs = [\"iso\"]",
            "unknown variant `iso`",
        ),
        (
            "hostname = \"node1\"",
            "hostname = \"bad_host!\"",
            "images.vm.hostname",
        ),
        (
            "ID = \"acme\"",
            "ID = \"Acme Linux\"",
            "images.vm.os-release.ID",
        ),
        (
            "name = \"admin\"",
            "name = \"Admin\"",
            "images.vm.users[0].name",
        ),
        (
            "mode = \"0644\"",
            "mode = \"rw-r--r--\"",
            "images.vm.files[0].mode",
        ),
        (
            "content = \"hi\"",
            "content = \"hi\"\nsource = \"x\"",
            "not both",
        ),
        (
            "path = \"/etc/motd\"",
            "path = \"etc/motd\"",
            "must be absolute",
        ),
        (
            "kernel-cmdline = [\"console=ttyS0\"]",
            "kernel-cmdline = [\"console=ttyS0\"]\n[images.vm.systemd]\nenable = [\"sshd\"]",
            "not a systemd unit name",
        ),
        (
            "groups = [\"sudo\"]",
            "groups = [\"sudo\"]\nshoe-size = 4",
            "unknown field `shoe-size`",
        ),
    ];
    for (from, to, want) in cases {
        assert!(BUILD.contains(from), "{from}");
        let text = BUILD.replacen(from, to, 1);
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.contains(want), "{to}: {e}");
        assert!(e.starts_with("cairn.toml:"), "{e}");
        let line: usize = e.split(':').nth(1).unwrap().parse().unwrap();
        assert!(line > 1, "{e}");
    }
}

const PACKAGE_BUILD: &str = r#"
[sources.fedora]
kind = "rpm-md"
baseurl = "https://mirror.example/fedora/"
gpgkey = "keys/RPM-GPG-KEY-fedora"

[sources.host]
kind = "host-apt"

[images.buildroot]
sources = ["host"]
packages = ["build-essential", "rpm"]

[package-build]
root = "buildroot"
repos = ["fedora"]
out-dir = "out/rpms"
smp-jobs = 4
vendor = "Acme"
distribution = "Acme Linux"
packager = "Acme Builders <build@acme.example>"
dist = ".acme1"
timeout = "1h30m"
"#;

#[test]
fn package_build_table() {
    let p = parse(PACKAGE_BUILD).unwrap();
    let b = &p.package_build;
    assert_eq!(
        b.root,
        cairn_config::BuildRootSpec::Image("buildroot".into())
    );
    assert_eq!(b.repos, vec!["fedora"]);
    assert_eq!(b.out_dir, "out/rpms");
    assert_eq!(b.smp_jobs, 4);
    assert_eq!(b.vendor.as_deref(), Some("Acme"));
    assert_eq!(b.distribution.as_deref(), Some("Acme Linux"));
    assert_eq!(b.dist.as_deref(), Some(".acme1"));
    assert_eq!(b.timeout_secs, Some(5400));
    // defaults without the table
    let d = parse(GOOD).unwrap().package_build;
    assert_eq!(d, cairn_config::PackageBuild::default());
    assert_eq!(d.root, cairn_config::BuildRootSpec::Host);
    assert_eq!((d.out_dir.as_str(), d.smp_jobs), ("build", 2));
}

#[test]
fn package_build_errors_name_line_and_field() {
    let cases = [
        (
            "root = \"buildroot\"",
            "root = \"nope\"",
            "cairn.toml:15:8: package-build.root: `nope` is neither \"host\" nor an image of this project (images: buildroot)",
        ),
        (
            "repos = [\"fedora\"]",
            "repos = [\"host\"]",
            "cairn.toml:16:9: package-build.repos: source `host` is of kind `host-apt`; BuildRequires come from rpm-md sources only",
        ),
        (
            "repos = [\"fedora\"]",
            "repos = [\"epel\"]",
            "cairn.toml:16:9: package-build.repos: unknown source `epel`; the project's rpm-md sources: fedora",
        ),
        (
            "smp-jobs = 4",
            "smp-jobs = 0",
            "cairn.toml:18:12: package-build.smp-jobs: 0 is not between 1 and 1024",
        ),
        (
            "timeout = \"1h30m\"",
            "timeout = \"soon\"",
            "cairn.toml:23:11: package-build.timeout: `soon` is not a duration such as \"90m\", \"2h\", \"1h30m\" or \"45s\"",
        ),
        (
            "dist = \".acme1\"",
            "dist = \".acme1\"\ncache = true",
            "cairn.toml:23:1: unknown field `cache`",
        ),
    ];
    for (from, to, want) in cases {
        assert!(PACKAGE_BUILD.contains(from), "{from}");
        let e = parse(&PACKAGE_BUILD.replace(from, to))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(want), "{to}:\n{e}\nwanted: {want}");
    }
}
