//! Version ordering compared with the real rpm (4.18, Lua `rpm.vercmp`) and dpkg
//! (`dpkg --compare-versions`) over thousands of generated pairs, plus order laws and
//! parse/print round trips. rpm and dpkg must be installed (scripts/setup-host.sh).

use cairn_version::{DebVersion, Evr, rpmvercmp};
use proptest::prelude::*;
use std::cmp::Ordering;
use std::io::Write;
use std::process::{Command, Stdio};

const SETUP: &str =
    "run scripts/setup-host.sh to install the host tools these tests compare against";

/// Compare every pair with rpm's own `rpm.vercmp` in one `rpm --eval` process; the pairs
/// go through stdin, one `a b` pair per line, one result per line comes back.
fn rpm_vercmp_batch(pairs: &[(String, String)]) -> Vec<Ordering> {
    let lua = r#"%{lua: for l in io.stdin:lines() do local a, b = l:match("^(%S+) (%S+)$"); print(rpm.vercmp(a, b) .. "\n") end}"#;
    check_tool("rpm");
    let input: String = pairs.iter().map(|(a, b)| format!("{a} {b}\n")).collect();
    let out = run_with_stdin(Command::new("rpm").arg("--eval").arg(lua), "rpm", &input);
    parse_results(&out, pairs.len(), "rpm --eval")
}

/// Compare every pair with `dpkg --compare-versions`, from one `sh` script.
fn dpkg_compare_batch(pairs: &[(String, String)]) -> Vec<Ordering> {
    let script = r#"while read -r a b; do
  if dpkg --compare-versions "$a" lt "$b"; then echo -1
  elif dpkg --compare-versions "$a" eq "$b"; then echo 0
  else echo 1; fi
done"#;
    check_tool("dpkg");
    let input: String = pairs.iter().map(|(a, b)| format!("{a} {b}\n")).collect();
    let out = run_with_stdin(Command::new("sh").arg("-c").arg(script), "sh", &input);
    parse_results(&out, pairs.len(), "dpkg --compare-versions")
}

fn check_tool(tool: &str) {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(found, "`{tool}` is not installed or does not run: {SETUP}");
}

fn run_with_stdin(cmd: &mut Command, tool: &str, input: &str) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}; {SETUP}"));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("wait for child");
    writer
        .join()
        .expect("writer thread")
        .expect("write to child stdin");
    assert!(
        out.status.success(),
        "{tool} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tool output is UTF-8")
}

fn parse_results(out: &str, n: usize, what: &str) -> Vec<Ordering> {
    let v: Vec<Ordering> = out
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.trim() {
            "-1" => Ordering::Less,
            "0" => Ordering::Equal,
            "1" => Ordering::Greater,
            other => panic!("{what} printed {other:?}, expected -1, 0 or 1"),
        })
        .collect();
    assert_eq!(
        v.len(),
        n,
        "{what} printed {} results for {n} pairs:\n{out}",
        v.len()
    );
    v
}

fn mismatches<'a>(
    pairs: &'a [(String, String)],
    want: &[Ordering],
    ours: impl Fn(&str, &str) -> Ordering,
) -> Vec<(&'a str, &'a str, Ordering, Ordering)> {
    pairs
        .iter()
        .zip(want)
        .filter_map(|((a, b), w)| {
            let got = ours(a, b);
            (got != *w).then_some((a.as_str(), b.as_str(), *w, got))
        })
        .collect()
}

// ---------- generators ----------

/// A version/release fragment for rpm: digits (with leading zeros), letters, and the
/// characters rpm treats specially or as separators. No `-`, `:` or whitespace.
fn rpm_fragment() -> impl Strategy<Value = String> + Clone {
    const TOKENS: &[&str] = &[
        "0", "00", "007", "1", "2", "9", "10", "01", "123", "a", "b", "A", "ab", "rc", "fc", "git",
        "z", ".", "..", "~", "~~", "^", "^^", "+", "_",
    ];
    proptest::collection::vec(proptest::sample::select(TOKENS), 0..=5).prop_map(|v| v.concat())
}

/// Two strings sharing a prefix, so comparisons reach the nasty tail cases.
fn near_pair(
    frag: impl Strategy<Value = String> + Clone,
) -> impl Strategy<Value = (String, String)> {
    (frag.clone(), frag.clone(), frag).prop_map(|(p, x, y)| (format!("{p}{x}"), format!("{p}{y}")))
}

fn rpm_version() -> impl Strategy<Value = String> {
    rpm_fragment().prop_filter("rpm.vercmp rejects an empty version", |s| !s.is_empty())
}

fn rpm_pair() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        (rpm_version(), rpm_version()),
        near_pair(rpm_fragment()).prop_filter("non-empty", |(a, b)| !a.is_empty() && !b.is_empty()),
    ]
}

fn rpm_evr() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just(String::new()),
            Just("0:".to_owned()),
            (0u8..3).prop_map(|e| format!("{e}:"))
        ],
        rpm_version(),
        proptest::option::of(rpm_fragment()),
    )
        .prop_map(|(e, v, r)| match r {
            Some(r) => format!("{e}{v}-{r}"),
            None => format!("{e}{v}"),
        })
}

fn evr_pair() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        (rpm_evr(), rpm_evr()),
        (rpm_evr(), rpm_fragment(), rpm_fragment())
            .prop_map(|(base, x, y)| (format!("{base}{x}"), format!("{base}{y}"))),
    ]
}

/// A Debian upstream/revision tail: only characters dpkg accepts there.
fn deb_fragment() -> impl Strategy<Value = String> + Clone {
    const TOKENS: &[&str] = &[
        "0", "00", "007", "1", "2", "9", "10", "01", "123", "a", "b", "A", "ab", "rc", "dfsg", "z",
        ".", "..", "~", "~~", "+", "++",
    ];
    proptest::collection::vec(proptest::sample::select(TOKENS), 0..=5).prop_map(|v| v.concat())
}

fn deb_version() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just(String::new()),
            Just("0:".to_owned()),
            (0u8..3).prop_map(|e| format!("{e}:"))
        ],
        (0u8..10),
        deb_fragment(),
        proptest::option::of(("[0-9a-c.+~]", deb_fragment())),
    )
        .prop_map(|(e, d, up, rev)| match rev {
            Some((r0, r)) => format!("{e}{d}{up}-{r0}{r}"),
            None => format!("{e}{d}{up}"),
        })
}

fn deb_pair() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        (deb_version(), deb_version()),
        (deb_version(), deb_fragment(), deb_fragment()).prop_map(|(base, x, y)| {
            // extend the revision if there is one, else the upstream version
            (format!("{base}{x}"), format!("{base}{y}"))
        }),
    ]
}

const PAIRS: usize = 2000;

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, max_shrink_iters: 0, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn rpmvercmp_matches_rpm(pairs in proptest::collection::vec(rpm_pair(), PAIRS)) {
        let want = rpm_vercmp_batch(&pairs);
        let bad = mismatches(&pairs, &want, rpmvercmp);
        prop_assert!(bad.is_empty(), "(a, b, rpm, ours) disagreements: {bad:#?}");
    }

    #[test]
    fn evr_order_matches_rpm(pairs in proptest::collection::vec(evr_pair(), PAIRS)) {
        let want = rpm_vercmp_batch(&pairs);
        let bad = mismatches(&pairs, &want, |a, b| {
            Evr::parse(a).expect("generated EVR parses").cmp(&Evr::parse(b).expect("generated EVR parses"))
        });
        prop_assert!(bad.is_empty(), "(a, b, rpm, ours) disagreements: {bad:#?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1, max_shrink_iters: 0, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn deb_order_matches_dpkg(pairs in proptest::collection::vec(deb_pair(), PAIRS)) {
        let want = dpkg_compare_batch(&pairs);
        let bad = mismatches(&pairs, &want, |a, b| {
            DebVersion::parse(a).expect("generated version parses")
                .cmp(&DebVersion::parse(b).expect("generated version parses"))
        });
        prop_assert!(bad.is_empty(), "(a, b, dpkg, ours) disagreements: {bad:#?}");
    }
}

fn hash_of<T: std::hash::Hash>(t: &T) -> u64 {
    use std::hash::{DefaultHasher, Hasher};
    let mut h = DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

/// Order laws on one triple: antisymmetry, transitivity, and Eq/Hash agreeing with Ord.
fn check_laws<T: Ord + std::hash::Hash + std::fmt::Debug>(
    a: &T,
    b: &T,
    c: &T,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        a.cmp(b),
        b.cmp(a).reverse(),
        "antisymmetry: {:?} {:?}",
        a,
        b
    );
    prop_assert_eq!(a.cmp(a), Ordering::Equal);
    if a <= b && b <= c {
        prop_assert!(a <= c, "transitivity: {:?} <= {:?} <= {:?}", a, b, c);
    }
    if a == b {
        prop_assert_eq!(
            hash_of(a),
            hash_of(b),
            "equal values hash alike: {:?} {:?}",
            a,
            b
        );
    }
    if a == b && b == c {
        prop_assert_eq!(a, c);
    }
    Ok(())
}

/// Three strings sharing a prefix, so that many triples are comparable in interesting ways.
fn near_triple(frag: impl Strategy<Value = String> + Clone) -> impl Strategy<Value = [String; 3]> {
    (frag.clone(), frag.clone(), frag.clone(), frag)
        .prop_map(|(p, x, y, z)| [format!("{p}{x}"), format!("{p}{y}"), format!("{p}{z}")])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn rpm_order_laws(t in near_triple(rpm_fragment())) {
        let [a, b, c] = t;
        prop_assert_eq!(rpmvercmp(&a, &b), rpmvercmp(&b, &a).reverse());
        if rpmvercmp(&a, &b).is_le() && rpmvercmp(&b, &c).is_le() {
            prop_assert!(rpmvercmp(&a, &c).is_le(), "transitivity: {a:?} {b:?} {c:?}");
        }
        let p = |s: &str| Evr::parse(&format!("1:1.{s}-{s}1"));
        if let (Ok(a), Ok(b), Ok(c)) = (p(&a), p(&b), p(&c)) {
            check_laws(&a, &b, &c)?;
        }
    }

    #[test]
    fn evr_order_laws(a in rpm_evr(), b in rpm_evr(), c in rpm_evr()) {
        let p = |s: &str| Evr::parse(s).expect("generated EVR parses");
        check_laws(&p(&a), &p(&b), &p(&c))?;
    }

    #[test]
    fn deb_order_laws(t in near_triple(deb_fragment()), base in deb_version()) {
        let [x, y, z] = t;
        let p = |s: &str| DebVersion::parse(&format!("{base}{s}")).expect("generated version parses");
        check_laws(&p(&x), &p(&y), &p(&z))?;
    }

    #[test]
    fn evr_display_round_trips(s in rpm_evr()) {
        let e = Evr::parse(&s).expect("generated EVR parses");
        let printed = e.to_string();
        let back = Evr::parse(&printed).expect("printed EVR parses");
        prop_assert_eq!((back.epoch, &back.version, &back.release), (e.epoch, &e.version, &e.release));
        // printing drops only an explicit zero epoch
        prop_assert_eq!(printed, s.strip_prefix("0:").unwrap_or(&s).to_owned());
    }

    #[test]
    fn deb_display_round_trips(s in deb_version()) {
        let v = DebVersion::parse(&s).expect("generated version parses");
        let printed = v.to_string();
        let back = DebVersion::parse(&printed).expect("printed version parses");
        prop_assert_eq!((back.epoch, &back.upstream, &back.revision), (v.epoch, &v.upstream, &v.revision));
        prop_assert_eq!(printed, s.strip_prefix("0:").unwrap_or(&s).to_owned());
    }
}
