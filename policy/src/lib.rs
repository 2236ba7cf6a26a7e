//! pathwise's policy, pure: address classes, path state, the AAAA-filter decision, response
//! shaping and address ordering. No sockets, no clock, no global state: every
//! decision is a function of its inputs.

pub mod class;
pub mod decision;
pub mod gai_conf;
pub mod paths;
pub mod select;
pub mod shape;
pub mod table;

pub use class::{AddressClass, Classified, TeredoParts, classify, describe};
pub use decision::{
    ARecord, AaaaDecision, ExplicitAsk, KeepReason, PolicyConfig, QueryFacts, ResponseFacts, decide,
};
pub use paths::{Counting, FilterMode, FilterReason, Path, PathState};
pub use select::{RankedDestination, SourceAddress, sort_destinations};
pub use shape::{ShapeReport, shape};
pub use table::{PolicyTable, Prefix, TableKind, TableRow};

#[cfg(test)]
mod tests;
