//! Maps a scenario's `fault.kind` to the fault that implements it. Adding a fault family is one
//! file plus one variant here and one arm in [`FaultSpec::plan`].

use crate::select::Selection;
use crate::{FaultClass, FaultContext, FaultError, FaultPlan};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// A fault as a scenario declares it (`fault:` in YAML), selected by `kind`, which must be the
/// first key of the mapping.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultSpec {
    /// Columns added, dropped, renamed or retyped in some data files.
    SchemaDrift(crate::schema_drift::SchemaDrift),
    /// Data files damaged at the byte level.
    CorruptParquet(crate::corrupt_parquet::CorruptParquet),
    /// A share of one column's values replaced by nulls (still valid Parquet).
    NullFlood(crate::null_flood::NullFlood),
    /// A partition's data files, its catalog entry, or both, gone.
    MissingPartition(crate::missing_partition::MissingPartition),
}

impl FaultSpec {
    /// One fault of every mode (both magic ends; a flood of `customer_id`), each touching
    /// `select` of the table (missing partitions take `select.partitions`): the catalog's
    /// coverage, for tests and examples.
    pub fn examples(select: &Selection) -> Vec<FaultSpec> {
        use crate::corrupt_parquet::{CorruptMode, CorruptParquet, MagicEnd};
        use crate::missing_partition::{MissingMode, MissingPartition};
        use crate::null_flood::NullFlood;
        use crate::schema_drift::{DriftMode, DriftScope, SchemaDrift};
        let mut specs = Vec::new();
        for mode in [DriftMode::AddColumn, DriftMode::DropColumn, DriftMode::RenameColumn, DriftMode::ChangeType] {
            let select = select.clone();
            specs.push(FaultSpec::SchemaDrift(SchemaDrift {
                mode,
                column: None,
                new_name: None,
                new_type: None,
                select,
                scope: DriftScope::Files,
            }));
        }
        specs.push(FaultSpec::SchemaDrift(SchemaDrift {
            mode: DriftMode::ChangeType,
            column: None,
            new_name: None,
            new_type: None,
            select: Selection::default(),
            scope: DriftScope::Catalog,
        }));
        let corrupt = [
            (CorruptMode::TruncateTail, None),
            (CorruptMode::BadMagic, Some(MagicEnd::Tail)),
            (CorruptMode::BadMagic, Some(MagicEnd::Head)),
            (CorruptMode::CorruptFooterLength, None),
            (CorruptMode::BitFlipPage, None),
            (CorruptMode::ZeroByte, None),
        ];
        for (mode, at) in corrupt {
            let select = select.clone();
            specs.push(FaultSpec::CorruptParquet(CorruptParquet { mode, bytes: None, bits: None, at, select }));
        }
        let select_flood = select.clone();
        specs.push(FaultSpec::NullFlood(NullFlood {
            column: Some("customer_id".into()),
            fraction: 0.5,
            select: select_flood,
        }));
        for mode in [MissingMode::Files, MissingMode::Catalog, MissingMode::Both] {
            specs.push(FaultSpec::MissingPartition(MissingPartition { mode, partitions: select.partitions }));
        }
        specs
    }

    /// The class the healer is scored on.
    pub fn class(&self) -> FaultClass {
        match self {
            FaultSpec::SchemaDrift(_) => FaultClass::SchemaDrift,
            FaultSpec::CorruptParquet(_) => FaultClass::CorruptParquet,
            FaultSpec::NullFlood(_) => FaultClass::NullFlood,
            FaultSpec::MissingPartition(_) => FaultClass::MissingPartition,
        }
    }

    /// The mode within the class, as written in the scenario.
    pub fn mode(&self) -> String {
        match self {
            FaultSpec::SchemaDrift(f) => crate::snake_name(&f.mode),
            FaultSpec::CorruptParquet(f) => crate::snake_name(&f.mode),
            FaultSpec::NullFlood(_) => "fraction".into(),
            FaultSpec::MissingPartition(f) => crate::snake_name(&f.mode),
        }
    }

    /// How much of the table the fault touches: (partitions, files per partition); `None` files
    /// for faults that take whole partitions.
    /// `None` for faults that touch no data (the catalog's declared schema).
    pub fn footprint(&self) -> Option<(u32, Option<u32>)> {
        Some(match self {
            FaultSpec::SchemaDrift(f) if f.scope == crate::schema_drift::DriftScope::Catalog => return None,
            FaultSpec::SchemaDrift(f) => (f.select.partitions, Some(f.select.files)),
            FaultSpec::CorruptParquet(f) => (f.select.partitions, Some(f.select.files)),
            FaultSpec::NullFlood(f) => (f.select.partitions, Some(f.select.files)),
            FaultSpec::MissingPartition(f) => (f.partitions, None),
        })
    }

    /// Checks parameters that serde cannot (ranges, combinations). `Err` names the field.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            FaultSpec::SchemaDrift(f) => f.validate(),
            FaultSpec::CorruptParquet(f) => f.validate(),
            FaultSpec::NullFlood(f) => f.validate(),
            FaultSpec::MissingPartition(f) => f.validate(),
        }
    }

    /// Plans the fault against the lake; nothing is changed.
    pub async fn plan(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
        match self {
            FaultSpec::SchemaDrift(f) => f.plan(ctx).await,
            FaultSpec::CorruptParquet(f) => f.plan(ctx).await,
            FaultSpec::NullFlood(f) => f.plan(ctx).await,
            FaultSpec::MissingPartition(f) => f.plan(ctx).await,
        }
    }
}

/// Reads `kind` first, then hands the rest of the same mapping to the family's own
/// (`deny_unknown_fields`) struct. Unlike serde's internally tagged enums, which buffer the
/// mapping and lose positions, this streams, so an unknown or mistyped field is reported at its
/// own line and column.
impl<'de> Deserialize<'de> for FaultSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FaultVisitor;
        impl<'de> Visitor<'de> for FaultVisitor {
            type Value = FaultSpec;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a fault mapping whose first key is `kind`")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FaultSpec, A::Error> {
                match map.next_key::<String>()?.as_deref() {
                    Some("kind") => {}
                    Some(other) => {
                        return Err(de::Error::custom(format!(
                            "expected `kind` as the first key of the fault, found `{other}`"
                        )))
                    }
                    None => return Err(de::Error::missing_field("kind")),
                }
                let kind: FaultClass = map.next_value()?;
                let rest = de::value::MapAccessDeserializer::new(map);
                Ok(match kind {
                    FaultClass::SchemaDrift => FaultSpec::SchemaDrift(Deserialize::deserialize(rest)?),
                    FaultClass::CorruptParquet => FaultSpec::CorruptParquet(Deserialize::deserialize(rest)?),
                    FaultClass::NullFlood => FaultSpec::NullFlood(Deserialize::deserialize(rest)?),
                    FaultClass::MissingPartition => FaultSpec::MissingPartition(Deserialize::deserialize(rest)?),
                })
            }
        }
        deserializer.deserialize_map(FaultVisitor)
    }
}
