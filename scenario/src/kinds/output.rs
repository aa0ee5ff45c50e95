//! The output expectations `exec` and `command` share: `stdout`, `stderr`, `exitCode`,
//! `eventually` and `captureStdout`. A macro adds them to each body, since serde cannot flatten
//! a shared struct into one that denies unknown fields (and keep its error locations).

/// Declares a step body with the fields written, then the shared output expectations, and
/// gives it `check_output` for their shared checks.
macro_rules! with_output {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $( $(#[$field_attr:meta])* pub $field:ident: $type:ty, )*
        }
    ) => {
        $(#[$attr])*
        pub struct $name {
            $( $(#[$field_attr])* pub $field: $type, )*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub stdout: Option<$crate::model::TextMatch>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub stderr: Option<$crate::model::TextMatch>,
            /// The expected exit code (default 0).
            #[serde(default)]
            pub exit_code: i32,
            /// Run again until the expectations hold or this long has passed.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub eventually: Option<$crate::model::Duration>,
            /// Save stdout (trimmed) under this name for `${name}` later.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub capture_stdout: Option<String>,
        }

        impl $name {
            /// The checks of the output expectations: their patterns compile.
            fn check_output(&self, check: &mut $crate::validate::StepCheck<'_, '_>) {
                check.text("stdout", self.stdout.as_ref());
                check.text("stderr", self.stderr.as_ref());
            }
        }
    };
}

pub(super) use with_output;
