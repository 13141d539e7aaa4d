//! The Lambda Runtime API as a function's `bootstrap` sees it (`/2018-06-01/runtime/...`:
//! `invocation/next`, `invocation/{id}/response`, `invocation/{id}/error`, `init/error`), served on
//! a loopback port so the built executables run exactly as Lambda runs them: the test queues
//! events and reads back each answer.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, Notify};

/// What the function answered to one invocation.
#[derive(Debug)]
pub enum Answer {
    Response(serde_json::Value),
    /// An invocation's error, or (request id `init`) the function's failure to start.
    Error(serde_json::Value),
}

struct State {
    pending: Mutex<VecDeque<(String, serde_json::Value)>>,
    arrived: Notify,
    answers: mpsc::UnboundedSender<(String, Answer)>,
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    state: Arc<State>,
    answers: mpsc::UnboundedReceiver<(String, Answer)>,
    next_id: u64,
}

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        let state = Arc::new(State { pending: Mutex::new(VecDeque::new()), arrived: Notify::new(), answers: tx });
        let serving = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let state = state.clone();
                        async move { Ok::<_, std::convert::Infallible>(respond(req, &state).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        RuntimeApi { addr, state, answers: rx, next_id: 0 }
    }

    /// Queues an invocation; returns its request id.
    pub fn invoke(&mut self, event: serde_json::Value) -> String {
        self.next_id += 1;
        let id = format!("req-{}", self.next_id);
        self.state.pending.lock().unwrap().push_back((id.clone(), event));
        self.state.arrived.notify_one();
        id
    }

    /// The next answer, waiting up to `within`.
    pub async fn answer(&mut self, within: std::time::Duration) -> (String, Answer) {
        tokio::time::timeout(within, self.answers.recv())
            .await
            .unwrap_or_else(|_| panic!("the function answered nothing within {within:?}"))
            .expect("runtime API stopped")
    }
}

async fn respond(req: Request<hyper::body::Incoming>, state: &State) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let json = || serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let accepted = || Response::builder().status(StatusCode::ACCEPTED).body(Full::new(Bytes::from("{}"))).unwrap();
    let rest = path.strip_prefix("/2018-06-01/runtime/").unwrap_or("");
    match (method, rest) {
        (hyper::Method::GET, "invocation/next") => loop {
            let next = state.pending.lock().unwrap().pop_front();
            if let Some((id, event)) = next {
                let deadline = chrono::Utc::now().timestamp_millis() + 300_000;
                return Response::builder()
                    .status(StatusCode::OK)
                    .header("Lambda-Runtime-Aws-Request-Id", id)
                    .header("Lambda-Runtime-Deadline-Ms", deadline.to_string())
                    .header(
                        "Lambda-Runtime-Invoked-Function-Arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:test",
                    )
                    .header(
                        "Lambda-Runtime-Trace-Id",
                        "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
                    )
                    .body(Full::new(Bytes::from(event.to_string())))
                    .unwrap();
            }
            state.arrived.notified().await;
        },
        (hyper::Method::POST, "init/error") => {
            let _ = state.answers.send(("init".to_string(), Answer::Error(json())));
            accepted()
        }
        (hyper::Method::POST, p) => {
            let parts: Vec<&str> = p.split('/').collect();
            match parts.as_slice() {
                ["invocation", id, "response"] => {
                    let _ = state.answers.send((id.to_string(), Answer::Response(json())));
                }
                ["invocation", id, "error"] => {
                    let _ = state.answers.send((id.to_string(), Answer::Error(json())));
                }
                _ => return Response::builder().status(StatusCode::NOT_FOUND).body(Full::new(Bytes::new())).unwrap(),
            }
            accepted()
        }
        _ => Response::builder().status(StatusCode::NOT_FOUND).body(Full::new(Bytes::new())).unwrap(),
    }
}

/// Starts `executable` as a Lambda bootstrap against `api`, with the function's own environment.
pub fn bootstrap(executable: &Path, api: &RuntimeApi, endpoint: &str, env: &[(&str, &str)], stderr: Stdio) -> Child {
    let mut cmd = Command::new(executable);
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "test")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_ENDPOINT_URL", endpoint)
        .stdout(Stdio::null())
        .stderr(stderr);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn response(answer: Answer) -> serde_json::Value {
    match answer {
        Answer::Response(v) => v,
        other => panic!("expected a response, got {other:?}"),
    }
}
