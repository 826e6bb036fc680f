//! Converting a read state back into a write state (ordinals preserved): how a restarted
//! producer resumes its timeline, and how a mapped consumer materializes a state it reached
//! by deltas into a new snapshot file.

use super::state::ReadState;
use crate::write::write_snapshot;
use crate::write::WriteState;
use hollow_format::blob::parse::TypeBody;
use hollow_format::blob::SnapshotOptions;
use hollow_format::codec::{encode_object, encode_ordinals};
use hollow_format::error::Result;
use hollow_format::schema::TypeSchema;

impl ReadState {
    /// A write state holding exactly this state's records at the same ordinals, with the
    /// same header.
    pub fn to_write_state(&self) -> Result<WriteState> {
        let mut ws = WriteState::with_schema(self.schema.clone());
        ws.header = self.header.clone();
        let mut enc = Vec::new();
        for (t, ts) in self.schema.types().iter().enumerate() {
            match (ts, &self.types[t].body) {
                (TypeSchema::Object(o), TypeBody::Object(_)) => {
                    let view = self.object(&o.name)?;
                    let cols = view.columns().to_vec();
                    let mut vals = Vec::with_capacity(cols.len());
                    for ord in view.ordinals() {
                        vals.clear();
                        for c in &cols {
                            vals.push(c.get(ord)?);
                        }
                        enc.clear();
                        encode_object(o, &vals, &mut enc)?;
                        ws.restore_at(t, &enc, ord)?;
                    }
                }
                (TypeSchema::List { name, .. }, _) => {
                    let v = self.list(name)?;
                    for ord in v.ordinals() {
                        let items: Vec<u32> = v.elements(ord)?.collect();
                        enc.clear();
                        encode_ordinals(&items, &mut enc);
                        ws.restore_at(t, &enc, ord)?;
                    }
                }
                (TypeSchema::Set { name, .. }, _) => {
                    let v = self.set(name)?;
                    for ord in v.ordinals() {
                        let mut items: Vec<u32> = v.elements(ord)?.collect();
                        items.sort_unstable();
                        enc.clear();
                        encode_ordinals(&items, &mut enc);
                        ws.restore_at(t, &enc, ord)?;
                    }
                }
                (TypeSchema::Map { name, .. }, _) => {
                    let v = self.map(name)?;
                    for ord in v.ordinals() {
                        let mut pairs: Vec<(u32, u32)> = v.entries(ord)?.collect();
                        pairs.sort_unstable();
                        let items: Vec<u32> = pairs.into_iter().flat_map(|(k, v)| [k, v]).collect();
                        enc.clear();
                        encode_ordinals(&items, &mut enc);
                        ws.restore_at(t, &enc, ord)?;
                    }
                }
                _ => {
                    return Err(hollow_format::Corruption::BodyMismatch {
                        type_name: ts.name().into(),
                        expected: "object",
                    }
                    .into())
                }
            }
        }
        Ok(ws)
    }

    /// Writes this state as a snapshot blob (used to materialize a state reached by deltas).
    pub fn write_snapshot(&self, opts: &SnapshotOptions) -> Result<Vec<u8>> {
        Ok(write_snapshot(&self.to_write_state()?, opts)?.0)
    }
}
