//! Secrets never reach output: one helper removes the password of every URL (userinfo and
//! password-like query parameters) and of libpq `key=value` strings, wherever a URL is named in a
//! message, a log, a report or a journal.

/// Query and connection-string keys whose values are secrets.
const SECRET_KEYS: [&str; 10] = [
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "secret_key",
    "secret_access_key",
    "sessiontoken",
];

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    // Suffixes too: `sslpassword`, `db_password`, `x-api-token`.
    SECRET_KEYS.iter().any(|s| key.ends_with(s))
}

/// `url` without its secrets: `scheme://user:***@host/...?password=***`.
pub fn url(url: &str) -> String {
    text(url)
}

/// `text` with the secret of every URL or `key=value` pair in it replaced by `***`.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        // The authority ends at the first '/', '?', '#' or whitespace; a userinfo at its last '@'.
        let end = rest.find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace()).unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            let userinfo = &rest[..at];
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push_str(":***");
                }
                None => out.push_str(userinfo),
            }
            rest = &rest[at..];
        }
    }
    out.push_str(rest);
    pairs(&out)
}

/// Replaces the value of every secret `key=value` pair (query parameters, libpq strings).
fn pairs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let key_start = rest[..eq]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map(|i| i + 1)
            .unwrap_or(0);
        let key = &rest[key_start..eq];
        out.push_str(&rest[..eq + 1]);
        rest = &rest[eq + 1..];
        if is_secret_key(key) {
            let end = rest
                .find(|c: char| c == '&' || c == '#' || c.is_whitespace() || c == '"' || c == '\'')
                .unwrap_or(rest.len());
            if end > 0 {
                out.push_str("***");
                rest = &rest[end..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_and_secret_parameters_are_removed() {
        assert_eq!(url("postgresql://u:secret@h:5/db"), "postgresql://u:***@h:5/db");
        assert_eq!(url("postgresql://u@h:5/db"), "postgresql://u@h:5/db");
        assert_eq!(url("http://h:1/x?user=a&password=s3&x=1"), "http://h:1/x?user=a&password=***&x=1");
        assert_eq!(url("host=h user=u password=s3 dbname=d"), "host=h user=u password=*** dbname=d");
        assert_eq!(url("http://a:b:c@h"), "http://a:***@h");
        assert_eq!(url("https://h/path@x"), "https://h/path@x");
        assert_eq!(
            text("error: pushgateway http://u:MARK@127.0.0.1:1 and postgres://p:MARK2@h/d?sslpassword=MARK3 failed"),
            "error: pushgateway http://u:***@127.0.0.1:1 and postgres://p:***@h/d?sslpassword=*** failed"
        );
        assert_eq!(text("AWS_SECRET_ACCESS_KEY=abc"), "AWS_SECRET_ACCESS_KEY=***");
        assert_eq!(text("AWS_ACCESS_KEY_ID=AKIA x=1"), "AWS_ACCESS_KEY_ID=AKIA x=1");
        assert_eq!(text("aws_secret_key=abc x"), "aws_secret_key=*** x");
    }
}
