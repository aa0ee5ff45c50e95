//! The scenario language: the YAML model, loading with spans, and validation.

pub mod model;
