use std::path::PathBuf;

/// Errors of installing and finalizing a root. Each names the root, package, script or
/// command at fault; failures of installers carry the tail of their output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    #[error(
        "installing packages into a root needs root privileges (effective uid is {euid}); run cairn as root"
    )]
    NotRoot { euid: u32 },
    #[error("{root}: the install root must be an empty directory, but {found}")]
    RootNotEmpty { root: PathBuf, found: String },
    #[error("the package set is empty: nothing to install")]
    EmptySet,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(
        "{tool} is needed but could not be run ({source}); install it (see scripts/setup-host.sh)"
    )]
    ToolMissing {
        tool: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    BadPackage { path: PathBuf, message: String },
    #[error(
        "the Debian set has no Essential package providing dpkg and /bin/sh ({missing} is missing); a Debian image needs the Essential set (essential = true)"
    )]
    NoEssential { missing: String },
    #[error(
        "package {package}: its {script} script failed ({status}) while {during}; last lines of the output:\n{output}"
    )]
    Script {
        package: String,
        /// `preinst`, `postinst`, `prerm`, `postrm` (dpkg) or `%pre`, `%post`, `%posttrans`… (rpm).
        script: String,
        status: String,
        during: String,
        output: String,
    },
    #[error("{command} failed ({status}){}; last lines of the output:\n{output}", package.as_ref().map(|p| format!(" on package {p}")).unwrap_or_default())]
    Command {
        command: String,
        status: String,
        package: Option<String>,
        output: String,
    },
    #[error("{root}: after the install, the package database differs from the set:\n{problems}")]
    Mismatch { root: PathBuf, problems: String },
    #[error("{path}: {message}")]
    Finalize { path: PathBuf, message: String },
}
