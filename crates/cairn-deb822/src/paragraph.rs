//! The deb822 paragraph: `Field: value` lines, continuation lines starting with a space or
//! tab, `#` comment lines, paragraphs separated by blank lines.

use crate::Deb822Error;
use std::io::BufRead;
use std::ops::Range;

/// One paragraph. Field values keep their continuation lines joined by `\n` (each keeping
/// its leading whitespace, as dpkg stores them); the first line is trimmed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paragraph {
    text: String,
    fields: Vec<(Range<usize>, Range<usize>)>,
    line: usize,
}

impl Paragraph {
    /// The value of field `name` (case-insensitive), first occurrence.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The value with continuation lines folded into one line (for relation and list
    /// fields, which may be wrapped).
    pub fn get_folded(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        self.get(name).map(fold)
    }

    /// Fields in file order as `(name, value)`.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .map(|(n, v)| (&self.text[n.clone()], &self.text[v.clone()]))
    }

    /// 1-based line number of the paragraph's first field.
    pub fn line(&self) -> usize {
        self.line
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn clear(&mut self) {
        self.text.clear();
        self.fields.clear();
        self.line = 0;
    }
}

/// Fold a multi-line value into one line, replacing each line break and the whitespace
/// around it with a single space.
pub fn fold(value: &str) -> std::borrow::Cow<'_, str> {
    if !value.contains('\n') {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    for part in value.split('\n').map(str::trim).filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    std::borrow::Cow::Owned(out)
}

/// Streams paragraphs from a reader, reusing one line buffer.
#[derive(Debug)]
pub struct ParagraphReader<R> {
    reader: R,
    origin: String,
    line_no: usize,
    buf: String,
}

impl<R: BufRead> ParagraphReader<R> {
    /// `origin` names the input (file path or URL) in errors.
    pub fn new(reader: R, origin: impl Into<String>) -> Self {
        ParagraphReader {
            reader,
            origin: origin.into(),
            line_no: 0,
            buf: String::with_capacity(256),
        }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Read the next paragraph into `para` (reusing its allocations). Returns `false` at
    /// end of input.
    pub fn read_into(&mut self, para: &mut Paragraph) -> Result<bool, Deb822Error> {
        para.clear();
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_line(&mut self.buf)
                .map_err(|source| Deb822Error::Io {
                    origin: self.origin.clone(),
                    line: self.line_no + 1,
                    source,
                })?;
            if n == 0 {
                return Ok(!para.is_empty());
            }
            self.line_no += 1;
            let line = self.buf.trim_end_matches(['\n', '\r']);
            let first = line.as_bytes().first().copied();
            match first {
                Some(b'#') => continue,
                Some(b' ' | b'\t') => {
                    if line.trim().is_empty() {
                        // A whitespace-only line ends the paragraph, like an empty one.
                        if para.is_empty() {
                            continue;
                        }
                        return Ok(true);
                    }
                    let Some((_, value)) = para.fields.last_mut() else {
                        return Err(self.syntax("continuation line before any field"));
                    };
                    // Values are contiguous at the end of `text`: extend the last one.
                    para.text.push('\n');
                    para.text.push_str(line.trim_end());
                    value.end = para.text.len();
                }
                None => {
                    if para.is_empty() {
                        continue;
                    }
                    return Ok(true);
                }
                Some(_) => {
                    let Some(colon) = line.find(':') else {
                        return Err(self.syntax(&format!("expected `Field: value`, got {line:?}")));
                    };
                    let name = &line[..colon];
                    if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
                        return Err(self.syntax(&format!("bad field name {name:?}")));
                    }
                    if para.is_empty() {
                        para.line = self.line_no;
                    }
                    let start = para.text.len();
                    para.text.push_str(name);
                    let name_range = start..para.text.len();
                    let value = line[colon + 1..].trim();
                    let vstart = para.text.len();
                    para.text.push_str(value);
                    para.fields.push((name_range, vstart..para.text.len()));
                }
            }
        }
    }

    fn syntax(&self, reason: &str) -> Deb822Error {
        Deb822Error::Syntax {
            origin: self.origin.clone(),
            line: self.line_no,
            reason: reason.to_owned(),
        }
    }
}

impl<R: BufRead> Iterator for ParagraphReader<R> {
    type Item = Result<Paragraph, Deb822Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut p = Paragraph::default();
        match self.read_into(&mut p) {
            Ok(true) => Some(Ok(p)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// Parse all paragraphs of a text.
pub fn parse_paragraphs(text: &str, origin: &str) -> Result<Vec<Paragraph>, Deb822Error> {
    ParagraphReader::new(text.as_bytes(), origin).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_continuations_comments() {
        let text = "# lead comment\nPackage: a\nDescription: short\n more\n .\n end\n\n\n\
                    Types: deb\n# inner comment\nURIs: http://x\n";
        let ps = parse_paragraphs(text, "t").unwrap();
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].get("package"), Some("a"));
        assert_eq!(ps[0].get("Description"), Some("short\n more\n .\n end"));
        assert_eq!(ps[0].line(), 2);
        assert_eq!(ps[1].get("URIs"), Some("http://x"));
        assert_eq!(ps[1].line(), 9);
        assert_eq!(ps[1].fields().count(), 2);
    }

    #[test]
    fn folding() {
        let p = &parse_paragraphs("Depends: a,\n  b\n", "t").unwrap()[0];
        assert_eq!(p.get_folded("Depends").unwrap(), "a, b");
    }

    #[test]
    fn errors_name_origin_and_line() {
        let e = parse_paragraphs("A: b\nno colon here\n", "x.sources")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.sources") && e.contains("line 2"), "{e}");
        let e = parse_paragraphs(" leading\n", "y").unwrap_err().to_string();
        assert!(e.contains("continuation"), "{e}");
    }

    #[test]
    fn crlf_and_whitespace_blank_lines() {
        let ps = parse_paragraphs("A: 1\r\n  \r\nB: 2\r\n", "t").unwrap();
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[1].get("B"), Some("2"));
    }
}
