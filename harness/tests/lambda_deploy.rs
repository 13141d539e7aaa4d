//! `lakechaos deploy` against a real moto server: it zips both functions (`bootstrap` plus, for
//! the chaos function, the scenario files), creates them with the right runtime, handler, role
//! and environment, updates them in place on the next deploy, and refuses to create a function
//! without its role.

mod common;

use aws_sdk_lambda::types::{Architecture, Runtime};
use common::lakechaos_against as lakechaos;
use lakechaos::ops::lambda::deploy::code_sha256;
use lakechaos::targets::provision::LocalProcess;
use lakechaos_lake::AwsConnection;
use std::io::Read;
use std::path::Path;
use std::process::Output;

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

async fn role(iam: &aws_sdk_iam::Client, name: &str) -> String {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role().role_name(name).assume_role_policy_document(trust).send().await.unwrap().role.unwrap().arn
}

/// `(name, unix mode, bytes)` of every entry of a zip file.
fn entries(path: &Path) -> Vec<(String, u32, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            (f.name().unwrap().to_string(), f.unix_mode().unwrap_or(0) & 0o777, bytes)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_creates_both_functions_then_updates_them_in_place() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    let sdk = conn.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&sdk);
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let healer_role = role(&iam, "ci-healer").await;
    let chaos_role = role(&iam, "ci-chaos").await;

    // Both executables, from this build.
    let healer_bin = common::workspace_bin("lakehealer", "lakehealer-lambda");
    let chaos_bin = Path::new(env!("CARGO_BIN_EXE_lakechaos-chaos-lambda")).to_path_buf();
    assert_eq!(healer_bin.parent(), chaos_bin.parent());
    let bin_dir = healer_bin.parent().unwrap().to_str().unwrap().to_string();
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_str().unwrap();

    let first = lakechaos(
        moto.endpoint(),
        &[
            "deploy",
            "--name",
            "lakehouse-ci",
            "--healer-role",
            &healer_role,
            "--chaos-role",
            &chaos_role,
            "--bin-dir",
            &bin_dir,
            "--out",
            out_dir,
            "--healer-env",
            "LAKEHEALER_LAKE=s3://curated",
            "--healer-env",
            "LAKEHEALER_CATALOG=glue:lake",
            "--chaos-env",
            "LAKECHAOS_BUCKET=curated",
        ],
    );
    assert!(first.status.success(), "{}", text(&first));
    let said = text(&first);
    assert!(said.contains("created lakehouse-ci-healer") && said.contains("created lakehouse-ci-chaos"), "{said}");

    // The zips: the executable as an executable `bootstrap`; the chaos zip with every scenario.
    let healer_zip = out.path().join("healer.zip");
    let chaos_zip = out.path().join("chaos.zip");
    let healer_entries = entries(&healer_zip);
    assert_eq!(healer_entries.len(), 1);
    assert_eq!((healer_entries[0].0.as_str(), healer_entries[0].1), ("bootstrap", 0o755));
    assert_eq!(healer_entries[0].2, std::fs::read(&healer_bin).unwrap(), "the healer zip holds lakehealer-lambda");
    let chaos_entries = entries(&chaos_zip);
    assert_eq!(chaos_entries[0].2, std::fs::read(&chaos_bin).unwrap(), "the chaos zip holds lakechaos-chaos-lambda");
    let packed: Vec<&str> = chaos_entries[1..].iter().map(|e| e.0.as_str()).collect();
    let scenario_count = common::scenario_file_count();
    assert_eq!(packed.len(), scenario_count, "{packed:?}");
    assert!(
        packed.contains(&"scenarios/null-flood-customer-id.yaml") && chaos_entries[1..].iter().all(|e| e.1 == 0o644)
    );

    // The functions, as Lambda describes them.
    for (name, role, zip, env) in [
        (
            "lakehouse-ci-healer",
            &healer_role,
            &healer_zip,
            vec![("LAKEHEALER_LAKE", "s3://curated"), ("LAKEHEALER_CATALOG", "glue:lake")],
        ),
        ("lakehouse-ci-chaos", &chaos_role, &chaos_zip, vec![("LAKECHAOS_BUCKET", "curated")]),
    ] {
        let f = lambda.get_function_configuration().function_name(name).send().await.unwrap();
        assert_eq!(f.runtime, Some(Runtime::Providedal2023), "{name}");
        assert_eq!(f.handler.as_deref(), Some("bootstrap"), "{name}");
        assert_eq!(f.role.as_deref(), Some(role.as_str()), "{name}");
        assert_eq!(f.architectures(), [Architecture::X8664], "{name}");
        assert_eq!(f.code_sha256.as_deref(), Some(code_sha256(&std::fs::read(zip).unwrap()).as_str()), "{name}");
        let vars = f.environment.and_then(|e| e.variables).unwrap_or_default();
        for (k, v) in env {
            assert_eq!(vars.get(k).map(String::as_str), Some(v), "{name}: {vars:?}");
        }
    }

    // A second deploy updates in place: new environment, same role, and the same zip bytes
    // (reproducible), hence the same code hash.
    let before = lambda.get_function_configuration().function_name("lakehouse-ci-healer").send().await.unwrap();
    let second = lakechaos(
        moto.endpoint(),
        &[
            "deploy",
            "--name",
            "lakehouse-ci",
            "--bin-dir",
            &bin_dir,
            "--out",
            out_dir,
            "--healer-env",
            "LAKEHEALER_LAKE=s3://curated/v2",
        ],
    );
    assert!(second.status.success(), "{}", text(&second));
    assert!(text(&second).contains("updated lakehouse-ci-healer"), "{}", text(&second));
    let after = lambda.get_function_configuration().function_name("lakehouse-ci-healer").send().await.unwrap();
    assert_eq!(after.role, before.role);
    assert_eq!(after.code_sha256, before.code_sha256);
    let vars = after.environment.and_then(|e| e.variables).unwrap_or_default();
    assert_eq!(vars.get("LAKEHEALER_LAKE").map(String::as_str), Some("s3://curated/v2"));
    assert!(!vars.contains_key("LAKEHEALER_CATALOG"), "the environment is replaced, not merged: {vars:?}");
    let chaos = lambda.get_function_configuration().function_name("lakehouse-ci-chaos").send().await.unwrap();
    let vars = chaos.environment.and_then(|e| e.variables).unwrap_or_default();
    assert_eq!(vars.get("LAKECHAOS_BUCKET").map(String::as_str), Some("curated"), "no --chaos-env: kept as it was");

    // Staged through S3 (as a zip over the direct-upload limit must be): the code lands in the
    // code bucket under the function's name, and the function runs that zip.
    let code_bucket = lakechaos_lake::S3Store::connect(&conn, "lambda-code", "").await;
    code_bucket.ensure_bucket(false).await.unwrap();
    let staged = lakechaos(
        moto.endpoint(),
        &["deploy", "--name", "lakehouse-ci", "--bin-dir", &bin_dir, "--out", out_dir, "--code-bucket", "lambda-code"],
    );
    assert!(staged.status.success(), "{}", text(&staged));
    assert!(
        text(&staged).contains("staged at s3://lambda-code/lakechaos-deploy/lakehouse-ci-healer/"),
        "{}",
        text(&staged)
    );
    let staged_keys: Vec<String> =
        lakechaos_lake::ObjectStore::list(&code_bucket, "").await.unwrap().into_iter().map(|o| o.key).collect();
    assert_eq!(staged_keys.len(), 2, "{staged_keys:?}");
    for (name, zip) in [("lakehouse-ci-healer", &healer_zip), ("lakehouse-ci-chaos", &chaos_zip)] {
        let f = lambda.get_function_configuration().function_name(name).send().await.unwrap();
        assert_eq!(f.code_sha256.as_deref(), Some(code_sha256(&std::fs::read(zip).unwrap()).as_str()), "{name}");
        // This build's zips, against Lambda's unzipped limit (checked by deploy before uploading).
        let unzipped = lakechaos::ops::lambda::deploy::unzipped_size(&std::fs::read(zip).unwrap()).unwrap();
        assert!(unzipped <= lakechaos::ops::lambda::deploy::UNZIPPED_LIMIT, "{name}: {unzipped} bytes unzipped");
    }

    // `--zip-only` creates nothing; a new function without its role is refused (exit 2).
    let zips = lakechaos(
        moto.endpoint(),
        &["deploy", "--name", "other", "--bin-dir", &bin_dir, "--out", out_dir, "--zip-only"],
    );
    assert!(zips.status.success(), "{}", text(&zips));
    assert!(lambda.get_function().function_name("other-healer").send().await.is_err());
    let refused = lakechaos(moto.endpoint(), &["deploy", "--name", "other", "--bin-dir", &bin_dir, "--out", out_dir]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("other-healer") && text(&refused).contains("role"), "{}", text(&refused));
    assert!(lambda.get_function().function_name("other-healer").send().await.is_err());

    // A missing executable is named.
    let missing = lakechaos(moto.endpoint(), &["deploy", "--name", "x", "--bin-dir", out_dir, "--zip-only"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("lakehealer-lambda"), "{}", text(&missing));
}
