//! Reports: JUnit XML for CI dashboards, JSON for tools, a table and an HTML page for people.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod summary;
