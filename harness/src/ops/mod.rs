//! Operations around the loop: scheduled game days, the Lambda functions (chaos injector,
//! game-day verification) and their deploy, benchmarks, and existing-table mode's checks
//! before anything is written.

pub mod bench;
pub mod existing;
pub mod gameday;
pub mod lambda;
pub mod scan_bench;
