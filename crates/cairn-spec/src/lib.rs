//! Lossless RPM spec file model.
//!
//! [`Spec::parse`] keeps every byte (line endings, continuations, odd lines) so that
//! [`Spec::render`] reproduces the input exactly. On top of the text the model knows the
//! section structure, preamble tags, conditionals and macro definitions, which gives:
//!
//! - queries: [`Spec::sections`], [`Spec::tags`], [`Spec::sources`], [`Spec::patches`];
//! - evaluation against a [`MacroEnv`]: [`Spec::packages`] (binary package names after
//!   conditionals) and [`Spec::expand`] (a partial rpm macro expander);
//! - structured edits ([`Edit`], applied with [`Spec::apply`]) that fail with an
//!   [`EditError`] whenever they do not apply.
//!
//! The crate is pure: no file, process or network access.

mod conds;
mod edit;
mod eval;
mod expr;
mod lines;
mod macros;
mod spec;
mod syntax;

pub use edit::{Applied, Edit, EditError};
pub use macros::{MacroEnv, Macros};
pub use spec::{PatchInfo, SectionInfo, Spec, TagInfo};

impl Spec {
    /// Binary package names after evaluating conditionals in `env`: the main `Name`, then
    /// `%package foo` as `<Name>-foo` and `%package -n bar` as `bar`, in file order, all macro
    /// expanded. Conditions that cannot be evaluated count as false.
    pub fn packages(&self, env: &MacroEnv) -> Vec<String> {
        eval::walk(self, env).packages
    }

    /// The macros in effect at the end of the spec in `env`: builtins, `env` defines and
    /// switches, the spec's own `%global`/`%define`/`%bcond...` (only in branches whose
    /// conditions hold) and the tag macros (`%{name}`, `%{version}`, `%{release}`...).
    pub fn macros(&self, env: &MacroEnv) -> Macros {
        eval::walk(self, env).macros
    }

    /// Expand `text` with [`Spec::macros`]; unknown macros are left as written.
    pub fn expand(&self, env: &MacroEnv, text: &str) -> String {
        self.macros(env).expand(text)
    }
}
