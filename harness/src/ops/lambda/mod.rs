//! lakechaos on AWS Lambda: the chaos function (`lakechaos-chaos-lambda`), which seeds a
//! game-day lake and injects a named scenario's fault behind the aws target's guard, and, on
//! its own schedule, scores the game days whose deadline has passed; `lakechaos deploy`, which
//! zips both functions (the healer's is `lakehealer-lambda`) and creates or updates them; and
//! `lakechaos verify`, the harness's own check of game-day lakes.

pub mod chaos;
pub mod deploy;
pub mod injection;
pub mod ledger;
pub mod score;
pub mod score_lake;
pub mod verify;
