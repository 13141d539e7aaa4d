//! The Terraform side: `fmt -check`, `validate`, `terraform test` (mocked provider) of the
//! `lakehouse` module, and an `apply` then `destroy` of `terraform/examples/staging` against a
//! real moto server. Terraform runs offline from the provider mirror the machine carries
//! (`$LAKECHAOS_TF_PLUGINS`, default `/opt/tf-plugins`), in a copy of `terraform/` so the
//! repository gets no `.terraform` state.

mod common;

use common::{on_path, repo_root};
use lakechaos::targets::provision::LocalProcess;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Workspace {
    _dir: tempfile::TempDir,
    root: PathBuf,
    cli_config: PathBuf,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".terraform"
            || name == ".terraform.lock.hcl"
            || name.to_string_lossy().starts_with("terraform.tfstate")
        {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

impl Workspace {
    fn new() -> Self {
        let plugins = std::env::var("LAKECHAOS_TF_PLUGINS").unwrap_or_else(|_| "/opt/tf-plugins".into());
        assert!(
            Path::new(&plugins).join("registry.terraform.io/hashicorp/aws").is_dir(),
            "no offline copy of the hashicorp/aws provider under {plugins} (set LAKECHAOS_TF_PLUGINS)"
        );
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("terraform");
        copy_dir(&repo_root().join("terraform"), &root);
        let cli_config = dir.path().join("terraformrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{plugins}\"\n    include = [\"registry.terraform.io/*/*\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/*/*\"]\n  }}\n}}\n"
            ),
        )
        .unwrap();
        Workspace { _dir: dir, root, cli_config }
    }

    fn terraform(&self, dir: &str, args: &[&str]) -> Output {
        Command::new(on_path("terraform"))
            .args(args)
            .current_dir(self.root.join(dir))
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }

    fn ok(&self, dir: &str, args: &[&str]) -> String {
        let out = self.terraform(dir, args);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "terraform {args:?} in {dir} failed:\n{text}");
        text
    }
}

#[test]
fn the_module_is_formatted_valid_and_passes_its_tests() {
    let ws = Workspace::new();
    ws.ok(".", &["fmt", "-check", "-recursive", "-diff"]);
    for dir in ["modules/lakehouse", "examples/staging"] {
        ws.ok(dir, &["init", "-backend=false", "-no-color"]);
        ws.ok(dir, &["validate", "-no-color"]);
    }
    let out = ws.ok("modules/lakehouse", &["test", "-no-color"]);
    assert!(out.contains("6 passed, 0 failed"), "{out}");

    // The checks can fail: a healer policy that reaches outside the lake, and a scoring step
    // that reads the whole quarantine bucket, are caught.
    let iam = ws.root.join("modules/lakehouse/iam.tf");
    let text = std::fs::read_to_string(&iam).unwrap();
    let widened = text.replacen(
        "Resource = local.lake_object_arns",
        "Resource = concat(local.lake_object_arns, [\"arn:aws:s3:::someone-elses-bucket/*\"])",
        1,
    );
    assert_ne!(text, widened, "the healer's object statement moved; update this test");
    let chaos_read = "Resource = \"${local.bucket_arn[\"quarantine\"]}/${local.gameday_prefix}/*\"";
    assert!(widened.contains(chaos_read), "the scoring step's quarantine statement moved; update this test");
    let widened = widened.replacen(chaos_read, "Resource = \"${local.bucket_arn[\"quarantine\"]}/*\"", 1);
    std::fs::write(&iam, widened).unwrap();
    let out = ws.terraform("modules/lakehouse", &["test", "-no-color"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success() && text.contains("\"the_healer_cannot_write_outside_the_lake\"... fail"), "{text}");
    assert!(text.contains("\"the_scoring_step_is_wired_and_confined_to_game_days\"... fail"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staging_example_applies_and_destroys_on_moto() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("{e}"));
    let ws = Workspace::new();
    let zip = ws.root.join("modules/lakehouse/tests/placeholder.zip");
    let vars = [
        format!("-var=aws_endpoint={}", moto.endpoint()),
        format!("-var=healer_zip={}", zip.display()),
        format!("-var=chaos_zip={}", zip.display()),
        "-var=name=lc-ci".to_string(),
    ];
    let with_vars =
        |base: &[&'static str]| -> Vec<&str> { base.iter().copied().chain(vars.iter().map(String::as_str)).collect() };
    ws.ok("examples/staging", &["init", "-no-color"]);
    ws.ok("examples/staging", &with_vars(&["apply", "-auto-approve", "-no-color"]));

    // What the stack created, read back from moto.
    let outputs: serde_json::Value =
        serde_json::from_str(&ws.ok("examples/staging", &["output", "-json", "-no-color"])).unwrap();
    let buckets = &outputs["buckets"]["value"];
    for zone in ["raw", "curated", "quarantine"] {
        assert_eq!(buckets[zone], format!("lc-ci-{zone}-123456789012"), "{outputs}");
    }
    let database = outputs["glue_database"]["value"].as_str().unwrap().to_string();
    let conn = lakechaos_lake::AwsConnection::emulator(moto.endpoint());
    let glue = aws_sdk_glue::Client::new(&conn.sdk_config().await);
    let table = glue.get_table().database_name(&database).name("orders").send().await.unwrap();
    let columns = table.table().unwrap().storage_descriptor().unwrap().columns().len();
    assert_eq!(columns, 6, "the orders contract");
    let state = ws.ok("examples/staging", &["state", "list"]);
    for resource in [
        "aws_lambda_function.healer",
        "aws_lambda_function.chaos",
        "aws_scheduler_schedule.gameday",
        "aws_scheduler_schedule.reconcile",
        "aws_glue_crawler.curated",
        "aws_lakeformation_resource.curated",
        "aws_cloudwatch_event_target.healer_queue",
        "aws_cloudwatch_metric_alarm.queue_age",
    ] {
        assert!(state.contains(resource), "{resource} not in state:\n{state}");
    }

    // The functions Terraform created take this build's zips from `lakechaos deploy`, keeping the
    // role and the environment Terraform gave them.
    let healer_bin = common::workspace_bin("lakehealer", "lakehealer-lambda");
    let bin_dir = healer_bin.parent().unwrap().to_str().unwrap().to_string();
    let zips = tempfile::tempdir().unwrap();
    let deployed = common::lakechaos_against(
        moto.endpoint(),
        &["deploy", "--name", "lc-ci", "--bin-dir", &bin_dir, "--out", zips.path().to_str().unwrap()],
    );
    let said = format!("{}{}", String::from_utf8_lossy(&deployed.stdout), String::from_utf8_lossy(&deployed.stderr));
    assert!(
        deployed.status.success() && said.contains("updated lc-ci-healer") && said.contains("updated lc-ci-chaos"),
        "{said}"
    );
    let lambda = aws_sdk_lambda::Client::new(&conn.sdk_config().await);
    let healer = lambda.get_function_configuration().function_name("lc-ci-healer").send().await.unwrap();
    assert!(healer.role.as_deref().unwrap_or_default().ends_with(":role/lc-ci-healer"), "{:?}", healer.role);
    let zip = std::fs::read(zips.path().join("healer.zip")).unwrap();
    assert_eq!(healer.code_sha256.as_deref(), Some(lakechaos::ops::lambda::deploy::code_sha256(&zip).as_str()));
    let vars = healer.environment.and_then(|e| e.variables).unwrap_or_default();
    assert_eq!(vars.get("LAKEHEALER_QUARANTINE").map(String::as_str), Some("s3://lc-ci-quarantine-123456789012"));
    let policy: lakehealer::governance::Policy = serde_json::from_str(&vars["LAKEHEALER_LF_POLICY"]).unwrap();
    assert_eq!(policy.grants.len(), 3, "database, orders, data location: {policy:?}");

    // moto never answers that Lake Formation permissions were revoked, so destroying them loops
    // until the provider's timeout: forget them first (moto's own state goes with the server).
    for line in state.lines().filter(|l| l.contains("aws_lakeformation_permissions")) {
        ws.ok("examples/staging", &["state", "rm", line.trim()]);
    }
    ws.ok("examples/staging", &with_vars(&["destroy", "-auto-approve", "-no-color"]));
    assert!(ws.ok("examples/staging", &["state", "list"]).trim().is_empty(), "resources left after destroy");
    let gone = glue.get_database().name(&database).send().await;
    assert!(gone.is_err(), "the Glue database survived destroy");
}

#[test]
fn checkov_finds_nothing_unexplained() {
    let ws = Workspace::new();
    let checkov = common::setup_tool(".venv-checkov/bin/checkov", "checkov");
    let run = |dir: &Path| {
        let out = Command::new(&checkov)
            .args(["--framework", "terraform", "--skip-download", "--compact", "--quiet", "-o", "cli", "-d"])
            .arg(dir)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, out) = run(&ws.root);
    assert_eq!(code, Some(0), "checkov reports findings:\n{out}");
    assert!(out.contains("Failed checks: 0"), "{out}");

    // Every skip says why, in a sentence.
    for entry in walk(&ws.root.join("modules")) {
        for line in std::fs::read_to_string(&entry).unwrap().lines().filter(|l| l.contains("#checkov:skip=")) {
            let reason =
                line.split_once("#checkov:skip=").unwrap().1.split_once(':').map(|(_, r)| r.trim()).unwrap_or("");
            assert!(reason.len() >= 30, "{}: a skip without a reason: {line}", entry.display());
        }
    }

    // The scan has teeth: an unencrypted queue is a finding.
    std::fs::write(
        ws.root.join("modules/lakehouse/plain_queue.tf"),
        "resource \"aws_sqs_queue\" \"plain\" {\n  name = \"plain\"\n}\n",
    )
    .unwrap();
    let (code, out) = run(&ws.root);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("aws_sqs_queue.plain"), "{out}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "tf") {
            files.push(path);
        }
    }
    files
}
