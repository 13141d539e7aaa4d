//! Iceberg names every file by an absolute location (`file:///…`, `s3://bucket/…`); the lake's
//! store names objects by keys relative to its root. This maps between them, and refuses a
//! location outside the lake: metadata is input, and a hostile one must not reach elsewhere.

use super::IcebergError;

/// The lake's root as Iceberg locations spell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LakeRoot {
    /// `file:///abs/dir` or `s3://bucket[/prefix]`, without a trailing `/`.
    uri: String,
}

impl LakeRoot {
    /// The root of a local directory lake (give the canonical path).
    pub fn dir(path: &std::path::Path) -> LakeRoot {
        LakeRoot { uri: format!("file://{}", path.display().to_string().trim_end_matches('/')) }
    }

    /// The root of an S3 lake.
    pub fn s3(bucket: &str, prefix: &str) -> LakeRoot {
        let prefix = prefix.trim_matches('/');
        let uri = if prefix.is_empty() { format!("s3://{bucket}") } else { format!("s3://{bucket}/{prefix}") };
        LakeRoot { uri }
    }

    /// The root as a location.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The location of a key.
    pub fn location(&self, key: &str) -> String {
        format!("{}/{}", self.uri, key.trim_start_matches('/'))
    }

    /// The key of a location inside the lake. Accepts the spellings writers use for the same
    /// place: `file:/abs`, `file:///abs` and a bare `/abs` locally; `s3a://` and `s3n://` for
    /// `s3://`.
    pub fn key(&self, location: &str) -> Result<String, IcebergError> {
        let normalized = normalize(location);
        let outside = || IcebergError::OutsideLake { location: location.to_string(), root: self.uri.clone() };
        let rest = normalized.strip_prefix(&self.uri).and_then(|r| r.strip_prefix('/')).ok_or_else(outside)?;
        // `..` or an empty segment would leave the table's place in the lake.
        if rest.is_empty() || rest.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return Err(outside());
        }
        Ok(rest.to_string())
    }
}

fn normalize(location: &str) -> String {
    for scheme in ["s3a://", "s3n://"] {
        if let Some(rest) = location.strip_prefix(scheme) {
            return format!("s3://{rest}");
        }
    }
    if let Some(rest) = location.strip_prefix("file://") {
        return format!("file://{rest}");
    }
    if let Some(rest) = location.strip_prefix("file:") {
        return format!("file://{rest}");
    }
    if location.starts_with('/') {
        return format!("file://{location}");
    }
    location.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_spelling_inside_and_refusals_outside() {
        let root = LakeRoot::dir(std::path::Path::new("/lakes/one"));
        assert_eq!(root.key("file:///lakes/one/ns/t/metadata/1.json").unwrap(), "ns/t/metadata/1.json");
        assert_eq!(root.key("file:/lakes/one/ns/t/x").unwrap(), "ns/t/x");
        assert_eq!(root.key("/lakes/one/ns/t/x").unwrap(), "ns/t/x");
        assert_eq!(root.location("ns/t/x"), "file:///lakes/one/ns/t/x");
        for outside in ["/lakes/onex/a", "/lakes/one/../two/a", "/lakes/one", "s3://b/a", "/lakes/one//a", ""] {
            assert!(root.key(outside).is_err(), "{outside}");
        }
        let s3 = LakeRoot::s3("bucket", "pre/");
        assert_eq!(s3.key("s3a://bucket/pre/t/d.parquet").unwrap(), "t/d.parquet");
        assert!(s3.key("s3://bucket/other/t").is_err());
        assert_eq!(LakeRoot::s3("b", "").key("s3://b/t/x").unwrap(), "t/x");
    }
}
