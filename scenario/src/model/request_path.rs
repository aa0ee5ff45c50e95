//! The path an `http` step requests, as the scenario writes it: checked when the file loads
//! (with each `${...}` standing for a placeholder value), and parsed once more into the request's
//! [`PathAndQuery`] with the run's values, so nothing unchecked reaches the request line.

use super::variables::with_placeholders;
use super::{TemplateError, Variables};
use http::uri::PathAndQuery;
use std::borrow::Cow;

/// How a request path error starts, so the loader can give it its own code and hint.
pub(crate) const PATH_ERROR: &str = "invalid request path";

/// What to do about a refused path.
pub const PATH_HINT: &str =
    "percent-encode spaces and other special characters, e.g. %20 for a space";

/// A request path and query (`/`, `/healthz`, `/status?pod=${pod}`) that may hold `${...}`
/// variables. A missing leading `/` is added, as curl does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    text: String,
    /// The path itself when the text holds no variables.
    fixed: Option<PathAndQuery>,
}

/// `text` as the path (and query) of a request; the error says what a request line cannot carry.
fn parse_path(text: &str) -> Result<PathAndQuery, String> {
    let path = if text.starts_with('/') {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("/{text}"))
    };
    PathAndQuery::try_from(path.as_ref()).map_err(|error| error.to_string())
}

impl PathTemplate {
    /// Checks `text` for everything that does not depend on the variables' values.
    pub fn parse(text: &str) -> Result<Self, String> {
        let refused = |why: String| format!("{PATH_ERROR} `{text}`: {why}");
        let fixed = if text.contains("${") {
            parse_path(&with_placeholders(text)?).map_err(refused)?;
            None
        } else {
            Some(parse_path(text).map_err(refused)?)
        };
        Ok(Self {
            text: text.to_owned(),
            fixed,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The path with `vars` substituted; the error names a variable whose value breaks it.
    pub fn resolve(&self, vars: &Variables) -> Result<PathAndQuery, TemplateError> {
        match &self.fixed {
            Some(fixed) => Ok(fixed.clone()),
            None => vars
                .resolve(&self.text, "request path", parse_path)
                .map_err(|error| match error {
                    TemplateError::Grammar(why) => {
                        TemplateError::Grammar(format!("{why}; {PATH_HINT}"))
                    }
                    other => other,
                }),
        }
    }
}

impl Default for PathTemplate {
    fn default() -> Self {
        Self {
            text: "/".to_owned(),
            fixed: Some(PathAndQuery::from_static("/")),
        }
    }
}

super::text_type!(PathTemplate, PathTemplate::parse);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_parsed_and_what_a_request_line_cannot_carry_refused() {
        assert_eq!(
            PathTemplate::parse("/a/b?c=d&e")
                .map(|p| p.resolve(&Variables::default()).map(|p| p.to_string())),
            Ok(Ok("/a/b?c=d&e".to_owned()))
        );
        for bad in ["/a b", "/x\r\nHost: evil", "/tab\there", "/nul\0"] {
            let error = PathTemplate::parse(bad).expect_err(bad);
            assert!(error.starts_with(PATH_ERROR), "{error}");
        }
    }

    #[test]
    fn paths_are_checked_when_read_and_resolved_with_values() {
        let fixed = PathTemplate::parse("healthz?verbose=1").expect("valid");
        assert_eq!(
            fixed.resolve(&Variables::default()).map(|p| p.to_string()),
            Ok("/healthz?verbose=1".to_owned())
        );
        let refused = PathTemplate::parse("/a b").expect_err("a space");
        assert!(
            refused.starts_with("invalid request path `/a b`: "),
            "{refused}"
        );
        assert!(PathTemplate::parse("/${pod} x").is_err());
        let per_pod = PathTemplate::parse("/whoami/${pod}").expect("valid");
        let mut vars = Variables::default();
        vars.set("pod", "web 0");
        let error = per_pod
            .resolve(&vars)
            .expect_err("a space in the value")
            .to_string();
        assert!(
            error.starts_with(
                "the request path `/whoami/${pod}` is `/whoami/web 0` once `${pod}` is `web 0`: "
            ),
            "{error}"
        );
        vars.set("pod", "web-0");
        assert_eq!(
            per_pod.resolve(&vars).map(|p| p.to_string()),
            Ok("/whoami/web-0".to_owned())
        );
    }
}
