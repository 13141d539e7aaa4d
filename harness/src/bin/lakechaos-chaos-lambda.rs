//! `lakechaos-chaos-lambda`: the chaos injector as an AWS Lambda function (`bootstrap` of a
//! `provided.al2023` zip, with the scenario files beside it). An invocation either injects
//! (`{"scenarios": [...]}`, see [`lakechaos::ops::lambda::chaos`]) or scores the game days
//! that are due (`{"score": {}}`, see [`lakechaos::ops::lambda::score`]).

use lakechaos::ops::lambda::chaos::{inject, ChaosConfig, ChaosRequest};
use lakechaos::ops::lambda::score::{score, ScoreConfig, ScoreRequest};
use lakechaos_lake::AwsConnection;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde::Deserialize;
use std::sync::Arc;

/// What the function is asked to do.
#[derive(Deserialize)]
#[serde(untagged)]
enum Invocation {
    Score { score: ScoreRequest },
    Inject(ChaosRequest),
}

fn failed(e: impl std::fmt::Display) -> Diagnostic {
    Diagnostic { error_type: "lakechaos".into(), error_message: e.to_string() }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lakechaos_lake::parquet_io::quiet_decoder_panics();
    lakehealer::lambda::init_logging();
    let config = Arc::new(ChaosConfig::from_env()?);
    let scoring = Arc::new(ScoreConfig::from_env(config.guard.clone())?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (config, scoring) = (config.clone(), scoring.clone());
        async move {
            let conn = AwsConnection::from_environment(None, None);
            let invocation: Invocation = serde_json::from_value(event.payload).map_err(|e| {
                failed(format!(
                    "expected {{\"scenarios\": [NAME, ...], \"run_id\": ..., \"seed\": ...}} or {{\"score\": {{}}}}: {e}"
                ))
            })?;
            match invocation {
                Invocation::Score { score: request } => {
                    let pass = score(&scoring, conn, &request, chrono::Utc::now()).await.map_err(failed)?;
                    serde_json::to_value(pass).map_err(failed)
                }
                Invocation::Inject(request) => {
                    let run = inject(&config, conn, &request).await.map_err(failed)?;
                    serde_json::to_value(run).map_err(failed)
                }
            }
        }
    }))
    .await
}
