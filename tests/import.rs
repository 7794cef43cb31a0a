//! Traces from anywhere: the same traffic read from a capture, an Open OCPP Trace file or a
//! log gives the findings of its JSON Lines recording; captures with the faults real ones
//! have (loss, reordering, retransmission, deflate, IPv6, other link layers, a start in
//! the middle of a connection, a cut file) are read without garbage and without a panic;
//! the public samples and our log fixtures are read with no input error.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ocpp_inspector::checker::{CheckOptions, FileResult, check_path_with};
use ocpp_inspector::engine::schema::ErrataSelection;
use ocpp_inspector::engine::{Config, SchemaSet};
use ocpp_inspector::ocpp::Version;
use ocpp_inspector::source::input::{self, InputFormat, InputOptions, Item, Rec, RecKind};
use ocpp_inspector::source::pcap::link;
use ocpp_inspector::source::pcap::synth::{self, Options, Packet};
use ocpp_inspector::source::trace_reader::parse_record;
use ocpp_inspector::time::Timestamp;

fn opts(version: Option<Version>) -> CheckOptions {
    static SCHEMAS: OnceLock<Arc<SchemaSet>> = OnceLock::new();
    CheckOptions {
        schemas: SCHEMAS
            .get_or_init(|| Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("schemas")))
            .clone(),
        config: Arc::new(Config::default()),
        default_version: version,
        jobs: 1,
    }
}

fn check(path: &Path, input: &InputOptions) -> FileResult {
    check_path_with(path, &opts(None), input, 1)
}

/// The demo's recording: simulated chargers of every version through the proxy, with its
/// planted faults. Made once per test run.
fn recording() -> &'static Path {
    static TRACE: OnceLock<PathBuf> = OnceLock::new();
    TRACE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("import-demo");
        let _ = std::fs::remove_dir_all(&dir);
        let r = common::run_with_limit(
            &[
                "demo",
                "--out",
                dir.to_str().expect("utf-8"),
                "--duration",
                "3",
                "--chargers",
                "6",
                "--fast",
            ],
            Duration::from_secs(90),
        );
        assert_eq!(r.code, 0, "the demo ran: {}", r.stderr);
        dir.join("trace.jsonl")
    })
}

fn records(path: &Path) -> Vec<Rec> {
    let text = std::fs::read(path).expect("read the trace");
    text.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
        .filter_map(|(i, l)| {
            let r = parse_record(l, i as u64 + 1).expect("a trace record");
            Rec::from_record(&r)
        })
        .collect()
}

/// What a finding says, without where in its file it is (a line there, a packet here);
/// a line named inside a message is left out the same way.
fn keys(r: &FileResult) -> Vec<String> {
    let re = regex::Regex::new(r"line \d+").expect("regex");
    let mut k: Vec<String> = r
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {:?} {:?} {:?} {:?} {} {}",
                f.conn,
                f.rule.id,
                f.severity,
                f.from,
                f.unique_id,
                f.action,
                f.at.micros(),
                re.replace_all(&f.message, "line N")
            )
        })
        .collect();
    k.sort();
    k
}

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("import-captures");
    std::fs::create_dir_all(&dir).expect("dir");
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

fn frames_of(recs: &[Rec]) -> usize {
    recs.iter()
        .filter(|r| matches!(r.kind, RecKind::Frame { .. }))
        .count()
}

/// Reads an input back as records, problems and notes.
fn read(path: &Path, input: &InputOptions) -> (Vec<Rec>, Vec<String>, Vec<String>) {
    let mut src = input::open(path, input).expect("open");
    let (mut recs, mut problems, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(item) = src.next_item() {
        match item {
            Item::Line { pos, text } => {
                let r = parse_record(text, pos).expect("importers write records");
                recs.extend(Rec::from_record(&r));
            }
            Item::Problem(p) => problems.push(p.message),
            Item::Note(n) => notes.push(n),
        }
    }
    (recs, problems, notes)
}

#[test]
fn a_capture_of_the_recorded_traffic_gives_the_recordings_findings() {
    let trace = recording();
    let recs = records(trace);
    assert!(frames_of(&recs) > 50, "the demo recorded traffic");
    let want = check(trace, &InputOptions::default());
    assert!(want.input_errors.is_empty(), "{:?}", want.input_errors);
    assert!(!want.findings.is_empty(), "the demo plants faults");
    let variants = [
        ("ethernet.pcap", Options::default()),
        (
            "sll2-deflate.pcapng",
            Options {
                pcapng: true,
                linktype: link::LINUX_SLL2,
                deflate: Some(false),
                ..Options::default()
            },
        ),
        (
            "sll-deflate-fresh-fragmented.pcap",
            Options {
                linktype: link::LINUX_SLL,
                deflate: Some(true),
                fragments: 3,
                mss: 61,
                port: 9001,
                ..Options::default()
            },
        ),
        (
            "null-ipv6.pcapng",
            Options {
                pcapng: true,
                linktype: link::NULL,
                ipv6: true,
                ..Options::default()
            },
        ),
        (
            "raw.pcap",
            Options {
                linktype: link::RAW,
                mss: 7,
                ..Options::default()
            },
        ),
    ];
    for (name, o) in variants {
        let path = write(name, &synth::capture(&recs, &o));
        let got = check(&path, &InputOptions::default());
        assert!(
            got.input_errors.is_empty(),
            "{name}: {:?}",
            got.input_errors
        );
        assert_eq!(got.stats.frames, want.stats.frames, "{name}");
        assert_eq!(keys(&got), keys(&want), "{name}");
        // Forced format and gzip read the same.
        if name == "ethernet.pcap" {
            use std::io::Write as _;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&std::fs::read(&path).expect("read"))
                .expect("gzip");
            let gz_path = write("ethernet.pcap.gz", &gz.finish().expect("gzip"));
            let forced = InputOptions {
                format: Some(InputFormat::Pcap),
                ..InputOptions::default()
            };
            assert_eq!(keys(&check(&gz_path, &forced)), keys(&want));
        }
    }
}

/// The packets of the recording with one transformation applied.
fn faulty(name: &str, recs: &[Rec], o: &Options, f: impl FnOnce(&mut Vec<Packet>)) -> PathBuf {
    let mut packets = synth::packets(recs, o);
    f(&mut packets);
    write(name, &synth::write_capture(&packets, o, usize::MAX >> 1))
}

#[test]
fn reordered_and_retransmitted_segments_change_nothing() {
    let recs = records(recording());
    let o = Options {
        mss: 40,
        ..Options::default()
    };
    let want = keys(&check(
        &write("plain.pcap", &synth::capture(&recs, &o)),
        &InputOptions::default(),
    ));
    let path = faulty("reordered.pcap", &recs, &o, |p| {
        // Swap neighbouring data segments of one direction of a connection.
        let mut i = 0;
        while i + 1 < p.len() {
            if !p[i].payload.is_empty() && p[i].src == p[i + 1].src && p[i].dst == p[i + 1].dst {
                p.swap(i, i + 1);
                i += 2;
            } else {
                i += 1;
            }
        }
    });
    let got = check(&path, &InputOptions::default());
    assert!(got.input_errors.is_empty(), "{:?}", got.input_errors);
    assert_eq!(keys(&got), want);
    let path = faulty("retransmitted.pcap", &recs, &o, |p| {
        let copy: Vec<Packet> = p.clone();
        p.clear();
        for (i, pk) in copy.into_iter().enumerate() {
            p.push(pk.clone());
            if i % 3 == 0 && !pk.payload.is_empty() {
                // A retransmission, and an overlapping one.
                p.push(pk.clone());
                let mut part = pk;
                part.payload.truncate(part.payload.len().div_ceil(2));
                p.push(part);
            }
        }
    });
    let got = check(&path, &InputOptions::default());
    assert!(got.input_errors.is_empty(), "{:?}", got.input_errors);
    assert_eq!(keys(&got), want);
}

#[test]
fn a_lost_segment_is_a_gap_and_the_frames_after_it_are_still_read() {
    let recs = records(recording());
    let o = Options::default();
    let total = frames_of(&recs);
    // Lose the segment of the 20th frame.
    let mut dropped_conn = String::new();
    let path = faulty("loss.pcap", &recs, &o, |p| {
        let mut seen = 0;
        let idx = p
            .iter()
            .position(|pk| {
                let frame = pk.payload.first().is_some_and(|b| *b == 0x81);
                if frame {
                    seen += 1;
                }
                frame && seen == 20
            })
            .expect("a 20th frame");
        dropped_conn = format!("{}", p[idx].src.1);
        p.remove(idx);
    });
    let (got, problems, _) = read(&path, &InputOptions::default());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(frames_of(&got), total - 1, "one frame lost, the rest read");
    let gaps: Vec<&Rec> = got
        .iter()
        .filter(|r| matches!(r.kind, RecKind::Gap { .. }))
        .collect();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let RecKind::Gap { reason, .. } = &gaps[0].kind else {
        unreachable!()
    };
    assert!(
        reason
            .as_deref()
            .is_some_and(|r| r.contains("capture loss")),
        "{reason:?}"
    );
    // The checker reads the gap without an input error.
    let r = check(&path, &InputOptions::default());
    assert!(r.input_errors.is_empty(), "{:?}", r.input_errors);
    // A small snaplen (above the handshake's packets) cuts every long frame: gaps, never
    // garbage frames.
    let cut = write(
        "snaplen.pcap",
        &synth::write_capture(&synth::packets(&recs, &o), &o, 300),
    );
    let (got, problems, _) = read(&cut, &InputOptions::default());
    assert!(problems.is_empty(), "{problems:?}");
    assert!(got.iter().any(|r| matches!(r.kind, RecKind::Gap { .. })));
    for r in &got {
        if let RecKind::Frame { text, .. } = &r.kind {
            assert!(
                serde_json::from_str::<serde_json::Value>(text).is_ok()
                    || recs.iter().any(|o| o.kind == r.kind),
                "a frame read after a cut is a real frame: {text}"
            );
        }
    }
}

#[test]
fn a_jump_of_the_capture_clock_is_a_gap_on_the_open_connections() {
    let recs = records(recording());
    let o = Options::default();
    let total = frames_of(&recs);
    let cases = [
        ("back", -10_000_000, true),
        ("ahead", 25 * 3600 * 1_000_000, true),
        // Under the thresholds (1 s back, 24 h ahead): no gap.
        ("jitter", -500_000, false),
        ("quiet-hour", 3600 * 1_000_000, false),
    ];
    for (name, shift_us, gap) in cases {
        let path = faulty(&format!("jump-{name}.pcap"), &recs, &o, |p| {
            let mid = p.len() / 2;
            for pk in &mut p[mid..] {
                pk.at = Timestamp::from_micros(pk.at.micros() + shift_us);
            }
        });
        let (got, problems, _) = read(&path, &InputOptions::default());
        assert!(problems.is_empty(), "{name}: {problems:?}");
        assert_eq!(frames_of(&got), total, "{name}: every frame is still read");
        let gaps: Vec<&str> = got
            .iter()
            .filter_map(|r| match &r.kind {
                RecKind::Gap { reason, .. } => reason.as_deref(),
                _ => None,
            })
            .collect();
        if gap {
            assert!(!gaps.is_empty(), "{name}: a gap");
            let dir = if shift_us < 0 {
                "jumps back"
            } else {
                "jumps ahead"
            };
            assert!(gaps.iter().all(|g| g.contains(dir)), "{name}: {gaps:?}");
        } else {
            assert!(gaps.is_empty(), "{name}: {gaps:?}");
        }
    }
}

/// An Ethernet/IPv4 packet cut into IP fragments of at most `size` payload bytes (a
/// multiple of 8), identified by `id`, last first when `reverse`.
fn ip_fragments(packet: &[u8], id: u16, size: usize, reverse: bool) -> Vec<Vec<u8>> {
    let (eth, ip) = packet.split_at(14);
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let payload = &ip[ihl..];
    let mut out: Vec<Vec<u8>> = payload
        .chunks(size)
        .enumerate()
        .map(|(i, part)| {
            let mut head = ip[..ihl].to_vec();
            head[4..6].copy_from_slice(&id.to_be_bytes());
            let more = (i + 1) * size < payload.len();
            let word = u16::try_from(i * size / 8).unwrap() | if more { 0x2000 } else { 0 };
            head[6..8].copy_from_slice(&word.to_be_bytes());
            head[2..4].copy_from_slice(&u16::try_from(ihl + part.len()).unwrap().to_be_bytes());
            [eth, &head, part].concat()
        })
        .collect();
    if reverse {
        out.reverse();
    }
    out
}

/// Frames were lost (a datagram that could not be rebuilt): a gap in their place, and every
/// other frame read.
fn assert_gap_and_the_rest_read(got: &[Rec], want: usize) {
    assert!(
        got.iter().any(|r| matches!(r.kind, RecKind::Gap { .. })),
        "a gap"
    );
    assert!(
        frames_of(got) < want && frames_of(got) + 2 >= want,
        "the rest is read"
    );
}

/// A capture that lost one fragment of one `family` datagram: no input error, a note that
/// names it, a gap in its place, and every other frame read.
fn assert_one_datagram_lost(name: &str, lossy: &[(i64, Vec<u8>)], family: &str, want: usize) {
    let (got, problems, notes) = read(&write(name, &raw_pcap(lossy)), &InputOptions::default());
    assert!(problems.is_empty(), "{problems:?}");
    let said = format!("1 fragmented {family} packet(s) could not be put back together");
    assert!(notes.iter().any(|n| n.contains(&said)), "{notes:?}");
    assert_gap_and_the_rest_read(&got, want);
}

/// A pcap (Ethernet, microseconds) of raw packets, all stamped `at`.
fn raw_pcap(packets: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for w in [
        0xa1b2_c3d4u32.to_le_bytes().to_vec(),
        vec![2, 0, 4, 0],
        vec![0; 8],
    ] {
        out.extend(w);
    }
    out.extend(65_535u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    for (at, p) in packets {
        let len = u32::try_from(p.len()).unwrap();
        out.extend(u32::try_from(at / 1_000_000).unwrap().to_le_bytes());
        out.extend(u32::try_from(at % 1_000_000).unwrap().to_le_bytes());
        out.extend(len.to_le_bytes());
        out.extend(len.to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

#[test]
fn ip_fragments_are_put_back_together_and_a_missing_one_is_a_gap() {
    let recs = records(recording());
    let o = Options::default();
    let want = frames_of(&recs);
    let packets = synth::packets(&recs, &o);
    let mut whole = Vec::new();
    let mut lossy = Vec::new();
    let mut cut = 0;
    for (i, p) in packets.iter().enumerate() {
        let bytes = synth::encode_packet(p, link::ETHERNET);
        let at = p.at.micros();
        if p.payload.len() > 64 {
            let id = u16::try_from(i % 65_536).unwrap();
            let parts = ip_fragments(&bytes, id, 48, i % 2 == 0);
            whole.extend(parts.iter().map(|f| (at, f.clone())));
            // The lossy copy loses one fragment of one datagram (after the handshakes).
            if cut == 0 && i > packets.len() / 2 && parts.len() > 2 {
                cut += 1;
                lossy.extend(parts.into_iter().skip(1).map(|f| (at, f)));
            } else {
                lossy.extend(parts.into_iter().map(|f| (at, f)));
            }
        } else {
            whole.push((at, bytes.clone()));
            lossy.push((at, bytes));
        }
    }
    assert_eq!(cut, 1, "some packet was long enough to cut");
    let (got, problems, _) = read(
        &write("ipfrag.pcap", &raw_pcap(&whole)),
        &InputOptions::default(),
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(frames_of(&got), want, "every frame, from the fragments");
    let direct = read(
        &write("ipfrag-plain.pcap", &synth::capture(&recs, &o)),
        &InputOptions::default(),
    )
    .0;
    assert_eq!(got, direct, "the same records as the unfragmented capture");

    assert_one_datagram_lost("ipfrag-lost.pcap", &lossy, "IPv4", want);
}

/// An Ethernet/IPv6 packet cut into fragments of at most `size` fragmentable bytes (a
/// multiple of 8) identified by `id`, last first when `reverse`. With `hop_by_hop`, a
/// hop-by-hop options header comes before the Fragment header; with `dest_opts`, a
/// destination options header opens the fragmentable part (before TCP).
fn ipv6_fragments(
    packet: &[u8],
    id: u32,
    size: usize,
    reverse: bool,
    hop_by_hop: bool,
    dest_opts: bool,
) -> Vec<Vec<u8>> {
    let (eth, ip) = packet.split_at(14);
    let (head, tcp) = ip.split_at(40);
    // An options header of 8 bytes: next header, length 0, PadN of 4.
    let opts = |next: u8| vec![next, 0, 1, 4, 0, 0, 0, 0];
    let fragmentable = if dest_opts {
        [opts(6), tcp.to_vec()].concat()
    } else {
        tcp.to_vec()
    };
    let after_frag = if dest_opts { 60 } else { 6 };
    let mut out: Vec<Vec<u8>> = fragmentable
        .chunks(size)
        .enumerate()
        .map(|(i, part)| {
            let more = (i + 1) * size < fragmentable.len();
            let word = u16::try_from(i * size).unwrap() | u16::from(more);
            let mut frag = vec![after_frag, 0];
            frag.extend(word.to_be_bytes());
            frag.extend(id.to_be_bytes());
            let mut h = head.to_vec();
            let unfrag = if hop_by_hop { opts(44) } else { Vec::new() };
            h[6] = if hop_by_hop { 0 } else { 44 };
            let len = u16::try_from(unfrag.len() + 8 + part.len()).unwrap();
            h[4..6].copy_from_slice(&len.to_be_bytes());
            [eth, &h, &unfrag, &frag, part].concat()
        })
        .collect();
    if reverse {
        out.reverse();
    }
    out
}

#[test]
fn ipv6_fragments_are_put_back_together_and_a_missing_or_bogus_one_is_a_gap() {
    let trace = recording();
    let recs = records(trace);
    let want = frames_of(&recs);
    let want_findings = keys(&check(trace, &InputOptions::default()));
    let o = Options {
        ipv6: true,
        ..Options::default()
    };
    let packets = synth::packets(&recs, &o);
    let (mut whole, mut lossy, mut bogus) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cut, mut spoilt) = (0, 0);
    for (i, p) in packets.iter().enumerate() {
        let bytes = synth::encode_packet(p, link::ETHERNET);
        let at = p.at.micros();
        if p.payload.len() > 64 {
            let id = u32::try_from(i).unwrap() | 0x8000_0000;
            let parts = ipv6_fragments(&bytes, id, 48, i % 2 == 0, i % 3 == 0, i % 5 == 0);
            whole.extend(parts.iter().map(|f| (at, f.clone())));
            // The lossy copy loses one fragment of one datagram (after the handshakes).
            if cut == 0 && i > packets.len() / 2 && parts.len() > 2 {
                cut += 1;
                lossy.extend(parts.iter().skip(1).map(|f| (at, f.clone())));
            } else {
                lossy.extend(parts.iter().map(|f| (at, f.clone())));
            }
            // The bogus copy has, in one datagram, a second copy of a fragment with another
            // last byte (an overlap that contradicts the first copy).
            if spoilt == 0 && i > packets.len() / 3 && parts.len() > 2 {
                spoilt += 1;
                let mut evil = parts[parts.len() - 1].clone();
                let n = evil.len();
                evil[n - 1] ^= 0xff;
                let (first, rest) = parts.split_last().unwrap();
                bogus.push((at, first.clone()));
                bogus.push((at, evil));
                bogus.extend(rest.iter().map(|f| (at, f.clone())));
            } else {
                bogus.extend(parts.iter().map(|f| (at, f.clone())));
            }
        } else {
            whole.push((at, bytes.clone()));
            lossy.push((at, bytes.clone()));
            bogus.push((at, bytes));
        }
    }
    assert_eq!(
        (cut, spoilt),
        (1, 1),
        "some packets were long enough to cut"
    );
    let path = write("ip6frag.pcap", &raw_pcap(&whole));
    let (got, problems, notes) = read(&path, &InputOptions::default());
    assert!(problems.is_empty(), "{problems:?}");
    assert!(!notes.iter().any(|n| n.contains("fragment")), "{notes:?}");
    assert_eq!(frames_of(&got), want, "every frame, from the fragments");
    let direct = read(
        &write("ip6frag-plain.pcap", &synth::capture(&recs, &o)),
        &InputOptions::default(),
    )
    .0;
    assert_eq!(got, direct, "the same records as the unfragmented capture");
    let r = check(&path, &InputOptions::default());
    assert!(r.input_errors.is_empty(), "{:?}", r.input_errors);
    assert_eq!(
        keys(&r),
        want_findings,
        "the JSON Lines recording's findings"
    );

    assert_one_datagram_lost("ip6frag-lost.pcap", &lossy, "IPv6", want);

    let (got, problems, notes) = read(
        &write("ip6frag-bogus.pcap", &raw_pcap(&bogus)),
        &InputOptions::default(),
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert!(
        notes.iter().any(|n| n.starts_with("packet ")
            && n.contains(
                "IPv6 fragment dropped with its datagram (fragments overlap with different bytes"
            )),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n
                .contains("1 fragmented IPv6 packet(s) had fragments that contradict each other")),
        "{notes:?}"
    );
    assert!(
        !notes
            .iter()
            .any(|n| n.contains("could not be put back together")),
        "the rest of the dropped datagram is not left waiting: {notes:?}"
    );
    assert_gap_and_the_rest_read(&got, want);
}

#[test]
fn a_capture_that_starts_mid_connection_is_read_from_the_first_frame() {
    let recs = records(recording());
    let o = Options {
        skip_handshake: true,
        pcapng: true,
        ..Options::default()
    };
    let path = write("mid.pcapng", &synth::capture(&recs, &o));
    let (got, problems, notes) = read(&path, &InputOptions::default());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(frames_of(&got), frames_of(&recs));
    assert!(got.iter().all(|r| !matches!(r.kind, RecKind::Open { .. })));
    assert!(
        notes
            .iter()
            .any(|n| n.contains("starts inside this connection")),
        "{notes:?}"
    );
    // Directions come from the masking: the charger's frames stay the charger's.
    let first = recs
        .iter()
        .find(|r| matches!(r.kind, RecKind::Frame { .. }))
        .expect("frame");
    let read_first = got
        .iter()
        .find(|r| matches!(r.kind, RecKind::Frame { .. }))
        .expect("frame");
    assert_eq!(first.kind, read_first.kind);
    // With --conn the identity is the given one.
    let named = InputOptions {
        conn: Some("CP-X".into()),
        ..InputOptions::default()
    };
    let (got, _, _) = read(&path, &named);
    assert!(got.iter().all(|r| r.conn == "CP-X"));
}

#[test]
fn cut_and_corrupt_captures_name_the_packet_and_keep_what_came_before() {
    let recs = records(recording());
    let o = Options::default();
    let bytes = synth::capture(&recs, &o);
    let half = write("half.pcap", &bytes[..bytes.len() / 2]);
    let (got, problems, _) = read(&half, &InputOptions::default());
    assert!(frames_of(&got) > 10, "what came before the cut is read");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("packet ") && problems[0].contains("byte offset"),
        "{problems:?}"
    );
    // Flipped bytes anywhere: problems at most, never a panic, and the reading ends.
    let mut seed = 0x2545_f491_u64;
    for round in 0..40 {
        let mut b = bytes.clone();
        for _ in 0..(1 + round % 8) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = usize::try_from(seed % b.len() as u64).expect("index");
            b[i] ^= u8::try_from(seed >> 56).expect("byte") | 1;
        }
        let p = write("mutated.pcap", &b);
        let _ = read(&p, &InputOptions::default());
    }
    // Not a capture at all, forced as one: one problem naming the start.
    let junk = write("junk.pcap", b"this is not a capture\n");
    let forced = InputOptions {
        format: Some(InputFormat::Pcap),
        ..InputOptions::default()
    };
    let (_, problems, _) = read(&junk, &forced);
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn open_ocpp_trace_round_trips_the_frames() {
    let trace = recording();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("import-oot");
    std::fs::create_dir_all(&dir).expect("dir");
    let oot = dir.join("demo.oot.jsonl");
    let r = common::run(&[
        "convert",
        trace.to_str().expect("utf-8"),
        "-o",
        oot.to_str().expect("utf-8"),
        "--to",
        "oot",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (got, problems, notes) = read(&oot, &InputOptions::default());
    assert!(problems.is_empty(), "{problems:?}");
    assert!(notes.iter().any(|n| n.contains("open")), "{notes:?}");
    let want: Vec<(String, RecKind)> = records(trace)
        .into_iter()
        .filter(|r| matches!(r.kind, RecKind::Frame { .. }))
        .map(|r| (r.conn, r.kind))
        .collect();
    let back: Vec<(String, RecKind)> = got
        .into_iter()
        .filter(|r| matches!(r.kind, RecKind::Frame { .. }))
        .map(|r| (r.conn, r.kind))
        .collect();
    assert_eq!(
        back, want,
        "every frame, its station and direction, byte for byte"
    );
}

#[test]
fn the_log_presets_read_their_fixtures() {
    let cases = [
        ("steve", "EVB-P1234", 8),
        ("homeassistant", "wallbox1", 8),
        ("ocpp-py", "CP_7", 6),
        ("evcc", "ABL-77", 8),
        ("everest", "log", 6),
    ];
    for (preset, conn, frames) in cases {
        let path = common::root().join(format!("tests/fixtures/logs/{preset}.log"));
        let mut src = input::open(&path, &InputOptions::default()).expect("open");
        assert_eq!(
            src.format(),
            InputFormat::Log(Some(preset.to_owned())),
            "{preset} told from its lines"
        );
        while src.next_item().is_some() {}
        let (recs, problems, notes) = read(&path, &InputOptions::default());
        assert!(problems.is_empty(), "{preset}: {problems:?}");
        assert_eq!(frames_of(&recs), frames, "{preset}");
        assert!(recs.iter().all(|r| r.conn == conn), "{preset}");
        assert!(matches!(recs[0].kind, RecKind::Open { .. }), "{preset}");
        // The first CALL is the charger's BootNotification and its answer comes back.
        let frames: Vec<&Rec> = recs
            .iter()
            .filter(|r| matches!(r.kind, RecKind::Frame { .. }))
            .collect();
        assert!(
            matches!(&frames[0].kind, RecKind::Frame { from: ocpp_inspector::ocpp::Side::Charger, text, .. } if text.contains("BootNotification")),
            "{preset}"
        );
        assert!(
            matches!(
                &frames[1].kind,
                RecKind::Frame {
                    from: ocpp_inspector::ocpp::Side::Csms,
                    ..
                }
            ),
            "{preset}"
        );
        assert!(
            notes.iter().any(|n| n.contains("direction from")),
            "{preset}: {notes:?}"
        );
        let r = check(&path, &InputOptions::default());
        assert!(r.input_errors.is_empty(), "{preset}: {:?}", r.input_errors);
        assert!(
            !r.notes.is_empty(),
            "{preset}: the inferences reach the report"
        );
    }
    // --tz moves zone-less times.
    let path = common::root().join("tests/fixtures/logs/evcc.log");
    let (utc, _, _) = read(&path, &InputOptions::default());
    let (local, _, _) = read(
        &path,
        &InputOptions {
            tz: Some("+01:00".parse().expect("tz")),
            ..InputOptions::default()
        },
    );
    assert_eq!(utc[1].at.micros() - local[1].at.micros(), 3_600_000_000);
}

fn realworld() -> Option<PathBuf> {
    let p = common::root().join("../shared/realworld-raw");
    let p = if p.is_dir() {
        p
    } else {
        PathBuf::from("/work/shared/realworld-raw")
    };
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: the public samples (../shared/realworld-raw) are not here");
        None
    }
}

#[test]
fn the_public_samples_are_read_with_no_input_error() {
    let Some(root) = realworld() else { return };
    let mut files = Vec::new();
    for dir in ["pcap", "pcap/derived"] {
        for e in std::fs::read_dir(root.join(dir)).expect("dir").flatten() {
            if e.path().is_file() {
                files.push(e.path());
            }
        }
    }
    for e in std::fs::read_dir(root.join("oot")).expect("dir").flatten() {
        if e.path().join("trace.jsonl").is_file() {
            files.push(e.path().join("trace.jsonl"));
        }
    }
    assert!(files.len() > 10);
    for f in &files {
        let r = check(f, &InputOptions::default());
        assert!(
            r.input_errors.is_empty(),
            "{}: {:?}",
            f.display(),
            r.input_errors
        );
        assert!(r.stats.frames > 0, "{}", f.display());
    }
    // The real charger: its boot is read from the compressed stream, with the identity
    // and Basic-auth user from the upgrade (never the password).
    let (recs, _, _) = read(
        &root.join("pcap/extralargeOPENEVSE.pcapng"),
        &InputOptions::default(),
    );
    let open = recs
        .iter()
        .find(|r| matches!(r.kind, RecKind::Open { .. }))
        .expect("an open");
    assert!(
        matches!(&open.kind, RecKind::Open(h) if h.subprotocol.as_deref() == Some("ocpp1.6") && h.basic_auth_user.is_some())
    );
    assert!(recs.iter().any(
        |r| matches!(&r.kind, RecKind::Frame { text, .. } if text.contains("\"BootNotification\""))
    ));
}

#[test]
fn check_reads_standard_input_and_several_formats_at_once() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let recs = records(recording());
    let capture = synth::capture(&recs, &Options::default());
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"))
        .args([
            "check",
            "--format",
            "json",
            "-",
            "tests/fixtures/logs/steve.log",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&capture);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(
        doc["summary"]["files"],
        2,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(doc["summary"]["input_errors"], 0);
    assert!(
        doc["summary"]["inferred"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
}

#[test]
fn a_gap_marks_what_follows_as_mid_life() {
    use ocpp_inspector::engine::{Engine, Event, EventKind, Handshake};
    use ocpp_inspector::time::Timestamp;
    let o = opts(None);
    let mut engine = Engine::new(o.schemas.clone(), o.config.clone(), None);
    let mut out = Vec::new();
    let ev = |conn: &'static str, kind| Event {
        at: Timestamp::from_secs(1_700_000_000),
        conn,
        line: 1,
        kind,
    };
    for conn in ["A", "B"] {
        engine
            .feed(
                &ev(
                    conn,
                    EventKind::Open(Handshake {
                        subprotocol: Some("ocpp1.6"),
                        ..Handshake::default()
                    }),
                ),
                &mut out,
            )
            .expect("open");
    }
    assert!(!engine.mid_life("A"));
    let gap = |conn| {
        ev(
            conn,
            EventKind::Gap {
                reason: Some("capture loss"),
                frames: Some(2),
            },
        )
    };
    engine.feed(&gap("A"), &mut out).expect("gap");
    assert!(engine.mid_life("A") && !engine.mid_life("B"));
    // Without a connection: every connection.
    engine.feed(&gap(""), &mut out).expect("gap");
    assert!(engine.mid_life("B"));
    assert_eq!(engine.stats().connections, 2, "a gap opens no connection");
    assert!(out.is_empty(), "a gap is no finding by itself");
}

#[test]
fn help_names_every_format_and_preset() {
    let r = common::run(&["check", "--help"]);
    assert_eq!(r.code, 0);
    for name in ["jsonl", "pcap", "oot", "log:PRESET", "--tz", "--conn"]
        .into_iter()
        .chain(ocpp_inspector::source::log::preset_names())
    {
        assert!(r.stdout.contains(name), "`check --help` names {name}");
    }
}
