//! RPM dependency strings: `name`, `name op evr`, and rich dependencies in parentheses.
//!
//! The grammar and its errors follow rpm 4.18's `rpmrichParse` (lib/rpmds.c) and the
//! checks rpmbuild applies to every atom (build/parseReqs.c):
//!
//! - an atom is `name [op evr]`; the name runs to whitespace, `,` or an unbalanced `)`, so
//!   `perl(Foo::Bar)` is one name; `op` is one of `<`, `<=`, `=<`, `=`, `==`, `>=`, `=>`, `>`;
//! - inside parentheses, `,` counts as whitespace (as in rpm);
//! - one parenthesised level uses one operator: `and`, `or` and `with` chain
//!   (`(a and b and c)`); `if`/`unless` take one condition and an optional `else`;
//!   `without` takes exactly two operands; mixing operators needs nested parentheses;
//! - names start with a letter, digit, `_` or `/` (non-ASCII is not checked, as in rpm);
//!   file names (`/...`) cannot be versioned; an EVR may contain only ASCII letters, digits
//!   and `.-_+:%{}~^`, no `..`, at most one `-` and one `:`, and a numeric epoch.
//!
//! Deliberate differences from rpm: `(a else b)` (an `else` with no `if`/`unless`, which
//! rpm accepts and gives no meaning) is rejected; EVRs with an empty version (`-1`, `1:`)
//! are rejected; the tag-dependent "illegal context" checks rpmbuild makes (`unless` in
//! Requires, `if` inside `or`) are not made, since this parser does not know the tag.

use crate::{Atom, Constraint, Dep, DepError, Op};
use cairn_version::{Evr, Version};

/// Parse one RPM dependency as rpm prints it (`foo >= 1.0`, `/bin/sh`,
/// `(foo if bar else baz)`). Leading and trailing whitespace is ignored.
pub fn parse_rpm_dep(input: &str) -> Result<Dep, DepError> {
    let mut p = Parser {
        input,
        b: input.as_bytes(),
        pos: 0,
    };
    p.skip_space(false);
    if p.at_end() {
        return Err(p.err(0, "empty dependency"));
    }
    let dep = if p.peek() == Some(b'(') {
        p.rich()?
    } else {
        Dep::Atom(p.simple(false)?)
    };
    p.skip_space(false);
    if !p.at_end() {
        return Err(p.err(p.pos, "unexpected text after the dependency"));
    }
    Ok(dep)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RichOp {
    And,
    Or,
    If,
    Unless,
    Else,
    With,
    Without,
}

impl RichOp {
    fn from_word(w: &str) -> Option<RichOp> {
        Some(match w {
            "and" => RichOp::And,
            "or" => RichOp::Or,
            "if" => RichOp::If,
            "unless" => RichOp::Unless,
            "else" => RichOp::Else,
            "with" => RichOp::With,
            "without" => RichOp::Without,
            _ => return None,
        })
    }
    fn word(self) -> &'static str {
        match self {
            RichOp::And => "and",
            RichOp::Or => "or",
            RichOp::If => "if",
            RichOp::Unless => "unless",
            RichOp::Else => "else",
            RichOp::With => "with",
            RichOp::Without => "without",
        }
    }
}

fn parse_op(w: &str) -> Option<Op> {
    Some(match w {
        "<" => Op::Lt,
        "<=" | "=<" => Op::Le,
        "=" | "==" => Op::Eq,
        ">=" | "=>" => Op::Ge,
        ">" => Op::Gt,
        _ => return None,
    })
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
    /// Skip whitespace; inside a rich dependency rpm also skips commas.
    fn skip_space(&mut self, rich: bool) {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() || (rich && c == b',') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }
    /// A token as rpm's SKIPNONWHITEX reads it: up to whitespace, `,` or an unbalanced `)`.
    fn token(&mut self) -> &'a str {
        let start = self.pos;
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() || c == b',' {
                break;
            }
            if c == b')' {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            if c == b'(' {
                depth += 1;
            }
            self.pos += 1;
        }
        let input: &'a str = self.input;
        &input[start..self.pos]
    }

    /// `name [op evr]`.
    fn simple(&mut self, rich: bool) -> Result<Atom, DepError> {
        let name_pos = self.pos;
        let name = self.token().to_owned();
        if name.is_empty() {
            return Err(self.err(name_pos, "name required"));
        }
        let first = name.as_bytes()[0];
        if first.is_ascii() && !(first.is_ascii_alphanumeric() || first == b'_' || first == b'/') {
            return Err(self.err(
                name_pos,
                format!("dependency name {name:?} must begin with a letter, digit, '_' or '/'"),
            ));
        }
        let after_name = self.pos;
        self.skip_space(rich);
        let op_pos = self.pos;
        let op = parse_op(self.token());
        let Some(op) = op else {
            // not an operator: the atom is just the name
            self.pos = after_name;
            return Ok(Atom::name(name));
        };
        self.skip_space(rich);
        let evr_pos = self.pos;
        let evr = self.token();
        if evr.is_empty() {
            return Err(self.err(
                evr_pos,
                format!("version required after '{}'", op.rpm_str()),
            ));
        }
        if name.starts_with('/') {
            return Err(self.err(
                op_pos,
                format!("versioned file name {name:?} not permitted"),
            ));
        }
        let version = self.evr(evr, evr_pos)?;
        Ok(Atom {
            name,
            constraint: Some(Box::new(Constraint { op, version })),
            arch: None,
        })
    }

    fn evr(&self, evr: &str, pos: usize) -> Result<Version, DepError> {
        if let Some(i) =
            evr.find(|c: char| !(c.is_ascii_alphanumeric() || ".-_+:%{}~^".contains(c)))
        {
            let ch = evr[i..].chars().next().unwrap_or_default();
            return Err(self.err(
                pos + i,
                format!("illegal character {ch:?} in version {evr:?}"),
            ));
        }
        if let Some(i) = evr.find("..") {
            return Err(self.err(
                pos + i,
                format!("illegal sequence \"..\" in version {evr:?}"),
            ));
        }
        for sep in ['-', ':'] {
            if evr.matches(sep).count() > 1 {
                let i = evr.rfind(sep).unwrap_or_default();
                return Err(self.err(
                    pos + i,
                    format!("version {evr:?} has more than one '{sep}'"),
                ));
            }
        }
        Evr::parse(evr)
            .map(Version::Rpm)
            .map_err(|source| DepError::Version {
                input: self.input.to_owned(),
                source,
            })
    }

    /// A parenthesised rich dependency; `self.pos` is at `(`.
    fn rich(&mut self) -> Result<Dep, DepError> {
        let open = self.pos;
        self.pos += 1;
        let mut operands: Vec<Dep> = Vec::new();
        let mut ops: Vec<RichOp> = Vec::new();
        let mut chain: Option<RichOp> = None;
        loop {
            self.skip_space(true);
            match self.peek() {
                Some(b')') => {
                    let reason = match ops.last() {
                        Some(op) => format!("missing operand after '{}'", op.word()),
                        None => "empty rich dependency".to_owned(),
                    };
                    return Err(self.err(self.pos, reason));
                }
                None => {
                    return Err(self.err(open, "unterminated rich dependency: '(' is never closed"));
                }
                _ => {}
            }
            let operand = if self.peek() == Some(b'(') {
                self.rich()?
            } else {
                Dep::Atom(self.simple(true)?)
            };
            operands.push(operand);
            self.skip_space(true);
            match self.peek() {
                None => {
                    return Err(self.err(open, "unterminated rich dependency: '(' is never closed"));
                }
                Some(b')') => break,
                _ => {}
            }
            let op_pos = self.pos;
            let start = self.pos;
            while self
                .peek()
                .is_some_and(|c| !c.is_ascii_whitespace() && c != b')')
            {
                self.pos += 1;
            }
            let word = &self.input[start..self.pos];
            let Some(op) = RichOp::from_word(word) else {
                return Err(self.err(op_pos, format!("unknown rich dependency operator {word:?}")));
            };
            if op == RichOp::Else {
                match chain {
                    Some(RichOp::If | RichOp::Unless) => chain = None,
                    Some(_) => {}
                    None => {
                        return Err(self.err(op_pos, "'else' without a preceding 'if' or 'unless'"));
                    }
                }
            }
            if let Some(prev) = chain {
                if prev != op {
                    return Err(self.err(
                        op_pos,
                        format!(
                            "cannot mix '{}' and '{}' at one level; add parentheses",
                            prev.word(),
                            op.word()
                        ),
                    ));
                }
                if !matches!(op, RichOp::And | RichOp::Or | RichOp::With) {
                    return Err(self.err(
                        op_pos,
                        format!("'{}' cannot be chained: only and/or/with can", op.word()),
                    ));
                }
            }
            chain = Some(op);
            ops.push(op);
        }
        self.pos += 1; // ')'
        Ok(build(operands, &ops))
    }
}

/// Turn one level's operands and (already validated) operators into a `Dep`.
fn build(mut operands: Vec<Dep>, ops: &[RichOp]) -> Dep {
    let Some(&first) = ops.first() else {
        // `(a)`: a single operand in parentheses
        return operands.pop().unwrap_or_else(|| Dep::And(Vec::new()));
    };
    match first {
        RichOp::And => Dep::And(operands),
        RichOp::Or => Dep::Or(operands),
        RichOp::With => Dep::With(operands),
        RichOp::If | RichOp::Unless | RichOp::Without | RichOp::Else => {
            let mut it = operands.into_iter().map(Box::new);
            let (Some(then), Some(cond)) = (it.next(), it.next()) else {
                unreachable!("an operator always has an operand on each side")
            };
            let otherwise = it.next();
            match first {
                RichOp::If => Dep::If {
                    then,
                    cond,
                    otherwise,
                },
                RichOp::Unless => Dep::Unless {
                    then,
                    cond,
                    otherwise,
                },
                _ => Dep::Without(then, cond),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(name: &str) -> Dep {
        Dep::atom(name)
    }
    fn ver(name: &str, op: Op, evr: &str) -> Dep {
        Dep::Atom(Atom {
            name: name.into(),
            constraint: Some(Box::new(Constraint {
                op,
                version: Version::Rpm(Evr::parse(evr).unwrap()),
            })),
            arch: None,
        })
    }
    #[track_caller]
    fn syntax_err(input: &str) -> (usize, String) {
        match parse_rpm_dep(input) {
            Err(DepError::Syntax { pos, reason, .. }) => (pos, reason),
            other => panic!("{input:?}: expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn simple_deps() {
        assert_eq!(parse_rpm_dep("foo").unwrap(), atom("foo"));
        assert_eq!(parse_rpm_dep("  /bin/sh ").unwrap(), atom("/bin/sh"));
        assert_eq!(
            parse_rpm_dep("perl(Foo::Bar) >= 1.2").unwrap(),
            ver("perl(Foo::Bar)", Op::Ge, "1.2")
        );
        assert_eq!(
            parse_rpm_dep("foo == 1:2-3").unwrap(),
            ver("foo", Op::Eq, "1:2-3")
        );
        assert_eq!(parse_rpm_dep("foo =< 1").unwrap(), ver("foo", Op::Le, "1"));
        assert_eq!(parse_rpm_dep("foo => 1").unwrap(), ver("foo", Op::Ge, "1"));
        assert_eq!(parse_rpm_dep("foo < 1").unwrap(), ver("foo", Op::Lt, "1"));
        assert_eq!(
            parse_rpm_dep("foo > 1~rc^g").unwrap(),
            ver("foo", Op::Gt, "1~rc^g")
        );
        assert_eq!(
            parse_rpm_dep("font(:lang=en)").unwrap(),
            atom("font(:lang=en)")
        );
        // rpm reads `foo>=1` as one name
        assert_eq!(parse_rpm_dep("foo>=1").unwrap(), atom("foo>=1"));
    }

    #[test]
    fn rich_deps() {
        assert_eq!(parse_rpm_dep("(a)").unwrap(), atom("a"));
        assert_eq!(parse_rpm_dep("((a))").unwrap(), atom("a"));
        assert_eq!(
            parse_rpm_dep("(a and ,b)").unwrap(),
            Dep::And(vec![atom("a"), atom("b")])
        );
        assert_eq!(
            parse_rpm_dep("(a if b else c)").unwrap(),
            Dep::If {
                then: atom("a").into(),
                cond: atom("b").into(),
                otherwise: Some(atom("c").into())
            }
        );
        assert_eq!(
            parse_rpm_dep("(a unless b)").unwrap(),
            Dep::Unless {
                then: atom("a").into(),
                cond: atom("b").into(),
                otherwise: None
            }
        );
        assert_eq!(
            parse_rpm_dep("(a with b with c)").unwrap(),
            Dep::With(vec![atom("a"), atom("b"), atom("c")])
        );
        assert_eq!(
            parse_rpm_dep("(a >= 1 without (b or c))").unwrap(),
            Dep::Without(
                ver("a", Op::Ge, "1").into(),
                Dep::Or(vec![atom("b"), atom("c")]).into()
            )
        );
    }

    #[test]
    fn errors_name_the_position() {
        assert_eq!(syntax_err("(a and b or c)").0, 9);
        assert!(syntax_err("(a and b or c)").1.contains("cannot mix"));
        assert_eq!(syntax_err("(a and b").0, 0);
        assert!(syntax_err("(a and b").1.contains("unterminated"));
        assert_eq!(
            syntax_err("(a and)"),
            (6, "missing operand after 'and'".into())
        );
        assert_eq!(syntax_err("()"), (1, "empty rich dependency".into()));
        assert_eq!(syntax_err("(a b)").0, 3);
        assert_eq!(syntax_err("(a and b))").0, 9);
        assert_eq!(syntax_err("(a >= )").0, 6);
        assert_eq!(syntax_err("(a if b if c)").0, 8);
        assert_eq!(syntax_err("(a without b without c)").0, 13);
        assert_eq!(syntax_err("(a if b else c else d)").0, 15);
        assert_eq!(syntax_err("(a else b)").0, 3);
        assert_eq!(syntax_err("(a AND b)").0, 3);
        assert_eq!(syntax_err("(-a or b)").0, 1);
        assert_eq!(syntax_err("(/bin/sh >= 1 or b)").0, 9);
        assert_eq!(syntax_err("(a >= 1..2 or b)").0, 7);
        assert_eq!(syntax_err("(a >= 1!2 or b)").0, 7);
        assert_eq!(syntax_err("(a >= 1-2-3 or b)").0, 9);
        assert_eq!(syntax_err("(a >= 1:2:3 or b)").0, 9);
        assert_eq!(syntax_err("foo bar").0, 4);
        assert_eq!(syntax_err("(a) x").0, 4);
        assert_eq!(syntax_err("   ").0, 0);
        assert!(matches!(
            parse_rpm_dep("(a >= x:1 or b)"),
            Err(DepError::Version { .. })
        ));
    }
}
