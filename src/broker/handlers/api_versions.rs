//! ApiVersions: the served ranges, from the same table dispatch checks.

use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::ResponseError;

use crate::broker::Broker;

/// Kafka's rule for client software names and versions (v3+), KIP-511.
fn valid_client_software(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: u8| c.is_ascii_alphanumeric();
    let inner = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'.';
    match b {
        [] => false,
        [only] => edge(*only),
        [first, middle @ .., last] => {
            edge(*first) && edge(*last) && middle.iter().all(|c| inner(*c))
        }
    }
}

pub fn handle(broker: &Broker, req: ApiVersionsRequest, version: i16) -> ApiVersionsResponse {
    // Only the api keys and (v1+) throttle time are written: any non-default
    // tagged field breaks librdkafka < 2.2, which mis-skips tags (Debian's kcat).
    let response = ApiVersionsResponse::default().with_api_keys(broker.api_versions());
    if version >= 3
        && !(valid_client_software(&req.client_software_name)
            && valid_client_software(&req.client_software_version))
    {
        return ApiVersionsResponse::default()
            .with_error_code(ResponseError::InvalidRequest.code());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::valid_client_software;

    #[test]
    fn client_software_rule() {
        for ok in [
            "librdkafka",
            "2.12.1",
            "a",
            "apache-kafka-java",
            "1.0-SNAPSHOT",
        ] {
            assert!(valid_client_software(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "x_y"] {
            assert!(!valid_client_software(bad), "{bad}");
        }
    }
}
