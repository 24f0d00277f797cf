//! The subject DN of an X.509 certificate written as Java's
//! `X500Principal.getName()` (RFC 2253) writes it, which is the principal
//! name Kafka's default principal builder gives an mTLS client
//! (`User:CN=alice,OU=eng,O=Example,C=US`). A small bounded DER reader:
//! certificates come from clients, so nothing here may panic or allocate
//! more than the input.

/// One DER element: its tag and contents.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
}

/// Reads DER elements one after the other from a slice.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { rest: data }
    }

    fn next(&mut self) -> Option<Tlv<'a>> {
        let (&tag, after_tag) = self.rest.split_first()?;
        let (&first, mut after_len) = after_tag.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || after_len.len() < n {
                return None;
            }
            let mut len = 0usize;
            for &b in &after_len[..n] {
                len = (len << 8) | usize::from(b);
            }
            after_len = &after_len[n..];
            len
        };
        if after_len.len() < len {
            return None;
        }
        let (content, rest) = after_len.split_at(len);
        self.rest = rest;
        Some(Tlv { tag, content })
    }

    /// The next element, which must have `tag`.
    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        let t = self.next()?;
        (t.tag == tag).then_some(t.content)
    }
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;

/// The subject DN of a DER certificate, RFC 2253 style; `None` if the
/// certificate cannot be read.
pub fn subject_dn(cert_der: &[u8]) -> Option<String> {
    let cert = Reader::new(cert_der).expect(SEQUENCE)?;
    let mut tbs = Reader::new(Reader::new(cert).expect(SEQUENCE)?);
    let mut field = tbs.next()?;
    if field.tag == 0xa0 {
        // [0] EXPLICIT version
        field = tbs.next()?;
    }
    if field.tag != 0x02 {
        return None; // serialNumber
    }
    tbs.expect(SEQUENCE)?; // signature algorithm
    tbs.expect(SEQUENCE)?; // issuer
    tbs.expect(SEQUENCE)?; // validity
    let subject = tbs.expect(SEQUENCE)?;
    name_to_string(subject)
}

/// An RDNSequence: RFC 2253 writes the last RDN first.
fn name_to_string(name: &[u8]) -> Option<String> {
    let mut rdns = Vec::new();
    let mut r = Reader::new(name);
    while !r.rest.is_empty() {
        let set = r.expect(SET)?;
        let mut attrs = Vec::new();
        let mut a = Reader::new(set);
        while !a.rest.is_empty() {
            let atv = a.expect(SEQUENCE)?;
            let mut atv = Reader::new(atv);
            let oid = atv.expect(OID)?;
            let value = atv.next()?;
            attrs.push(attribute(oid, &value)?);
        }
        rdns.push(attrs.join("+"));
    }
    rdns.reverse();
    Some(rdns.join(","))
}

fn keyword(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x09] => "STREET",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID",
        _ => return None,
    })
}

fn attribute(oid: &[u8], value: &Tlv<'_>) -> Option<String> {
    if let (Some(kw), Some(text)) = (keyword(oid), string_value(value)) {
        return Some(format!("{kw}={}", escape(&text)));
    }
    // Other attributes (emailAddress, ...): dotted OID and the value's DER in hex.
    let mut hex = String::with_capacity(2 * (value.content.len() + 4));
    let mut der = vec![value.tag];
    let len = value.content.len();
    if len < 0x80 {
        der.push(len as u8);
    } else {
        let bytes = (len as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        der.push(0x80 | (4 - skip) as u8);
        der.extend_from_slice(&bytes[skip..]);
    }
    der.extend_from_slice(value.content);
    for b in der {
        hex.push_str(&format!("{b:02x}"));
    }
    Some(format!("{}=#{hex}", dotted(oid)?))
}

fn string_value(v: &Tlv<'_>) -> Option<String> {
    match v.tag {
        // UTF8String, PrintableString, TeletexString (as Latin-1), IA5String
        0x0c => std::str::from_utf8(v.content).ok().map(str::to_string),
        0x13 | 0x16 => std::str::from_utf8(v.content).ok().map(str::to_string),
        0x14 => Some(v.content.iter().map(|&b| char::from(b)).collect()),
        // BMPString: UTF-16BE
        0x1e if v.content.len().is_multiple_of(2) => {
            let units: Vec<u16> = v
                .content
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// RFC 2253 section 2.4 escaping.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let last = s.chars().count().saturating_sub(1);
    for (i, c) in s.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An OID's dotted form.
fn dotted(oid: &[u8]) -> Option<String> {
    let mut parts: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for &b in oid {
        if acc > (u64::MAX >> 7) {
            return None;
        }
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let first = (acc / 40).min(2);
                parts.push(first);
                parts.push(acc - first * 40);
            } else {
                parts.push(acc);
            }
            acc = 0;
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(
        parts
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_rcgen_certificate_subject_in_rfc2253_order() {
        let mut params = rcgen::CertificateParams::new(vec!["client".to_string()]).unwrap();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CountryName, "US");
        dn.push(rcgen::DnType::OrganizationName, "Example, Inc.");
        dn.push(rcgen::DnType::OrganizationalUnitName, "eng");
        dn.push(rcgen::DnType::CommonName, "alice");
        params.distinguished_name = dn;
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let dn = subject_dn(cert.der()).unwrap();
        assert_eq!(dn, "CN=alice,OU=eng,O=Example\\, Inc.,C=US");
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        let mut seed: u32 = 12345;
        for len in 0..300usize {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8
                })
                .collect();
            let _ = subject_dn(&bytes);
        }
        assert!(subject_dn(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
        assert_eq!(
            dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]).unwrap(),
            "1.2.840.113549.1.9.1"
        );
        assert_eq!(escape(" a#b "), "\\ a#b\\ ");
    }
}
