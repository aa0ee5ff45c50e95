//! A small in-process stand-in for the Kubernetes API server, used by petset's own tests.
