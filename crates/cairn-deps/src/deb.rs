//! Debian relation fields: `a (>= 1) | b, c:any`.
//!
//! Grammar (Debian policy §7.1, as dpkg and `Dpkg::Deps` read it):
//!
//! ```text
//! field       := entry ("," entry)* [","]
//! entry       := alternative ("|" alternative)*
//! alternative := name [":" arch] ["(" op version ")"] ["[" arch-list "]"] ("<" profiles ">")*
//! op          := "<<" | "<=" | "=" | ">=" | ">>" | "<" | ">"
//! ```
//!
//! Whitespace, including newlines of continuation lines, may appear between any two
//! tokens. The obsolete `<` and `>` mean `<=` and `>=`, as dpkg reads them. An architecture
//! qualifier (`:any`, `:native`, `:amd64`) goes into [`Atom::arch`].
//!
//! Architecture restriction lists (`[amd64 !i386]`) and build profiles (`<!nocheck>`), which
//! only appear in source package fields, are checked for syntax and then **dropped**: the
//! result holds the relation as if it applied on every architecture and profile.
//! Resolving them needs the build architecture and active profiles, which is the job of
//! whoever builds, not of this parser.
//!
//! An empty field gives no relations, and one trailing comma is accepted (`Dpkg::Deps`
//! accepts it too); any other empty entry (`a,,b`, `, a`) or empty alternative (`a || b`)
//! is an error.

use crate::{Atom, Constraint, Dep, DepError, Op};
use cairn_version::{DebVersion, Version};
use std::fmt::Write as _;

/// Parse a Debian relationship field (Depends, Pre-Depends, Conflicts, Breaks, Provides,
/// Recommends, Build-Depends, ...) into one `Dep` per comma-separated entry; alternatives
/// become `Dep::Or` of atoms.
pub fn parse_deb_relations(input: &str) -> Result<Vec<Dep>, DepError> {
    let mut p = Parser {
        input,
        b: input.as_bytes(),
        pos: 0,
    };
    let mut out = Vec::new();
    p.skip_space();
    if p.at_end() {
        return Ok(out);
    }
    loop {
        p.skip_space();
        if p.peek() == Some(b',') {
            return Err(p.err(p.pos, "empty entry between commas"));
        }
        let mut alts = vec![p.alternative()?];
        loop {
            p.skip_space();
            if p.peek() != Some(b'|') {
                break;
            }
            p.pos += 1;
            p.skip_space();
            if matches!(p.peek(), None | Some(b'|' | b',')) {
                return Err(p.err(p.pos, "empty alternative after '|'"));
            }
            alts.push(p.alternative()?);
        }
        out.push(if alts.len() == 1 {
            Dep::Atom(alts.pop().expect("one alternative"))
        } else {
            Dep::Or(alts.into_iter().map(Dep::Atom).collect())
        });
        p.skip_space();
        match p.peek() {
            None => break,
            Some(b',') => {
                p.pos += 1;
                p.skip_space();
                if p.at_end() {
                    break; // one trailing comma
                }
            }
            Some(c) => {
                return Err(p.err(
                    p.pos,
                    format!("expected ',' or '|' but found {:?}", char::from(c)),
                ));
            }
        }
    }
    Ok(out)
}

/// Print relations as a Debian field value (`a (>= 1) | b, c:any`): the inverse of
/// [`parse_deb_relations`] for what it produces (atoms, and `Or` of atoms). Other
/// expressions have no Debian syntax and are written as their [`Dep`] `Display` form.
pub fn format_deb_relations(deps: &[Dep]) -> String {
    let mut s = String::new();
    for (i, d) in deps.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        match d {
            Dep::Or(alts) if alts.iter().all(|a| matches!(a, Dep::Atom(_))) => {
                for (j, a) in alts.iter().enumerate() {
                    if j > 0 {
                        s.push_str(" | ");
                    }
                    let _ = write!(s, "{a}");
                }
            }
            other => {
                let _ = write!(s, "{other}");
            }
        }
    }
    s
}

struct Parser<'a> {
    input: &'a str,
    b: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, pos: usize, reason: impl Into<String>) -> DepError {
        DepError::Syntax {
            input: self.input.to_owned(),
            pos,
            reason: reason.into(),
        }
    }
    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }
    fn skip_space(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }
    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        let input: &'a str = self.input;
        &input[start..self.pos]
    }

    fn alternative(&mut self) -> Result<Atom, DepError> {
        let name_pos = self.pos;
        let name = self
            .take_while(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
            .to_owned();
        if name.is_empty() {
            return Err(match self.peek() {
                Some(c) => self.err(
                    name_pos,
                    format!("package name expected, found {:?}", char::from(c)),
                ),
                None => self.err(name_pos, "package name expected, found end of field"),
            });
        }
        if !name.as_bytes()[0].is_ascii_alphanumeric() {
            return Err(self.err(
                name_pos,
                format!("package name {name:?} must start with a letter or digit"),
            ));
        }
        let mut atom = Atom::name(name);
        if self.peek() == Some(b':') {
            self.pos += 1;
            let arch_pos = self.pos;
            let arch = self.take_while(|c| c.is_ascii_alphanumeric() || c == b'-');
            if arch.is_empty() || !arch.as_bytes()[0].is_ascii_alphanumeric() {
                return Err(self.err(arch_pos, "architecture qualifier expected after ':'"));
            }
            atom.arch = Some(arch.to_owned());
        }
        self.skip_space();
        if self.peek() == Some(b'(') {
            atom.constraint = Some(Box::new(self.constraint()?));
            self.skip_space();
        }
        if self.peek() == Some(b'[') {
            self.restriction_list(b'[', b']', "architecture")?;
            self.skip_space();
        }
        while self.peek() == Some(b'<') {
            self.restriction_list(b'<', b'>', "build profile")?;
            self.skip_space();
        }
        Ok(atom)
    }

    /// `(op version)`; `self.pos` is at `(`.
    fn constraint(&mut self) -> Result<Constraint, DepError> {
        let open = self.pos;
        self.pos += 1;
        self.skip_space();
        let op_pos = self.pos;
        let op_str = self.take_while(|c| b"<>=".contains(&c));
        let op = match op_str {
            "<<" => Op::Lt,
            "<=" | "<" => Op::Le,
            "=" => Op::Eq,
            ">=" | ">" => Op::Ge,
            ">>" => Op::Gt,
            "" => return Err(self.err(op_pos, "relation operator expected after '('")),
            other => {
                return Err(self.err(
                    op_pos,
                    format!("unknown relation operator {other:?} (expected <<, <=, =, >= or >>)"),
                ));
            }
        };
        self.skip_space();
        let ver_pos = self.pos;
        let ver = self.take_while(|c| !c.is_ascii_whitespace() && c != b')');
        if ver.is_empty() {
            return Err(self.err(ver_pos, format!("version expected after '{op_str}'")));
        }
        let version = DebVersion::parse(ver).map_err(|source| DepError::Version {
            input: self.input.to_owned(),
            source,
        })?;
        self.skip_space();
        if self.peek() != Some(b')') {
            return Err(self.err(
                if self.at_end() { open } else { self.pos },
                "')' expected to close the version constraint",
            ));
        }
        self.pos += 1;
        Ok(Constraint {
            op,
            version: Version::Deb(version),
        })
    }

    /// `[amd64 !i386]` or `<!nocheck cross>`: checked, then dropped.
    fn restriction_list(&mut self, open: u8, close: u8, what: &str) -> Result<(), DepError> {
        let open_pos = self.pos;
        self.pos += 1;
        let mut count = 0;
        loop {
            self.skip_space();
            match self.peek() {
                None => {
                    return Err(self.err(
                        open_pos,
                        format!(
                            "{what} list opened with '{}' is never closed",
                            char::from(open)
                        ),
                    ));
                }
                Some(c) if c == close => {
                    if count == 0 {
                        return Err(self.err(self.pos, format!("empty {what} list")));
                    }
                    self.pos += 1;
                    return Ok(());
                }
                _ => {}
            }
            let term_pos = self.pos;
            if self.peek() == Some(b'!') {
                self.pos += 1;
            }
            let term = self.take_while(|c| c.is_ascii_alphanumeric() || b"-.+_".contains(&c));
            if term.is_empty() {
                return Err(self.err(term_pos, format!("{what} name expected")));
            }
            count += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(name: &str, arch: Option<&str>, c: Option<(Op, &str)>) -> Dep {
        Dep::Atom(Atom {
            name: name.into(),
            arch: arch.map(Into::into),
            constraint: c.map(|(op, v)| {
                Box::new(Constraint {
                    op,
                    version: Version::Deb(DebVersion::parse(v).unwrap()),
                })
            }),
        })
    }
    #[track_caller]
    fn syntax_err(input: &str) -> (usize, String) {
        match parse_deb_relations(input) {
            Err(DepError::Syntax { pos, reason, .. }) => (pos, reason),
            other => panic!("{input:?}: expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn parses_relations() {
        assert_eq!(
            parse_deb_relations(
                "libc6 (>= 2.34), libgcc-s1 (>= 3.0) | libgcc1, python3:any (>= 3.9~)"
            )
            .unwrap(),
            vec![
                atom("libc6", None, Some((Op::Ge, "2.34"))),
                Dep::Or(vec![
                    atom("libgcc-s1", None, Some((Op::Ge, "3.0"))),
                    atom("libgcc1", None, None)
                ]),
                atom("python3", Some("any"), Some((Op::Ge, "3.9~"))),
            ]
        );
        assert_eq!(
            parse_deb_relations("a (< 1), b (> 2)").unwrap(),
            vec![
                atom("a", None, Some((Op::Le, "1"))),
                atom("b", None, Some((Op::Ge, "2"))),
            ]
        );
        assert_eq!(
            parse_deb_relations("a(<<1),b(>>1:2-3)").unwrap(),
            vec![
                atom("a", None, Some((Op::Lt, "1"))),
                atom("b", None, Some((Op::Gt, "1:2-3")))
            ]
        );
        assert_eq!(
            parse_deb_relations(" foo [amd64 !i386] <!nocheck> <cross>,\n bar:native,\n").unwrap(),
            vec![atom("foo", None, None), atom("bar", Some("native"), None)]
        );
        assert_eq!(parse_deb_relations("").unwrap(), vec![]);
        assert_eq!(parse_deb_relations(" \n ").unwrap(), vec![]);
    }

    #[test]
    fn rejects_bad_input_with_position() {
        assert_eq!(syntax_err("a,,b"), (2, "empty entry between commas".into()));
        assert_eq!(syntax_err(", a").0, 0);
        assert_eq!(syntax_err("a || b").0, 3);
        assert_eq!(syntax_err("a |").0, 3);
        assert_eq!(syntax_err("a (>= 1").0, 2);
        assert_eq!(syntax_err("a (1.0)").0, 3);
        assert_eq!(syntax_err("a (=> 1)").0, 3);
        assert_eq!(syntax_err("a (>=)").0, 5);
        assert_eq!(syntax_err("a b").0, 2);
        assert_eq!(syntax_err("a [amd64").0, 2);
        assert_eq!(syntax_err("a []").0, 3);
        assert_eq!(syntax_err("a:").0, 2);
        assert_eq!(syntax_err("-a").0, 0);
        assert!(matches!(
            parse_deb_relations("a (>= 1.0-)"),
            Err(DepError::Version { .. })
        ));
    }

    #[test]
    fn formats_back() {
        let s = "libc6 (>= 2.34), libgcc-s1 (>= 3.0) | libgcc1, python3:any (>= 1:3.9~-1)";
        assert_eq!(format_deb_relations(&parse_deb_relations(s).unwrap()), s);
    }
}
