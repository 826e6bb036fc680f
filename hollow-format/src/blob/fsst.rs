//! FSST string compression for pools: training and compression through `fsst-rs`, and a
//! small bounds-checked decoder of our own (so corrupt data is an error, never a panic).
//!
//! Codes: a byte `c < n` stands for symbol `c` (1 to 8 bytes); the escape byte 255 is
//! followed by one literal byte.

use crate::error::{Corruption, Result};

/// The escape code: the next byte is a literal.
pub const ESCAPE: u8 = 255;

/// A symbol table: up to 255 symbols of 1 to 8 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsstTable {
    /// Symbols as little-endian u64 (first byte in the low bits).
    pub symbols: Vec<u64>,
    /// Lengths of the symbols (1..=8).
    pub lens: Vec<u8>,
}

/// The compressor half, used by the writer.
pub struct FsstEncoder {
    compressor: fsst::Compressor,
}

impl FsstTable {
    /// Trains a table on a sample of the values (every k-th value, at most ~64k samples).
    pub fn train(values: &[&[u8]]) -> (FsstTable, FsstEncoder) {
        let step = (values.len() / 65_536).max(1);
        let sample: Vec<&[u8]> = values.iter().step_by(step).copied().collect();
        let compressor = fsst::Compressor::train(&sample);
        let symbols = compressor
            .symbol_table()
            .iter()
            .map(|s| s.to_u64())
            .collect();
        let lens = compressor.symbol_lengths().to_vec();
        (FsstTable { symbols, lens }, FsstEncoder { compressor })
    }

    /// Checks a table read from a blob.
    pub fn validate(symbols: Vec<u64>, lens: Vec<u8>) -> Result<FsstTable> {
        if symbols.len() > 255 {
            return Err(Corruption::OutOfRange {
                what: "FSST symbol count",
                value: symbols.len() as u64,
                min: 0,
                max: 255,
            }
            .into());
        }
        if symbols.len() != lens.len() {
            return Err(Corruption::CountMismatch {
                what: "FSST symbol length count",
                expected: symbols.len() as u64,
                got: lens.len() as u64,
            }
            .into());
        }
        if let Some(l) = lens.iter().find(|l| **l == 0 || **l > 8) {
            return Err(Corruption::OutOfRange {
                what: "FSST symbol length",
                value: *l as u64,
                min: 1,
                max: 8,
            }
            .into());
        }
        Ok(FsstTable { symbols, lens })
    }

    /// Decodes `codes` into `out` (appending).
    pub fn decode(&self, codes: &[u8], out: &mut Vec<u8>) -> Result<()> {
        out.reserve(codes.len() * 3);
        let mut i = 0;
        while i < codes.len() {
            let c = codes[i];
            if c == ESCAPE {
                let lit = *codes.get(i + 1).ok_or(Corruption::FsstEscapeAtEnd)?;
                out.push(lit);
                i += 2;
            } else {
                let k = c as usize;
                let (sym, len) = match (self.symbols.get(k), self.lens.get(k)) {
                    (Some(s), Some(l)) => (*s, *l as usize),
                    _ => {
                        return Err(Corruption::IndexOutOfRange {
                            what: "FSST code",
                            index: c as u64,
                            len: self.symbols.len().min(self.lens.len()) as u64,
                        }
                        .into())
                    }
                };
                out.extend_from_slice(&sym.to_le_bytes()[..len]);
                i += 1;
            }
        }
        Ok(())
    }
}

impl FsstEncoder {
    pub fn compress(&self, value: &[u8]) -> Vec<u8> {
        self.compressor.compress(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_through_our_decoder() {
        let texts: Vec<String> = (0..2000)
            .map(|i| {
                format!(
                    "[{}] As her father nears the end of his life, title {} — ünïcödé {}",
                    i % 40,
                    i,
                    "x".repeat(i % 13)
                )
            })
            .collect();
        let refs: Vec<&[u8]> = texts.iter().map(|s| s.as_bytes()).collect();
        let (table, enc) = FsstTable::train(&refs);
        let mut total_in = 0;
        let mut total_out = 0;
        for t in &refs {
            let c = enc.compress(t);
            total_in += t.len();
            total_out += c.len();
            let mut out = Vec::new();
            table.decode(&c, &mut out).unwrap();
            assert_eq!(&out, t);
        }
        assert!(total_out < total_in, "{total_out} >= {total_in}");
        let mut out = Vec::new();
        assert!(table.decode(&[ESCAPE], &mut out).is_err());
        assert!(table.decode(&[254], &mut out).is_err() || table.symbols.len() == 255);
        assert!(FsstTable::validate(vec![1], vec![9]).is_err());
    }
}
