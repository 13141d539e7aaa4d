//! Reports: JUnit XML for CI dashboards, JSON for tools, a table for people.

pub mod json;
pub mod junit;
pub mod summary;
