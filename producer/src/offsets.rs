//! Kafka positions stored in a published state's header.
//!
//! Every state a producer publishes records, under the header key [`HEADER_KEY`], the next
//! offset to read of every partition whose messages are folded into it:
//! `titles/0=1042,titles/1=977`. On start the service resumes from exactly these positions,
//! which is what makes the fold exactly-once across restarts: a message is in a published
//! state if and only if its offset is below the stored position of its partition.
//!
//! The format is `<topic>/<partition>=<next offset>` entries joined by `,`, sorted by topic
//! then partition. Topic names cannot hold `/`, `,` or `=` (Kafka allows only
//! `[a-zA-Z0-9._-]`), so the format needs no escaping.

use std::collections::BTreeMap;
use std::fmt;

/// The header key under which a state stores its Kafka positions.
pub const HEADER_KEY: &str = "kafka.offsets";

/// A topic partition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
}

impl TopicPartition {
    /// A topic partition.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.topic, self.partition)
    }
}

/// Next offsets to read, per topic partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offsets {
    map: BTreeMap<TopicPartition, i64>,
}

/// Why a stored offsets string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid offsets entry {entry:?}: {reason}")]
pub struct OffsetsParseError {
    /// The offending entry.
    pub entry: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Offsets {
    /// No positions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the header format (`topic/partition=offset,...`; empty: no positions).
    pub fn parse(text: &str) -> Result<Self, OffsetsParseError> {
        let mut map = BTreeMap::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let err = |reason| OffsetsParseError {
                entry: entry.to_owned(),
                reason,
            };
            let (tp, offset) = entry
                .split_once('=')
                .ok_or_else(|| err("expected <topic>/<partition>=<offset>"))?;
            let (topic, partition) = tp
                .rsplit_once('/')
                .ok_or_else(|| err("expected <topic>/<partition>"))?;
            if topic.is_empty() {
                return Err(err("empty topic"));
            }
            let partition: i32 = partition
                .parse()
                .map_err(|_| err("partition is not an integer"))?;
            let offset: i64 = offset
                .parse()
                .map_err(|_| err("offset is not an integer"))?;
            if partition < 0 || offset < 0 {
                return Err(err("negative partition or offset"));
            }
            if map
                .insert(TopicPartition::new(topic, partition), offset)
                .is_some()
            {
                return Err(err("partition listed twice"));
            }
        }
        Ok(Offsets { map })
    }

    /// The next offset to read of a partition, if known.
    pub fn get(&self, topic: &str, partition: i32) -> Option<i64> {
        self.map
            .get(&TopicPartition::new(topic, partition))
            .copied()
    }

    /// Sets the next offset to read of a partition.
    pub fn set(&mut self, topic: &str, partition: i32, next: i64) {
        self.map.insert(TopicPartition::new(topic, partition), next);
    }

    /// The positions of one topic only.
    pub fn for_topic(&self, topic: &str) -> Offsets {
        Offsets {
            map: self
                .map
                .iter()
                .filter(|(tp, _)| tp.topic == topic)
                .map(|(tp, o)| (tp.clone(), *o))
                .collect(),
        }
    }

    /// Iterates positions in topic, partition order.
    pub fn iter(&self) -> impl Iterator<Item = (&TopicPartition, i64)> {
        self.map.iter().map(|(tp, o)| (tp, *o))
    }

    /// The number of partitions with a position.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no position is known.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Sum of the next offsets (a quick progress figure for logs).
    pub fn total(&self) -> i64 {
        self.map.values().sum()
    }
}

impl fmt::Display for Offsets {
    /// The header format, parsed back by [`Offsets::parse`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (tp, o)) in self.map.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{tp}={o}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut o = Offsets::new();
        o.set("titles", 1, 977);
        o.set("titles", 0, 1042);
        o.set("assets", 10, 0);
        let text = o.to_string();
        assert_eq!(text, "assets/10=0,titles/0=1042,titles/1=977");
        assert_eq!(Offsets::parse(&text).unwrap(), o);
        assert_eq!(o.get("titles", 0), Some(1042));
        assert_eq!(o.get("titles", 2), None);
        assert_eq!(o.for_topic("titles").len(), 2);
        assert_eq!(o.total(), 2019);
    }

    #[test]
    fn empty_and_whitespace() {
        assert!(Offsets::parse("").unwrap().is_empty());
        assert_eq!(Offsets::parse(" a.b-c_d/0=5 , x/1=2 ").unwrap().len(), 2);
        assert_eq!(Offsets::new().to_string(), "");
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "titles",
            "titles=5",
            "/0=5",
            "t/x=5",
            "t/0=x",
            "t/-1=5",
            "t/0=-5",
            "t/0=1,t/0=2",
            "t/0=99999999999999999999",
        ] {
            assert!(Offsets::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
