//! What a Lambda invocation of the healer carries, read into object events: an SQS batch (the
//! module's EventBridge rule feeds the healer's queue; each body is an EventBridge S3 event or an
//! S3 notification), an S3 notification or EventBridge S3 event invoked directly, or a scheduled
//! event (a reconcile pass over the whole lake).

use crate::HealerError;
use aws_lambda_events::sqs::SqsEvent;
use lakechaos_lake::notifications::parse_s3_events;
use lakechaos_lake::ObjectEvent;
use serde_json::Value;

/// An invocation, read.
#[derive(Debug)]
pub enum Invocation {
    /// SQS records: each message's id and the object events in its body (none for S3's test
    /// event or a body that names no object).
    Queue(Vec<(String, Vec<ObjectEvent>)>),
    /// Object events delivered directly (S3 notification or EventBridge).
    Direct(Vec<ObjectEvent>),
    /// A scheduled (or hand-made `{"reconcile": true}`) invocation: check everything.
    Reconcile,
}

/// Reads `payload`, or says what was expected.
pub fn read(payload: &Value) -> Result<Invocation, HealerError> {
    if payload.get("reconcile").and_then(Value::as_bool) == Some(true)
        || payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
    {
        return Ok(Invocation::Reconcile);
    }
    let source = payload
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(|r| r.get("eventSource"))
        .and_then(Value::as_str);
    match source {
        Some("aws:sqs") => {
            let batch: SqsEvent = serde_json::from_value(payload.clone())
                .map_err(|e| HealerError::Invalid(format!("an SQS event that does not parse: {e}")))?;
            Ok(Invocation::Queue(
                batch
                    .records
                    .into_iter()
                    .map(|r| {
                        let events = r.body.as_deref().map(parse_s3_events).unwrap_or_default();
                        (r.message_id.unwrap_or_default(), events)
                    })
                    .collect(),
            ))
        }
        _ => {
            let events = parse_s3_events(&payload.to_string());
            if events.is_empty() {
                return Err(HealerError::Invalid(
                    "unrecognised event: expected an SQS batch, an S3 notification, an EventBridge S3 event, \
                     a scheduled event or {\"reconcile\": true}"
                        .into(),
                ));
            }
            Ok(Invocation::Direct(events))
        }
    }
}
