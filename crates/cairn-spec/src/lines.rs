//! Physical and logical lines of a spec file.
//!
//! A *physical* line is the text up to and including its `\n` (the last one may lack it).
//! A *logical* line groups physical lines the way rpm reads them: a line continues onto the
//! next one when it ends in an unescaped backslash, or while a `%{`, `%(` or `%[` opened on it
//! is still unbalanced.

/// Split text into physical lines, each keeping its own line ending.
pub(crate) fn split_physical(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_owned).collect()
}

/// The line without its line ending (`\n` or `\r\n`).
pub(crate) fn content(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

/// The line ending of a physical line: `"\r\n"`, `"\n"` or `""`.
pub(crate) fn ending(line: &str) -> &str {
    &line[content(line).len()..]
}

/// Bracket balance carried from one physical line to the next while reading a logical line.
#[derive(Default)]
struct Balance {
    braces: u32,
    parens: u32,
    brackets: u32,
}

impl Balance {
    /// Scan one physical line; returns true when the logical line continues past it.
    fn scan(&mut self, content: &str) -> bool {
        let bytes = content.as_bytes();
        let mut escaped_eol = false;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => {
                    if i + 1 == bytes.len() {
                        escaped_eol = true;
                    }
                    i += 2;
                    continue;
                }
                b'%' => match bytes.get(i + 1) {
                    Some(b'{') => {
                        self.braces += 1;
                        i += 2;
                        continue;
                    }
                    Some(b'(') => {
                        self.parens += 1;
                        i += 2;
                        continue;
                    }
                    Some(b'[') => {
                        self.brackets += 1;
                        i += 2;
                        continue;
                    }
                    Some(b'%') => {
                        i += 2;
                        continue;
                    }
                    _ => {}
                },
                b'{' if self.braces > 0 => self.braces += 1,
                b'}' if self.braces > 0 => self.braces -= 1,
                b'(' if self.parens > 0 => self.parens += 1,
                b')' if self.parens > 0 => self.parens -= 1,
                b'[' if self.brackets > 0 => self.brackets += 1,
                b']' if self.brackets > 0 => self.brackets -= 1,
                _ => {}
            }
            i += 1;
        }
        escaped_eol || self.braces > 0 || self.parens > 0 || self.brackets > 0
    }
}

/// Group physical lines into logical lines; returns `[start, end)` physical index ranges.
pub(crate) fn group_logical(lines: &[String]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(lines.len());
    let mut start = 0;
    let mut balance = Balance::default();
    for (i, line) in lines.iter().enumerate() {
        // A line without an ending is the last one: nothing can continue it.
        let continues = balance.scan(content(line)) && !ending(line).is_empty();
        if !continues {
            out.push((start, i + 1));
            start = i + 1;
            balance = Balance::default();
        }
    }
    if start < lines.len() {
        out.push((start, lines.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(text: &str) -> Vec<(usize, usize)> {
        group_logical(&split_physical(text))
    }

    #[test]
    fn endings() {
        assert_eq!(content("a\r\n"), "a");
        assert_eq!(ending("a\r\n"), "\r\n");
        assert_eq!(content("a\n"), "a");
        assert_eq!(ending("a"), "");
        assert_eq!(content("a\r"), "a");
        assert_eq!(split_physical("a\nb"), vec!["a\n", "b"]);
        assert!(split_physical("").is_empty());
    }

    #[test]
    fn backslash_continues() {
        assert_eq!(groups("a \\\nb\nc\n"), vec![(0, 2), (2, 3)]);
        assert_eq!(groups("a \\\\\nb\n"), vec![(0, 1), (1, 2)]);
        assert_eq!(groups("a \\\r\nb\r\n"), vec![(0, 2)]);
        // a trailing backslash on the last line does not swallow anything
        assert_eq!(groups("a\\\n"), vec![(0, 1)]);
    }

    #[test]
    fn open_macro_continues() {
        assert_eq!(
            groups("%global x %{lua:\nprint(1)\n}\nName: x\n"),
            vec![(0, 3), (3, 4)]
        );
        assert_eq!(groups("%%{ x\ny\n"), vec![(0, 1), (1, 2)]);
        assert_eq!(groups("{ (\ny\n"), vec![(0, 1), (1, 2)]);
    }
}
