//! RPM dependency strings: `name`, `name op evr`, and rich dependencies in parentheses.

use crate::{Dep, DepError};

/// Parse one RPM dependency as rpm prints it (`foo >= 1.0`, `/bin/sh`,
/// `(foo if bar else baz)`).
pub fn parse_rpm_dep(input: &str) -> Result<Dep, DepError> {
    Err(DepError::Syntax { input: input.to_owned(), pos: 0, reason: "not implemented yet".into() })
}
