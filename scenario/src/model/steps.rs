//! The `Step` enum that names every step kind, generated from the registry in
//! [`kinds`](crate::kinds), and what can be asked of any step through its kind.

use crate::kinds::{self, KindRules, StepKind};
use crate::model::Target;
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::kinds::bodies::*;

macro_rules! define_steps {
    ($( $(#[$doc:meta])* $module:ident: $variant:ident($body:ident), )*) => {
        /// One step of a scenario, written as a one-key map: `- apply: {...}`, `- wait: {...}`.
        #[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub enum Step {
            $( $(#[$doc])* $variant(kinds::$body), )*
        }

        impl Step {
            /// Every step kind as written in files, for "did you mean" hints and the schema.
            pub const KIND_NAMES: &'static [&'static str] =
                &[$( <kinds::$variant as StepKind>::NAME, )*];

            /// The step's kind as written in the file, e.g. `apply`.
            pub fn kind_name(&self) -> &'static str {
                match self {
                    $( Step::$variant(_) => <kinds::$variant as StepKind>::NAME, )*
                }
            }

            /// A short description, e.g. `scale sts/web to 5`, `wait sts/web for ready`.
            pub fn summary(&self) -> String {
                match self {
                    $( Step::$variant(body) => kinds::$variant::summary(body), )*
                }
            }

            /// Every object the step names, with the path of its field in the step's body.
            pub fn targets(&self) -> Vec<(&Target, &'static [&'static str])> {
                match self {
                    $( Step::$variant(body) => kinds::$variant::targets(body), )*
                }
            }

            /// The objects a failure's diagnostics show the last state of.
            pub fn about(&self) -> Vec<Target> {
                match self {
                    $( Step::$variant(body) => kinds::$variant::about(body), )*
                }
            }

            /// The longest the step may take: its own timeout (or retry window, or observation
            /// time) where it has one, else `default`.
            pub fn time_limit(&self, default: std::time::Duration) -> std::time::Duration {
                match self {
                    $( Step::$variant(body) => kinds::$variant::time_limit(body, default), )*
                }
            }

            /// The variable the step captures for later steps, if any.
            pub fn captures(&self) -> Option<&str> {
                match self {
                    $( Step::$variant(body) => kinds::$variant::captures(body), )*
                }
            }

            /// The timeline mark the step sets, if any.
            pub fn mark(&self) -> Option<&str> {
                match self {
                    $( Step::$variant(body) => kinds::$variant::mark(body), )*
                }
            }

            /// The meaning checks of the step's kind.
            pub(crate) fn check(&self, check: &mut StepCheck<'_, '_>) {
                match self {
                    $( Step::$variant(body) => kinds::$variant::check(body, check), )*
                }
            }
        }
    };
}

crate::step_kinds!(define_steps);
