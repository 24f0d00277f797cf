//! Big-endian writer for the `__consumer_offsets` record keys and values
//! (classic offsets and group metadata in `offsets.rs`, KIP-848 records in
//! `consumer/records.rs`): Kafka's fixed-width and compact encodings.

/// The bytes of one record key or value, written field by field.
#[derive(Default)]
pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    pub(crate) fn i16(&mut self, v: i16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn string(&mut self, s: &str) {
        // Kafka strings are at most i16::MAX bytes; ids and metadata are
        // validated far below that before they get here.
        let b = &s.as_bytes()[..s.len().min(i16::MAX as usize)];
        self.i16(b.len() as i16);
        self.0.extend_from_slice(b);
    }
    pub(crate) fn nullable_string(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.i16(-1),
        }
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.i32(b.len() as i32);
        self.0.extend_from_slice(b);
    }
    pub(crate) fn uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    pub(crate) fn compact_string(&mut self, s: &str) {
        self.uvarint(s.len() as u64 + 1);
        self.0.extend_from_slice(s.as_bytes());
    }
    pub(crate) fn compact_nullable_string(&mut self, s: Option<&str>) {
        match s {
            None => self.uvarint(0),
            Some(s) => self.compact_string(s),
        }
    }
}
