//! `lakechaos-chaos-lambda`: the chaos injector as an AWS Lambda function (`bootstrap` of a
//! `provided.al2023` zip, with the scenario files beside it). See [`lakechaos::ops::lambda::chaos`].

use lakechaos::ops::lambda::chaos::{inject, ChaosConfig, ChaosRequest};
use lakechaos_lake::AwsConnection;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lakechaos_lake::parquet_io::quiet_decoder_panics();
    lakehealer::lambda::init_logging();
    let config = Arc::new(ChaosConfig::from_env()?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ChaosRequest>| {
        let config = config.clone();
        async move {
            inject(&config, AwsConnection::from_environment(None, None), &event.payload)
                .await
                .map_err(|e| Diagnostic { error_type: "lakechaos".into(), error_message: e.to_string() })
        }
    }))
    .await
}
