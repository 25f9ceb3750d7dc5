//! The subset of Python's `configparser` (default settings) that Microsoft's WSL validator
//! relies on: `[section]` headers, `key = value` / `key: value`, `#`/`;` full-line comments,
//! indented continuation lines, keys lowercased, duplicate sections and keys rejected,
//! `[DEFAULT]` keys copied into every section.

/// One parsed file: `(section, lowercased key, value)` in file order.
pub(crate) type Ini = Vec<(String, String, String)>;

/// Parses `text`; the error names the line and what was expected.
pub(crate) fn parse(text: &str) -> Result<Ini, String> {
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut defaults: Vec<(String, String)> = Vec::new();
    let mut current: Option<usize> = None; // index into sections, or usize::MAX for DEFAULT
    let mut last_key: Option<(usize, usize)> = None; // (section slot, key index)
    for (lineno, raw) in text.split('\n').enumerate() {
        let line = raw.trim_end_matches('\r');
        let stripped = line.trim();
        let lineno = lineno + 1;
        if stripped.is_empty() {
            last_key = None;
            continue;
        }
        if stripped.starts_with('#') || stripped.starts_with(';') {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if indented && let Some((slot, idx)) = last_key {
            let target = if slot == usize::MAX {
                &mut defaults
            } else {
                &mut sections[slot].1
            };
            let value = &mut target[idx].1;
            value.push('\n');
            value.push_str(stripped);
            continue;
        }
        if let Some(rest) = stripped.strip_prefix('[')
            && let Some(end) = rest.rfind(']')
        {
            let name = &rest[..end];
            if name.is_empty() {
                return Err(format!("line {lineno}: empty section name"));
            }
            if name == "DEFAULT" {
                current = Some(usize::MAX);
            } else {
                if sections.iter().any(|(n, _)| n == name) {
                    return Err(format!("line {lineno}: section [{name}] appears twice"));
                }
                sections.push((name.to_owned(), Vec::new()));
                current = Some(sections.len() - 1);
            }
            last_key = None;
            continue;
        }
        let Some(slot) = current else {
            return Err(format!(
                "line {lineno}: expected a [section] header before {stripped:?}"
            ));
        };
        let Some(pos) = stripped.find(['=', ':']) else {
            return Err(format!(
                "line {lineno}: expected key = value, found {stripped:?}"
            ));
        };
        let key = stripped[..pos].trim().to_lowercase();
        let value = stripped[pos + 1..].trim().to_owned();
        if key.is_empty() {
            return Err(format!("line {lineno}: empty key in {stripped:?}"));
        }
        let target = if slot == usize::MAX {
            &mut defaults
        } else {
            &mut sections[slot].1
        };
        if target.iter().any(|(k, _)| *k == key) {
            return Err(format!(
                "line {lineno}: key {key:?} appears twice in its section"
            ));
        }
        target.push((key, value));
        last_key = Some((slot, target.len() - 1));
    }
    let mut out = Vec::new();
    for (section, keys) in sections {
        for (k, v) in &keys {
            out.push((section.clone(), k.clone(), v.clone()));
        }
        for (k, v) in &defaults {
            if !keys.iter().any(|(key, _)| key == k) {
                out.push((section.clone(), k.clone(), v.clone()));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_configparser() {
        let ini =
            parse("# c\n[oobe]\nCommand = /x\ndefaultUid: 1000\n  more\n[boot]\nsystemd=true\n")
                .unwrap();
        assert_eq!(
            ini,
            vec![
                ("oobe".into(), "command".into(), "/x".into()),
                ("oobe".into(), "defaultuid".into(), "1000\nmore".into()),
                ("boot".into(), "systemd".into(), "true".into()),
            ]
        );
    }

    #[test]
    fn rejects_what_configparser_rejects() {
        assert!(parse("key = 1\n").unwrap_err().contains("line 1"));
        assert!(parse("[a]\njunk\n").unwrap_err().contains("line 2"));
        assert!(parse("[a]\nk=1\nK=2\n").is_err());
        assert!(parse("[a]\n[a]\n").is_err());
    }
}
