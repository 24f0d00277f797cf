//! The registry's memory state and the one function that changes it,
//! [`apply`], used both for live writes and for the replay of `_schemas`;
//! plus the lookups over it that reads, writes and checks share.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use tracing::warn;

use super::error::RegistryError;
use super::format::{self, Compatibility, Mode, Parsed, Resolved, SchemaType};
use super::records::{self, ConfigValue, Key, Reference, SchemaValue};
use super::store::{
    StoredSchema, SubjectVersion, VersionSpec, DEFAULT_COMPATIBILITY, SCHEMAS_TOPIC,
};

/// How deep references may nest (a cycle stops here too).
const MAX_REFERENCE_DEPTH: usize = 32;

#[derive(Debug, Clone, Copy)]
pub(super) struct VersionEntry {
    pub(super) id: i32,
    pub(super) deleted: bool,
}

pub(super) type ContentKey = (SchemaType, String, Vec<Reference>);

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) subjects: BTreeMap<String, BTreeMap<i32, VersionEntry>>,
    pub(super) schemas: HashMap<i32, Arc<StoredSchema>>,
    pub(super) by_content: HashMap<ContentKey, i32>,
    pub(super) max_id: i32,
    /// `None` is the global config.
    pub(super) config: HashMap<Option<String>, ConfigValue>,
    pub(super) mode: HashMap<Option<String>, Mode>,
}

pub(super) fn validate_subject(subject: &str) -> Result<(), RegistryError> {
    if subject.is_empty() || subject.chars().any(char::is_control) {
        return Err(RegistryError::InvalidSubject(subject.to_string()));
    }
    Ok(())
}

/// The subject's level, else the global one, else the default. (Confluent
/// takes its server default, not the global level, for a subject whose
/// config sets only `normalize`; here the global level applies.)
pub(super) fn effective_compatibility(state: &State, subject: Option<&str>) -> Compatibility {
    subject
        .and_then(|s| state.config.get(&Some(s.to_string())))
        .and_then(|c| c.compatibility)
        .or_else(|| state.config.get(&None).and_then(|c| c.compatibility))
        .unwrap_or(DEFAULT_COMPATIBILITY)
}

/// Whether the subject's (else the global) config asks every registration,
/// lookup and check to normalize, as `normalize=true` does.
pub(super) fn effective_normalize(state: &State, subject: Option<&str>) -> bool {
    subject
        .and_then(|s| state.config.get(&Some(s.to_string())))
        .and_then(|c| c.normalize)
        .or_else(|| state.config.get(&None).and_then(|c| c.normalize))
        .unwrap_or(false)
}

pub(super) fn effective_mode(state: &State, subject: Option<&str>) -> Mode {
    subject
        .and_then(|s| state.mode.get(&Some(s.to_string())))
        .or_else(|| state.mode.get(&None))
        .copied()
        .unwrap_or(Mode::ReadWrite)
}

pub(super) fn find_version(
    state: &State,
    subject: &str,
    spec: VersionSpec,
    deleted: bool,
) -> Result<SubjectVersion, RegistryError> {
    let vs = state
        .subjects
        .get(subject)
        .filter(|vs| deleted || vs.values().any(|e| !e.deleted))
        .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_string()))?;
    let (version, entry) = match spec {
        VersionSpec::Latest => vs
            .iter()
            .rev()
            .find(|(_, e)| deleted || !e.deleted)
            .ok_or_else(|| RegistryError::VersionNotFound("latest".to_string()))?,
        VersionSpec::Number(v) => vs
            .get_key_value(&v)
            .filter(|(_, e)| deleted || !e.deleted)
            .ok_or_else(|| RegistryError::VersionNotFound(v.to_string()))?,
    };
    let schema = state
        .schemas
        .get(&entry.id)
        .cloned()
        .ok_or_else(|| RegistryError::VersionNotFound(version.to_string()))?;
    Ok(SubjectVersion {
        subject: subject.to_string(),
        version: *version,
        deleted: entry.deleted,
        schema,
    })
}

/// Ids of live schema versions whose references name `subject` `version`.
pub(super) fn referencing_ids(state: &State, subject: &str, version: i32) -> Vec<i32> {
    let mut ids: Vec<i32> = Vec::new();
    for vs in state.subjects.values() {
        for e in vs.values().filter(|e| !e.deleted) {
            if let Some(s) = state.schemas.get(&e.id) {
                if s.references
                    .iter()
                    .any(|r| r.subject == subject && r.version == version)
                    && !ids.contains(&e.id)
                {
                    ids.push(e.id);
                }
            }
        }
    }
    ids.sort_unstable();
    ids
}

pub(super) fn soft_deleted_record(
    state: &State,
    subject: &str,
    version: i32,
) -> Result<(Key, Option<Vec<u8>>), RegistryError> {
    let v = find_version(state, subject, VersionSpec::Number(version), true)?;
    let value = SchemaValue {
        subject: subject.to_string(),
        version,
        id: v.schema.id,
        schema_type: v.schema.schema_type,
        references: v.schema.references.clone(),
        schema: v.schema.schema.clone(),
        deleted: true,
    };
    Ok((
        Key::Schema {
            subject: subject.to_string(),
            version,
        },
        Some(records::encode_schema(&value)),
    ))
}

/// The referenced schemas, dependencies first (each once).
pub(super) fn resolve_references(
    state: &State,
    refs: &[Reference],
    depth: usize,
) -> Result<Vec<Resolved>, String> {
    if depth > MAX_REFERENCE_DEPTH {
        return Err("Invalid schema: references nest too deeply".to_string());
    }
    let mut out: Vec<Resolved> = Vec::new();
    for r in refs {
        let spec = if r.version == -1 {
            VersionSpec::Latest
        } else {
            VersionSpec::Number(r.version)
        };
        let v = find_version(state, &r.subject, spec, false).map_err(|_| {
            // Confluent's text (AbstractSchemaProvider.resolveReferences).
            format!(
                "Invalid schema: No schema reference found for subject \"{}\" and version {}",
                r.subject, r.version
            )
        })?;
        for dep in resolve_references(state, &v.schema.references, depth + 1)? {
            if !out.iter().any(|o| o.name == dep.name) {
                out.push(dep);
            }
        }
        if !out.iter().any(|o| o.name == r.name) {
            out.push(Resolved {
                name: r.name.clone(),
                schema_type: v.schema.schema_type,
                schema: v.schema.schema.clone(),
            });
        }
    }
    Ok(out)
}

pub(super) fn parsed_of<'a>(state: &State, schema: &'a StoredSchema) -> Result<&'a Parsed, String> {
    schema
        .parsed
        .get_or_init(|| {
            let resolved = resolve_references(state, &schema.references, 0)?;
            format::parse(schema.schema_type, &schema.schema, &resolved, false).map(|(p, _)| p)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Applies one `_schemas` record (a write, or a replayed one).
pub(super) fn apply(state: &mut State, key: &Key, value: Option<&[u8]>) {
    match key {
        Key::Schema { subject, version } => match value.map(records::decode_schema) {
            Some(Some(v)) => {
                let content: ContentKey = (v.schema_type, v.schema.clone(), v.references.clone());
                state.max_id = state.max_id.max(v.id);
                state.schemas.entry(v.id).or_insert_with(|| {
                    Arc::new(StoredSchema {
                        id: v.id,
                        schema_type: v.schema_type,
                        schema: v.schema,
                        references: v.references,
                        parsed: OnceLock::new(),
                    })
                });
                state.by_content.entry(content).or_insert(v.id);
                state.subjects.entry(subject.clone()).or_default().insert(
                    *version,
                    VersionEntry {
                        id: v.id,
                        deleted: v.deleted,
                    },
                );
            }
            Some(None) => warn!(
                subject,
                version, "skipping a malformed {SCHEMAS_TOPIC} value"
            ),
            None => {
                let removed = state.subjects.get_mut(subject).and_then(|vs| {
                    let e = vs.remove(version);
                    e.map(|e| (e.id, vs.is_empty()))
                });
                if let Some((id, empty)) = removed {
                    if empty {
                        state.subjects.remove(subject);
                    }
                    let used = state
                        .subjects
                        .values()
                        .any(|vs| vs.values().any(|e| e.id == id));
                    if !used {
                        if let Some(s) = state.schemas.remove(&id) {
                            state.by_content.remove(&(
                                s.schema_type,
                                s.schema.clone(),
                                s.references.clone(),
                            ));
                        }
                    }
                }
            }
        },
        Key::Config { subject } => match value.and_then(records::decode_config) {
            Some(c) => {
                state.config.insert(subject.clone(), c);
            }
            None => {
                state.config.remove(subject);
            }
        },
        Key::Mode { subject } => {
            match value
                .and_then(records::decode_mode)
                .and_then(|m| Mode::parse(&m))
            {
                Some(m) => {
                    state.mode.insert(subject.clone(), m);
                }
                None => {
                    state.mode.remove(subject);
                }
            }
        }
        Key::DeleteSubject { subject } => {
            if let (Some(upto), Some(vs)) = (
                value.and_then(records::decode_delete_subject),
                state.subjects.get_mut(subject),
            ) {
                for (_, e) in vs.range_mut(..=upto) {
                    e.deleted = true;
                }
            }
        }
        Key::Noop => {
            if let Some(id) = value.and_then(records::decode_max_id) {
                state.max_id = state.max_id.max(id);
            }
        }
        Key::ClearSubject { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_record(subject: &str, version: i32, id: i32) -> (Key, Vec<u8>) {
        let v = SchemaValue {
            subject: subject.into(),
            version,
            id,
            schema_type: SchemaType::Avro,
            references: Vec::new(),
            schema: "\"string\"".into(),
            deleted: false,
        };
        (
            Key::Schema {
                subject: subject.into(),
                version,
            },
            records::encode_schema(&v),
        )
    }

    #[test]
    fn replay_keeps_ids_and_the_highest_id_after_compaction() {
        let mut s = State::default();
        let (k, v) = schema_record("a", 1, 9);
        apply(&mut s, &k, Some(&v));
        assert_eq!(s.max_id, 9);
        assert_eq!(s.by_content.len(), 1);
        // Soft delete, then permanent: the id is gone, the max stays.
        apply(
            &mut s,
            &Key::DeleteSubject {
                subject: "a".into(),
            },
            Some(&records::encode_delete_subject("a", 1)),
        );
        assert!(s.subjects["a"][&1].deleted);
        apply(&mut s, &Key::Noop, Some(&records::encode_max_id(9)));
        apply(&mut s, &k, None);
        assert!(s.subjects.is_empty() && s.schemas.is_empty() && s.by_content.is_empty());
        assert_eq!(s.max_id, 9);
        // What compaction leaves (the schema record gone): still 9.
        let mut compacted = State::default();
        apply(&mut compacted, &Key::Noop, Some(&records::encode_max_id(9)));
        apply(&mut compacted, &k, None);
        assert_eq!(compacted.max_id, 9);
        // Confluent's own NOOP (no value) is ignored.
        apply(&mut compacted, &Key::Noop, None);
        assert_eq!(compacted.max_id, 9);
    }

    #[test]
    fn versions_parse_like_confluent() {
        assert_eq!(VersionSpec::parse("latest").unwrap(), VersionSpec::Latest);
        assert_eq!(VersionSpec::parse("-1").unwrap(), VersionSpec::Latest);
        assert_eq!(VersionSpec::parse("3").unwrap(), VersionSpec::Number(3));
        for bad in ["0", "-2", "x", "99999999999"] {
            assert_eq!(VersionSpec::parse(bad).unwrap_err().code(), 42202, "{bad}");
        }
    }
}
