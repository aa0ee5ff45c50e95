//! Database credentials whose password cannot leak: it prints, debugs and serializes as `***`,
//! and text shown to people (statements, server messages) is scrubbed of it.

use crate::api::with_retry;
use crate::redact::SecretValues;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
pub use petset_scenario::model::{Password, REDACTED};

/// A user and password to log in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: Password,
}

impl Credentials {
    pub fn new(user: impl Into<String>, password: Password) -> Self {
        Self {
            user: user.into(),
            password,
        }
    }

    /// Scrubs `text` of this password and of password literals in SQL
    /// (`IDENTIFIED BY '...'`, `PASSWORD('...')`, `MASTER_PASSWORD='...'`).
    pub fn redact(&self, text: &str) -> String {
        redact(text, Some(&self.password))
    }
}

/// Why a password could not be read from a Secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("failed to read secret `{name}`: it does not exist in namespace `{namespace}`")]
    NotFound { name: String, namespace: String },
    #[error("failed to read secret `{name}`")]
    Api {
        name: String,
        #[source]
        source: Box<crate::api::ApiError>,
    },
    #[error("failed to find key `{key}` in secret `{name}` (its keys: {keys})")]
    MissingKey {
        name: String,
        key: String,
        keys: String,
    },
    #[error("failed to read key `{key}` of secret `{name}`: the value is not UTF-8")]
    NotUtf8 { name: String, key: String },
}

/// Reads a password from `key` of the Secret `name` in the namespace `secrets` is scoped to,
/// retrying transient errors until `deadline`, and registers it in `known` so that whatever the
/// scenario reports has it masked.
pub async fn password_from_secret(
    secrets: &Api<Secret>,
    namespace: &str,
    name: &str,
    key: &str,
    known: &SecretValues,
    deadline: tokio::time::Instant,
) -> Result<Password, SecretError> {
    let password = read_password(secrets, namespace, name, key, deadline).await?;
    known.register(password.expose());
    Ok(password)
}

async fn read_password(
    secrets: &Api<Secret>,
    namespace: &str,
    name: &str,
    key: &str,
    deadline: tokio::time::Instant,
) -> Result<Password, SecretError> {
    let what = format!("get secret/{name}");
    let secret = match with_retry(&what, deadline, || secrets.get_opt(name)).await {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            return Err(SecretError::NotFound {
                name: name.to_owned(),
                namespace: namespace.to_owned(),
            });
        }
        Err(source) => {
            return Err(SecretError::Api {
                name: name.to_owned(),
                source: Box::new(source),
            });
        }
    };
    if let Some(value) = secret.data.as_ref().and_then(|d| d.get(key)) {
        return String::from_utf8(value.0.clone())
            .map(Password::new)
            .map_err(|_| SecretError::NotUtf8 {
                name: name.to_owned(),
                key: key.to_owned(),
            });
    }
    // Objects created without a server to fold it into `data` can still carry `stringData`.
    if let Some(value) = secret.string_data.as_ref().and_then(|d| d.get(key)) {
        return Ok(Password::new(value.clone()));
    }
    let mut keys: Vec<&str> = secret
        .data
        .iter()
        .flat_map(|d| d.keys())
        .chain(secret.string_data.iter().flat_map(|d| d.keys()))
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    Err(SecretError::MissingKey {
        name: name.to_owned(),
        key: key.to_owned(),
        keys: if keys.is_empty() {
            "none".to_owned()
        } else {
            keys.join(", ")
        },
    })
}

/// Scrubs `text` of `password` (when given and not empty) and of quoted literals following
/// `IDENTIFIED BY`, `PASSWORD` or `MASTER_PASSWORD` (with optional `=` or `(`).
pub fn redact(text: &str, password: Option<&Password>) -> String {
    let mut out = mask_password_literals(text);
    if let Some(password) = password.filter(|p| !p.expose().is_empty()) {
        out = out.replace(password.expose(), REDACTED);
    }
    out
}

fn mask_password_literals(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some((keyword_end, _)) = next_keyword(&lower, search) {
        search = keyword_end;
        let bytes = text.as_bytes();
        let mut i = keyword_end;
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'=' | b'(') {
            i += 1;
        }
        let Some(&quote) = bytes.get(i) else { break };
        if !matches!(quote, b'\'' | b'"') {
            continue;
        }
        let start = i + 1;
        let end = closing_quote(bytes, start, quote).unwrap_or(bytes.len());
        out.push_str(&text[copied..start]);
        out.push_str(REDACTED);
        copied = end;
        search = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// The end of the next `identified by` / `password` keyword at or after `from`.
fn next_keyword(lower: &str, from: usize) -> Option<(usize, usize)> {
    ["identified by", "password"]
        .iter()
        .filter_map(|k| {
            lower[from..]
                .find(k)
                .map(|at| (from + at + k.len(), from + at))
        })
        .min_by_key(|&(_, start)| start)
}

/// Index of the quote closing a literal that starts at `start`, honouring `\x` and doubled quotes.
fn closing_quote(bytes: &[u8], start: usize, quote: u8) -> Option<usize> {
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_never_prints() {
        let creds = Credentials::new("app", Password::new("s3cr3t-pw"));
        let shown = format!("{creds:?} {} {:?}", creds.password, creds.password);
        assert!(!shown.contains("s3cr3t-pw"), "{shown}");
        assert!(shown.contains(REDACTED));
        let json = serde_json::to_string(&creds.password).unwrap_or_default();
        assert_eq!(json, "\"***\"");
        assert_eq!(creds.password.expose(), "s3cr3t-pw");
    }

    #[test]
    fn deserializes_from_a_plain_string() {
        let password: Password = serde_json::from_str("\"pw\"").unwrap_or_default();
        assert_eq!(password.expose(), "pw");
    }

    #[test]
    fn redacts_the_password_and_sql_password_literals() {
        let creds = Credentials::new("app", Password::new("hunter2"));
        assert_eq!(
            creds.redact("CREATE USER x IDENTIFIED BY 'abc''d'; SELECT 'hunter2'"),
            "CREATE USER x IDENTIFIED BY '***'; SELECT '***'"
        );
        assert_eq!(
            redact(
                "SET PASSWORD FOR a = PASSWORD(\"q\\\"w\"), MASTER_PASSWORD='z'",
                None
            ),
            "SET PASSWORD FOR a = PASSWORD(\"***\"), MASTER_PASSWORD='***'"
        );
        assert_eq!(
            redact("SELECT password FROM t", None),
            "SELECT password FROM t"
        );
        assert_eq!(
            redact("identified by 'unterminated", None),
            "identified by '***"
        );
        // An empty password must not turn every gap into `***`.
        assert_eq!(redact("SELECT 1", Some(&Password::default())), "SELECT 1");
    }
}
