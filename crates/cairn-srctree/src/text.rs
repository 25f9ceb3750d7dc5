//! Pure text transformations behind the text edits: prepending lines with the file's own line
//! ending and literal regex replacement. They work on whole files held in memory.

use regex::{NoExpand, Regex};

/// The line ending a file uses, judged by its first line break: `"\r\n"` when that break is
/// CRLF, `"\n"` otherwise (also for files without any line break).
pub(crate) fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// `lines`, each followed by the file's line ending, then the file unchanged.
pub(crate) fn prepend(text: &str, lines: &[String]) -> String {
    let eol = line_ending(text);
    let extra: usize = lines.iter().map(|l| l.len() + eol.len()).sum();
    let mut out = String::with_capacity(text.len() + extra);
    for line in lines {
        out.push_str(line);
        out.push_str(eol);
    }
    out.push_str(text);
    out
}

/// Replaces every match of `regex` with `replacement` taken literally (`$1` stays `$1`).
/// Returns the new text and how many matches were replaced.
pub(crate) fn replace_literal(text: &str, regex: &Regex, replacement: &str) -> (String, usize) {
    let count = regex.find_iter(text).count();
    if count == 0 {
        return (text.to_owned(), 0);
    }
    (
        regex.replace_all(text, NoExpand(replacement)).into_owned(),
        count,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn line_ending_follows_first_break() {
        assert_eq!(line_ending(""), "\n");
        assert_eq!(line_ending("no break"), "\n");
        assert_eq!(line_ending("a\nb\r\n"), "\n");
        assert_eq!(line_ending("a\r\nb\n"), "\r\n");
        assert_eq!(line_ending("\r\n"), "\r\n");
        assert_eq!(line_ending("\n"), "\n");
    }

    #[test]
    fn prepend_uses_the_file_line_ending() {
        assert_eq!(prepend("x\n", &lines(&["a", "b"])), "a\nb\nx\n");
        assert_eq!(prepend("x\r\ny\r\n", &lines(&["a"])), "a\r\nx\r\ny\r\n");
        assert_eq!(prepend("", &lines(&["a"])), "a\n");
        assert_eq!(prepend("tail", &lines(&[])), "tail");
    }

    #[test]
    fn replacement_is_literal() {
        let re = Regex::new(r"(\w+)=(\d+)").unwrap();
        assert_eq!(
            replace_literal("a=1 b=2", &re, "$2=${1}"),
            ("$2=${1} $2=${1}".to_owned(), 2)
        );
        assert_eq!(
            replace_literal("nothing", &re, "x"),
            ("nothing".to_owned(), 0)
        );
    }

    proptest! {
        #[test]
        fn prepend_keeps_the_original_as_suffix(text in "(?s).{0,80}", ls in proptest::collection::vec("[^\r\n]{0,10}", 0..4)) {
            let out = prepend(&text, &ls);
            prop_assert!(out.ends_with(&text));
            let eol = line_ending(&text);
            let head = &out[..out.len() - text.len()];
            let expected: String = ls.iter().map(|l| format!("{l}{eol}")).collect();
            prop_assert_eq!(head, expected);
        }

        #[test]
        fn replacing_a_fresh_marker_round_trips(a in "[a-z \n]{0,40}", b in "[a-z \n]{0,40}") {
            let re = Regex::new("@@").unwrap();
            let text = format!("{a}@@{b}");
            let (out, n) = replace_literal(&text, &re, "$0");
            prop_assert_eq!(n, 1);
            prop_assert_eq!(out, format!("{a}$0{b}"));
        }
    }
}
