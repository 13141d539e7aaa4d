//! Operations around the loop: scheduled game days, the Lambda functions (chaos injector,
//! game-day verification) and their deploy, and benchmarks.

pub mod bench;
pub mod gameday;
pub mod lambda;
pub mod scan_bench;
