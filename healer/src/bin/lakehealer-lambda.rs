//! `lakehealer-lambda`: the healer as an AWS Lambda function (`bootstrap` of a
//! `provided.al2023` zip). Configuration comes from the environment: see
//! [`lakehealer::lambda`].

use lakehealer::lambda::{FunctionConfig, HealerFunction};
use lambda_runtime::{service_fn, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // Corrupt pages make the decoder panic; the healer catches those as findings.
    lakechaos_lake::parquet_io::quiet_decoder_panics();
    lakehealer::lambda::init_logging();
    let function = Arc::new(HealerFunction::start(FunctionConfig::from_env()?).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let function = function.clone();
        async move {
            function.handle(event.payload).await.map_err(|e| lambda_runtime::Diagnostic {
                error_type: "lakehealer".into(),
                error_message: e.to_string(),
            })
        }
    }))
    .await
}
