//! Before existing-table mode writes anything: every scenario must be meant for it (no fixture,
//! unless `--ignore-fixture`), its fault must name columns the table has, and the fault the seed
//! plans must stay within the blast radius. Each scenario is planned (read-only) against the
//! table as found; the plans are also what `--dry-run` lists. Any refusal names the scenario's
//! `file:line:col`, and the command exits 2 with nothing written.

use crate::method::{Method, Target};
use crate::scenario::{Capability, Scenario};
use crate::targets::existing::{ExistingError, ExistingTable};
use lakechaos_faults::GroundTruth;
use lakechaos_lake::TableDef;
use serde::Serialize;

/// What one scenario would touch.
#[derive(Clone, Debug, Serialize)]
pub struct Draft {
    pub scenario: String,
    /// The fault as planned by the run's seed.
    pub ground_truth: GroundTruth,
}

/// What `--dry-run` prints in existing-table mode.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub lake: String,
    pub catalog: String,
    pub table: String,
    pub rows: u64,
    pub partitions: usize,
    pub max_partitions: u32,
    pub max_rows_fraction: f64,
    /// Every object key, partition and catalog entry each scenario would touch.
    pub scenarios: Vec<Draft>,
    /// Scenarios that would be reported skipped, with why.
    pub skipped: Vec<(String, String)>,
}

/// Why existing-table mode refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Existing(#[from] ExistingError),
    #[error("{}", .0.join("\nerror: "))]
    Scenarios(Vec<String>),
    #[error("table {table} is not clean, so nothing is injected into it: {}", problems.join("; "))]
    Dirty { table: String, problems: Vec<String> },
}

/// Scenarios that have a fixture in fixture mode, or lack one in existing-table mode.
pub fn fixture_mismatches(scenarios: &[Scenario], existing: bool, ignore_fixture: bool) -> Vec<String> {
    scenarios
        .iter()
        .filter_map(|s| match (s.fixture_at.is_some(), existing) {
            (true, true) if !ignore_fixture => Some(format!(
                "{}: scenario {} seeds a fixture; against an existing table it is refused (pass --ignore-fixture to break the table with its fault alone)",
                s.fixture_location(),
                s.name
            )),
            (false, false) => Some(format!(
                "{}: scenario {} has no fixture: it breaks an existing table (run it with --lake … --table …)",
                s.fixture_location(),
                s.name
            )),
            _ => None,
        })
        .collect()
}

/// Checks every scenario against the table and plans it (nothing is written).
pub async fn preflight(
    scenarios: &[Scenario],
    table: &ExistingTable,
    seed: u64,
    ignore_fixture: bool,
) -> Result<Manifest, Refusal> {
    let mismatched = fixture_mismatches(scenarios, true, ignore_fixture);
    if !mismatched.is_empty() {
        return Err(Refusal::Scenarios(mismatched));
    }
    if table.is_postgres() {
        table.check_unclaimed().await?;
        return preflight_postgres(scenarios, table, seed).await;
    }
    if table.is_iceberg() {
        return preflight_iceberg(scenarios, table, seed).await;
    }
    // The guard first (on AWS nothing is read before the account is checked), then the claim.
    let (lake, _aws) = table.preflight().await?;
    table.check_unclaimed().await?;
    let (seeded, snapshot) = lakechaos_fixtures::snapshot_table(&lake, &table.table)
        .await
        .map_err(|e| Refusal::Scenarios(vec![format!("reading table {}: {e}", table.table)]))?;
    let grants = if table.grants_unavailable().is_none() { table.declared_grants()? } else { Vec::new() };
    let mut dirty = dirt(&lake, &seeded, &snapshot).await.map_err(|e| Refusal::Scenarios(vec![e]))?;
    if let Some(lf) = lake.grants.as_ref() {
        for grant in &grants {
            let missing = lf.missing(grant).await.map_err(|e| Refusal::Scenarios(vec![e.to_string()]))?;
            if !missing.is_empty() {
                dirty.push(format!("the declared grant {} lacks {}", grant.location(), missing.join(",")));
            }
        }
    }
    if !dirty.is_empty() {
        return Err(Refusal::Dirty { table: table.table.clone(), problems: dirty });
    }
    let at = Target { lake: &lake, address: &table.address, catalog: &table.catalog };
    draft_all(scenarios, table, seed, &at, &snapshot.table, &grants, seeded.golden.total_rows()).await
}

/// Plans every scenario against the table (`def`, holding `rows` rows), read-only: a scenario
/// needing what the table lacks is listed skipped; one whose fault names columns the table
/// lacks, or exceeds the blast radius, refuses the run.
async fn draft_all(
    scenarios: &[Scenario],
    table: &ExistingTable,
    seed: u64,
    at: &Target<'_>,
    def: &TableDef,
    grants: &[lakechaos_lake::Grant],
    rows: u64,
) -> Result<Manifest, Refusal> {
    let mut manifest = Manifest {
        lake: table.address.clone(),
        catalog: table.catalog.clone(),
        table: table.table.clone(),
        rows,
        partitions: def.partitions.len(),
        max_partitions: table.radius.max_partitions,
        max_rows_fraction: table.radius.max_rows_fraction,
        scenarios: Vec::new(),
        skipped: Vec::new(),
    };
    let lacking = table.lacking();
    let mut refused = Vec::new();
    for s in scenarios {
        if let Some(why) = missing_need(s, &lacking) {
            manifest.skipped.push((s.name.clone(), why));
            continue;
        }
        if let Err(why) = check_columns(s, def) {
            refused.push(why);
            continue;
        }
        match (Method { scenario: s, seed }).draft(at, def, grants).await {
            Ok(plan) => match table.radius.exceeded_by(&plan.ground_truth, manifest.rows) {
                Some(why) => {
                    refused.push(format!("{}: fault ({}): refused: {why}", s.fault_location(), s.fault.class()))
                }
                None => manifest.scenarios.push(Draft { scenario: s.name.clone(), ground_truth: plan.ground_truth }),
            },
            Err(e) => refused.push(e.source.to_string()),
        }
    }
    if refused.is_empty() {
        Ok(manifest)
    } else {
        Err(Refusal::Scenarios(refused))
    }
}

/// [`preflight`] on an Iceberg table: the table is snapshotted through its current snapshot,
/// must be clean by the harness's own reading (every live file readable, null shares within
/// the contract) and by the Iceberg healer's read-only detection (metadata tree whole, schema
/// on contract), and each scenario is planned against its current snapshot.
async fn preflight_iceberg(scenarios: &[Scenario], table: &ExistingTable, seed: u64) -> Result<Manifest, Refusal> {
    let (lake, _aws) = table.preflight().await?;
    table.check_unclaimed().await?;
    let iceberg = table.iceberg_table(&lake)?;
    let reading = |e: String| Refusal::Scenarios(vec![format!("reading Iceberg table {}: {e}", table.table)]);
    let (golden, found) = lakechaos_fixtures::snapshot_iceberg(&iceberg).await.map_err(|e| reading(e.to_string()))?;
    let mut dirty: Vec<String> = found.unreadable.iter().map(|f| format!("unreadable: {f}")).collect();
    let config = lakehealer::iceberg::IcebergHealerConfig {
        mode: lakehealer::Mode::DetectOnly,
        ..lakehealer::iceberg::IcebergHealerConfig::default()
    };
    let healer =
        lakehealer::iceberg::IcebergHealer::new(lake.clone(), &table.table, config, lakehealer::events::discard())
            .map_err(|e| reading(e.to_string()))?;
    let findings = healer.scan().await.map_err(|e| reading(e.to_string()))?;
    dirty.extend(findings.iter().map(|f| format!("{} at {}", f.kind, f.location)));
    dirty.extend(null_share_problems(&golden, &golden.contract));
    if !dirty.is_empty() {
        return Err(Refusal::Dirty { table: table.table.clone(), problems: dirty });
    }
    undeclared_contract(scenarios, table, &iceberg).await?;
    let def = crate::backend::iceberg::table_def(&iceberg).await.map_err(reading)?;
    let at = Target { lake: &lake, address: &table.address, catalog: &table.catalog };
    draft_all(scenarios, table, seed, &at, &def, &[], golden.total_rows()).await
}

/// What is wrong with the table before anything breaks it, by the harness's own reading (the
/// healer is not asked here: its scan would write its inventory): unreadable or off-contract
/// files, catalog declarations off the contract, registered partitions without data, null
/// shares above the contract's allowance.
async fn dirt(
    lake: &lakechaos_lake::Lake,
    found: &lakechaos_fixtures::SeededTable,
    snapshot: &lakechaos_fixtures::TableSnapshot,
) -> Result<Vec<String>, String> {
    let mut problems: Vec<String> = snapshot.unreadable.iter().map(|f| format!("unreadable: {f}")).collect();
    let v = lakechaos_fixtures::manifest::Verifier::new(found.golden.clone())
        .verify(lake)
        .await
        .map_err(|e| format!("reading table {}: {e}", found.table.name))?;
    problems.extend(v.nonconforming_files.iter().map(|f| format!("off contract: {f}")));
    if let Some(drift) = &v.declared_drift {
        problems.push(format!("the catalog declares columns off the contract: {drift}"));
    }
    problems.extend(null_share_problems(&found.golden, &found.table.columns));
    Ok(problems)
}

/// Partitions of `golden` that hold no rows, or whose null shares exceed the allowance
/// `columns` give.
fn null_share_problems(
    golden: &lakechaos_fixtures::GoldenManifest,
    columns: &[lakechaos_lake::ColumnDef],
) -> Vec<String> {
    let mut problems = Vec::new();
    for (partition, digest) in &golden.partitions {
        if digest.rows == 0 {
            problems.push(format!("partition {partition} is registered but has no rows"));
            continue;
        }
        for c in columns {
            let nulls = digest.null_counts.get(&c.name).copied().unwrap_or(0);
            // The healer's own test of a null share against the contract's allowance.
            if lakehealer::detect::null_stats::over_allowance(&c.name, nulls, digest.rows, c.max_null_fraction)
                .is_some()
            {
                problems.push(format!(
                    "{partition}: {nulls} of {} values of {} are null, above the contract's {:.0}%",
                    digest.rows,
                    c.name,
                    c.max_null_fraction * 100.0
                ));
            }
        }
    }
    problems
}

/// [`preflight`] on a PostgreSQL table: the healer's own read-only detection must find nothing,
/// and each fault's SQL is planned (not run) and held to the blast radius by the rows of the
/// days it touches.
async fn preflight_postgres(scenarios: &[Scenario], table: &ExistingTable, seed: u64) -> Result<Manifest, Refusal> {
    use lakechaos_faults::pg as pg_faults;
    use rand::SeedableRng;
    let (client, layout) = table.postgres().await?;
    let reading = |e: String| Refusal::Scenarios(vec![format!("reading {}: {e}", layout.served())]);
    let seeded = lakechaos_fixtures::snapshot_postgres(&client, &table.address, &layout)
        .await
        .map_err(|e| reading(e.to_string()))?;
    let found = lakehealer::pg::detect::detect(&client, &layout).await.map_err(|e| reading(e.to_string()))?;
    if !found.findings.is_empty() {
        let problems = found.findings.iter().map(|f| format!("{} at {}", f.finding.kind, f.finding.location)).collect();
        return Err(Refusal::Dirty { table: layout.served(), problems });
    }
    let rows = seeded.golden.total_rows();
    let mut manifest = Manifest {
        lake: lakechaos_lake::pg::redact(&table.address),
        catalog: "postgres".into(),
        table: layout.served(),
        rows,
        partitions: seeded.days.len(),
        max_partitions: table.radius.max_partitions,
        max_rows_fraction: table.radius.max_rows_fraction,
        scenarios: Vec::new(),
        skipped: Vec::new(),
    };
    let pg_table = pg_faults::PgTable {
        layout: layout.clone(),
        days: seeded.days.clone(),
        key: seeded.key.clone(),
        contract: seeded.golden.contract.clone(),
    };
    let mut refused = Vec::new();
    for s in scenarios {
        if let Some(why) = pg_faults::skip_reason(&s.fault) {
            manifest.skipped.push((s.name.clone(), why));
            continue;
        }
        if let Err(why) = s.fault.fault().check_contract(&pg_table.contract) {
            refused.push(format!(
                "{}: fault ({}): {why} (table {})",
                s.fault_location(),
                s.fault.class(),
                layout.served()
            ));
            continue;
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(s.stream_seed(seed, "fault"));
        match pg_faults::plan(&s.fault, &pg_table, &mut rng, "1") {
            Ok(plan) => match table.radius.exceeded_by_days(&plan.ground_truth, &seeded.golden) {
                Some(why) => {
                    refused.push(format!("{}: fault ({}): refused: {why}", s.fault_location(), s.fault.class()))
                }
                None => manifest.scenarios.push(Draft { scenario: s.name.clone(), ground_truth: plan.ground_truth }),
            },
            Err(e) => refused.push(format!("{}: {e}", s.fault_location())),
        }
    }
    if refused.is_empty() {
        Ok(manifest)
    } else {
        Err(Refusal::Scenarios(refused))
    }
}

/// Refuses null floods and schema drifts on an Iceberg table that declares no contract, and
/// partition deletes on one that declares no landing copy: its healer would take them for
/// intended changes, so the scenario could only fail.
async fn undeclared_contract(
    scenarios: &[Scenario],
    table: &ExistingTable,
    iceberg: &lakechaos_lake::iceberg::IcebergTable,
) -> Result<(), Refusal> {
    use lakechaos_faults::FaultClass;
    use lakechaos_lake::iceberg::{CONTRACT_SCHEMA_PROPERTY, LANDING_PROPERTY};
    let base = iceberg.current().await.map_err(|e| Refusal::Scenarios(vec![e.to_string()]))?;
    let declares = |property: &str| base.metadata.properties().contains_key(property);
    let refused: Vec<String> = scenarios
        .iter()
        .filter_map(|s| {
            let why = match s.fault.class() {
                FaultClass::NullFlood | FaultClass::SchemaDrift if !declares(CONTRACT_SCHEMA_PROPERTY) => format!(
                    "declares no contract, so no healer can tell this fault from an intended change; declare it first \
                     with `lakehealer discover --lake {} --catalog {} --table {}` (one metadata commit of table properties)",
                    table.address, table.catalog, table.table
                ),
                FaultClass::MissingPartition if !declares(LANDING_PROPERTY) => format!(
                    "declares no landing copy (table property {LANDING_PROPERTY}), so a commit deleting a partition is an \
                     intended delete to any healer and there is nothing to restore it from"
                ),
                _ => return None,
            };
            Some(format!("{}: fault ({}): Iceberg table {} {why}", s.fault_location(), s.fault.class(), table.table))
        })
        .collect();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Scenarios(refused))
    }
}

/// Why a scenario is skipped on this table: the first of its needs the table lacks.
fn missing_need(s: &Scenario, lacking: &[(Capability, String)]) -> Option<String> {
    s.needs
        .iter()
        .find_map(|need| lacking.iter().find(|(c, _)| c == need).map(|(c, why)| format!("needs {}: {why}", c.name())))
}

/// The fault's columns against the table's real contract.
fn check_columns(s: &Scenario, table: &TableDef) -> Result<(), String> {
    s.fault
        .fault()
        .check_contract(&table.columns)
        .map_err(|e| format!("{}: fault ({}): {e} (table {})", s.fault_location(), s.fault.class(), table.name))
}
