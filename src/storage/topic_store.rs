//! Persisted topic metadata: one TOML file per topic under
//! `<data>/.skiff/topics/<topic>.toml`:
//!
//! ```toml
//! version = 1
//! name = "orders"
//! topic_id = "0b6c4a7e-6f0e-4bd7-9d9e-2f1c3a7b8e51"
//! partitions = 3
//!
//! [config]              # topic-level overrides only, as given at creation
//! "segment.bytes" = "1048576"
//! ```
//!
//! Every write replaces the whole file atomically (tmp + fsync + rename +
//! directory fsync), so after a crash a topic's metadata is either the old
//! or the new version. Removing the file is the commit point of a topic
//! deletion.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{io_err, Result, StorageError};
use super::file_names::TMP_SUFFIX;
use super::fs_util::{create_dir_durable, fsync_dir, write_atomically};

const FORMAT_VERSION: u32 = 1;

/// What is stored for a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TopicMetadata {
    pub(crate) version: u32,
    pub(crate) name: String,
    /// Hyphenated UUID (kept as a string: `uuid` is built without serde).
    pub(crate) topic_id: String,
    pub(crate) partitions: i32,
    #[serde(default)]
    pub(crate) config: BTreeMap<String, String>,
}

impl TopicMetadata {
    pub(crate) fn new(
        name: &str,
        topic_id: uuid::Uuid,
        partitions: i32,
        config: BTreeMap<String, String>,
    ) -> Self {
        TopicMetadata {
            version: FORMAT_VERSION,
            name: name.to_string(),
            topic_id: topic_id.hyphenated().to_string(),
            partitions,
            config,
        }
    }
}

#[derive(Debug)]
pub(crate) struct TopicStore {
    dir: PathBuf,
}

impl TopicStore {
    /// Opens (creating) `<data_dir>/.skiff/topics`.
    pub(crate) fn open(data_dir: &Path) -> Result<TopicStore> {
        let dir = data_dir.join(".skiff").join("topics");
        if !dir.exists() {
            create_dir_durable(&dir)?;
        }
        Ok(TopicStore { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.toml"))
    }

    /// Every stored topic, sorted by name. Leftover `*.tmp` files from an
    /// interrupted write are removed; a file that does not parse is an
    /// error (it was written atomically, so this is not a torn write).
    pub(crate) fn load_all(&self) -> Result<Vec<(TopicMetadata, uuid::Uuid)>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err("list", &self.dir))? {
            let entry = entry.map_err(io_err("list", &self.dir))?;
            let path = entry.path();
            let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if file_name.ends_with(&format!(".{TMP_SUFFIX}")) {
                fs::remove_file(&path).map_err(io_err("remove", &path))?;
                continue;
            }
            let Some(stem) = file_name.strip_suffix(".toml") else {
                continue;
            };
            let text = fs::read_to_string(&path).map_err(io_err("read", &path))?;
            let corrupt = |reason: String| StorageError::CorruptMetadata {
                path: path.clone(),
                reason,
            };
            let meta: TopicMetadata = toml::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
            if meta.version != FORMAT_VERSION {
                return Err(corrupt(format!("unsupported version {}", meta.version)));
            }
            if meta.name != stem {
                return Err(corrupt(format!(
                    "name {:?} does not match the file name",
                    meta.name
                )));
            }
            if meta.partitions <= 0 {
                return Err(corrupt(format!("partition count {}", meta.partitions)));
            }
            let id = uuid::Uuid::parse_str(&meta.topic_id).map_err(|e| corrupt(e.to_string()))?;
            out.push((meta, id));
        }
        out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(out)
    }

    /// Durably writes (creates or replaces) a topic's metadata.
    pub(crate) fn save(&self, meta: &TopicMetadata) -> Result<()> {
        let text = toml::to_string(meta).map_err(|e| StorageError::CorruptMetadata {
            path: self.path(&meta.name),
            reason: format!("cannot encode: {e}"),
        })?;
        write_atomically(&self.path(&meta.name), text.as_bytes())
    }

    /// Durably removes a topic's metadata (the commit point of a delete).
    pub(crate) fn remove(&self, name: &str) -> Result<()> {
        let path = self.path(name);
        fs::remove_file(&path).map_err(io_err("remove", &path))?;
        fsync_dir(&self.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_remove() {
        let dir = tempfile::tempdir().unwrap();
        let store = TopicStore::open(dir.path()).unwrap();
        let id = uuid::Uuid::new_v4();
        let mut cfg = BTreeMap::new();
        cfg.insert("segment.bytes".to_string(), "2048".to_string());
        let meta = TopicMetadata::new("a.b-c_d", id, 3, cfg);
        store.save(&meta).unwrap();
        store
            .save(&TopicMetadata::new(
                "z",
                uuid::Uuid::new_v4(),
                1,
                BTreeMap::new(),
            ))
            .unwrap();
        fs::write(dir.path().join(".skiff/topics/x.toml.tmp"), "garbage").unwrap();
        let all = TopicStore::open(dir.path()).unwrap().load_all().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0], (meta, id));
        assert!(!dir.path().join(".skiff/topics/x.toml.tmp").exists());
        store.remove("z").unwrap();
        assert_eq!(store.load_all().unwrap().len(), 1);
        fs::write(dir.path().join(".skiff/topics/bad.toml"), "name = 3").unwrap();
        assert!(matches!(
            store.load_all(),
            Err(StorageError::CorruptMetadata { .. })
        ));
    }
}
