//! The common JUnit XML format, checked as code: the structure Jenkins' junit-10.xsd defines
//! (testsuites > testsuite > testcase, their attributes and types, child order, counts that
//! agree with the cases), plus testcase-level `<properties>`, which the common format used by
//! GitLab, Jenkins' JUnit plugin and most report viewers reads but the stricter xunit schema
//! leaves out. Every departure is reported, not just the first.

use roxmltree::{Document, Node};

fn is_decimal(v: &str) -> bool {
    v.parse::<f64>().is_ok_and(|x| x.is_finite() && x >= 0.0) && !v.contains(['e', 'E'])
}

fn is_count(v: &str) -> bool {
    v.parse::<u64>().is_ok()
}

/// ISO 8601 date-time, with or without an offset (`2026-11-29T05:59:47.328+00:00`).
fn is_timestamp(v: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(v).is_ok()
        || chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

/// An optional attribute and the check its value must pass.
type Optional<'a> = (&'a str, fn(&str) -> bool);

struct Checker {
    problems: Vec<String>,
}

impl Checker {
    fn at(&self, n: Node) -> String {
        let name = n.attribute("name").map(|v| format!("[name={v:?}]")).unwrap_or_default();
        format!("<{}{name}>", n.tag_name().name())
    }

    fn attributes(&mut self, n: Node, required: &[&str], optional: &[Optional]) {
        for r in required {
            if n.attribute(*r).is_none() {
                self.problems.push(format!("{} lacks the required attribute {r}", self.at(n)));
            }
        }
        for a in n.attributes() {
            let name = a.name();
            match optional.iter().find(|(o, _)| *o == name) {
                Some((_, valid)) => {
                    if !valid(a.value()) {
                        self.problems.push(format!("{}: {name}={:?} is not of its type", self.at(n), a.value()));
                    }
                }
                None if required.contains(&name) => {}
                None => self.problems.push(format!("{}: attribute {name} is not in the schema", self.at(n))),
            }
        }
    }

    /// Children must be elements among `allowed`, in that order; an element not marked
    /// repeatable may appear once.
    fn children(&mut self, n: Node, allowed: &[(&str, bool)]) {
        let mut last: Option<usize> = None;
        for c in n.children() {
            if c.is_comment() || c.is_text() && c.text().is_some_and(|t| t.trim().is_empty()) {
                continue;
            }
            if !c.is_element() {
                self.problems.push(format!("{} holds text outside its child elements", self.at(n)));
                continue;
            }
            let tag = c.tag_name().name();
            let Some(p) = allowed.iter().position(|(a, _)| *a == tag) else {
                self.problems.push(format!("{}: <{tag}> is not allowed here", self.at(n)));
                continue;
            };
            match last {
                Some(l) if p < l => {
                    self.problems.push(format!("{}: <{tag}> comes after <{}>", self.at(n), allowed[l].0))
                }
                Some(l) if p == l && !allowed[p].1 => {
                    self.problems.push(format!("{}: <{tag}> may appear once", self.at(n)))
                }
                _ => last = Some(p),
            }
        }
    }

    fn properties(&mut self, n: Node) {
        self.attributes(n, &[], &[]);
        self.children(n, &[("property", true)]);
        for p in n.children().filter(|c| c.has_tag_name("property")) {
            self.attributes(p, &["name", "value"], &[]);
        }
    }

    fn outcome(&mut self, n: Node) {
        self.attributes(n, &[], &[("message", |_| true), ("type", |_| true)]);
    }

    fn testcase(&mut self, n: Node) {
        self.attributes(
            n,
            &["name"],
            &[
                ("classname", |_| true),
                ("time", is_decimal),
                ("assertions", is_count),
                ("status", |_| true),
                ("file", |_| true),
                ("line", is_count),
            ],
        );
        self.children(
            n,
            &[
                ("properties", false),
                ("skipped", false),
                ("error", true),
                ("failure", true),
                ("system-out", true),
                ("system-err", true),
            ],
        );
        for c in n.children().filter(|c| c.is_element()) {
            match c.tag_name().name() {
                "properties" => self.properties(c),
                "skipped" | "error" | "failure" => self.outcome(c),
                _ => self.attributes(c, &[], &[]),
            }
        }
    }

    /// `tests`, `failures`, `errors` and `skipped` on `n`, where present, equal what `cases` hold.
    fn counts_agree(&mut self, n: Node, cases: &[Node]) {
        let count = |tag: &str| cases.iter().filter(|c| c.children().any(|k| k.has_tag_name(tag))).count();
        for (attr, actual) in [
            ("tests", cases.len()),
            ("failures", count("failure")),
            ("errors", count("error")),
            ("skipped", count("skipped")),
        ] {
            if let Some(v) = n.attribute(attr) {
                if v.parse::<usize>().ok() != Some(actual) {
                    self.problems.push(format!("{}: {attr}={v} but it holds {actual}", self.at(n)));
                }
            }
        }
    }

    fn testsuite(&mut self, n: Node) {
        self.attributes(
            n,
            &["name", "tests"],
            &[
                ("tests", is_count),
                ("failures", is_count),
                ("errors", is_count),
                ("skipped", is_count),
                ("disabled", is_count),
                ("assertions", is_count),
                ("time", is_decimal),
                ("timestamp", is_timestamp),
                ("hostname", |_| true),
                ("id", |_| true),
                ("package", |_| true),
                ("file", |_| true),
            ],
        );
        self.children(n, &[("properties", false), ("testcase", true), ("system-out", false), ("system-err", false)]);
        let cases: Vec<Node> = n.children().filter(|c| c.has_tag_name("testcase")).collect();
        self.counts_agree(n, &cases);
        for c in n.children().filter(|c| c.is_element()) {
            match c.tag_name().name() {
                "properties" => self.properties(c),
                "testcase" => self.testcase(c),
                _ => self.attributes(c, &[], &[]),
            }
        }
    }
}

/// Every way `xml` departs from the format; empty when it conforms.
pub fn check(xml: &str) -> Vec<String> {
    let doc = match Document::parse(xml) {
        Ok(d) => d,
        Err(e) => return vec![format!("not well-formed XML: {e}")],
    };
    let mut c = Checker { problems: Vec::new() };
    let root = doc.root_element();
    match root.tag_name().name() {
        "testsuites" => {
            c.attributes(
                root,
                &[],
                &[
                    ("name", |_| true),
                    ("tests", is_count),
                    ("failures", is_count),
                    ("errors", is_count),
                    ("skipped", is_count),
                    ("disabled", is_count),
                    ("assertions", is_count),
                    ("time", is_decimal),
                    ("timestamp", is_timestamp),
                ],
            );
            c.children(root, &[("testsuite", true)]);
            let suites: Vec<Node> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
            let cases: Vec<Node> =
                suites.iter().flat_map(|s| s.children().filter(|c| c.has_tag_name("testcase"))).collect();
            c.counts_agree(root, &cases);
            for s in suites {
                c.testsuite(s);
            }
        }
        "testsuite" => c.testsuite(root),
        other => c.problems.push(format!("the root is <{other}>, not <testsuites> or <testsuite>")),
    }
    c.problems
}
