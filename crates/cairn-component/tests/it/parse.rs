use cairn_component::*;

fn err(text: &str) -> String {
    parse_fragment(text, "comps/x.comp.toml")
        .unwrap_err()
        .to_string()
}

#[test]
fn azldev_style_files_load() {
    let distro = r#"
[distros.fedora]
description = "Fedora Linux"
default-version = "43"
dist-git-base-uri = "https://src.example.org/rpms/$pkg.git"
lookaside-base-uri = "https://src.example.org/repo/pkgs/$pkg/$filename/$hashtype/$hash/$filename"
repos = [ { "base-uri" = "https://mirror.example.org/$releasever/source/tree" } ]

[distros.fedora.versions.43]
description = "Fedora Linux 43"
release-ver = "43"
dist-git-branch = "f43"

[distros.mylinux.versions.'4.0']
release-ver = "4.0"
mock-config-x86_64 = "mock/x.cfg"

[distros.mylinux.versions.'4.0'.default-component-config]
spec = { type = "upstream", upstream-distro = { name = "fedora", version = "43" } }

[distros.mylinux.versions.'4.0'.default-component-config.build.check]
skip = true
skip_reason = "checks are off by default"

[distros.mylinux.versions.'4.0'.default-component-config.build.defines]
dist = ".ml4"
vendor = "Example"
"#;
    let f = parse_fragment(distro, "distro/fedora.distro.toml").unwrap();
    assert_eq!(
        f.distros["fedora"].versions["43"]
            .dist_git_branch
            .as_deref(),
        Some("f43")
    );
    let comp = r#"
[components.curl]
overlay-files = ["overlays/*.overlay.toml"]

[components.curl.build]
with = ["feature_x"]
defines = { rhel = "11" }
check = { skip = true, skip_reason = "needs network" }

[[components.curl.overlays]]
type = "spec-search-replace"
description = "Pass --force to autoreconf"
regex = "autoreconf -i"
replacement = "autoreconf -fi"

  [components.curl.overlays.metadata]
  category = "backport-dist-git"
  commits = ["https://src.example.org/rpms/xclock/c/1e407488"]

[components.curl.packages.libcurl-debuginfo.publish]
channel = "rpm-debug"

[[components.shim.source-files]]
filename = "shimx64.efi"
hash = "7741013d7741013d7741013d7741013d7741013d7741013d7741013d7741013d7741013d7741013d7741013d7741013d7741013d7741013d7741013d7741013d"
hash-type = "SHA512"
origin = { type = "download", uri = "https://example.com/shimx64.efi" }
"#;
    let f = parse_fragment(comp, "comps/curl/curl.comp.toml").unwrap();
    let curl = f.components["curl"].get_ref();
    assert_eq!(curl.overlays.len(), 1);
    assert_eq!(
        curl.overlays[0]
            .get_ref()
            .metadata
            .as_ref()
            .unwrap()
            .category,
        Some(Category::Backport)
    );
    let of = parse_overlay_file(
        r#"[metadata]
category = "azl-pruning"
upstream-status = "inapplicable"
[[overlays]]
description = "Drop a test-only BuildRequires"
type = "spec-remove-tag"
tag = "BuildRequires"
value = "python3-impacket"
"#,
        "0001.overlay.toml",
    )
    .unwrap();
    assert_eq!(of.metadata.category, Some(Category::Pruning));
    assert_eq!(of.metadata.status(), UpstreamStatus::Inapplicable);
}

#[test]
fn errors_name_file_line_and_field() {
    let cases = [
        "[components.a]\nbogus = 1\n",
        "[[components.a.overlays]]\ntype = \"spec-frobnicate\"\ndescription = \"x\"\n",
        "[[components.a.overlays]]\ntype = \"spec-add-tag\"\ntag = \"Vendor\"\nvalue = \"x\"\n",
        "[[components.a.overlays]]\ntype = \"spec-add-tag\"\ndescription = \"d\"\ntag = \"Vendor\"\n",
        "[[components.a.overlays]]\ntype = \"spec-search-replace\"\ndescription = \"d\"\nregex = \"a(\"\n",
        "[components.a.build]\ncheck = { skip = true }\n",
        "[components.a]\nspec = { type = \"upstream\", upstream-commit = \"xyz\" }\n",
        "[[components.a.source-files]]\nfilename = \"f.tgz\"\nhash = \"abc\"\nhash-type = \"SHA256\"\norigin = { type = \"download\", uri = \"https://x/f.tgz\" }\n",
        "[[components.a.overlays]]\ntype = \"spec-remove-subpackage\"\ndescription = \"d\"\npackage = \"devel\"\nsection = \"%files\"\n",
        "[default-component-config]\noverlay-files = [\"overlays/*.toml\"]\n",
        "[[components.a.overlays]]\ntype = \"spec-set-tag\"\ndescription = \"d\"\ntag = \"Vendor\"\nvalue = \"v\"\nmetadata = { category = \"whatever\" }\n",
    ];
    let mut out = String::new();
    for c in cases {
        out.push_str(&err(c));
        out.push('\n');
    }
    out.push_str(&parse_overlay_file("[metadata]\ncategory = \"branding\"\n[[overlays]]\ntype = \"spec-set-tag\"\ndescription = \"d\"\ntag = \"Vendor\"\nvalue = \"v\"\nmetadata = { category = \"branding\" }\n", "o.overlay.toml").unwrap_err().to_string());
    insta::assert_snapshot!("config_errors", out);
}

#[test]
fn merge_layers() {
    let base = parse_fragment(
        "[default-component-config.build]\nwith = [\"a\"]\ndefines = { dist = \".x\", vendor = \"V\" }\n[[default-component-config.overlays]]\ntype = \"spec-set-tag\"\ndescription = \"brand\"\ntag = \"Vendor\"\nvalue = \"V\"\n",
        "p.toml",
    )
    .unwrap();
    let comp = parse_fragment(
        "[components.c.build]\nwith = [\"b\", \"a\"]\ndefines = { vendor = \"W\" }\n[[components.c.overlays]]\ntype = \"spec-add-tag\"\ndescription = \"br\"\ntag = \"BuildRequires\"\nvalue = \"z\"\n",
        "c.toml",
    )
    .unwrap();
    let m = merge_component(
        base.default_component_config.as_ref().unwrap(),
        comp.components["c"].get_ref(),
    );
    let b = m.build.unwrap();
    assert_eq!(b.with, vec!["a", "b"]);
    assert_eq!(b.defines["dist"], ".x");
    assert_eq!(b.defines["vendor"], "W");
    assert_eq!(m.overlays.len(), 2);
    assert_eq!(m.overlays[0].get_ref().tag.as_deref(), Some("Vendor"));
}

fn fp(cfg: &ComponentConfig, ident: &str, bump: u32) -> String {
    fingerprint(&FingerprintInput {
        config: cfg,
        overlays: cfg
            .overlays
            .iter()
            .map(|o| OverlayInput {
                overlay: o.get_ref(),
                source_sha256: None,
            })
            .collect(),
        source_identity: ident,
        distro: "d",
        distro_version: "1",
        release_ver: "1",
        manual_bump: bump,
    })
}

#[test]
fn fingerprint_ignores_descriptions_but_not_inputs() {
    let a = parse_fragment("[[components.c.overlays]]\ntype = \"spec-set-tag\"\ndescription = \"one\"\ntag = \"Vendor\"\nvalue = \"V\"\nmetadata = { category = \"branding\" }\n", "a").unwrap();
    let b = parse_fragment("[[components.c.overlays]]\ntype = \"spec-set-tag\"\ndescription = \"two words\"\ntag = \"Vendor\"\nvalue = \"V\"\n", "b").unwrap();
    let c = parse_fragment("[[components.c.overlays]]\ntype = \"spec-set-tag\"\ndescription = \"one\"\ntag = \"Vendor\"\nvalue = \"W\"\n", "c").unwrap();
    let (a, b, c) = (
        a.components["c"].get_ref(),
        b.components["c"].get_ref(),
        c.components["c"].get_ref(),
    );
    let fa = fp(a, "git:1", 0);
    assert!(fa.starts_with("v1:sha256:") && fa.len() == 10 + 64);
    assert_eq!(fa, fp(b, "git:1", 0));
    assert_ne!(fa, fp(c, "git:1", 0));
    assert_ne!(fa, fp(a, "git:2", 0));
    assert_ne!(fa, fp(a, "git:1", 1));
    // stable across runs and machines: pinned value
    insta::assert_snapshot!("fingerprint_pinned", fa);
}

#[test]
fn committed_schemas_are_current() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs");
    for (name, current) in [
        ("cairn-include.schema.json", json_schema()),
        ("cairn-overlay.schema.json", overlay_file_schema()),
    ] {
        let path = format!("{dir}/{name}");
        if std::env::var_os("CAIRN_UPDATE_SCHEMA").is_some() {
            fs_err::write(&path, &current).unwrap();
            continue;
        }
        let committed = fs_err::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == current,
            "docs/{name} is stale; regenerate with CAIRN_UPDATE_SCHEMA=1 cargo test -p cairn-component"
        );
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn config(with: &[String], define: &str, value: &str, desc: &str) -> ComponentConfig {
        let text = format!(
            "[components.c.build]\nwith = {with:?}\ndefines = {{ d = {define:?} }}\n[[components.c.overlays]]\ntype = \"spec-set-tag\"\ndescription = {desc:?}\ntag = \"Vendor\"\nvalue = {value:?}\n"
        );
        parse_fragment(&text, "p").unwrap().components["c"]
            .get_ref()
            .clone()
    }

    proptest! {
        #[test]
        fn every_input_moves_the_fingerprint_and_descriptions_do_not(
            with in proptest::collection::vec("[a-z]{1,6}", 0..3),
            define in "[a-z0-9]{0,8}",
            value in "[A-Za-z ]{1,12}",
            desc in "[A-Za-z][A-Za-z ]{0,19}",
            desc2 in "[A-Za-z][A-Za-z ]{0,19}",
            which in 0usize..5,
        ) {
            let base = config(&with, &define, &value, &desc);
            let fp0 = fp(&base, "git:a", 0);
            // Same inputs, other description: same fingerprint, every time.
            prop_assert_eq!(&fp0, &fp(&config(&with, &define, &value, &desc2), "git:a", 0));
            let changed = match which {
                0 => { let mut w = with.clone(); w.push("zzzzzzz".into()); fp(&config(&w, &define, &value, &desc), "git:a", 0) }
                1 => fp(&config(&with, &format!("{define}x"), &value, &desc), "git:a", 0),
                2 => fp(&config(&with, &define, &format!("{value}x"), &desc), "git:a", 0),
                3 => fp(&base, "git:b", 0),
                _ => fp(&base, "git:a", 1),
            };
            prop_assert_ne!(fp0, changed);
        }
    }
}

/// Every lock format version cairn ever wrote still reads, and writing it back gives the
/// same text (the fixtures are what `cairn comp update` wrote at version 1 and what `cairn
/// comp build` writes at version 2, with build-root pins).
#[test]
fn lock_fixtures_per_version() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/fixtures");
    for (file, component, version) in [
        ("v1-upstream.lock", "hello-tool", 1),
        ("v1-local.lock", "cairn-release", 1),
        ("v2-build-root.lock", "greet", 2),
    ] {
        let text = fs_err::read_to_string(format!("{dir}/{file}")).unwrap();
        let lock = ComponentLock::parse(&text, file).unwrap();
        assert_eq!(lock.version, version, "{file}");
        assert_eq!(lock.build_root.is_some(), version == 2, "{file}");
        assert_eq!(lock.render(component), text, "{file}");
    }
}
