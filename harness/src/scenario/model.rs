//! The scenario model.
