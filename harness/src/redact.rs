//! Keeping secrets out of everything petset prints.
//!
//! Two layers, both ending in [`REDACTED`]:
//! - A Secret rendered as report text (an applied manifest, a live object, a patch body) shows
//!   its keys with `<redacted>` values: [`redact_object`], applied by `api::render_value`, which
//!   every object rendering goes through.
//! - Every value a scenario reads from a Secret (a `capture` from a Secret, a `passwordFrom`, the
//!   credentials of a Secret it applies) is registered in the scenario's [`SecretValues`]. The
//!   engine hands its events and its result to the runner only through [`MaskingSink`] and
//!   [`SecretValues::mask_outcome`], so the value, its base64 form and its JSON-escaped form are
//!   masked before any reporter (terminal, JUnit, coverage, the trial's failure text) sees them.

use crate::events::{Event, EventSink, Failure, ScenarioOutcome, StepOutcome};
use k8s_openapi::ByteString;
use serde_json::Value;
use std::sync::{Arc, PoisonError, RwLock};

/// What a secret value is shown as.
pub const REDACTED: &str = "<redacted>";

/// Shorter values are not masked in free text: masking `no` or `1` everywhere would blank out
/// ordinary words and numbers while hiding nothing worth hiding. Secret objects still show
/// `<redacted>` for them.
const MIN_MASKED_LEN: usize = 4;

/// The annotation `kubectl apply` leaves, holding the whole object as JSON.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Words in a Secret key that mark its value as a credential (`root-password`, `api-token`).
const CREDENTIAL_WORDS: &[&str] = &[
    "pass", "pwd", "secret", "token", "key", "cred", "auth", "cert",
];

/// Whether `value` is a Secret object (by its `kind`).
fn is_secret(value: &Value) -> bool {
    value.get("kind").and_then(Value::as_str) == Some("Secret")
}

/// Whether `value`, which names no kind, has a Secret's shape: a `type` and `data` or
/// `stringData`. Objects read through a list or a watcher's initial list come without a kind.
fn shaped_like_secret(value: &Value) -> bool {
    value.get("kind").is_none()
        && value.get("type").is_some_and(Value::is_string)
        && ["data", "stringData"]
            .iter()
            .any(|field| value.get(field).is_some_and(Value::is_object))
}

/// Replaces the values of a Secret's `data` and `stringData` (and a last-applied annotation)
/// with [`REDACTED`], keeping the keys; recurses into the items of a list. Other objects are
/// left as they are.
pub(crate) fn redact_object(value: &mut Value) {
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    let secrets = kind == "SecretList";
    if kind == "Secret" || shaped_like_secret(value) {
        redact_secret(value);
    } else if let Some(items) = value.get_mut("items").and_then(Value::as_array_mut) {
        for item in items {
            if secrets {
                redact_secret(item);
            } else {
                redact_object(item);
            }
        }
    }
}

/// Redacts `secret` as a Secret, whatever its `kind` says (for callers that know what it is).
pub(crate) fn redact_secret(secret: &mut Value) {
    for field in ["data", "stringData"] {
        if let Some(map) = secret.get_mut(field).and_then(Value::as_object_mut) {
            for value in map.values_mut() {
                *value = Value::String(REDACTED.to_owned());
            }
        }
    }
    if let Some(applied) = secret
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
        .and_then(|annotations| annotations.get_mut(LAST_APPLIED))
    {
        *applied = Value::String(REDACTED.to_owned());
    }
}

/// The secret values one scenario has read, shared by its steps (which register them) and its
/// event path (which masks them). Clones share the same set.
#[derive(Clone, Default)]
pub struct SecretValues(Arc<RwLock<Vec<String>>>);

impl std::fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretValues({} forms)", self.read().len())
    }
}

impl SecretValues {
    /// Registers a secret value as it is in plain text.
    pub fn register(&self, value: &str) {
        let mut forms = vec![value.to_owned(), encode(value.as_bytes())];
        // Inside JSON (a last-applied annotation, a rendered body) quotes and backslashes are
        // escaped, so the value reads differently there.
        let quoted = serde_json::to_string(value).unwrap_or_default();
        if let Some(inner) = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
            forms.push(inner.to_owned());
        }
        self.add(forms);
    }

    /// Registers a value as a Secret's `data` holds it: the base64 text itself, and what it
    /// decodes to.
    pub fn register_encoded(&self, encoded: &str) {
        self.add(vec![encoded.to_owned()]);
        if let Some(plain) = decode(encoded) {
            self.register(&plain);
        }
    }

    /// Registers every string in `value` (a Secret's value, or a map of them), as base64 when
    /// `encoded`; and the whole of it as its text, for a capture of a map.
    pub fn register_value(&self, value: &Value, encoded: bool) {
        match value {
            Value::String(text) if encoded => self.register_encoded(text),
            Value::String(text) => self.register(text),
            Value::Object(map) => {
                map.values().for_each(|v| self.register_value(v, encoded));
                self.register(&value.to_string());
            }
            Value::Array(items) => {
                items.iter().for_each(|v| self.register_value(v, encoded));
                self.register(&value.to_string());
            }
            other => self.register(&other.to_string()),
        }
    }

    /// Registers the credentials of a Secret manifest: the values under `data` and `stringData`
    /// whose keys name a credential (`password`, `token`, `tls.key`, ...). Other keys (a user
    /// name, a host) stay readable in reports; the Secret itself is still shown redacted.
    pub fn register_manifest(&self, manifest: &Value) {
        if !is_secret(manifest) {
            return;
        }
        let entries = |field: &str| {
            manifest
                .get(field)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(key, _)| is_credential_key(key))
                .filter_map(|(_, value)| value.as_str())
        };
        for value in entries("data") {
            self.register_encoded(value);
        }
        for value in entries("stringData") {
            self.register(value);
        }
    }

    /// `text` with every registered value replaced by [`REDACTED`].
    pub fn mask(&self, text: &str) -> String {
        let forms = self.read();
        let mut out = text.to_owned();
        for form in forms.iter() {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), REDACTED);
            }
        }
        out
    }

    /// Masks every text of a failure.
    pub fn mask_failure(&self, failure: &mut Failure) {
        // Named field by field, so a text added to `Failure` cannot be forgotten here.
        let Failure {
            message,
            expected,
            actual,
            timeline,
            diagnostics,
            kind: _,
        } = failure;
        for text in [message, expected, actual, timeline, diagnostics] {
            self.mask_in_place(text);
        }
    }

    /// Masks the texts of a scenario's outcome.
    pub fn mask_outcome(&self, outcome: &mut ScenarioOutcome) {
        match outcome {
            ScenarioOutcome::Passed => {}
            ScenarioOutcome::Failed(failure) => self.mask_failure(failure),
            ScenarioOutcome::Ignored { reason } => self.mask_in_place(reason),
        }
    }

    /// `event` with every text in it masked.
    pub fn mask_event(&self, mut event: Event) -> Event {
        match &mut event {
            Event::RunStarted { .. } | Event::RunFinished { .. } => {}
            Event::ScenarioStarted { namespace, .. } => self.mask_in_place(namespace),
            Event::StepStarted { summary, .. } => self.mask_in_place(summary),
            Event::StepFinished { outcome, .. } => match outcome {
                StepOutcome::Passed { detail, .. } => self.mask_in_place(detail),
                StepOutcome::Failed(failure) => self.mask_failure(failure),
            },
            Event::Timeline { line, .. } => self.mask_in_place(line),
            Event::ScenarioFinished {
                outcome,
                properties,
                ..
            } => {
                self.mask_outcome(outcome);
                properties.values_mut().for_each(|v| self.mask_in_place(v));
            }
        }
        event
    }

    fn mask_in_place(&self, text: &mut String) {
        if self.read().iter().any(|form| text.contains(form.as_str())) {
            *text = self.mask(text);
        }
    }

    fn add(&self, forms: Vec<String>) {
        let mut known = self.0.write().unwrap_or_else(PoisonError::into_inner);
        for form in forms {
            if form.chars().count() >= MIN_MASKED_LEN && !known.contains(&form) {
                known.push(form);
            }
        }
        // Longest first, so a value containing another is masked whole.
        known.sort_by_key(|form| std::cmp::Reverse(form.len()));
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<String>> {
        // A poisoned lock only means a holder panicked; the list itself is intact.
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An [`EventSink`] that masks every event with a scenario's [`SecretValues`] before passing it
/// on: the only way the engine's events reach the runner and its reporters.
pub(crate) struct MaskingSink<'a> {
    inner: &'a dyn EventSink,
    secrets: SecretValues,
}

impl<'a> MaskingSink<'a> {
    pub(crate) fn new(inner: &'a dyn EventSink, secrets: SecretValues) -> Self {
        Self { inner, secrets }
    }
}

impl EventSink for MaskingSink<'_> {
    fn emit(&self, event: Event) {
        self.inner.emit(self.secrets.mask_event(event));
    }
}

fn is_credential_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    CREDENTIAL_WORDS.iter().any(|word| key.contains(word))
}

/// Standard base64, as a Secret's `data` holds values (through k8s-openapi's own encoder).
fn encode(bytes: &[u8]) -> String {
    match serde_json::to_value(ByteString(bytes.to_vec())) {
        Ok(Value::String(encoded)) => encoded,
        _ => String::new(),
    }
}

/// The UTF-8 text a base64 value decodes to, if it is base64 of text.
fn decode(encoded: &str) -> Option<String> {
    let bytes: ByteString = serde_json::from_value(Value::String(encoded.to_owned())).ok()?;
    String::from_utf8(bytes.0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_secret_keeps_its_keys_and_loses_its_values() {
        let mut secret = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "annotations": {
                LAST_APPLIED: "{\"stringData\":{\"password\":\"hunter22\"}}", "team": "a"}},
            "data": {"password": "aHVudGVyMjI="},
            "stringData": {"user": "app"}
        });
        redact_object(&mut secret);
        assert_eq!(secret["data"], json!({"password": REDACTED}));
        assert_eq!(secret["stringData"], json!({"user": REDACTED}));
        assert_eq!(secret["metadata"]["annotations"][LAST_APPLIED], REDACTED);
        assert_eq!(secret["metadata"]["annotations"]["team"], "a");

        let mut list = json!({"kind": "SecretList", "items": [{"data": {"k": "dg=="}}]});
        redact_object(&mut list);
        assert_eq!(list["items"][0]["data"]["k"], REDACTED);

        // Listed without a kind, a Secret is still known by its shape.
        let mut listed =
            json!({"metadata": {"name": "db"}, "type": "Opaque", "data": {"k": "dg=="}});
        redact_object(&mut listed);
        assert_eq!(listed["data"]["k"], REDACTED);

        let config = json!({"kind": "ConfigMap", "data": {"password": "visible"}});
        let mut redacted = config.clone();
        redact_object(&mut redacted);
        assert_eq!(redacted, config);
    }

    #[test]
    fn masks_plain_base64_and_json_escaped_forms() {
        let secrets = SecretValues::default();
        secrets.register("pa\"ss-word");
        let encoded = encode(b"pa\"ss-word");
        let text = format!("a pa\"ss-word b {encoded} c \"pa\\\"ss-word\"");
        assert_eq!(
            secrets.mask(&text),
            format!("a {REDACTED} b {REDACTED} c \"{REDACTED}\"")
        );
    }

    #[test]
    fn a_data_value_masks_itself_and_its_decoding() {
        let secrets = SecretValues::default();
        secrets.register_encoded(&encode(b"petset-app-secret"));
        assert_eq!(
            secrets.mask("pw=petset-app-secret b64=cGV0c2V0LWFwcC1zZWNyZXQ="),
            format!("pw={REDACTED} b64={REDACTED}")
        );
    }

    #[test]
    fn a_captured_map_masks_each_of_its_values() {
        let secrets = SecretValues::default();
        secrets.register_value(
            &json!({"password": encode(b"first-pw"), "other": encode(b"second-pw")}),
            true,
        );
        assert_eq!(
            secrets.mask("first-pw second-pw"),
            format!("{REDACTED} {REDACTED}")
        );
    }

    #[test]
    fn a_manifest_registers_its_credentials_but_not_its_user_names() {
        let secrets = SecretValues::default();
        secrets.register_manifest(&json!({
            "kind": "Secret",
            "stringData": {"root-password": "rootpw-1", "username": "mysql"},
            "data": {"api-token": encode(b"tok-123")}
        }));
        assert_eq!(
            secrets.mask("rootpw-1 tok-123 mysql"),
            format!("{REDACTED} {REDACTED} mysql")
        );
        // Not a Secret: nothing is registered.
        secrets.register_manifest(&json!({"kind": "ConfigMap", "data": {"password": "cm-pass"}}));
        assert_eq!(secrets.mask("cm-pass"), "cm-pass");
    }

    #[test]
    fn short_values_are_not_masked_in_free_text() {
        let secrets = SecretValues::default();
        secrets.register("no");
        assert_eq!(secrets.mask("no pods"), "no pods");
    }

    #[test]
    fn the_longer_of_two_overlapping_values_is_masked_whole() {
        let secrets = SecretValues::default();
        secrets.register("secret");
        secrets.register("secret-and-more");
        assert_eq!(secrets.mask("x secret-and-more"), format!("x {REDACTED}"));
    }

    #[test]
    fn every_event_text_is_masked_before_it_is_passed_on() {
        #[derive(Default)]
        struct Collect(std::sync::Mutex<Vec<Event>>);
        impl EventSink for Collect {
            fn emit(&self, event: Event) {
                self.0
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(event);
            }
        }
        let secrets = SecretValues::default();
        secrets.register("hunter22");
        let collected = Collect::default();
        let sink = MaskingSink::new(&collected, secrets);
        let id = crate::events::ScenarioId {
            area: "a".into(),
            name: "b".into(),
        };
        let failure = Failure {
            message: "m hunter22".into(),
            expected: "e hunter22".into(),
            actual: "a hunter22".into(),
            timeline: "t hunter22".into(),
            diagnostics: "d hunter22".into(),
            ..Failure::default()
        };
        sink.emit(Event::StepFinished {
            id: id.clone(),
            index: 1,
            outcome: StepOutcome::Failed(failure.clone()),
            elapsed: std::time::Duration::ZERO,
        });
        sink.emit(Event::ScenarioFinished {
            id,
            attempt: 1,
            outcome: ScenarioOutcome::Failed(failure),
            elapsed: std::time::Duration::ZERO,
            figures: Vec::new(),
            properties: [("cleanup".to_owned(), "hunter22".to_owned())].into(),
        });
        let shown = format!(
            "{:?}",
            collected.0.lock().unwrap_or_else(PoisonError::into_inner)
        );
        assert!(!shown.contains("hunter22"), "{shown}");
        assert_eq!(shown.matches(REDACTED).count(), 11, "{shown}");
    }
}
