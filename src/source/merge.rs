//! `check --merge`: the recordings of several proxies read as ONE trace, in time order, so a
//! station that moved between instances (a reconnect through the load balancer, a rolling
//! restart) is judged as one station over all of them.
//!
//! A k-way merge by record timestamp over [`Source`]s, holding one pending record per input
//! (memory: k records, whatever the files' lengths). Equal times keep the inputs' order
//! (the first file first); a record without a readable `ts` keeps its place in its own file
//! (it is taken as its file's previous time). Records are renumbered 1, 2, … in merged order
//! (the lines findings name); problems and notes of an input are passed on with its name.
//! It reads and orders; it judges nothing.

use std::borrow::Cow;
use std::collections::VecDeque;

use serde::Deserialize;

use super::input::{InputFormat, Item, Problem, Source};
use crate::time::Timestamp;

/// One input of the merge.
struct Input {
    name: String,
    src: Box<dyn Source + Send>,
    /// The next record (its text), when read and not yet handed on.
    pending: Option<Vec<u8>>,
    /// Its time (or the input's previous time).
    at: i64,
    done: bool,
}

/// Several sources as one, in time order.
pub struct MergedSource {
    inputs: Vec<Input>,
    /// Problems and notes met while filling, handed on first (at most one per input).
    queued: VecDeque<Queued>,
    current: Vec<u8>,
    /// Records handed on so far (the merged line number).
    records: u64,
}

enum Queued {
    Problem(Problem),
    Note(String),
}

#[derive(Deserialize)]
struct Ts<'a> {
    #[serde(borrow)]
    ts: Option<Cow<'a, str>>,
}

/// The time of a trace record, when it has a readable one.
fn time_of(text: &[u8]) -> Option<i64> {
    let r: Ts<'_> = serde_json::from_slice(text).ok()?;
    Timestamp::parse_rfc3339(&r.ts?).ok().map(Timestamp::micros)
}

impl MergedSource {
    /// Merges `inputs` (a name for messages, and the opened source).
    pub fn new(inputs: Vec<(String, Box<dyn Source + Send>)>) -> Self {
        MergedSource {
            inputs: inputs
                .into_iter()
                .map(|(name, src)| Input {
                    name,
                    src,
                    pending: None,
                    at: i64::MIN,
                    done: false,
                })
                .collect(),
            queued: VecDeque::new(),
            current: Vec::new(),
            records: 0,
        }
    }

    /// Reads input `i` up to its next record, or queues the problem or note met first.
    fn fill(&mut self, i: usize) {
        let input = &mut self.inputs[i];
        if input.done || input.pending.is_some() {
            return;
        }
        match input.src.next_item() {
            Some(Item::Line { text, .. }) => {
                if let Some(at) = time_of(text) {
                    input.at = at;
                }
                input.pending = Some(text.to_vec());
            }
            Some(Item::Problem(p)) => self.queued.push_back(Queued::Problem(Problem {
                pos: self.records,
                message: format!("{} line {}: {}", input.name, p.pos, p.message),
            })),
            Some(Item::Note(n)) => self
                .queued
                .push_back(Queued::Note(format!("{}: {n}", input.name))),
            None => input.done = true,
        }
    }
}

impl Source for MergedSource {
    fn next_item(&mut self) -> Option<Item<'_>> {
        // Bounded: each round either hands something on or ends an input.
        loop {
            if let Some(q) = self.queued.pop_front() {
                return Some(match q {
                    Queued::Problem(p) => Item::Problem(p),
                    Queued::Note(n) => Item::Note(n),
                });
            }
            for i in 0..self.inputs.len() {
                self.fill(i);
            }
            if !self.queued.is_empty() {
                continue;
            }
            // The earliest pending record; the first input wins a tie.
            let next = self
                .inputs
                .iter()
                .enumerate()
                .filter(|(_, x)| x.pending.is_some())
                .min_by_key(|(i, x)| (x.at, *i))
                .map(|(i, _)| i);
            let i = next?;
            self.current = self.inputs[i].pending.take().unwrap_or_default();
            self.records += 1;
            return Some(Item::Line {
                pos: self.records,
                text: &self.current,
            });
        }
    }

    fn format(&self) -> InputFormat {
        InputFormat::Jsonl
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::source::input::{InputOptions, open_reader};

    fn src(text: &'static str) -> Box<dyn Source + Send> {
        open_reader(Box::new(Cursor::new(text)), &InputOptions::default()).unwrap()
    }

    fn lines(m: &mut MergedSource) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..100 {
            match m.next_item() {
                Some(Item::Line { pos, text }) => {
                    out.push(format!("{pos} {}", String::from_utf8_lossy(text)));
                }
                Some(Item::Problem(p)) => out.push(format!("problem {}", p.message)),
                Some(Item::Note(n)) => out.push(format!("note {n}")),
                None => return out,
            }
        }
        panic!("no end");
    }

    #[test]
    fn records_come_in_time_order_ties_by_input_and_undated_ones_keep_their_place() {
        let a = concat!(
            r#"{"ts":"2026-12-07T05:00:01Z","conn":"A","event":"open"}"#,
            "\n",
            r#"{"ts":"2026-12-07T05:00:03Z","conn":"A","from":"charger","text":"x"}"#,
            "\n",
            r#"{"conn":"A","from":"charger","text":"undated"}"#,
            "\n",
        );
        let b = concat!(
            r#"{"ts":"2026-12-07T07:00:02+02:00","conn":"B","event":"open"}"#,
            "\n",
            r#"{"ts":"2026-12-07T05:00:03Z","conn":"B","from":"charger","text":"y"}"#,
            "\n",
        );
        let mut m = MergedSource::new(vec![("a".into(), src(a)), ("b".into(), src(b))]);
        let got: Vec<String> = lines(&mut m)
            .into_iter()
            .map(|l| l.chars().take(40).collect())
            .collect();
        assert_eq!(
            got,
            [
                r#"1 {"ts":"2026-12-07T05:00:01Z","conn":"A"#,
                r#"2 {"ts":"2026-12-07T07:00:02+02:00","con"#,
                r#"3 {"ts":"2026-12-07T05:00:03Z","conn":"A"#,
                r#"4 {"conn":"A","from":"charger","text":"u"#,
                r#"5 {"ts":"2026-12-07T05:00:03Z","conn":"B"#,
            ]
        );
    }
}
