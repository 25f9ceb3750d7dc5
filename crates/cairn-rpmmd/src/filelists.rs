//! `filelists.xml`: every file of every package, keyed by `pkgid` (the package checksum).

use crate::RpmMdError;
use crate::xml::{Xml, local, local_end};
use quick_xml::events::Event;
use std::io::BufRead;

/// Stream a (decompressed) `filelists.xml`, calling `f(pkgid, name, arch, files)` once per
/// `<package>` with all its paths (files, directories and ghosts) in document order.
/// Returns the number of packages seen.
pub fn parse_filelists(
    input: impl BufRead,
    origin: &str,
    mut f: impl FnMut(&str, &str, &str, Vec<String>),
) -> Result<usize, RpmMdError> {
    let mut x = Xml::new(input, origin);
    let mut buf = Vec::new();
    let mut root_seen = false;
    let mut done = false;
    let mut declared: Option<u64> = None;
    let mut count = 0usize;
    // (pkgid, name, arch) of the open <package>
    let mut cur: Option<(String, String, String)> = None;
    let mut files: Vec<String> = Vec::new();
    let mut in_file = false;
    let mut text = String::new();

    loop {
        let ev = x.reader.read_event_into(&mut buf).map_err(|e| x.error(e))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = local(e);
                if !root_seen {
                    x.expect_root(e, b"filelists", "<filelists> (filelists.xml)")?;
                    root_seen = true;
                    declared = x.u64_attr(e, b"packages", || "<filelists>".to_owned())?;
                    if empty {
                        done = true;
                    }
                    continue;
                }
                match name {
                    b"package" if cur.is_none() => {
                        let ctx = || format!("filelists package #{}", count + 1);
                        let pkgid = x
                            .attr(e, b"pkgid")?
                            .ok_or_else(|| x.missing(ctx(), "pkgid attribute"))?;
                        let pname = x
                            .attr(e, b"name")?
                            .ok_or_else(|| x.missing(ctx(), "name attribute"))?;
                        let arch = x.attr(e, b"arch")?.unwrap_or_default();
                        if empty {
                            f(&pkgid, &pname, &arch, Vec::new());
                            count += 1;
                        } else {
                            cur = Some((pkgid, pname, arch));
                        }
                    }
                    b"file" if cur.is_some() => {
                        if empty {
                            files.push(String::new());
                        } else {
                            in_file = true;
                            text.clear();
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(ref t) if in_file => x.text(t, &mut text)?,
            Event::CData(ref c) if in_file => x.cdata(c, &mut text)?,
            Event::End(ref e) => match local_end(e.name().0) {
                b"file" if in_file => {
                    in_file = false;
                    files.push(std::mem::take(&mut text));
                }
                b"package" => {
                    if let Some((pkgid, name, arch)) = cur.take() {
                        f(&pkgid, &name, &arch, std::mem::take(&mut files));
                        count += 1;
                    }
                }
                b"filelists" => done = true,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !root_seen {
        return Err(x.truncated("the <filelists> root element"));
    }
    if let Some((_, name, _)) = &cur {
        return Err(x.truncated(format!("the end of package '{name}'")));
    }
    if !done {
        return Err(x.truncated("</filelists>"));
    }
    if let Some(n) = declared
        && n != count as u64
    {
        return Err(x.invalid(
            "<filelists>",
            format!("declares packages=\"{n}\" but holds {count} packages"),
        ));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="2">
<package pkgid="aaaa" name="foo" arch="x86_64">
  <version epoch="0" ver="1" rel="1"/>
  <file>/usr/bin/foo</file>
  <file type="dir">/usr/share/foo</file>
  <file>/usr/share/foo/a&amp;b.txt</file>
</package>
<package pkgid="bbbb" name="empty" arch="noarch">
  <version epoch="0" ver="1" rel="1"/>
</package>
</filelists>
"#;

    #[test]
    fn streams_packages() {
        let mut seen = Vec::new();
        let n = parse_filelists(SAMPLE.as_bytes(), "t", |id, name, arch, files| {
            seen.push((id.to_owned(), name.to_owned(), arch.to_owned(), files))
        })
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(seen[0].0, "aaaa");
        assert_eq!(
            seen[0].3,
            vec!["/usr/bin/foo", "/usr/share/foo", "/usr/share/foo/a&b.txt"]
        );
        assert_eq!(
            (seen[1].1.as_str(), seen[1].2.as_str()),
            ("empty", "noarch")
        );
        assert!(seen[1].3.is_empty());
    }

    #[test]
    fn truncated_and_garbage() {
        let cut = &SAMPLE[..SAMPLE.find("a&amp;b").unwrap()];
        let e = parse_filelists(cut.as_bytes(), "fl", |_, _, _, _| {}).unwrap_err();
        assert!(matches!(e, RpmMdError::Truncated { .. }), "{e}");
        assert!(e.to_string().contains("package 'foo'"), "{e}");
        let e = parse_filelists(
            &b"<filelists><package pkgid='x' name='y'></filelists>"[..],
            "fl",
            |_, _, _, _| {},
        )
        .unwrap_err();
        assert!(matches!(e, RpmMdError::Xml { .. }), "{e}");
        let e = parse_filelists(
            &b"<filelists><package name='y'/></filelists>"[..],
            "fl",
            |_, _, _, _| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("has no pkgid attribute"), "{e}");
        let e = parse_filelists(
            SAMPLE
                .replace("packages=\"2\"", "packages=\"5\"")
                .as_bytes(),
            "fl",
            |_, _, _, _| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("declares packages=\"5\""), "{e}");
    }
}
