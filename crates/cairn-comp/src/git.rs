//! Upstream dist-git through the host's `git`: one bare mirror per repository URL in the
//! shared cache (`<cache>/git/<sha256(url)>.git`), updated under a file lock so concurrent
//! commands share it, and trees extracted once per commit into `<cache>/git-trees/<commit>`
//! (written to a temp dir, then renamed). Offline, only what the mirror already has is used.

use crate::CompError;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The dist-git mirror cache.
#[derive(Debug, Clone)]
pub struct DistGit {
    root: PathBuf,
    offline: bool,
}

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("--git-dir").arg(dir);
    // Never prompt, never read the user's configuration for hooks or credentials helpers.
    c.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("LC_ALL", "C");
    c
}

fn run(cmd: &mut Command, what: &str) -> Result<String, CompError> {
    let out = cmd.output().map_err(|e| CompError::Tool {
        tool: "git".into(),
        what: what.to_owned(),
        message: format!("cannot run git: {e} (install it: apt-get install git)"),
    })?;
    if !out.status.success() {
        return Err(CompError::Tool {
            tool: "git".into(),
            what: what.to_owned(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl DistGit {
    pub fn new(cache_root: &Path, offline: bool) -> DistGit {
        DistGit {
            root: cache_root.to_path_buf(),
            offline,
        }
    }

    fn mirror(&self, url: &str) -> PathBuf {
        let h = hex::encode(Sha256::digest(url.as_bytes()));
        self.root.join("git").join(format!("{}.git", &h[..32]))
    }

    fn locked<T>(
        &self,
        url: &str,
        f: impl FnOnce(&Path) -> Result<T, CompError>,
    ) -> Result<T, CompError> {
        let dir = self.mirror(url);
        let parent = dir.parent().unwrap_or(Path::new("."));
        fs_err::create_dir_all(parent).map_err(|e| CompError::Io {
            path: parent.to_path_buf(),
            source: e,
        })?;
        let lock_path = dir.with_extension("lock");
        let lock = fs_err::File::create(&lock_path).map_err(|e| CompError::Io {
            path: lock_path.clone(),
            source: e,
        })?;
        fs4::fs_std::FileExt::lock_exclusive(lock.file()).map_err(|e| CompError::Io {
            path: lock_path.clone(),
            source: e,
        })?;
        if !dir.join("HEAD").is_file() {
            if self.offline {
                return Err(CompError::Offline {
                    what: format!("the dist-git repository {url}"),
                });
            }
            let tmp = dir.with_extension(format!("init-{}", std::process::id()));
            let _ = fs_err::remove_dir_all(&tmp);
            run(
                Command::new("git")
                    .env("GIT_CONFIG_GLOBAL", "/dev/null")
                    .env("GIT_CONFIG_NOSYSTEM", "1")
                    .args(["init", "--bare", "--quiet"])
                    .arg(&tmp),
                &format!("create a mirror of {url}"),
            )?;
            fs_err::rename(&tmp, &dir).map_err(|e| CompError::Io {
                path: dir.clone(),
                source: e,
            })?;
        }
        f(&dir)
    }

    /// Fetch every branch of `url` into the mirror (online only).
    fn fetch_all(&self, dir: &Path, url: &str) -> Result<(), CompError> {
        run(
            git(dir).args([
                "fetch",
                "--quiet",
                "--prune",
                "--no-tags",
                url,
                "+refs/heads/*:refs/heads/*",
            ]),
            &format!("fetch {url}"),
        )
        .map(|_| ())
    }

    /// The commit a branch (optionally at a snapshot time) points to now; fetches first
    /// unless offline.
    pub fn resolve_branch(
        &self,
        url: &str,
        branch: &str,
        snapshot: Option<&str>,
    ) -> Result<String, CompError> {
        self.locked(url, |dir| {
            if !self.offline {
                self.fetch_all(dir, url)?;
            }
            let refname = format!("refs/heads/{branch}");
            let exists = git(dir)
                .args(["rev-parse", "--verify", "--quiet", &refname])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if !exists {
                return Err(CompError::NoBranch {
                    url: url.to_owned(),
                    branch: branch.to_owned(),
                    offline: self.offline,
                });
            }
            let commit = match snapshot {
                Some(ts) => run(
                    git(dir).args(["rev-list", "-1", &format!("--before={ts}"), &refname]),
                    &format!("find the last commit of {branch} before {ts} in {url}"),
                )?,
                None => run(
                    git(dir).args(["rev-parse", &format!("{refname}^{{commit}}")]),
                    &format!("resolve {branch} in {url}"),
                )?,
            };
            if commit.is_empty() {
                return Err(CompError::NoBranch {
                    url: url.to_owned(),
                    branch: format!("{branch} (no commit before {})", snapshot.unwrap_or("")),
                    offline: self.offline,
                });
            }
            Ok(commit)
        })
    }

    /// Make sure `commit` (full or abbreviated) is in the mirror; returns the full id.
    pub fn ensure_commit(&self, url: &str, commit: &str) -> Result<String, CompError> {
        self.locked(url, |dir| {
            let have = |dir: &Path| {
                git(dir)
                    .args([
                        "rev-parse",
                        "--verify",
                        "--quiet",
                        &format!("{commit}^{{commit}}"),
                    ])
                    .output()
                    .ok()
                    .filter(|o| o.status.success())
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            };
            if let Some(full) = have(dir) {
                return Ok(full);
            }
            if self.offline {
                return Err(CompError::Offline {
                    what: format!("commit {commit} of {url}"),
                });
            }
            self.fetch_all(dir, url)?;
            if let Some(full) = have(dir) {
                return Ok(full);
            }
            // Servers that allow fetching any reachable commit by id.
            if commit.len() == 40 {
                let _ = git(dir)
                    .args(["fetch", "--quiet", "--no-tags", url, commit])
                    .output();
                if let Some(full) = have(dir) {
                    return Ok(full);
                }
            }
            Err(CompError::NoCommit {
                url: url.to_owned(),
                commit: commit.to_owned(),
            })
        })
    }

    /// The files of `commit` (which must be in the mirror of `url`), extracted once.
    pub fn tree(&self, url: &str, commit: &str) -> Result<PathBuf, CompError> {
        let dest = self.root.join("git-trees").join(commit);
        if dest.join(".cairn-complete").is_file() {
            return Ok(dest);
        }
        let full = self.ensure_commit(url, commit)?;
        let dir = self.mirror(url);
        let parent = dest.parent().unwrap_or(Path::new("."));
        fs_err::create_dir_all(parent).map_err(|e| CompError::Io {
            path: parent.to_path_buf(),
            source: e,
        })?;
        let tmp = tempfile::Builder::new()
            .prefix(".tree-")
            .tempdir_in(parent)
            .map_err(|e| CompError::Io {
                path: parent.to_path_buf(),
                source: e,
            })?;
        let out = git(&dir)
            .args(["archive", "--format=tar", &full])
            .output()
            .map_err(|e| CompError::Tool {
                tool: "git".into(),
                what: format!("read commit {full} of {url}"),
                message: e.to_string(),
            })?;
        if !out.status.success() {
            return Err(CompError::Tool {
                tool: "git".into(),
                what: format!("read commit {full} of {url}"),
                message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        let mut ar = tar::Archive::new(out.stdout.as_slice());
        ar.set_preserve_permissions(true);
        ar.unpack(tmp.path()).map_err(|e| CompError::Io {
            path: tmp.path().to_path_buf(),
            source: e,
        })?;
        fs_err::write(tmp.path().join(".cairn-complete"), &full).map_err(|e| CompError::Io {
            path: tmp.path().to_path_buf(),
            source: e,
        })?;
        let tmp = tmp.keep();
        if fs_err::rename(&tmp, &dest).is_err() {
            // Someone else extracted it meanwhile.
            let _ = fs_err::remove_dir_all(&tmp);
        }
        Ok(dest)
    }
}
