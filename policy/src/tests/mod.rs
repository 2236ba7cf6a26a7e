//! The policy crate's tests: named table cases per module, property tests in `props`.

mod alloc;
mod class;
mod decision;
mod messages;
mod paths;
mod props;

mod select;
mod shape;
mod table;
