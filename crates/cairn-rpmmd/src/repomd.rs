//! `repomd.xml`: the index of a repository's metadata files.

use crate::RpmMdError;
use crate::xml::{Xml, local, local_end};
use cairn_package::Checksum;
use quick_xml::events::Event;

/// A parsed `repomd.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoMd {
    /// `<revision>`, when present (createrepo_c writes a timestamp unless told otherwise).
    pub revision: Option<String>,
    /// Every `<data>` entry, in document order.
    pub data: Vec<RepoMdData>,
}

impl RepoMd {
    /// The entry of one type (`primary`, `filelists`, `other`, `primary_db`, ...).
    pub fn get(&self, kind: &str) -> Option<&RepoMdData> {
        self.data.iter().find(|d| d.kind == kind)
    }
}

/// One `<data type="...">` entry of `repomd.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoMdData {
    /// The `type` attribute (`primary`, `filelists`, `other`, ...).
    pub kind: String,
    /// `location href`, relative to the repository base URL (`repodata/...-primary.xml.gz`).
    pub location: String,
    /// Digest of the file as stored (compressed).
    pub checksum: Checksum,
    /// Digest of the decompressed content, when given.
    pub open_checksum: Option<Checksum>,
    pub size: Option<u64>,
    pub open_size: Option<u64>,
    pub timestamp: Option<u64>,
}

#[derive(Default)]
struct DataBuilder {
    kind: String,
    location: Option<String>,
    checksum: Option<(Option<String>, String)>,
    open_checksum: Option<(Option<String>, String)>,
    size: Option<u64>,
    open_size: Option<u64>,
    timestamp: Option<u64>,
}

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Revision,
    Checksum,
    OpenChecksum,
    Size,
    OpenSize,
    Timestamp,
}

/// Parse `repomd.xml`. `origin` names where the bytes came from, for errors.
pub fn parse_repomd(bytes: &[u8], origin: &str) -> Result<RepoMd, RpmMdError> {
    let mut x = Xml::new(bytes, origin);
    let mut buf = Vec::new();
    let mut root_seen = false;
    let mut done = false;
    let mut revision = None;
    let mut data = Vec::new();
    let mut cur: Option<DataBuilder> = None;
    let mut field: Option<Field> = None;
    let mut attr_type: Option<String> = None;
    let mut text = String::new();

    loop {
        let ev = x.reader.read_event_into(&mut buf).map_err(|e| x.error(e))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = local(e);
                if !root_seen {
                    x.expect_root(e, b"repomd", "<repomd>")?;
                    root_seen = true;
                    continue;
                }
                text.clear();
                match (&mut cur, name) {
                    (None, b"revision") => field = Some(Field::Revision),
                    (None, b"data") => {
                        let kind = x
                            .attr(e, b"type")?
                            .ok_or_else(|| x.missing("a <data> entry", "type attribute"))?;
                        cur = Some(DataBuilder {
                            kind,
                            ..Default::default()
                        });
                        if empty {
                            data.push(finish(&x, cur.take().unwrap_or_default())?);
                        }
                    }
                    (Some(d), b"location") => d.location = x.attr(e, b"href")?,
                    (Some(_), b"checksum") => {
                        field = Some(Field::Checksum);
                        attr_type = x.attr(e, b"type")?;
                    }
                    (Some(_), b"open-checksum") => {
                        field = Some(Field::OpenChecksum);
                        attr_type = x.attr(e, b"type")?;
                    }
                    (Some(_), b"size") => field = Some(Field::Size),
                    (Some(_), b"open-size") => field = Some(Field::OpenSize),
                    (Some(_), b"timestamp") => field = Some(Field::Timestamp),
                    _ => {}
                }
                if empty && field.is_some() {
                    close_field(
                        &x,
                        &mut field,
                        &mut cur,
                        &mut revision,
                        &mut attr_type,
                        &text,
                    )?;
                }
            }
            Event::Text(ref t) if field.is_some() => x.text(t, &mut text)?,
            Event::CData(ref c) if field.is_some() => x.cdata(c, &mut text)?,
            Event::End(ref e) => match local_end(e.name().0) {
                b"data" => {
                    if let Some(d) = cur.take() {
                        data.push(finish(&x, d)?);
                    }
                }
                b"repomd" => done = true,
                _ if field.is_some() => close_field(
                    &x,
                    &mut field,
                    &mut cur,
                    &mut revision,
                    &mut attr_type,
                    &text,
                )?,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !root_seen {
        return Err(x.truncated("the <repomd> root element"));
    }
    if !done {
        return Err(x.truncated("</repomd>"));
    }
    Ok(RepoMd { revision, data })
}

fn close_field(
    x: &Xml<&[u8]>,
    field: &mut Option<Field>,
    cur: &mut Option<DataBuilder>,
    revision: &mut Option<String>,
    attr_type: &mut Option<String>,
    text: &str,
) -> Result<(), RpmMdError> {
    let Some(f) = field.take() else { return Ok(()) };
    if f == Field::Revision {
        *revision = Some(text.trim().to_owned());
        return Ok(());
    }
    let Some(d) = cur.as_mut() else { return Ok(()) };
    let number = |what: &str| -> Result<u64, RpmMdError> {
        text.trim().parse().map_err(|_| {
            x.invalid(
                format!("<data type=\"{}\">", d.kind),
                format!("<{what}> {:?} is not a non-negative integer", text.trim()),
            )
        })
    };
    match f {
        Field::Revision => {}
        Field::Checksum => d.checksum = Some((attr_type.take(), text.to_owned())),
        Field::OpenChecksum => d.open_checksum = Some((attr_type.take(), text.to_owned())),
        Field::Size => d.size = Some(number("size")?),
        Field::OpenSize => d.open_size = Some(number("open-size")?),
        Field::Timestamp => {
            // createrepo_c writes integers; some tools write fractions: keep the seconds.
            let t = text.trim();
            let secs = t.split('.').next().unwrap_or(t);
            d.timestamp = Some(secs.parse().map_err(|_| {
                x.invalid(
                    format!("<data type=\"{}\">", d.kind),
                    format!("<timestamp> {t:?} is not a number"),
                )
            })?)
        }
    }
    Ok(())
}

fn finish(x: &Xml<&[u8]>, d: DataBuilder) -> Result<RepoMdData, RpmMdError> {
    let context = format!("<data type=\"{}\">", d.kind);
    let location = d
        .location
        .ok_or_else(|| x.missing(context.clone(), "<location href=...>"))?;
    let (algo, hex) = d
        .checksum
        .ok_or_else(|| x.missing(context.clone(), "<checksum>"))?;
    let checksum = x.checksum(algo.as_deref(), &hex, format!("{context} <checksum>"))?;
    let open_checksum = match d.open_checksum {
        Some((algo, hex)) => {
            Some(x.checksum(algo.as_deref(), &hex, format!("{context} <open-checksum>"))?)
        }
        None => None,
    };
    Ok(RepoMdData {
        kind: d.kind,
        location,
        checksum,
        open_checksum,
        size: d.size,
        open_size: d.open_size,
        timestamp: d.timestamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1700000000</revision>
  <tags><distro cpeid="x">Fixture</distro></tags>
  <data type="primary">
    <checksum type="sha256">e45bf2db6eb72f9686d41f77bba06f345996836140cdb7211c2681c2f33dce8c</checksum>
    <open-checksum type="sha256">f1a8a524f3296136f58d7c89e486a7a8df59bdcd4526f429997d8eadf92ac252</open-checksum>
    <location href="repodata/e45b-primary.xml.gz"/>
    <timestamp>1700000000</timestamp>
    <size>1495</size>
    <open-size>7300</open-size>
  </data>
  <data type="other_db">
    <checksum type="sha">0123456789abcdef0123456789abcdef01234567</checksum>
    <location href="repodata/other.sqlite.bz2"/>
    <timestamp>1700000000.25</timestamp>
    <database_version>10</database_version>
  </data>
</repomd>
"#;

    #[test]
    fn parses_createrepo_output() {
        let md = parse_repomd(SAMPLE.as_bytes(), "test").unwrap();
        assert_eq!(md.revision.as_deref(), Some("1700000000"));
        assert_eq!(md.data.len(), 2);
        let p = md.get("primary").unwrap();
        assert_eq!(p.location, "repodata/e45b-primary.xml.gz");
        assert_eq!(
            p.checksum.to_string(),
            "sha256:e45bf2db6eb72f9686d41f77bba06f345996836140cdb7211c2681c2f33dce8c"
        );
        assert_eq!(
            p.open_checksum.as_ref().unwrap().hex,
            "f1a8a524f3296136f58d7c89e486a7a8df59bdcd4526f429997d8eadf92ac252"
        );
        assert_eq!(
            (p.size, p.open_size, p.timestamp),
            (Some(1495), Some(7300), Some(1700000000))
        );
        let o = md.get("other_db").unwrap();
        assert_eq!(o.checksum.algo, cairn_package::ChecksumAlgo::Sha1);
        assert_eq!(
            (o.open_checksum.as_ref(), o.size, o.timestamp),
            (None, None, Some(1700000000))
        );
        assert!(md.get("filelists").is_none());
    }

    #[test]
    fn unknown_checksum_type_is_named() {
        let bad = SAMPLE.replace("type=\"sha\"", "type=\"crc32\"");
        let e = parse_repomd(bad.as_bytes(), "https://m/repodata/repomd.xml").unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, RpmMdError::UnknownChecksum { .. }), "{msg}");
        assert!(msg.contains("https://m/repodata/repomd.xml"), "{msg}");
        assert!(
            msg.contains("\"crc32\"") && msg.contains("other_db"),
            "{msg}"
        );
    }

    #[test]
    fn bad_digest_length_is_refused() {
        let bad = SAMPLE.replace(">0123456789abcdef0123456789abcdef01234567<", ">0123<");
        let e = parse_repomd(bad.as_bytes(), "r").unwrap_err();
        assert!(e.to_string().contains("40 hex digits"), "{e}");
    }

    #[test]
    fn missing_location_is_named() {
        let bad = SAMPLE.replace(r#"<location href="repodata/e45b-primary.xml.gz"/>"#, "");
        let e = parse_repomd(bad.as_bytes(), "r").unwrap_err();
        assert!(
            e.to_string()
                .contains("<data type=\"primary\"> has no <location href=...>"),
            "{e}"
        );
    }

    #[test]
    fn truncated_and_garbage_and_wrong_root() {
        let cut = &SAMPLE[..SAMPLE.len() / 2];
        let e = parse_repomd(cut.as_bytes(), "r").unwrap_err();
        assert!(matches!(e, RpmMdError::Truncated { .. }), "{e}");

        let e = parse_repomd(b"", "r").unwrap_err();
        assert!(matches!(e, RpmMdError::Truncated { .. }), "{e}");

        let e = parse_repomd(b"<repomd><data type='x'></repomd>", "r").unwrap_err();
        assert!(matches!(e, RpmMdError::Xml { .. }), "{e}");

        let e = parse_repomd(b"<html><body>404</body></html>", "r").unwrap_err();
        assert!(e.to_string().contains("expected <repomd>"), "{e}");
    }
}
