//! The message browser's reading side: a bounded page of records from one
//! partition, each key/value/header shown as pretty JSON, UTF-8 text or hex,
//! truncated past a size limit with the full size kept; values and keys in
//! the Confluent wire format are decoded with their registered schema.
//!
//! Batches are read with `record::DecodedBatch`, which decompresses
//! compressed ones within the bound storage uses (a stored batch that would
//! inflate past it is shown as an error, not inflated).

use serde_json::{json, Value};

use crate::record::{decompression_limit, BatchIter, DecodedBatch};
use crate::schema_registry::Registry;
use crate::storage::{Log, StorageError};

/// Bytes asked of the log per read while filling a page.
const READ_CHUNK: usize = 1024 * 1024;

/// A page of messages and where the next one starts.
#[derive(Debug)]
pub(crate) struct Page {
    pub messages: Vec<Value>,
    /// Offset to continue from (the last message's offset + 1, or where reading stopped).
    pub next_offset: i64,
}

/// One record, owned, from either decoder.
struct Rec {
    offset: i64,
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// Reads up to `limit` records at offsets `>= start`, reading at most
/// `max_read` bytes of log. Values longer than `max_value` are truncated.
pub(crate) fn read_page(
    log: &Log,
    registry: Option<&Registry>,
    start: i64,
    limit: usize,
    max_value: usize,
    max_read: usize,
) -> Result<Page, StorageError> {
    let mut messages = Vec::new();
    let mut offset = start.max(log.log_start_offset());
    let mut read_bytes = 0usize;
    // The same bound storage applies when it looks into compressed batches.
    let inflate_limit = decompression_limit(log.config().max_message_bytes);
    while messages.len() < limit && read_bytes < max_read && offset < log.high_watermark() {
        let read = log.read(
            offset,
            READ_CHUNK,
            true,
            crate::storage::Isolation::ReadUncommitted,
        )?;
        if read.records.is_empty() {
            break;
        }
        read_bytes += read.records.len();
        let mut progressed = false;
        for item in BatchIter::headers_only(&read.records) {
            let Ok((at, h)) = item else { break };
            let batch = read.records.slice(at..at + h.total_len());
            let next = h.next_offset();
            if h.is_control() || next <= offset {
                offset = offset.max(next);
                progressed = true;
                continue;
            }
            let log_append = h.timestamp_type_is_log_append();
            let compression = h.compression();
            match decode(&batch, inflate_limit) {
                Ok(records) => {
                    let from = offset;
                    for r in records.into_iter().filter(|r| r.offset >= from) {
                        if messages.len() >= limit {
                            break;
                        }
                        offset = r.offset + 1;
                        messages.push(show_record(r, log_append, max_value, registry));
                    }
                }
                Err(e) => messages.push(json!({
                    "offset": h.base_offset,
                    "error": format!("cannot decode batch (compression {compression}): {e}"),
                })),
            }
            if messages.len() >= limit {
                return Ok(Page {
                    messages,
                    next_offset: offset,
                });
            }
            offset = offset.max(next);
            progressed = true;
        }
        if !progressed {
            break;
        }
    }
    Ok(Page {
        messages,
        next_offset: offset,
    })
}

fn decode(batch: &[u8], limit: usize) -> Result<Vec<Rec>, String> {
    let own = |b: Option<&[u8]>| b.map(<[u8]>::to_vec);
    let decoded = DecodedBatch::new(batch, limit).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for r in decoded.records() {
        let r = r.map_err(|e| e.to_string())?;
        out.push(Rec {
            offset: r.offset,
            timestamp: r.timestamp,
            key: own(r.key),
            value: own(r.value),
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (k.to_vec(), own(*v)))
                .collect(),
        });
    }
    Ok(out)
}

fn show_record(r: Rec, log_append: bool, max_value: usize, registry: Option<&Registry>) -> Value {
    // Confluent wire format first (magic 0 + a registered schema id), then
    // today's JSON/UTF-8/hex.
    let show = |b: Option<&[u8]>| {
        b.zip(registry)
            .and_then(|(b, reg)| super::schemas::decode_framed(reg, b))
            .unwrap_or_else(|| show_bytes(b, max_value))
    };
    json!({
        "offset": r.offset,
        "timestamp": r.timestamp,
        "timestamp_type": if log_append { "LogAppendTime" } else { "CreateTime" },
        "key": show(r.key.as_deref()),
        "value": show(r.value.as_deref()),
        "headers": r.headers.iter().map(|(k, v)| json!({
            "key": String::from_utf8_lossy(k),
            "value": show_bytes(v.as_deref(), max_value),
        })).collect::<Vec<_>>(),
    })
}

/// `null`, or `{size, encoding: json|utf8|hex, text, truncated}`.
pub(crate) fn show_bytes(b: Option<&[u8]>, max: usize) -> Value {
    let Some(b) = b else { return Value::Null };
    let truncated = b.len() > max;
    let shown = &b[..b.len().min(max)];
    let (encoding, text) = if !truncated && looks_like_json(b) {
        match serde_json::from_slice::<Value>(b) {
            Ok(v) => ("json", serde_json::to_string_pretty(&v).unwrap_or_default()),
            Err(_) => text_or_hex(shown, truncated),
        }
    } else {
        text_or_hex(shown, truncated)
    };
    json!({ "size": b.len(), "encoding": encoding, "text": text, "truncated": truncated })
}

fn looks_like_json(b: &[u8]) -> bool {
    matches!(
        b.iter().find(|c| !c.is_ascii_whitespace()),
        Some(b'{') | Some(b'[')
    )
}

fn text_or_hex(b: &[u8], truncated: bool) -> (&'static str, String) {
    let text = match std::str::from_utf8(b) {
        Ok(s) => Some(s),
        // A cut in the middle of a character is still text.
        Err(e) if truncated && e.error_len().is_none() => {
            std::str::from_utf8(&b[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    match text {
        Some(s)
            if !s
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            ("utf8", s.to_string())
        }
        _ => ("hex", b.iter().map(|x| format!("{x:02x}")).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_hex_and_truncation() {
        let v = show_bytes(Some(br#"{"a":1}"#), 100);
        assert_eq!(v["encoding"], "json");
        assert_eq!(v["text"], "{\n  \"a\": 1\n}");
        let v = show_bytes(Some("<script>héllo</script>".as_bytes()), 100);
        assert_eq!(v["encoding"], "utf8");
        let v = show_bytes(Some(&[0, 1, 0xff]), 100);
        assert_eq!(
            (v["encoding"].as_str(), v["text"].as_str()),
            (Some("hex"), Some("0001ff"))
        );
        let v = show_bytes(Some("ééé".as_bytes()), 3);
        assert_eq!(v["text"], "é");
        assert_eq!(v["size"], 6);
        assert_eq!(v["truncated"], true);
        assert_eq!(show_bytes(None, 1), Value::Null);
    }
}
