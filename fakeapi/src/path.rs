//! Parsing request URLs into the resource, namespace, name and subresource they address,
//! and the query parameters the verbs read.

use axum::http::Uri;

use crate::resources::{self, ResourceId, ResourceType};
use crate::status::ApiError;

/// What a resource URL addresses.
#[derive(Debug, Clone)]
pub(crate) struct RequestTarget {
    pub res: ResourceId,
    /// The namespace in the URL; `None` for cluster-scoped types and all-namespace lists.
    pub ns: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
}

impl RequestTarget {
    pub(crate) fn rt(&self) -> &'static ResourceType {
        resources::get(self.res)
    }

    /// The namespace key in the store ("" for cluster-scoped objects).
    pub(crate) fn ns_key(&self) -> &str {
        self.ns.as_deref().unwrap_or("")
    }
}

/// Parses `/api/v1/...` and `/apis/{group}/{version}/...` resource paths.
pub(crate) fn parse(path: &str) -> Result<RequestTarget, ApiError> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(ApiError::no_such_resource()),
    };
    let namespaced_type = |plural: &str| {
        resources::by_plural(group, version, plural).filter(|&r| resources::get(r).namespaced)
    };
    let (ns, rest) = match rest {
        ["namespaces", ns, plural, tail @ ..] if namespaced_type(plural).is_some() => {
            (Some(ns.to_string()), [&[*plural][..], tail].concat())
        }
        other => (None, other.to_vec()),
    };
    let (plural, name, sub) = match rest.as_slice() {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(n.to_string()), None),
        [p, n, s] => (*p, Some(n.to_string()), Some(s.to_string())),
        _ => return Err(ApiError::no_such_resource()),
    };
    let res =
        resources::by_plural(group, version, plural).ok_or_else(ApiError::no_such_resource)?;
    let rt = resources::get(res);
    // A namespaced object is only addressable inside its namespace.
    if rt.namespaced && ns.is_none() && name.is_some() {
        return Err(ApiError::no_such_resource());
    }
    Ok(RequestTarget { res, ns, name, sub })
}

/// Decoded query parameters, keeping repeated keys (exec's `command`).
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn from_uri(uri: &Uri) -> Result<Self, ApiError> {
        let q = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
        Ok(Self(q.0))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean parameter: `true` or `1`.
    pub(crate) fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_resource_paths() {
        let t = parse("/apis/apps/v1/namespaces/ns/statefulsets/web/scale").unwrap();
        assert_eq!(
            (
                t.rt().kind,
                t.ns.as_deref(),
                t.name.as_deref(),
                t.sub.as_deref()
            ),
            ("StatefulSet", Some("ns"), Some("web"), Some("scale"))
        );
        let t = parse("/api/v1/namespaces/ns").unwrap();
        assert_eq!(
            (t.rt().kind, t.ns, t.name.as_deref()),
            ("Namespace", None, Some("ns"))
        );
        let t = parse("/api/v1/namespaces/ns/status").unwrap();
        assert_eq!(
            (t.rt().kind, t.name.as_deref(), t.sub.as_deref()),
            ("Namespace", Some("ns"), Some("status"))
        );
        let t = parse("/api/v1/pods").unwrap();
        assert_eq!((t.rt().kind, t.ns, t.name), ("Pod", None, None));
        assert!(parse("/api/v1/pods/web-0").is_err());
        assert!(parse("/apis/apps/v1/widgets").is_err());
        assert!(parse("/openapi/v2").is_err());
    }
}
