//! Debian relation fields: `a (>= 1) | b, c:any`.

use crate::{Dep, DepError};

/// Parse a Debian relationship field (Depends, Pre-Depends, Conflicts, Breaks, Provides,
/// Recommends, ...) into one `Dep` per comma-separated entry; alternatives become `Dep::Or`.
pub fn parse_deb_relations(input: &str) -> Result<Vec<Dep>, DepError> {
    Err(DepError::Syntax { input: input.to_owned(), pos: 0, reason: "not implemented yet".into() })
}
