//! The registry's state: subjects and their versions, schemas by id, and
//! compatibility levels and modes, kept in memory and written to `_schemas`
//! (one partition, compacted) before any change is answered.
//!
//! Every change is a list of `_schemas` records that is appended (and
//! fsynced), then applied to the memory state by the same function the
//! replay on start uses, so what a restart rebuilds is what was served.
//! Writers are serialized by one mutex; readers take a read lock only.
//!
//! Ids are global: a schema text (with its type and references) seen before
//! gets its id again in any subject; a new one gets the highest id ever
//! replayed or assigned, plus one.

use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, RwLockReadGuard};

use tracing::{info, warn};

use super::error::RegistryError;
use super::format::{self, Compatibility, Mode, Parsed, SchemaType};
use super::records::{self, ConfigValue, Key, Reference, SchemaValue};
use super::state::{
    apply, effective_compatibility, effective_mode, effective_normalize, find_version, parsed_of,
    referencing_ids, resolve_references, soft_deleted_record, validate_subject, ContentKey, State,
};
use crate::clock::Clock;
use crate::config::BrokerConfig;
use crate::coordinator_log::{CoordinatorLog, CoordinatorLogConfig, ReplayItem};
use crate::storage::{LogManager, StorageError};

/// The internal topic, as Confluent names it (`kafkastore.topic`).
pub const SCHEMAS_TOPIC: &str = "_schemas";

/// The level when neither the subject nor the global config sets one.
pub const DEFAULT_COMPATIBILITY: Compatibility = Compatibility::Backward;

/// A schema as stored under its id.
#[derive(Debug)]
pub struct StoredSchema {
    pub id: i32,
    pub schema_type: SchemaType,
    pub schema: String,
    pub references: Vec<Reference>,
    /// Parsed on first use (compatibility checks, console decoding).
    pub(super) parsed: OnceLock<Result<Parsed, String>>,
}

/// One version of one subject.
#[derive(Debug, Clone)]
pub struct SubjectVersion {
    pub subject: String,
    pub version: i32,
    pub deleted: bool,
    pub schema: Arc<StoredSchema>,
}

/// `latest` or a version number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSpec {
    Latest,
    Number(i32),
}

impl VersionSpec {
    /// `latest`, `-1` (Confluent's alias for it) or 1..=2^31-1.
    pub fn parse(s: &str) -> Result<VersionSpec, RegistryError> {
        if s.eq_ignore_ascii_case("latest") || s == "-1" {
            return Ok(VersionSpec::Latest);
        }
        match s.parse::<i32>() {
            Ok(v) if v >= 1 => Ok(VersionSpec::Number(v)),
            _ => Err(RegistryError::InvalidVersion(s.to_string())),
        }
    }
}

/// A PUT /config body: per field, `None` keeps the stored value,
/// `Some(None)` clears it (JSON null), `Some(Some(v))` sets it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConfigUpdate {
    pub compatibility: Option<Option<Compatibility>>,
    pub normalize: Option<Option<bool>>,
}

/// A schema to register, look up or check.
#[derive(Debug, Clone)]
pub struct SchemaRequest {
    pub schema: String,
    pub schema_type: SchemaType,
    pub references: Vec<Reference>,
    /// Wanted id (import); must match the id the schema already has.
    pub id: Option<i32>,
    /// Wanted version (import mode only).
    pub version: Option<i32>,
}

/// The registry (see the module docs).
#[derive(Debug)]
pub struct Registry {
    logs: Arc<LogManager>,
    clock: Arc<dyn Clock>,
    config: BrokerConfig,
    log_config: CoordinatorLogConfig,
    log: OnceLock<CoordinatorLog>,
    writer: Mutex<()>,
    state: RwLock<State>,
}

impl Registry {
    /// Replays `_schemas` if it exists (it is created on the first write).
    pub fn open(
        logs: Arc<LogManager>,
        clock: Arc<dyn Clock>,
        config: BrokerConfig,
    ) -> Result<Registry, StorageError> {
        let log_config = CoordinatorLogConfig {
            topic: SCHEMAS_TOPIC,
            partitions: 1,
            segment_bytes: 100 * 1024 * 1024,
            // Every change is fsynced before it is answered.
            flush_interval_messages: 1,
        };
        let registry = Registry {
            logs,
            clock,
            config,
            log_config,
            log: OnceLock::new(),
            writer: Mutex::new(()),
            state: RwLock::new(State::default()),
        };
        if registry.logs.topic(SCHEMAS_TOPIC).is_some() {
            let log = CoordinatorLog::open(
                &registry.logs,
                &registry.log_config,
                registry.clock.now_ms(),
            )?;
            let mut state = State::default();
            let mut unknown = 0u64;
            log.replay(|item| {
                if let ReplayItem::Record { key, value, .. } = item {
                    match records::decode_key(key) {
                        Some(k) => apply(&mut state, &k, value),
                        None => unknown += 1,
                    }
                }
            })?;
            if unknown > 0 {
                warn!(unknown, "skipped {SCHEMAS_TOPIC} records with unknown keys");
            }
            info!(
                subjects = state.subjects.len(),
                schemas = state.schemas.len(),
                max_id = state.max_id,
                "schema registry loaded {SCHEMAS_TOPIC}"
            );
            *registry
                .state
                .write()
                .unwrap_or_else(PoisonError::into_inner) = state;
            let _ = registry.log.set(log);
        }
        Ok(registry)
    }

    /// The broker configuration the registry was opened with.
    pub fn broker_config(&self) -> BrokerConfig {
        self.config.clone()
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `records` as one batch, fsyncs, then applies them.
    fn persist(&self, records: Vec<(Key, Option<Vec<u8>>)>) -> Result<(), RegistryError> {
        if records.is_empty() {
            return Ok(());
        }
        let log = match self.log.get() {
            Some(l) => l,
            None => {
                let l = CoordinatorLog::open(&self.logs, &self.log_config, self.clock.now_ms())?;
                self.log.get_or_init(|| l)
            }
        };
        let encoded: Vec<(Vec<u8>, Option<Vec<u8>>)> = records
            .iter()
            .map(|(k, v)| (records::encode_key(k), v.clone()))
            .collect();
        log.append(0, &encoded, None, self.clock.now_ms())?;
        log.flush_if_due(0)?;
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        for (k, v) in &records {
            apply(&mut state, k, v.as_deref());
        }
        Ok(())
    }

    // -- reads ----------------------------------------------------------------

    /// Subjects with a live version (or with any version, when `deleted`).
    pub fn subjects(&self, deleted: bool, prefix: &str) -> Vec<String> {
        self.read()
            .subjects
            .iter()
            .filter(|(s, vs)| s.starts_with(prefix) && (deleted || vs.values().any(|v| !v.deleted)))
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// The subject's version numbers.
    pub fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, RegistryError> {
        let state = self.read();
        let versions: Vec<i32> = state
            .subjects
            .get(subject)
            .map(|vs| {
                vs.iter()
                    .filter(|(_, e)| deleted || !e.deleted)
                    .map(|(v, _)| *v)
                    .collect()
            })
            .unwrap_or_default();
        if versions.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_string()));
        }
        Ok(versions)
    }

    /// One version of a subject.
    pub fn version(
        &self,
        subject: &str,
        spec: VersionSpec,
        deleted: bool,
    ) -> Result<SubjectVersion, RegistryError> {
        let state = self.read();
        find_version(&state, subject, spec, deleted)
    }

    /// The schema with `id`.
    pub fn schema_by_id(&self, id: i32) -> Option<Arc<StoredSchema>> {
        self.read().schemas.get(&id).cloned()
    }

    /// Every (subject, version) that holds schema `id`.
    pub fn id_versions(&self, id: i32, deleted: bool) -> Vec<(String, i32)> {
        let state = self.read();
        let mut out = Vec::new();
        for (s, vs) in &state.subjects {
            for (v, e) in vs {
                if e.id == id && (deleted || !e.deleted) {
                    out.push((s.clone(), *v));
                }
            }
        }
        out
    }

    /// Ids of the live schemas that reference `subject` `version`.
    pub fn referenced_by(
        &self,
        subject: &str,
        spec: VersionSpec,
    ) -> Result<Vec<i32>, RegistryError> {
        let state = self.read();
        let target = find_version(&state, subject, spec, false)?;
        Ok(referencing_ids(&state, subject, target.version))
    }

    /// The parsed form of a stored schema (cached).
    pub fn parsed<'a>(&self, schema: &'a StoredSchema) -> Result<&'a Parsed, String> {
        parsed_of(&self.read(), schema)
    }

    /// The subject's (or global) level; `default_to_global` falls back to
    /// the global level instead of answering 40408.
    pub fn compatibility(
        &self,
        subject: Option<&str>,
        default_to_global: bool,
    ) -> Result<Compatibility, RegistryError> {
        Ok(self
            .config(subject, default_to_global)?
            .compatibility
            .unwrap_or(DEFAULT_COMPATIBILITY))
    }

    /// The subject's (or global) config as GET /config answers it: the level
    /// always filled in (from the global one, else the default), `normalize`
    /// when set; with `default_to_global`, a subject's unset fields come
    /// from the global config, and a subject without one gets the global.
    pub fn config(
        &self,
        subject: Option<&str>,
        default_to_global: bool,
    ) -> Result<ConfigValue, RegistryError> {
        let state = self.read();
        let global = state.config.get(&None).copied().unwrap_or_default();
        let own = match subject {
            None => global,
            Some(s) => match state.config.get(&Some(s.to_string())) {
                Some(c) if default_to_global => ConfigValue {
                    compatibility: c.compatibility,
                    normalize: c.normalize.or(global.normalize),
                },
                Some(c) => *c,
                None if default_to_global => global,
                None => return Err(RegistryError::NoSubjectCompatibility(s.to_string())),
            },
        };
        Ok(ConfigValue {
            compatibility: Some(effective_compatibility(&state, subject)),
            normalize: own.normalize,
        })
    }

    /// The subject's (or global) mode.
    pub fn mode(
        &self,
        subject: Option<&str>,
        default_to_global: bool,
    ) -> Result<Mode, RegistryError> {
        let state = self.read();
        match subject {
            None => Ok(effective_mode(&state, None)),
            Some(s) => match state.mode.get(&Some(s.to_string())) {
                Some(m) => Ok(*m),
                None if default_to_global => Ok(effective_mode(&state, None)),
                None => Err(RegistryError::NoSubjectMode(s.to_string())),
            },
        }
    }

    // -- schema operations ------------------------------------------------------

    /// Resolves, parses and checks `req` for `subject`; returns the parsed
    /// schema, the text to store and the references to store. Normalizes
    /// when asked (`normalize=true`) or when the subject's or global config
    /// says `normalize`, as Confluent does; normalizing also sorts the
    /// references by subject and version and drops repeats.
    fn prepare(
        &self,
        state: &State,
        subject: &str,
        req: &SchemaRequest,
        normalize: bool,
    ) -> Result<(Parsed, String, Vec<Reference>), RegistryError> {
        let normalize = normalize || effective_normalize(state, Some(subject));
        let resolved =
            resolve_references(state, &req.references, 0).map_err(RegistryError::InvalidSchema)?;
        let (parsed, text) = format::parse(req.schema_type, &req.schema, &resolved, normalize)
            .map_err(RegistryError::InvalidSchema)?;
        let mut references = req.references.clone();
        if normalize {
            references.sort_by(|a, b| (&a.subject, a.version).cmp(&(&b.subject, b.version)));
            let mut seen = std::collections::HashSet::new();
            references.retain(|r| seen.insert(r.clone()));
        }
        Ok((parsed, text, references))
    }

    /// Registers `req` under `subject`: the existing (id, version) when the
    /// subject already holds the same schema, else a new version.
    pub fn register(
        &self,
        subject: &str,
        req: &SchemaRequest,
        normalize: bool,
    ) -> Result<(i32, i32), RegistryError> {
        validate_subject(subject)?;
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let (record, id, version) = {
            let state = self.read();
            let mode = effective_mode(&state, Some(subject));
            if mode.read_only() {
                return Err(RegistryError::NotPermitted(format!(
                    "Subject {subject} is in read-only mode"
                )));
            }
            let (parsed, text, references) = self.prepare(&state, subject, req, normalize)?;
            let key: ContentKey = (req.schema_type, text.clone(), references.clone());
            let known_id = state.by_content.get(&key).copied();
            if let (Some(want), Some(have)) = (req.id, known_id) {
                if want != have {
                    return Err(RegistryError::IdDoesNotMatch(have, want));
                }
            }
            let versions = state.subjects.get(subject);
            if let (Some(id), Some(vs)) = (known_id, versions) {
                if let Some((v, _)) = vs.iter().rev().find(|(_, e)| e.id == id && !e.deleted) {
                    return Ok((id, *v));
                }
            }
            if mode != Mode::Import {
                let level = effective_compatibility(&state, Some(subject));
                let mut previous = Vec::new();
                for e in versions
                    .into_iter()
                    .flat_map(|vs| vs.values())
                    .filter(|e| !e.deleted)
                {
                    if let Some(s) = state.schemas.get(&e.id) {
                        previous.push(parsed_of(&state, s).map_err(RegistryError::InvalidSchema)?);
                    }
                }
                let messages = level.check(&parsed, &previous);
                if !messages.is_empty() {
                    return Err(RegistryError::Incompatible {
                        subject: subject.to_string(),
                        details: messages,
                    });
                }
            }
            let id = match (known_id, req.id) {
                (Some(id), _) => id,
                (None, Some(want)) => {
                    if state.schemas.contains_key(&want) {
                        return Err(RegistryError::IdDoesNotMatch(want, want));
                    }
                    want
                }
                (None, None) => state
                    .max_id
                    .checked_add(1)
                    .ok_or_else(|| RegistryError::NotPermitted("no schema id left".to_string()))?,
            };
            let next = versions
                .and_then(|vs| vs.keys().next_back().copied())
                .unwrap_or(0)
                + 1;
            let version = match (mode, req.version) {
                (Mode::Import, Some(v)) if v >= 1 => v,
                _ => next,
            };
            let value = SchemaValue {
                subject: subject.to_string(),
                version,
                id,
                schema_type: req.schema_type,
                references,
                schema: text,
                deleted: false,
            };
            (value, id, version)
        };
        let key = Key::Schema {
            subject: subject.to_string(),
            version,
        };
        let value = records::encode_schema(&record);
        self.persist(vec![(key, Some(value))])?;
        info!(subject, id, version, "schema registered");
        Ok((id, version))
    }

    /// The subject's version holding `req` (POST /subjects/{subject}).
    pub fn lookup(
        &self,
        subject: &str,
        req: &SchemaRequest,
        normalize: bool,
        deleted: bool,
    ) -> Result<SubjectVersion, RegistryError> {
        let state = self.read();
        let Some(vs) = state.subjects.get(subject) else {
            return Err(RegistryError::SubjectNotFound(subject.to_string()));
        };
        let (_, text, references) = self.prepare(&state, subject, req, normalize)?;
        let key: ContentKey = (req.schema_type, text, references);
        let id = state
            .by_content
            .get(&key)
            .copied()
            .ok_or(RegistryError::SchemaNotFound)?;
        let (v, e) = vs
            .iter()
            .rev()
            .find(|(_, e)| e.id == id && (deleted || !e.deleted))
            .ok_or(RegistryError::SchemaNotFound)?;
        let schema = state
            .schemas
            .get(&id)
            .cloned()
            .ok_or(RegistryError::SchemaNotFound)?;
        Ok(SubjectVersion {
            subject: subject.to_string(),
            version: *v,
            deleted: e.deleted,
            schema,
        })
    }

    /// Whether `req` may follow `subject`'s versions (all the level asks
    /// for, or only `spec`); the reasons it may not.
    pub fn check_compatibility(
        &self,
        subject: &str,
        spec: Option<VersionSpec>,
        req: &SchemaRequest,
        normalize: bool,
    ) -> Result<Vec<String>, RegistryError> {
        let state = self.read();
        let (parsed, _, _) = self.prepare(&state, subject, req, normalize)?;
        let level = effective_compatibility(&state, Some(subject));
        let against: Vec<Arc<StoredSchema>> = match spec {
            Some(spec) => vec![find_version(&state, subject, spec, false)?.schema],
            None => state
                .subjects
                .get(subject)
                .into_iter()
                .flat_map(|vs| vs.values())
                .filter(|e| !e.deleted)
                .filter_map(|e| state.schemas.get(&e.id).cloned())
                .collect(),
        };
        let mut previous = Vec::new();
        for s in &against {
            previous.push(parsed_of(&state, s).map_err(RegistryError::InvalidSchema)?);
        }
        Ok(level.check(&parsed, &previous))
    }

    fn check_writable(&self, state: &State, subject: &str) -> Result<(), RegistryError> {
        if effective_mode(state, Some(subject)).read_only() {
            return Err(RegistryError::NotPermitted(format!(
                "Subject {subject} is in read-only mode"
            )));
        }
        Ok(())
    }

    /// Soft-deletes every live version, or (`permanent`) removes a
    /// soft-deleted subject. Returns the versions deleted.
    pub fn delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, RegistryError> {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        let mut recs = Vec::new();
        {
            let state = self.read();
            self.check_writable(&state, subject)?;
            let Some(vs) = state.subjects.get(subject) else {
                return Err(RegistryError::SubjectNotFound(subject.to_string()));
            };
            let live: Vec<i32> = vs
                .iter()
                .filter(|(_, e)| !e.deleted)
                .map(|(v, _)| *v)
                .collect();
            if permanent {
                if !live.is_empty() {
                    return Err(RegistryError::SubjectNotSoftDeleted(subject.to_string()));
                }
                for v in vs.keys() {
                    if !referencing_ids(&state, subject, *v).is_empty() {
                        return Err(RegistryError::ReferenceExists(subject.to_string(), *v));
                    }
                    out.push(*v);
                    recs.push((
                        Key::Schema {
                            subject: subject.to_string(),
                            version: *v,
                        },
                        None,
                    ));
                }
                recs.push((Key::Noop, Some(records::encode_max_id(state.max_id))));
                let name = Some(subject.to_string());
                if state.config.contains_key(&name) {
                    recs.push((
                        Key::Config {
                            subject: name.clone(),
                        },
                        None,
                    ));
                }
                if state.mode.contains_key(&name) {
                    recs.push((Key::Mode { subject: name }, None));
                }
            } else {
                if live.is_empty() {
                    return Err(RegistryError::SubjectSoftDeleted(subject.to_string()));
                }
                for v in &live {
                    if !referencing_ids(&state, subject, *v).is_empty() {
                        return Err(RegistryError::ReferenceExists(subject.to_string(), *v));
                    }
                }
                for v in &live {
                    recs.push(soft_deleted_record(&state, subject, *v)?);
                }
                let latest = live.last().copied().unwrap_or(0);
                recs.push((
                    Key::DeleteSubject {
                        subject: subject.to_string(),
                    },
                    Some(records::encode_delete_subject(subject, latest)),
                ));
                out = live;
            }
        }
        self.persist(recs)?;
        info!(subject, permanent, versions = ?out, "subject deleted");
        Ok(out)
    }

    /// Soft-deletes one version, or (`permanent`) removes a soft-deleted one.
    pub fn delete_version(
        &self,
        subject: &str,
        spec: VersionSpec,
        permanent: bool,
    ) -> Result<i32, RegistryError> {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut recs = Vec::new();
        let (version, rec) = {
            let state = self.read();
            self.check_writable(&state, subject)?;
            let Some(vs) = state.subjects.get(subject) else {
                return Err(RegistryError::SubjectNotFound(subject.to_string()));
            };
            let version = match spec {
                VersionSpec::Number(v) => v,
                VersionSpec::Latest => {
                    let live = vs.iter().rev().find(|(_, e)| !e.deleted || permanent);
                    *live
                        .ok_or_else(|| RegistryError::VersionNotFound("latest".to_string()))?
                        .0
                }
            };
            let entry = vs
                .get(&version)
                .ok_or_else(|| RegistryError::VersionNotFound(version.to_string()))?;
            if !referencing_ids(&state, subject, version).is_empty() {
                return Err(RegistryError::ReferenceExists(subject.to_string(), version));
            }
            let key = Key::Schema {
                subject: subject.to_string(),
                version,
            };
            let rec = match (permanent, entry.deleted) {
                (false, true) => {
                    return Err(RegistryError::VersionSoftDeleted(
                        subject.to_string(),
                        version,
                    ))
                }
                (true, false) => {
                    return Err(RegistryError::VersionNotSoftDeleted(
                        subject.to_string(),
                        version,
                    ))
                }
                (true, true) => {
                    recs.push((Key::Noop, Some(records::encode_max_id(state.max_id))));
                    (key, None)
                }
                (false, false) => soft_deleted_record(&state, subject, version)?,
            };
            (version, rec)
        };
        recs.insert(0, rec);
        self.persist(recs)?;
        info!(subject, version, permanent, "schema version deleted");
        Ok(version)
    }

    /// Changes the subject's (or global) config: each field of `update`
    /// that is `Some` replaces the stored one (`Some(None)` clears it), the
    /// others stay, as Confluent's PUT /config merges. Returns the stored
    /// config (unset fields unset), which PUT answers with.
    pub fn update_config(
        &self,
        subject: Option<&str>,
        update: ConfigUpdate,
    ) -> Result<ConfigValue, RegistryError> {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let name = subject.map(str::to_string);
        let old = self.read().config.get(&name).copied().unwrap_or_default();
        let new = ConfigValue {
            compatibility: update.compatibility.unwrap_or(old.compatibility),
            normalize: update.normalize.unwrap_or(old.normalize),
        };
        self.persist(vec![(
            Key::Config { subject: name },
            Some(records::encode_config(subject, &new)),
        )])?;
        Ok(new)
    }

    /// Removes the subject's config (global: back to the default); returns
    /// the one removed, its level filled in as GET answers it.
    pub fn delete_config(&self, subject: Option<&str>) -> Result<ConfigValue, RegistryError> {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let name = subject.map(str::to_string);
        let previous = {
            let state = self.read();
            match (state.config.get(&name), subject) {
                (Some(c), _) => ConfigValue {
                    compatibility: Some(effective_compatibility(&state, subject)),
                    normalize: c.normalize,
                },
                (None, None) => ConfigValue {
                    compatibility: Some(DEFAULT_COMPATIBILITY),
                    normalize: None,
                },
                (None, Some(s)) if state.subjects.contains_key(s) => ConfigValue {
                    compatibility: Some(effective_compatibility(&state, None)),
                    normalize: state.config.get(&None).and_then(|c| c.normalize),
                },
                (None, Some(s)) => return Err(RegistryError::SubjectNotFound(s.to_string())),
            }
        };
        self.persist(vec![(Key::Config { subject: name }, None)])?;
        Ok(previous)
    }

    /// Sets the subject's (or global) mode.
    pub fn set_mode(&self, subject: Option<&str>, mode: Mode) -> Result<(), RegistryError> {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let key = Key::Mode {
            subject: subject.map(str::to_string),
        };
        self.persist(vec![(
            key,
            Some(records::encode_mode(subject, mode.name())),
        )])
    }

    /// Removes the subject's mode; returns the one removed.
    pub fn delete_mode(&self, subject: &str) -> Result<Mode, RegistryError> {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let name = Some(subject.to_string());
        let previous = {
            let state = self.read();
            match state.mode.get(&name) {
                Some(m) => *m,
                None if state.subjects.contains_key(subject) => effective_mode(&state, None),
                None => return Err(RegistryError::SubjectNotFound(subject.to_string())),
            }
        };
        self.persist(vec![(Key::Mode { subject: name }, None)])?;
        Ok(previous)
    }
}
