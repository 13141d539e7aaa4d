//! The registry: maps a scenario's `fault.kind` to the family that implements it. A family is
//! registered by one entry in the [`faults!`](crate::faults) list in `lib.rs`; this file
//! generates, from that list, the class enum ([`FaultClass`](crate::FaultClass)), the scenario's
//! fault enum ([`FaultSpec`](crate::FaultSpec)) and its located deserializer.

/// Declares the fault families. Each entry is
/// `module::Type => Variant, "kind", reported as "healer kind";` where `kind` is the scenario's
/// `fault.kind` (and the class in reports) and `healer kind` the `kind` a healer's incident has
/// when it reports this damage.
#[macro_export]
#[doc(hidden)]
macro_rules! faults {
    ($( $(#[$doc:meta])* $module:ident :: $ty:ident => $variant:ident, $name:literal, reported as $reported:literal; )+) => {
        $( pub mod $module; )+

        /// The classes of damage a healer is scored on. Serialized names are the scenario kinds.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum FaultClass {
            $( $(#[$doc])* #[serde(rename = $name)] $variant, )+
        }

        impl FaultClass {
            /// Every class, in registry order.
            pub const ALL: &'static [FaultClass] = &[$(FaultClass::$variant),+];

            /// The snake_case name used in scenarios and reports.
            pub fn as_str(self) -> &'static str {
                match self { $( FaultClass::$variant => $name, )+ }
            }

            /// The `kind` of a healer incident that reports this damage.
            pub fn incident_kind(self) -> &'static str {
                match self { $( FaultClass::$variant => $reported, )+ }
            }
        }

        /// A fault as a scenario declares it (`fault:` in YAML), selected by `kind`, which must be
        /// the first key of the mapping.
        #[derive(Clone, Debug, PartialEq, serde::Serialize)]
        #[serde(tag = "kind")]
        pub enum FaultSpec {
            $( $(#[$doc])* #[serde(rename = $name)] $variant($module::$ty), )+
        }

        impl FaultSpec {
            /// The family behind the spec.
            pub fn fault(&self) -> &dyn $crate::Fault {
                match self { $( FaultSpec::$variant(f) => f, )+ }
            }

            /// One fault of every mode of every family (see [`Fault::examples`]).
            pub fn examples(select: &$crate::select::Selection) -> Vec<FaultSpec> {
                let mut all = Vec::new();
                $( all.extend(<$module::$ty as $crate::Fault>::examples(select).into_iter().map(FaultSpec::$variant)); )+
                all
            }

            fn deserialize_rest<'de, A: serde::de::MapAccess<'de>>(kind: FaultClass, map: A) -> Result<FaultSpec, A::Error> {
                let rest = serde::de::value::MapAccessDeserializer::new(map);
                Ok(match kind { $( FaultClass::$variant => FaultSpec::$variant(serde::Deserialize::deserialize(rest)?), )+ })
            }
        }
    };
}

use crate::{FaultClass, FaultContext, FaultError, FaultPlan, FaultSpec, Footprint, InvalidParameter};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

impl std::fmt::Display for FaultClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FaultSpec {
    /// The class the healer is scored on.
    pub fn class(&self) -> FaultClass {
        self.fault().class()
    }

    /// The mode within the class, as written in the scenario.
    pub fn mode(&self) -> String {
        self.fault().mode()
    }

    /// See [`Fault::footprint`].
    pub fn footprint(&self) -> Option<Footprint> {
        self.fault().footprint()
    }

    /// See [`Fault::validate`].
    pub fn validate(&self) -> Result<(), InvalidParameter> {
        self.fault().validate()
    }

    /// Plans the fault against the lake; nothing is changed.
    pub async fn plan(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
        self.fault().plan(ctx).await
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
                FaultSpec::deserialize_rest(kind, map)
            }
        }
        deserializer.deserialize_map(FaultVisitor)
    }
}
