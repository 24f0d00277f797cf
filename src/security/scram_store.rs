//! The users SASL authenticates: `sasl.users` from the config (their
//! passwords checked for PLAIN, SCRAM credentials derived in memory at
//! start) and the SCRAM credentials set with AlterUserScramCredentials,
//! kept salted and hashed in `<log.dirs>/scram-credentials.json` (never a
//! password, never logged). Stored credentials win over the config's.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::sasl::scram::{constant_time_eq, ScramCredential, ScramMechanism, MIN_ITERATIONS};

const FILE_NAME: &str = "scram-credentials.json";

/// Why the credential file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

#[derive(Serialize, Deserialize)]
struct StoredEntry {
    user: String,
    mechanism: String,
    salt: String,
    stored_key: String,
    server_key: String,
    iterations: i32,
}

#[derive(Serialize, Deserialize)]
struct StoredFile {
    version: u32,
    credentials: Vec<StoredEntry>,
}

type Key = (String, ScramMechanism);

/// All users and credentials; shared by every connection and the admin APIs.
#[derive(Debug)]
pub struct ScramStore {
    path: Option<PathBuf>,
    /// `sasl.users` passwords, for PLAIN.
    config_passwords: BTreeMap<String, String>,
    /// Credentials derived from `sasl.users`.
    config_credentials: BTreeMap<Key, ScramCredential>,
    /// Credentials from AlterUserScramCredentials (persisted).
    stored: RwLock<BTreeMap<Key, ScramCredential>>,
}

impl ScramStore {
    /// Loads the stored credentials of `data_dir` (if any) and derives the
    /// config users' credentials.
    pub fn open(
        data_dir: Option<&Path>,
        users: &[(String, String)],
    ) -> Result<ScramStore, StoreError> {
        let path = data_dir.map(|d| d.join(FILE_NAME));
        let stored = match &path {
            Some(p) if p.exists() => load(p)?,
            _ => BTreeMap::new(),
        };
        let mut config_credentials = BTreeMap::new();
        for (user, password) in users {
            for m in ScramMechanism::ALL {
                config_credentials.insert(
                    (user.clone(), m),
                    ScramCredential::from_password(m, password, MIN_ITERATIONS),
                );
            }
        }
        Ok(ScramStore {
            path,
            config_passwords: users.iter().cloned().collect(),
            config_credentials,
            stored: RwLock::new(stored),
        })
    }

    /// The credential a SCRAM exchange checks against.
    pub fn credential(&self, user: &str, mechanism: ScramMechanism) -> Option<ScramCredential> {
        let key = (user.to_string(), mechanism);
        let stored = self.stored.read().unwrap_or_else(|p| p.into_inner());
        stored
            .get(&key)
            .or_else(|| self.config_credentials.get(&key))
            .cloned()
    }

    /// SASL/PLAIN: the config password, else any SCRAM credential of the
    /// user. `None` when the user is unknown.
    pub fn check_password(&self, user: &str, password: &str) -> Option<bool> {
        let stored: Vec<(ScramMechanism, ScramCredential)> = {
            let s = self.stored.read().unwrap_or_else(|p| p.into_inner());
            ScramMechanism::ALL
                .into_iter()
                .filter_map(|m| s.get(&(user.to_string(), m)).map(|c| (m, c.clone())))
                .collect()
        };
        if let Some((m, c)) = stored.first() {
            return Some(c.matches_password(*m, password));
        }
        self.config_passwords
            .get(user)
            .map(|p| constant_time_eq(p.as_bytes(), password.as_bytes()))
    }

    /// Every user with SCRAM credentials and their (mechanism, iterations).
    pub fn describe(&self) -> BTreeMap<String, Vec<(ScramMechanism, i32)>> {
        let mut out: BTreeMap<String, BTreeMap<ScramMechanism, i32>> = BTreeMap::new();
        for ((u, m), c) in &self.config_credentials {
            out.entry(u.clone()).or_default().insert(*m, c.iterations);
        }
        let stored = self.stored.read().unwrap_or_else(|p| p.into_inner());
        for ((u, m), c) in stored.iter() {
            out.entry(u.clone()).or_default().insert(*m, c.iterations);
        }
        out.into_iter()
            .map(|(u, ms)| (u, ms.into_iter().collect()))
            .collect()
    }

    /// Whether a stored (deletable) credential exists.
    pub fn has_stored(&self, user: &str, mechanism: ScramMechanism) -> bool {
        let stored = self.stored.read().unwrap_or_else(|p| p.into_inner());
        stored.contains_key(&(user.to_string(), mechanism))
    }

    /// Applies deletions and upsertions together and persists them.
    pub fn apply(
        &self,
        deletions: &[(String, ScramMechanism)],
        upserts: Vec<(String, ScramMechanism, ScramCredential)>,
    ) -> Result<(), StoreError> {
        let mut stored = self.stored.write().unwrap_or_else(|p| p.into_inner());
        let mut next = stored.clone();
        for (u, m) in deletions {
            next.remove(&(u.clone(), *m));
        }
        for (u, m, c) in upserts {
            next.insert((u, m), c);
        }
        if let Some(path) = &self.path {
            save(path, &next)?;
        }
        *stored = next;
        Ok(())
    }
}

fn load(path: &Path) -> Result<BTreeMap<Key, ScramCredential>, StoreError> {
    let text = std::fs::read_to_string(path).map_err(|source| StoreError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let file: StoredFile = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
    let mut out = BTreeMap::new();
    for e in file.credentials {
        let m = ScramMechanism::from_name(&e.mechanism)
            .ok_or_else(|| corrupt(format!("unknown mechanism {}", e.mechanism)))?;
        let dec = |s: &str| B64.decode(s).map_err(|_| corrupt("bad base64".into()));
        out.insert(
            (e.user, m),
            ScramCredential {
                salt: dec(&e.salt)?,
                stored_key: dec(&e.stored_key)?,
                server_key: dec(&e.server_key)?,
                iterations: e.iterations,
            },
        );
    }
    Ok(out)
}

/// Durable replacement: write a temp file (mode 0600), fsync, rename, fsync the dir.
fn save(path: &Path, creds: &BTreeMap<Key, ScramCredential>) -> Result<(), StoreError> {
    let file = StoredFile {
        version: 1,
        credentials: creds
            .iter()
            .map(|((u, m), c)| StoredEntry {
                user: u.clone(),
                mechanism: m.name().to_string(),
                salt: B64.encode(&c.salt),
                stored_key: B64.encode(&c.stored_key),
                server_key: B64.encode(&c.server_key),
                iterations: c.iterations,
            })
            .collect(),
    };
    let io = |action: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError::Io {
            action,
            path: p,
            source,
        }
    };
    let json = serde_json::to_vec_pretty(&file).map_err(|e| StoreError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let tmp = path.with_extension("json.tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(io("create", &tmp))?;
        f.write_all(&json).map_err(io("write", &tmp))?;
        f.sync_all().map_err(io("fsync", &tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io("rename into place", path))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io("fsync", dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_users_stored_credentials_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let users = vec![("alice".to_string(), "secret".to_string())];
        let s = ScramStore::open(Some(dir.path()), &users).unwrap();
        assert_eq!(s.check_password("alice", "secret"), Some(true));
        assert_eq!(s.check_password("alice", "nope"), Some(false));
        assert_eq!(s.check_password("bob", "x"), None);
        assert!(s.credential("alice", ScramMechanism::Sha512).is_some());
        let bob = ScramCredential::from_password(ScramMechanism::Sha256, "pw", 8192);
        s.apply(
            &[],
            vec![("bob".into(), ScramMechanism::Sha256, bob.clone())],
        )
        .unwrap();
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert!(!text.contains("\"pw\""));
        let s = ScramStore::open(Some(dir.path()), &[]).unwrap();
        assert_eq!(s.credential("bob", ScramMechanism::Sha256), Some(bob));
        assert_eq!(s.check_password("bob", "pw"), Some(true));
        assert_eq!(s.describe()["bob"], vec![(ScramMechanism::Sha256, 8192)]);
        s.apply(&[("bob".into(), ScramMechanism::Sha256)], vec![])
            .unwrap();
        let s = ScramStore::open(Some(dir.path()), &[]).unwrap();
        assert!(s.credential("bob", ScramMechanism::Sha256).is_none());
    }
}
