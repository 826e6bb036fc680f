//! Output for people: aligned tables, colours (only on a terminal, never with `NO_COLOR`),
//! and progress bars drawn to stderr (only when stderr is a terminal).

use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use serde_json::Value as Json;

use crate::cli::Cli;
use crate::fail::{io_fail, Failure};

/// How text is coloured: plain unless stdout is a terminal and `NO_COLOR` is unset or empty.
#[derive(Clone, Copy, Debug)]
pub struct Paint {
    on: bool,
}

/// The role of a piece of text, which picks its colour.
#[derive(Clone, Copy, Debug)]
pub enum Tone {
    /// A table header.
    Header,
    /// Good news (`ok`, an added record).
    Good,
    /// Bad news (`BROKEN`, a removed record).
    Bad,
    /// A change (a changed field).
    Changed,
    /// Less important text.
    Dim,
}

impl Paint {
    /// Colours when stdout is a terminal and `NO_COLOR` is not set.
    pub fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Paint {
            on: !no_color && std::io::stdout().is_terminal(),
        }
    }

    /// `s` in the colour of `tone` (unchanged when colours are off).
    pub fn paint(&self, tone: Tone, s: &str) -> String {
        if !self.on {
            return s.to_owned();
        }
        let style = match tone {
            Tone::Header => Style::new().bold(),
            Tone::Good => AnsiColor::Green.on_default(),
            Tone::Bad => AnsiColor::Red.on_default().bold(),
            Tone::Changed => AnsiColor::Yellow.on_default(),
            Tone::Dim => Style::new().dimmed(),
        };
        format!("{}{s}{}", style.render(), style.render_reset())
    }
}

/// A table cell: its text and an optional tone. Alignment counts the text only.
pub struct Cell {
    text: String,
    tone: Option<Tone>,
}

impl Cell {
    /// A cell in a tone.
    pub fn toned(text: impl Into<String>, tone: Tone) -> Self {
        Cell {
            text: text.into(),
            tone: Some(tone),
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell { text, tone: None }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell {
            text: text.to_owned(),
            tone: None,
        }
    }
}

/// Prints rows as columns separated by two spaces, each as wide as its widest cell; the
/// last cell of a row is not padded. The first row is the header when `header` is true.
pub fn table(
    out: &mut impl Write,
    paint: Paint,
    header: bool,
    rows: Vec<Vec<Cell>>,
) -> Result<(), Failure> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.text.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (i, r) in rows.iter().enumerate() {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            let pad = if c + 1 == r.len() {
                0
            } else {
                widths[c] - cell.text.chars().count() + 2
            };
            let tone = if header && i == 0 {
                Some(Tone::Header)
            } else {
                cell.tone
            };
            match tone {
                Some(t) => line.push_str(&paint.paint(t, &cell.text)),
                None => line.push_str(&cell.text),
            }
            line.extend(std::iter::repeat_n(' ', pad));
        }
        writeln!(out, "{}", line.trim_end()).map_err(io_fail)?;
    }
    Ok(())
}

/// Plain string rows as a table (see [`table`]).
pub fn plain_table(
    out: &mut impl Write,
    header: bool,
    rows: &[Vec<String>],
) -> Result<(), Failure> {
    let rows = rows
        .iter()
        .map(|r| r.iter().map(|s| Cell::from(s.as_str())).collect())
        .collect();
    table(out, Paint::detect(), header, rows)
}

/// A progress bar of `len` steps on stderr, hidden unless stderr is a terminal.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// Prints `j` under `--json`, else the text.
pub(crate) fn say(
    cli: &Cli,
    out: &mut impl Write,
    j: Json,
    text: impl Fn() -> String,
) -> Result<u8, Failure> {
    if cli.json {
        writeln!(out, "{j}").map_err(io_fail)?;
    } else {
        writeln!(out, "{}", text()).map_err(io_fail)?;
    }
    Ok(0)
}
