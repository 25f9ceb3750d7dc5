//! The signing-key store: a directory holding the repository's OpenPGP keys.
//!
//! ```text
//! KEYS/keys.toml              format = 1; one [[key]] per key, newest last
//! KEYS/<FINGERPRINT>.secret.asc   mode 0600, the directory 0700
//! KEYS/<FINGERPRINT>.pub.asc
//! ```
//!
//! Exactly one key is `active`: it signs packages and `repomd.xml`. Rotation generates a new
//! active key and marks the previous one `retired`; retired keys are still exported with
//! the active one (`RPM-GPG-KEY` beside the repository) so clients keep trusting packages
//! signed before the rotation, until the key is removed with [`KeyStore::remove`].
//! Secret keys are created with mode 0600 from the first byte, and a secret key file that
//! group or others can read is refused, as ssh refuses such private keys.

use crate::PublishError;
use crate::atomic::write_atomic_mode;
use cairn_openpgp::{KeyAlgo, SigningKey};
use serde::{Deserialize, Serialize};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

const FORMAT: u32 = 1;
const INDEX: &str = "keys.toml";

/// Whether a key signs new releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    Retired,
}

/// One key as `keys.toml` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct KeyEntry {
    pub fingerprint: String,
    pub user_id: String,
    /// `ed25519` or `rsa4096`.
    pub algorithm: String,
    /// Seconds since the epoch.
    pub created: u64,
    pub status: KeyStatus,
    /// When a rotation retired it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Index {
    format: u32,
    #[serde(default, rename = "key")]
    keys: Vec<KeyEntry>,
}

/// A key directory.
#[derive(Debug)]
pub struct KeyStore {
    dir: PathBuf,
    keys: Vec<KeyEntry>,
}

fn algo_name(a: KeyAlgo) -> &'static str {
    match a {
        KeyAlgo::Ed25519 => "ed25519",
        KeyAlgo::Rsa2048 => "rsa2048",
        KeyAlgo::Rsa3072 => "rsa3072",
        KeyAlgo::Rsa4096 => "rsa4096",
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl KeyStore {
    /// Open `dir`; a directory without `keys.toml` is an empty store (generate creates it).
    pub fn open(dir: &Path) -> Result<Self, PublishError> {
        let index = dir.join(INDEX);
        let keys = match fs_err::read_to_string(&index) {
            Ok(text) => {
                let parsed: Index = toml::from_str(&text).map_err(|e| PublishError::Keys {
                    path: index.clone(),
                    message: e.to_string(),
                })?;
                if parsed.format != FORMAT {
                    return Err(PublishError::Keys {
                        path: index,
                        message: format!(
                            "format = {} is not supported by this cairn (expected {FORMAT})",
                            parsed.format
                        ),
                    });
                }
                let active = parsed
                    .keys
                    .iter()
                    .filter(|k| k.status == KeyStatus::Active)
                    .count();
                if active > 1 {
                    return Err(PublishError::Keys {
                        path: index,
                        message: format!("{active} keys are marked active; exactly one may be"),
                    });
                }
                parsed.keys
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(PublishError::Io(e)),
        };
        Ok(KeyStore {
            dir: dir.to_path_buf(),
            keys,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every key, oldest first.
    pub fn entries(&self) -> &[KeyEntry] {
        &self.keys
    }

    /// The active key's entry.
    pub fn active_entry(&self) -> Option<&KeyEntry> {
        self.keys.iter().find(|k| k.status == KeyStatus::Active)
    }

    /// Generate the first key of an empty store. Refuses a store that already has a key
    /// (use [`KeyStore::rotate`]).
    pub fn generate(
        &mut self,
        user_id: &str,
        algo: KeyAlgo,
        now: SystemTime,
    ) -> Result<KeyEntry, PublishError> {
        if let Some(k) = self.keys.first() {
            return Err(PublishError::Keys {
                path: self.dir.join(INDEX),
                message: format!(
                    "the store already holds key {}; use `cairn key rotate` to replace the active key",
                    k.fingerprint
                ),
            });
        }
        self.add_new(user_id, algo, now)
    }

    /// Generate a new active key and retire the current one. The user id defaults to the
    /// current key's.
    pub fn rotate(
        &mut self,
        user_id: Option<&str>,
        algo: KeyAlgo,
        now: SystemTime,
    ) -> Result<(KeyEntry, Option<KeyEntry>), PublishError> {
        let previous = self.active_entry().cloned();
        let uid = match (user_id, &previous) {
            (Some(u), _) => u.to_owned(),
            (None, Some(p)) => p.user_id.clone(),
            (None, None) => {
                return Err(PublishError::Keys {
                    path: self.dir.join(INDEX),
                    message: "no active key to rotate and no --user-id given for the first key"
                        .into(),
                });
            }
        };
        for k in &mut self.keys {
            if k.status == KeyStatus::Active {
                k.status = KeyStatus::Retired;
                k.retired = Some(secs(now));
            }
        }
        let new = self.add_new(&uid, algo, now)?;
        let retired = previous.and_then(|p| {
            self.keys
                .iter()
                .find(|k| k.fingerprint == p.fingerprint)
                .cloned()
        });
        Ok((new, retired))
    }

    /// Forget a retired key: its files are deleted and it is no longer exported, so
    /// clients that refresh the key file stop trusting packages it signed.
    pub fn remove(&mut self, fingerprint: &str) -> Result<KeyEntry, PublishError> {
        let fpr = fingerprint.to_ascii_uppercase();
        let pos = self
            .keys
            .iter()
            .position(|k| k.fingerprint == fpr)
            .ok_or_else(|| PublishError::Keys {
                path: self.dir.join(INDEX),
                message: format!("no key {fpr} in the store"),
            })?;
        if self.keys[pos].status == KeyStatus::Active {
            return Err(PublishError::Keys {
                path: self.dir.join(INDEX),
                message: format!(
                    "key {fpr} is the active key; rotate to a new key before removing it"
                ),
            });
        }
        let entry = self.keys.remove(pos);
        self.save()?;
        for suffix in ["secret.asc", "pub.asc"] {
            let p = self.dir.join(format!("{fpr}.{suffix}"));
            match fs_err::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(PublishError::Io(e)),
            }
        }
        Ok(entry)
    }

    fn add_new(
        &mut self,
        user_id: &str,
        algo: KeyAlgo,
        now: SystemTime,
    ) -> Result<KeyEntry, PublishError> {
        if user_id.trim().is_empty() {
            return Err(PublishError::Keys {
                path: self.dir.join(INDEX),
                message: "a key needs a user id such as `Example Linux <security@example.org>`"
                    .into(),
            });
        }
        fs_err::create_dir_all(&self.dir)?;
        fs_err::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;
        let key = SigningKey::generate(user_id, algo, now).map_err(|e| PublishError::Pgp {
            what: format!("generating a key for {user_id}"),
            source: e,
        })?;
        let fpr = key.fingerprint();
        let secret = self.dir.join(format!("{fpr}.secret.asc"));
        write_atomic_mode(&secret, key.to_armored_secret().as_bytes(), 0o600)?;
        write_atomic_mode(
            &self.dir.join(format!("{fpr}.pub.asc")),
            key.public_key_armored().as_bytes(),
            0o644,
        )?;
        let entry = KeyEntry {
            fingerprint: fpr,
            user_id: user_id.to_owned(),
            algorithm: algo_name(algo).to_owned(),
            created: secs(now),
            status: KeyStatus::Active,
            retired: None,
        };
        self.keys.push(entry.clone());
        self.save()?;
        Ok(entry)
    }

    fn save(&self) -> Result<(), PublishError> {
        let index = Index {
            format: FORMAT,
            keys: self.keys.clone(),
        };
        let mut text = String::from(
            "# cairn signing keys: the active key signs, retired keys are still exported.\n",
        );
        text.push_str(&toml::to_string(&index).map_err(|e| PublishError::Keys {
            path: self.dir.join(INDEX),
            message: e.to_string(),
        })?);
        write_atomic_mode(&self.dir.join(INDEX), text.as_bytes(), 0o644)
    }

    /// Load the active secret key, refusing a key file others can read.
    pub fn active_key(&self) -> Result<SigningKey, PublishError> {
        let entry = self
            .active_entry()
            .ok_or_else(|| PublishError::NoSigningKey {
                dir: self.dir.clone(),
            })?;
        let path = self.dir.join(format!("{}.secret.asc", entry.fingerprint));
        let meta = fs_err::metadata(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                PublishError::NoSigningKey {
                    dir: self.dir.clone(),
                }
            } else {
                PublishError::Io(e)
            }
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(PublishError::Keys {
                path,
                message: format!(
                    "secret key file has mode {mode:04o}: group or others can read it; \
                     run `chmod 600` on it (and consider the key compromised if others had access)"
                ),
            });
        }
        let text = fs_err::read_to_string(&path)?;
        let key = SigningKey::from_armored(&text, &path.display().to_string()).map_err(|e| {
            PublishError::Pgp {
                what: path.display().to_string(),
                source: e,
            }
        })?;
        if key.fingerprint() != entry.fingerprint {
            return Err(PublishError::Keys {
                path,
                message: format!(
                    "holds key {} but keys.toml names {}",
                    key.fingerprint(),
                    entry.fingerprint
                ),
            });
        }
        Ok(key)
    }

    /// The armored public keys of every key in the store (active first), concatenated:
    /// the `RPM-GPG-KEY` file clients import.
    pub fn public_keys_armored(&self) -> Result<String, PublishError> {
        let mut order: Vec<&KeyEntry> = self.keys.iter().collect();
        order.sort_by_key(|k| (k.status != KeyStatus::Active, std::cmp::Reverse(k.created)));
        let mut out = String::new();
        for k in order {
            let p = self.dir.join(format!("{}.pub.asc", k.fingerprint));
            let text = fs_err::read_to_string(&p)?;
            out.push_str(text.trim_end());
            out.push('\n');
        }
        Ok(out)
    }
}
