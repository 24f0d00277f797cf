//! The durable ACL set: `<data dir>/acls.json`, the whole set rewritten
//! atomically (tmp file, fsync, rename, fsync dir) on every change.
//!
//! Why a file and not an internal log: Kafka keeps ACLs in the KRaft metadata
//! log because controllers replicate them to every broker. A single node has
//! nothing to replicate; the set is small, changed rarely (by an operator)
//! and read whole at start, so one atomically replaced file is the simplest
//! thing that survives a crash at any point: a reader sees the old set or the
//! new one, never a mix.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::AclBinding;
use crate::meta::{write_durably, MetaError};

const FILE_NAME: &str = "acls.json";
const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is corrupt")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} has format version {found}, this Skiff reads {FORMAT_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("cannot write the ACL file")]
    Write(#[source] MetaError),
}

#[derive(Serialize, Deserialize)]
struct AclFile {
    version: u32,
    acls: Vec<AclBinding>,
}

/// Where the ACL set of one data dir lives.
#[derive(Debug)]
pub struct AclStore {
    path: PathBuf,
}

impl AclStore {
    pub fn new(data_dir: &Path) -> AclStore {
        AclStore {
            path: data_dir.join(FILE_NAME),
        }
    }

    /// The stored set; empty when the file does not exist yet.
    pub fn load(&self) -> Result<Vec<AclBinding>, StoreError> {
        let text = match fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(StoreError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let file: AclFile =
            serde_json::from_slice(&text).map_err(|source| StoreError::Corrupt {
                path: self.path.clone(),
                source,
            })?;
        if file.version != FORMAT_VERSION {
            return Err(StoreError::Version {
                path: self.path.clone(),
                found: file.version,
            });
        }
        Ok(file.acls)
    }

    /// Replaces the stored set with `acls`, durably.
    pub fn save(&self, acls: &[AclBinding]) -> Result<(), StoreError> {
        let file = AclFile {
            version: FORMAT_VERSION,
            acls: acls.to_vec(),
        };
        // Serializing plain strings and enums cannot fail.
        let bytes = serde_json::to_vec_pretty(&file).unwrap_or_default();
        write_durably(&self.path, &bytes).map_err(StoreError::Write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::{AclOperation, PatternType, PermissionType, ResourceType};

    #[test]
    fn saved_acls_load_back_and_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = AclStore::new(dir.path());
        assert!(store.load().unwrap().is_empty());
        let acl = AclBinding {
            resource_type: ResourceType::TransactionalId,
            resource_name: "tx-".into(),
            pattern_type: PatternType::Prefixed,
            principal: "User:alice".into(),
            host: "10.0.0.1".into(),
            operation: AclOperation::Write,
            permission: PermissionType::Deny,
        };
        store.save(std::slice::from_ref(&acl)).unwrap();
        assert_eq!(AclStore::new(dir.path()).load().unwrap(), vec![acl]);
        assert!(!dir.path().join("acls.tmp").exists());
    }

    #[test]
    fn corrupt_file_is_an_error_not_an_empty_set() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap();
        assert!(matches!(
            AclStore::new(dir.path()).load(),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
