//! The local repository (`<out-dir>/repo/`): one directory of RPMs per component
//! (`repo/<component>/`, binary and source RPMs), rpm-md metadata written by cairn's own
//! publisher (unsigned) after every successful build, so later builds resolve their
//! BuildRequires against it.
//!
//! A build's packages are staged in `<out-dir>/.staging/` and replace the component's
//! directory with two renames only when the build succeeded, so a failed rebuild never
//! removes the previous good packages.

use crate::PkgBuildError;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The repository id (and source name) of the local repository.
pub const LOCAL_REPO: &str = "cairn-local";

/// The local repository of one output directory.
#[derive(Debug, Clone)]
pub struct LocalRepo {
    pub out_dir: PathBuf,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> PkgBuildError + '_ {
    move |e| PkgBuildError::Io {
        path: path.to_owned(),
        source: e,
    }
}

impl LocalRepo {
    pub fn new(out_dir: &Path) -> LocalRepo {
        LocalRepo {
            out_dir: out_dir.to_owned(),
        }
    }

    pub fn dir(&self) -> PathBuf {
        self.out_dir.join("repo")
    }

    /// `file://` URL of the repository.
    pub fn url(&self) -> Result<String, PkgBuildError> {
        url::Url::from_directory_path(self.dir())
            .map(|u| u.to_string())
            .map_err(|()| PkgBuildError::Io {
                path: self.dir(),
                source: std::io::Error::other("the output directory must be an absolute path"),
            })
    }

    /// Where a component's packages live.
    pub fn component_dir(&self, component: &str) -> PathBuf {
        self.dir().join(component)
    }

    /// A fresh staging directory for a component's build (inside the output directory,
    /// so it can be renamed into the repository).
    pub fn staging(&self, component: &str) -> Result<PathBuf, PkgBuildError> {
        let dir = self
            .out_dir
            .join(".staging")
            .join(format!("{component}-{}", std::process::id()));
        if dir.exists() {
            fs_err::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        fs_err::create_dir_all(&dir).map_err(io(&dir))?;
        Ok(dir)
    }

    /// Remove what builds of dead processes left in the staging area.
    pub fn clean_stale(&self) -> Vec<PathBuf> {
        let mut removed = Vec::new();
        let Ok(rd) = fs_err::read_dir(self.out_dir.join(".staging")) else {
            return removed;
        };
        for e in rd.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name
                .rsplit(['-', '.'])
                .next()
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = pid
                && pid != std::process::id()
                && !Path::new(&format!("/proc/{pid}")).exists()
                && fs_err::remove_dir_all(e.path()).is_ok()
            {
                removed.push(e.path());
            }
        }
        removed
    }

    /// Replace the component's packages by those in `staged` (a directory from
    /// [`LocalRepo::staging`]). Refuses file names another component already has in the
    /// repository. Returns the new paths, sorted.
    pub fn commit(&self, component: &str, staged: &Path) -> Result<Vec<PathBuf>, PkgBuildError> {
        let mut names: Vec<String> = fs_err::read_dir(staged)
            .map_err(io(staged))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let repo = self.dir();
        fs_err::create_dir_all(&repo).map_err(io(&repo))?;
        for other in fs_err::read_dir(&repo)
            .map_err(io(&repo))?
            .filter_map(Result::ok)
        {
            let other_name = other.file_name().to_string_lossy().into_owned();
            if other_name == component || other_name.starts_with('.') || !other.path().is_dir() {
                continue;
            }
            for n in &names {
                if other.path().join(n).exists() {
                    return Err(PkgBuildError::Component {
                        component: component.to_owned(),
                        message: format!(
                            "it built {n}, which component `{other_name}` already has in {}; two components cannot ship the same package",
                            repo.display()
                        ),
                    });
                }
            }
        }
        let dest = self.component_dir(component);
        let old = self
            .out_dir
            .join(".staging")
            .join(format!("{component}.old-{}", std::process::id()));
        if old.exists() {
            fs_err::remove_dir_all(&old).map_err(io(&old))?;
        }
        if dest.exists() {
            fs_err::rename(&dest, &old).map_err(io(&dest))?;
        }
        if let Err(e) = fs_err::rename(staged, &dest) {
            let _ = fs_err::rename(&old, &dest);
            return Err(io(&dest)(e));
        }
        if old.exists() {
            fs_err::remove_dir_all(&old).map_err(io(&old))?;
        }
        Ok(names.iter().map(|n| dest.join(n)).collect())
    }

    /// Write the repository's rpm-md metadata (unsigned, zstd), creating an empty
    /// repository if there is none.
    pub fn publish(&self) -> Result<(), PkgBuildError> {
        let opts = cairn_publish::PublishOptions {
            repo: self.dir(),
            add: vec![],
            signing: None,
            advisories: vec![],
            compression: cairn_publish::Compression::Zstd,
            keep_old: Duration::ZERO,
            now: SystemTime::now(),
            jobs: 1,
            full: false,
        };
        cairn_publish::publish(&opts, &cairn_publish::NoReport)
            .map(|_| ())
            .map_err(|e| PkgBuildError::Publish {
                repo: self.dir(),
                message: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_a_component_and_refuses_foreign_names() {
        let d = tempfile::tempdir().unwrap();
        let r = LocalRepo::new(d.path());
        let s = r.staging("a").unwrap();
        fs_err::write(s.join("a-1.rpm"), "1").unwrap();
        let got = r.commit("a", &s).unwrap();
        assert_eq!(got, vec![d.path().join("repo/a/a-1.rpm")]);
        let s = r.staging("a").unwrap();
        fs_err::write(s.join("a-2.rpm"), "2").unwrap();
        r.commit("a", &s).unwrap();
        assert!(!d.path().join("repo/a/a-1.rpm").exists());
        assert!(d.path().join("repo/a/a-2.rpm").exists());
        let s = r.staging("b").unwrap();
        fs_err::write(s.join("a-2.rpm"), "x").unwrap();
        let e = r.commit("b", &s).unwrap_err().to_string();
        assert!(e.contains("component `a`"), "{e}");
        assert!(d.path().join("repo/a/a-2.rpm").exists());
        // a staging dir of a dead process goes away, ours stays
        fs_err::create_dir_all(d.path().join(".staging/x-999999999")).unwrap();
        let removed = r.clean_stale();
        assert_eq!(removed, vec![d.path().join(".staging/x-999999999")]);
        assert!(s.exists());
    }
}
