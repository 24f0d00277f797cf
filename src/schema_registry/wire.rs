//! The Confluent wire format of a serialized key or value: magic byte 0, the
//! schema id as a 4-byte big-endian integer, then the payload (for Protobuf,
//! message indexes come first; see `protobuf::decode`).

/// The schema id and the payload of `bytes`, if they are framed.
pub fn split(bytes: &[u8]) -> Option<(i32, &[u8])> {
    match bytes {
        [0, a, b, c, d, rest @ ..] => Some((i32::from_be_bytes([*a, *b, *c, *d]), rest)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn split() {
        assert_eq!(super::split(&[0, 0, 0, 1, 2, 9]), Some((258, &[9][..])));
        assert_eq!(super::split(&[1, 0, 0, 0, 1]), None);
        assert_eq!(super::split(&[0, 0, 0]), None);
    }
}
