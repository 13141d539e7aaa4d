//! Which healer the harness scores. The harness always verifies the lake itself; what changes
//! is who heals, and whether the healer's incidents can be seen.

use std::str::FromStr;

/// Who heals the lake while the harness observes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealerChoice {
    /// The healer library, running inside the harness (its events are observed directly).
    #[default]
    Bundled,
    /// Someone else heals: a deployed healer function, a `lakehealer watch` running elsewhere,
    /// a team's own remediation job. The harness injects and verifies; it sees incidents only
    /// through `--incident-topic`.
    External,
    /// The bundled healer runs detect-only (`--no-heal`): every repair expectation must fail.
    None,
}

impl HealerChoice {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            HealerChoice::Bundled => "bundled",
            HealerChoice::External => "external",
            HealerChoice::None => "none",
        }
    }

    /// Whether the harness runs the healer itself (detect-only for `none`).
    pub fn runs_in_process(self) -> bool {
        self != HealerChoice::External
    }
}

impl FromStr for HealerChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bundled" => Ok(HealerChoice::Bundled),
            "external" => Ok(HealerChoice::External),
            "none" => Ok(HealerChoice::None),
            other => Err(format!("unknown healer {other:?}: expected bundled, external or none")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for choice in [HealerChoice::Bundled, HealerChoice::External, HealerChoice::None] {
            assert_eq!(choice.name().parse::<HealerChoice>().unwrap(), choice);
        }
        assert!("deployed".parse::<HealerChoice>().unwrap_err().contains("expected bundled, external or none"));
    }
}
