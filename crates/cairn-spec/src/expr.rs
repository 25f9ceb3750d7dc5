//! Evaluation of rpm `%if` / `%[...]` expressions on already macro-expanded text.
//!
//! Supported: decimal integers, `"strings"`, `v"versions"`, parentheses, unary `!` and `-`,
//! `* /`, `+ -` (string `+` concatenates), comparisons `== != < > <= >=`, `&&`, `||` and the
//! ternary `? :`. Anything else is an error, which callers treat as "cannot evaluate".

use std::cmp::Ordering;

/// A value of an rpm expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Int(i64),
    Str(String),
    Ver(String),
}

impl Value {
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Value::Int(n) => *n != 0,
            Value::Str(s) | Value::Ver(s) => !s.is_empty(),
        }
    }

    pub(crate) fn render(&self) -> String {
        match self {
            Value::Int(n) => n.to_string(),
            Value::Str(s) | Value::Ver(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Int(i64),
    Str(String),
    Ver(String),
    Op(&'static str),
}

const OPS: &[&str] = &[
    "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "+", "-", "*", "/", "?", ":",
];

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let bytes = text.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if b.is_ascii_digit() {
            let len = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            let n = text[i..i + len]
                .parse::<i64>()
                .map_err(|e| format!("bad number `{}`: {e}", &text[i..i + len]))?;
            toks.push(Tok::Int(n));
            i += len;
        } else if b == b'"' || (b == b'v' && bytes.get(i + 1) == Some(&b'"')) {
            let is_ver = b == b'v';
            let start = if is_ver { i + 2 } else { i + 1 };
            let end = text[start..]
                .find('"')
                .map(|e| e + start)
                .ok_or_else(|| "unterminated string".to_owned())?;
            let s = text[start..end].to_owned();
            toks.push(if is_ver { Tok::Ver(s) } else { Tok::Str(s) });
            i = end + 1;
        } else if let Some(op) = OPS.iter().find(|op| text[i..].starts_with(**op)) {
            toks.push(Tok::Op(op));
            i += op.len();
        } else {
            let word: String = text[i..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            return Err(format!("unexpected `{word}`"));
        }
    }
    Ok(toks)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek_op(&self) -> Option<&'static str> {
        match self.toks.get(self.pos) {
            Some(Tok::Op(op)) => Some(op),
            _ => None,
        }
    }

    fn eat(&mut self, op: &str) -> bool {
        if self.peek_op() == Some(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ternary(&mut self) -> Result<Value, String> {
        let cond = self.or()?;
        if self.eat("?") {
            let a = self.ternary()?;
            if !self.eat(":") {
                return Err("expected `:` in ternary".into());
            }
            let b = self.ternary()?;
            return Ok(if cond.truthy() { a } else { b });
        }
        Ok(cond)
    }

    fn or(&mut self) -> Result<Value, String> {
        let mut left = self.and()?;
        while self.eat("||") {
            let right = self.and()?;
            check_same(&left, &right)?;
            if !left.truthy() {
                left = right;
            }
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Value, String> {
        let mut left = self.cmp()?;
        while self.eat("&&") {
            let right = self.cmp()?;
            check_same(&left, &right)?;
            if left.truthy() {
                left = right;
            }
        }
        Ok(left)
    }

    fn cmp(&mut self) -> Result<Value, String> {
        let mut left = self.add()?;
        while let Some(op @ ("==" | "!=" | "<" | ">" | "<=" | ">=")) = self.peek_op() {
            self.pos += 1;
            let right = self.add()?;
            let ord = compare(&left, &right)?;
            let res = match op {
                "==" => ord == Ordering::Equal,
                "!=" => ord != Ordering::Equal,
                "<" => ord == Ordering::Less,
                ">" => ord == Ordering::Greater,
                "<=" => ord != Ordering::Greater,
                _ => ord != Ordering::Less,
            };
            left = Value::Int(i64::from(res));
        }
        Ok(left)
    }

    fn add(&mut self) -> Result<Value, String> {
        let mut left = self.mul()?;
        while let Some(op @ ("+" | "-")) = self.peek_op() {
            self.pos += 1;
            let right = self.mul()?;
            left = match (left, right, op) {
                (Value::Int(a), Value::Int(b), "+") => {
                    Value::Int(a.checked_add(b).ok_or("overflow")?)
                }
                (Value::Int(a), Value::Int(b), _) => {
                    Value::Int(a.checked_sub(b).ok_or("overflow")?)
                }
                (Value::Str(a), Value::Str(b), "+") => Value::Str(a + &b),
                _ => return Err(format!("`{op}` on incompatible operands")),
            };
        }
        Ok(left)
    }

    fn mul(&mut self) -> Result<Value, String> {
        let mut left = self.unary()?;
        while let Some(op @ ("*" | "/")) = self.peek_op() {
            self.pos += 1;
            let right = self.unary()?;
            left = match (left, right) {
                (Value::Int(a), Value::Int(b)) if op == "*" => {
                    Value::Int(a.checked_mul(b).ok_or("overflow")?)
                }
                (Value::Int(a), Value::Int(b)) => {
                    Value::Int(a.checked_div(b).ok_or("division by zero")?)
                }
                _ => return Err(format!("`{op}` needs integers")),
            };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Value, String> {
        if self.eat("!") {
            let v = self.unary()?;
            return Ok(Value::Int(i64::from(!v.truthy())));
        }
        if self.eat("-") {
            return match self.unary()? {
                Value::Int(n) => Ok(Value::Int(n.checked_neg().ok_or("overflow")?)),
                _ => Err("`-` needs an integer".into()),
            };
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Value, String> {
        let tok = self.toks.get(self.pos).cloned();
        self.pos += 1;
        match tok {
            Some(Tok::Int(n)) => Ok(Value::Int(n)),
            Some(Tok::Str(s)) => Ok(Value::Str(s)),
            Some(Tok::Ver(s)) => Ok(Value::Ver(s)),
            Some(Tok::Op("(")) => {
                let v = self.ternary()?;
                if !self.eat(")") {
                    return Err("expected `)`".into());
                }
                Ok(v)
            }
            Some(Tok::Op(op)) => Err(format!("unexpected `{op}`")),
            None => Err("unexpected end of expression".into()),
        }
    }
}

fn check_same(a: &Value, b: &Value) -> Result<(), String> {
    compare(a, b).map(|_| ())
}

fn compare(a: &Value, b: &Value) -> Result<Ordering, String> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
        (Value::Ver(x), Value::Ver(y)) => Ok(vercmp(x, y)),
        _ => Err("types of the operands do not match".into()),
    }
}

/// rpm's version comparison (`rpmvercmp`): alternate numeric and alphabetic segments,
/// numeric segments compare as numbers and beat alphabetic ones, `~` sorts before anything
/// and `^` after the end but before any further segment.
pub(crate) fn vercmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    let sep = |c: &u8| !c.is_ascii_alphanumeric() && *c != b'~' && *c != b'^';
    loop {
        while a.first().is_some_and(sep) {
            a = &a[1..];
        }
        while b.first().is_some_and(sep) {
            b = &b[1..];
        }
        match (a.first(), b.first()) {
            (Some(b'~'), Some(b'~')) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(b'~'), _) => return Ordering::Less,
            (_, Some(b'~')) => return Ordering::Greater,
            (Some(b'^'), Some(b'^')) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(b'^'), None) => return Ordering::Greater,
            (None, Some(b'^')) => return Ordering::Less,
            (Some(b'^'), _) => return Ordering::Less,
            (_, Some(b'^')) => return Ordering::Greater,
            (None, None) => return Ordering::Equal,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            _ => {}
        }
        let numeric = a[0].is_ascii_digit();
        let seg = |s: &[u8]| -> usize {
            s.iter()
                .take_while(|c| {
                    if numeric {
                        c.is_ascii_digit()
                    } else {
                        c.is_ascii_alphabetic()
                    }
                })
                .count()
        };
        let (la, lb) = (seg(a), seg(b));
        if lb == 0 {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (sa, sb) = (&a[..la], &b[..lb]);
        let ord = if numeric {
            let ta = trim_zeros(sa);
            let tb = trim_zeros(sb);
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            sa.cmp(sb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
        a = &a[la..];
        b = &b[lb..];
    }
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|c| **c == b'0').count();
    &s[n..]
}

/// Evaluate an expanded expression.
pub(crate) fn evaluate(text: &str) -> Result<Value, String> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err("empty expression".into());
    }
    let mut parser = Parser { toks, pos: 0 };
    let value = parser.ternary()?;
    if parser.pos != parser.toks.len() {
        return Err("trailing text after expression".into());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(s: &str) -> Option<bool> {
        evaluate(s).ok().map(|v| v.truthy())
    }

    #[test]
    fn basics() {
        assert_eq!(truth("1"), Some(true));
        assert_eq!(truth("0"), Some(false));
        assert_eq!(truth("040 >= 38"), Some(true));
        assert_eq!(truth("0 >= 38"), Some(false));
        assert_eq!(truth("\"a\" == \"a\""), Some(true));
        assert_eq!(truth("\"a\" != \"a\""), Some(false));
        assert_eq!(truth("1 && 0 || 1"), Some(true));
        assert_eq!(truth("!(1 && 0)"), Some(true));
        assert_eq!(truth("(1 || 0) && !1"), Some(false));
        assert_eq!(truth("2 + 3 * 2 == 8"), Some(true));
        assert_eq!(truth("-1 < 0"), Some(true));
        assert_eq!(truth("1 ? 0 : 1"), Some(false));
        assert_eq!(truth("v\"1.10\" > v\"1.9\""), Some(true));
        assert_eq!(truth("\"\""), Some(false));
        assert_eq!(truth(""), None);
        assert_eq!(truth("%{foo}"), None);
        assert_eq!(truth("1 == \"1\""), None);
        assert_eq!(truth("1 / 0"), None);
        assert_eq!(truth("(1"), None);
        assert_eq!(truth("1 2"), None);
        assert_eq!(truth("99999999999999999999999"), None);
        assert_eq!(evaluate("2+3").unwrap().render(), "5");
    }

    #[test]
    fn versions() {
        assert_eq!(vercmp("1.0", "1.0"), Ordering::Equal);
        assert_eq!(vercmp("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(vercmp("1.0^git1", "1.0"), Ordering::Greater);
        assert_eq!(vercmp("1.0^git1", "1.0.1"), Ordering::Less);
        assert_eq!(vercmp("1a", "1.1"), Ordering::Less);
        assert_eq!(vercmp("010", "9"), Ordering::Greater);
    }
}
