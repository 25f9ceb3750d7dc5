//! Small helpers over quick-xml shared by the parsers: error mapping, attribute lookup by
//! local name (rpm-md mixes the default and `rpm:` namespaces), text capture.

use crate::RpmMdError;
use cairn_package::{Checksum, ChecksumAlgo};
use quick_xml::errors::SyntaxError;
use quick_xml::events::attributes::{AttrError, Attribute, Attributes};
use quick_xml::events::{BytesCData, BytesStart, BytesText};
use std::io::BufRead;

/// A streaming reader that remembers where its input came from.
pub(crate) struct Xml<R> {
    pub reader: quick_xml::Reader<R>,
    pub origin: String,
}

impl<R: BufRead> Xml<R> {
    /// Check that the first element is the document's expected root `<local>`.
    pub(crate) fn expect_root(
        &self,
        e: &quick_xml::events::BytesStart<'_>,
        local_name: &[u8],
        expected: &'static str,
    ) -> Result<(), RpmMdError> {
        if local(e) == local_name {
            return Ok(());
        }
        Err(RpmMdError::WrongRoot {
            origin: self.origin.clone(),
            expected,
            found: String::from_utf8_lossy(e.name().0).into_owned(),
        })
    }

    pub fn new(input: R, origin: &str) -> Self {
        let mut reader = quick_xml::Reader::from_reader(input);
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
        Xml {
            reader,
            origin: origin.to_owned(),
        }
    }

    pub fn pos(&self) -> u64 {
        self.reader.buffer_position()
    }

    /// Map a quick-xml error to ours, keeping I/O errors (decompression) apart.
    pub fn error(&self, e: quick_xml::Error) -> RpmMdError {
        match e {
            quick_xml::Error::Io(source) => RpmMdError::Io {
                origin: self.origin.clone(),
                pos: self.pos(),
                source,
            },
            // quick-xml's "unclosed" syntax errors only happen at end of input.
            quick_xml::Error::Syntax(
                se @ (SyntaxError::UnclosedTag
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedDoctype
                | SyntaxError::UnclosedPIOrXmlDecl),
            ) => RpmMdError::Truncated {
                origin: self.origin.clone(),
                pos: self.reader.error_position(),
                expected: format!("the markup is complete ({se})"),
            },
            other => RpmMdError::Xml {
                origin: self.origin.clone(),
                pos: self.reader.error_position(),
                message: other.to_string(),
            },
        }
    }

    pub fn truncated(&self, expected: impl Into<String>) -> RpmMdError {
        RpmMdError::Truncated {
            origin: self.origin.clone(),
            pos: self.pos(),
            expected: expected.into(),
        }
    }

    pub fn missing(&self, context: impl Into<String>, what: &'static str) -> RpmMdError {
        RpmMdError::Missing {
            origin: self.origin.clone(),
            pos: self.pos(),
            context: context.into(),
            what,
        }
    }

    pub fn invalid(&self, context: impl Into<String>, message: impl Into<String>) -> RpmMdError {
        RpmMdError::Invalid {
            origin: self.origin.clone(),
            pos: self.pos(),
            context: context.into(),
            message: message.into(),
        }
    }

    /// Value of the attribute whose local name is `name` (unescaped).
    pub fn attr(&self, e: &BytesStart<'_>, name: &[u8]) -> Result<Option<String>, RpmMdError> {
        for a in attrs(e) {
            let a = a.map_err(|err| self.error(err.into()))?;
            if a.key.local_name().as_ref() == name {
                let v = a.unescape_value().map_err(|err| self.error(err))?;
                return Ok(Some(v.into_owned()));
            }
        }
        Ok(None)
    }

    /// [`Xml::attr`] without copying values that need no unescaping.
    pub fn attr_cow<'e>(
        &self,
        e: &'e BytesStart<'_>,
        name: &[u8],
    ) -> Result<Option<std::borrow::Cow<'e, str>>, RpmMdError> {
        for a in attrs(e) {
            let a = a.map_err(|err| self.error(err.into()))?;
            if a.key.local_name().as_ref() == name {
                let v = a.unescape_value().map_err(|err| self.error(err))?;
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    pub fn text(&self, t: &BytesText<'_>, into: &mut String) -> Result<(), RpmMdError> {
        let s = t.unescape().map_err(|err| self.error(err))?;
        into.push_str(&s);
        Ok(())
    }

    pub fn cdata(&self, c: &BytesCData<'_>, into: &mut String) -> Result<(), RpmMdError> {
        let s = std::str::from_utf8(c).map_err(|err| {
            self.error(quick_xml::Error::from(
                quick_xml::encoding::EncodingError::from(err),
            ))
        })?;
        into.push_str(s);
        Ok(())
    }

    pub fn u64_attr(
        &self,
        e: &BytesStart<'_>,
        name: &[u8],
        context: impl Fn() -> String,
    ) -> Result<Option<u64>, RpmMdError> {
        match self.attr_cow(e, name)? {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                self.invalid(
                    context(),
                    format!(
                        "attribute {}={v:?} is not a non-negative integer",
                        String::from_utf8_lossy(name)
                    ),
                )
            }),
        }
    }

    /// Build a checksum from a `type` attribute and hex text, checking both.
    pub fn checksum(
        &self,
        algo: Option<&str>,
        hex: &str,
        context: impl Into<String>,
    ) -> Result<Checksum, RpmMdError> {
        let context = context.into();
        self.checksum_lazy(algo, hex, || context)
    }

    /// [`Xml::checksum`] building the error context only when there is an error.
    pub fn checksum_lazy(
        &self,
        algo: Option<&str>,
        hex: &str,
        context: impl FnOnce() -> String,
    ) -> Result<Checksum, RpmMdError> {
        let Some(algo_s) = algo else {
            return Err(self.missing(context(), "checksum type attribute"));
        };
        let Some(algo) = ChecksumAlgo::parse(algo_s) else {
            return Err(RpmMdError::UnknownChecksum {
                origin: self.origin.clone(),
                context: context(),
                algo: algo_s.to_owned(),
            });
        };
        let hex = hex.trim();
        if hex.len() != algo.hex_len() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.invalid(
                context(),
                format!(
                    "checksum {hex:?} is not a {} digest ({} hex digits)",
                    algo.as_str(),
                    algo.hex_len()
                ),
            ));
        }
        Ok(Checksum::new(algo, hex))
    }
}

/// Local name of an element as a byte slice.
pub(crate) fn local<'a>(e: &'a BytesStart<'_>) -> &'a [u8] {
    let n = e.name().0;
    match n.iter().position(|&b| b == b':') {
        Some(i) => &n[i + 1..],
        None => n,
    }
}

/// Local name of an end tag.
pub(crate) fn local_end(n: &[u8]) -> &[u8] {
    match n.iter().position(|&b| b == b':') {
        Some(i) => &n[i + 1..],
        None => n,
    }
}

/// The attributes of `e`, refusing a repeated name exactly as quick-xml's own check does
/// (same error, same positions) but without the vector that check allocates per element.
pub(crate) fn attrs<'e>(e: &'e BytesStart<'_>) -> Attrs<'e> {
    let mut inner = e.attributes();
    inner.with_checks(false);
    Attrs {
        inner,
        buf: e,
        seen: [(0, 0); 8],
        n: 0,
        more: Vec::new(),
        failed: false,
    }
}

pub(crate) struct Attrs<'e> {
    inner: Attributes<'e>,
    buf: &'e [u8],
    /// (start, length) of the keys seen so far, in `buf`.
    seen: [(usize, usize); 8],
    n: usize,
    more: Vec<(usize, usize)>,
    failed: bool,
}

impl<'e> Iterator for Attrs<'e> {
    type Item = Result<Attribute<'e>, AttrError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let a = match self.inner.next()? {
            Ok(a) => a,
            Err(e) => return Some(Err(e)),
        };
        let key = a.key.as_ref();
        let start = (key.as_ptr() as usize).wrapping_sub(self.buf.as_ptr() as usize);
        let (seen, more) = (&self.seen[..self.n], &self.more);
        if let Some(&(prev, _)) = seen
            .iter()
            .chain(more)
            .find(|&&(s, l)| self.buf.get(s..s + l) == Some(key))
        {
            self.failed = true;
            return Some(Err(AttrError::Duplicated(start, prev)));
        }
        if self.n < self.seen.len() {
            self.seen[self.n] = (start, key.len());
            self.n += 1;
        } else {
            self.more.push((start, key.len()));
        }
        Some(Ok(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `attrs` refuses repeated names with the error quick-xml's own check gives.
    #[test]
    fn attrs_match_quick_xml_checks() {
        for tag in [
            r#"entry name="a" flags="EQ" ver="1" name="b""#,
            r#"entry name="a" ver="1" rel="2" epoch="0" flags="EQ" pre="1" x="1" y="2" z="3" pre="0""#,
            r#"entry a="1" b="2" c="3" d="4" e="5" f="6" g="7" h="8" i="9" j="10" b="11""#,
            r#"entry name="a&amp;b" ver='1'"#,
            r#"entry name="a" ver"#,
        ] {
            let e = BytesStart::from_content(tag, 5);
            let ours: Vec<String> = attrs(&e).map(|a| format!("{a:?}")).collect();
            let theirs: Vec<String> = e.attributes().map(|a| format!("{a:?}")).collect();
            // quick-xml goes on after an error; ours stops at the first one
            assert_eq!(ours[..], theirs[..ours.len()], "{tag}");
            if let Some(last) = ours.last()
                && last.starts_with("Err")
            {
                assert!(theirs[ours.len() - 1].starts_with("Err"));
            } else {
                assert_eq!(ours.len(), theirs.len());
            }
        }
    }
}
