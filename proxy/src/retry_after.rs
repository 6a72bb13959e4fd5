//! `x-amz-retry-after` (`[capacity] retry_after`): the milliseconds an SDK waits before
//! retrying a throttled request (the AWS SDKs' standard retry mode honours it). DynamoDB
//! does not send it, so it is off by default; when set it goes on every throttling
//! answer: ProvisionedThroughputExceededException, ThrottlingException and
//! RequestLimitExceeded, whether from the engine or a remote upstream.

/// The header's name.
pub const HEADER: &str = "x-amz-retry-after";

const THROTTLES: [&[u8]; 3] = [
    b"#ProvisionedThroughputExceededException\"",
    b"#ThrottlingException\"",
    b"#RequestLimitExceeded\"",
];

/// Whether the answer is a throttle (a 400 whose `__type` names one). Only looked at
/// when the setting is on.
pub fn applies(status: u16, body: &[u8]) -> bool {
    if status != 400 {
        return false;
    }
    // `__type` comes first in the engine's bodies; look a little further for others.
    let head = &body[..body.len().min(256)];
    THROTTLES
        .iter()
        .any(|t| head.windows(t.len()).any(|w| w == *t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_throttles() {
        let pte = br#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"x"}"#;
        assert!(applies(400, pte));
        assert!(!applies(200, pte));
        let t = br#"{"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"}"#;
        assert!(applies(400, t));
        let v = br#"{"__type":"com.amazon.coral.validate#ValidationException","message":"ThrottlingException"}"#;
        assert!(!applies(400, v));
        assert!(!applies(400, b""));
    }
}
