//! DescribeClientQuotas: Skiff enforces no client quotas, so none match any
//! filter. `kafka-configs --describe --entity-type users` asks for them
//! alongside the users' SCRAM credentials.

use kafka_protocol::messages::{DescribeClientQuotasRequest, DescribeClientQuotasResponse};

pub fn handle(_req: DescribeClientQuotasRequest) -> DescribeClientQuotasResponse {
    DescribeClientQuotasResponse::default().with_entries(Some(Vec::new()))
}
