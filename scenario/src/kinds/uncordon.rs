//! `uncordon`: mark a node schedulable again; it names its node as `cordon` does.

use super::Uncordon;
use super::cordon::NodeKind;

impl NodeKind for Uncordon {}
