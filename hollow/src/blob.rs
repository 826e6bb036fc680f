//! The blob format, from both layers that define it: the envelope, the snapshot writer and
//! the parser (`hollow-format`, specified in `hollow-format/src/blob/README.md`), and deltas written
//! from a write state's journal and applied to a read state (`hollow-state`).

pub use hollow_format::blob::*;
pub use hollow_state::delta::{apply_delta, delta_versions, write_delta_pair, Applied};
pub use hollow_state::write::write_snapshot;
