//! Dependency expressions shared by RPM and Debian packages.
//!
//! One model covers both flavours: an [`Atom`] names a capability (package name, virtual
//! provide, or file path) with an optional version [`Constraint`]; a [`Dep`] combines atoms
//! with RPM's boolean operators. Debian alternatives (`a | b`) are `Dep::Or`.
//!
//! Pure: parsing, printing and matching only; no I/O, no knowledge of repositories.

use cairn_version::{Version, rpmvercmp};
use std::cmp::Ordering;
use std::fmt;

mod deb;
mod rpm;

pub use deb::{format_deb_relations, parse_deb_relations};
pub use rpm::parse_rpm_dep;

/// A version comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Op {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl Op {
    /// The operator as RPM writes it (`<`, `<=`, `=`, `>=`, `>`).
    pub fn rpm_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "=",
            Op::Ge => ">=",
            Op::Gt => ">",
        }
    }
    /// The operator as Debian writes it (`<<`, `<=`, `=`, `>=`, `>>`).
    pub fn deb_str(self) -> &'static str {
        match self {
            Op::Lt => "<<",
            Op::Le => "<=",
            Op::Eq => "=",
            Op::Ge => ">=",
            Op::Gt => ">>",
        }
    }
    /// The rpm-md `flags` attribute value (`LT`, `LE`, `EQ`, `GE`, `GT`).
    pub fn rpmmd_flag(self) -> &'static str {
        match self {
            Op::Lt => "LT",
            Op::Le => "LE",
            Op::Eq => "EQ",
            Op::Ge => "GE",
            Op::Gt => "GT",
        }
    }
    pub fn from_rpmmd_flag(s: &str) -> Option<Op> {
        Some(match s {
            "LT" => Op::Lt,
            "LE" => Op::Le,
            "EQ" => Op::Eq,
            "GE" => Op::Ge,
            "GT" => Op::Gt,
            _ => return None,
        })
    }
    /// Does `ord` (candidate compared to the constraint's version) satisfy this operator?
    pub fn accepts(self, ord: Ordering) -> bool {
        match self {
            Op::Lt => ord == Ordering::Less,
            Op::Le => ord != Ordering::Greater,
            Op::Eq => ord == Ordering::Equal,
            Op::Ge => ord != Ordering::Less,
            Op::Gt => ord == Ordering::Greater,
        }
    }
}

/// `op version`, e.g. `>= 1.2-3`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Constraint {
    pub op: Op,
    pub version: Version,
}

/// One capability: a name with an optional version constraint. For Debian, `arch` holds an
/// architecture qualifier (`:any`, `:native`, `:amd64`) when one was written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Atom {
    pub name: String,
    pub constraint: Option<Box<Constraint>>,
    pub arch: Option<String>,
}

impl Atom {
    pub fn name(name: impl Into<String>) -> Self {
        Atom {
            name: name.into(),
            constraint: None,
            arch: None,
        }
    }

    /// Is this atom a file path (RPM file dependency)?
    pub fn is_file(&self) -> bool {
        self.name.starts_with('/')
    }
}

/// A dependency expression. Simple dependencies are `Atom`; RPM rich dependencies use the
/// other variants; Debian `a | b` alternatives are `Or`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Dep {
    Atom(Atom),
    /// `(A and B ...)`: all must hold.
    And(Vec<Dep>),
    /// `(A or B ...)`: at least one must hold.
    Or(Vec<Dep>),
    /// `(A if C)` / `(A if C else B)`: A is needed when C holds, else B (if given).
    If {
        then: Box<Dep>,
        cond: Box<Dep>,
        otherwise: Option<Box<Dep>>,
    },
    /// `(A unless C)` / `(A unless C else B)`: A is needed when C does not hold, else B.
    Unless {
        then: Box<Dep>,
        cond: Box<Dep>,
        otherwise: Option<Box<Dep>>,
    },
    /// `(A with B ...)`: one package must satisfy all of them.
    With(Vec<Dep>),
    /// `(A without B)`: one package satisfying A but not B.
    Without(Box<Dep>, Box<Dep>),
}

impl Dep {
    pub fn atom(name: impl Into<String>) -> Self {
        Dep::Atom(Atom::name(name))
    }

    /// Every atom in the expression, in order of appearance.
    pub fn atoms(&self) -> Vec<&Atom> {
        let mut out = Vec::new();
        self.walk_atoms(&mut |a| out.push(a));
        out
    }

    fn walk_atoms<'a>(&'a self, f: &mut impl FnMut(&'a Atom)) {
        match self {
            Dep::Atom(a) => f(a),
            Dep::And(v) | Dep::Or(v) | Dep::With(v) => v.iter().for_each(|d| d.walk_atoms(f)),
            Dep::If {
                then,
                cond,
                otherwise,
            }
            | Dep::Unless {
                then,
                cond,
                otherwise,
            } => {
                then.walk_atoms(f);
                cond.walk_atoms(f);
                if let Some(o) = otherwise {
                    o.walk_atoms(f);
                }
            }
            Dep::Without(a, b) => {
                a.walk_atoms(f);
                b.walk_atoms(f);
            }
        }
    }

    /// Evaluate against a predicate telling whether an atom is satisfied (used for weak
    /// dependencies and conditions against an already chosen set). `With`/`Without` are
    /// approximated by their atoms' truth (see [`Dep::eval_with`] for the exact form).
    pub fn eval(&self, sat: &mut impl FnMut(&Atom) -> bool) -> bool {
        match self {
            Dep::Atom(a) => sat(a),
            Dep::And(v) | Dep::With(v) => v.iter().all(|d| d.eval(sat)),
            Dep::Or(v) => v.iter().any(|d| d.eval(sat)),
            Dep::If {
                then,
                cond,
                otherwise,
            } => {
                if cond.eval(sat) {
                    then.eval(sat)
                } else {
                    otherwise.as_ref().is_none_or(|o| o.eval(sat))
                }
            }
            Dep::Unless {
                then,
                cond,
                otherwise,
            } => {
                if !cond.eval(sat) {
                    then.eval(sat)
                } else {
                    otherwise.as_ref().is_none_or(|o| o.eval(sat))
                }
            }
            Dep::Without(a, b) => a.eval(sat) && !b.eval(sat),
        }
    }
}

/// Which flavour's matching rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    Rpm,
    Deb,
}

/// Does a provided capability (`provide`, e.g. `foo = 1.0-1`) satisfy a required atom?
///
/// RPM: an unversioned provide satisfies any constraint on that name; ranges must overlap
/// (release ignored when either side lacks one). Debian: an unversioned provide satisfies
/// only unversioned requirements; a versioned provide is always `=`.
pub fn provide_matches(flavor: Flavor, provide: &Atom, required: &Atom) -> bool {
    if provide.name != required.name {
        return false;
    }
    let Some(req) = &required.constraint else {
        return true;
    };
    let Some(prov) = &provide.constraint else {
        return flavor == Flavor::Rpm;
    };
    ranges_overlap(prov, req)
}

/// Does a concrete package version satisfy `constraint`? This is rpm's and dpkg's
/// "does `= version` overlap the constraint", so for RPM a constraint without a release
/// accepts every release of its version.
pub fn version_satisfies(version: &Version, constraint: &Constraint) -> bool {
    overlap(Op::Eq, version, constraint.op, &constraint.version)
}

impl Op {
    fn has_less(self) -> bool {
        matches!(self, Op::Lt | Op::Le)
    }
    fn has_equal(self) -> bool {
        matches!(self, Op::Le | Op::Eq | Op::Ge)
    }
    fn has_greater(self) -> bool {
        matches!(self, Op::Gt | Op::Ge)
    }
}

/// Do two version ranges intersect? Each range is `op version`.
///
/// This is rpm 4.18's `rpmverOverlap`: compare the two versions, then decide from the
/// operators' directions. For RPM, when the epochs and versions are equal and only one
/// side has a (non-empty) release, the releases are not compared, and the ranges overlap
/// outright if the side without a release includes equality (`foo <= 1.0` overlaps
/// `foo > 1.0-1`). Debian versions (and mixed flavours) compare in full.
pub fn ranges_overlap(a: &Constraint, b: &Constraint) -> bool {
    overlap(a.op, &a.version, b.op, &b.version)
}

/// [`ranges_overlap`] on borrowed parts (the solver calls this in its inner loop).
fn overlap(f1: Op, v1: &Version, f2: Op, v2: &Version) -> bool {
    let sense = match (v1, v2) {
        (Version::Rpm(x), Version::Rpm(y)) => {
            let ev = x
                .epoch
                .cmp(&y.epoch)
                .then_with(|| rpmvercmp(&x.version, &y.version));
            if ev != Ordering::Equal {
                ev
            } else {
                match (x.match_release(), y.match_release()) {
                    (Some(r1), Some(r2)) => rpmvercmp(r1, r2),
                    (Some(_), None) if f2.has_equal() => return true,
                    (None, Some(_)) if f1.has_equal() => return true,
                    _ => Ordering::Equal,
                }
            }
        }
        (x, y) => x.cmp(y),
    };
    match sense {
        Ordering::Less => f1.has_greater() || f2.has_less(),
        Ordering::Greater => f1.has_less() || f2.has_greater(),
        Ordering::Equal => {
            (f1.has_equal() && f2.has_equal())
                || (f1.has_less() && f2.has_less())
                || (f1.has_greater() && f2.has_greater())
        }
    }
}

/// RPM atoms print as rpm writes them (`name >= 1.0-1`), Debian atoms as Debian does
/// (`name:arch (>= 1.0-1)`), so each parses back with its flavour's parser.
impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(a) = &self.arch {
            write!(f, ":{a}")?;
        }
        match self.constraint.as_deref() {
            Some(Constraint {
                op,
                version: v @ Version::Rpm(_),
            }) => {
                write!(f, " {} {v}", op.rpm_str())
            }
            Some(Constraint {
                op,
                version: v @ Version::Deb(_),
            }) => {
                write!(f, " ({} {v})", op.deb_str())
            }
            None => Ok(()),
        }
    }
}

/// Prints RPM rich-dependency syntax, which [`parse_rpm_dep`] reads back to an equal `Dep`
/// provided every `And`/`Or`/`With` has at least two operands (`(a)` reads back as the atom
/// `a`). For a Debian field use [`format_deb_relations`].
impl fmt::Display for Dep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn join(f: &mut fmt::Formatter<'_>, v: &[Dep], op: &str) -> fmt::Result {
            f.write_str("(")?;
            for (i, d) in v.iter().enumerate() {
                if i > 0 {
                    write!(f, " {op} ")?;
                }
                write!(f, "{d}")?;
            }
            f.write_str(")")
        }
        match self {
            Dep::Atom(a) => a.fmt(f),
            Dep::And(v) => join(f, v, "and"),
            Dep::Or(v) => join(f, v, "or"),
            Dep::With(v) => join(f, v, "with"),
            Dep::Without(a, b) => write!(f, "({a} without {b})"),
            Dep::If {
                then,
                cond,
                otherwise,
            } => match otherwise {
                Some(o) => write!(f, "({then} if {cond} else {o})"),
                None => write!(f, "({then} if {cond})"),
            },
            Dep::Unless {
                then,
                cond,
                otherwise,
            } => match otherwise {
                Some(o) => write!(f, "({then} unless {cond} else {o})"),
                None => write!(f, "({then} unless {cond})"),
            },
        }
    }
}

/// Error parsing a dependency expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DepError {
    #[error("dependency {input:?}: {reason} (at byte {pos})")]
    Syntax {
        input: String,
        pos: usize,
        reason: String,
    },
    #[error("dependency {input:?}: {source}")]
    Version {
        input: String,
        source: cairn_version::VersionError,
    },
}
