//! The binary end to end on bad input: empty, missing and unreadable files, a line that is not
//! UTF-8, a 100 MB line, deep nesting, odd Unicode, a missing version, bad flag values and the
//! exit code contract (0 clean, 1 findings at or above `--fail-on`, 2 usage or input error).
//!
//! Every run of the binary is bounded: it is polled and killed after a time limit.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failure here is a test failure"
)]

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// What a finished run left behind.
struct Out {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    elapsed: Duration,
}

impl Out {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// Both streams, for messages that may go to either.
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout(), self.stderr())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", self.stdout()))
    }

    fn assert_no_panic(&self) {
        let err = self.stderr();
        assert!(
            !err.contains("panicked") && !err.contains("internal error"),
            "the binary panicked: {err}"
        );
        assert!(
            !self.stdout().contains("internal error"),
            "a worker stopped: {}",
            self.stdout()
        );
    }
}

/// Runs `ocpp-inspector ARGS`, killing it after `limit`.
fn run_limited(args: &[&str], limit: Duration) -> Out {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ocpp-inspector");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ocpp-inspector {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    Out {
        // A signal (a stack overflow, an abort) has no code: -1.
        code: status.code().unwrap_or(-1),
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
        elapsed,
    }
}

fn run(args: &[&str]) -> Out {
    run_limited(args, Duration::from_secs(60))
}

fn check(path: &Path, extra: &[&str]) -> Out {
    let p = path.to_str().expect("UTF-8 temp path");
    let mut args = vec!["check", p, "--color", "never"];
    args.extend_from_slice(extra);
    run(&args)
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write trace");
    path
}

/// A trace record, one line, from JSON.
fn line(v: &Value) -> String {
    let mut s = v.to_string();
    s.push('\n');
    s
}

fn open16(conn: &str) -> String {
    line(
        &json!({"ts":"2026-11-22T10:15:00.000Z","conn":conn,"event":"open","subprotocol":"ocpp1.6"}),
    )
}

fn frame(ts: &str, conn: &str, from: &str, text: &str) -> String {
    line(&json!({"ts":ts,"conn":conn,"from":from,"text":text}))
}

/// The summary line of the text report.
fn summary_line(out: &Out) -> String {
    out.stdout().lines().last().unwrap_or_default().to_owned()
}

#[test]
fn empty_file_is_clean_and_counts_nothing() {
    let dir = temp();
    let path = write(dir.path(), "empty.jsonl", b"");
    let out = check(&path, &[]);
    out.assert_no_panic();
    assert_eq!(out.code, 0, "{}", out.all());
    let last = summary_line(&out);
    assert!(
        last.starts_with("PASS: 0 frames in 1 file, 0 connections"),
        "{last}"
    );
    let out = check(&path, &["--format", "json"]);
    assert_eq!(out.code, 0);
    let doc = out.json();
    assert_eq!(doc["summary"]["frames"], 0);
    assert_eq!(doc["summary"]["input_errors"], 0);

    // Blank lines only: the same.
    let path = write(dir.path(), "blank.jsonl", b"\n\r\n  \t\n\n");
    let out = check(&path, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(summary_line(&out).starts_with("PASS: 0 frames"));
}

#[test]
fn missing_file_exits_2_naming_the_file() {
    let dir = temp();
    let path = dir.path().join("no-such-trace.jsonl");
    let out = check(&path, &[]);
    out.assert_no_panic();
    assert_eq!(out.code, 2, "{}", out.all());
    let all = out.all();
    assert!(
        all.contains(&format!("{}: cannot open", path.display())),
        "{all}"
    );
    // Machine formats say it on stderr too.
    let out = check(&path, &["--format", "json"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr().contains(&path.display().to_string()),
        "{}",
        out.stderr()
    );
    assert_eq!(out.json()["summary"]["input_errors"], 1);
}

#[test]
fn missing_file_does_not_hide_the_findings_of_the_others() {
    let dir = temp();
    let missing = dir.path().join("missing.jsonl");
    let good = write(
        dir.path(),
        "t.jsonl",
        format!(
            "{}{}",
            open16("CP-1"),
            frame(
                "2026-11-22T10:15:01Z",
                "CP-1",
                "charger",
                r#"[2,"1","HeartBeat",{}]"#
            )
        )
        .as_bytes(),
    );
    let out = run(&[
        "check",
        missing.to_str().expect("path"),
        good.to_str().expect("path"),
        "--color",
        "never",
    ]);
    out.assert_no_panic();
    assert_eq!(out.code, 2, "{}", out.all());
    let stdout = out.stdout();
    assert!(stdout.contains("missing.jsonl: cannot open"), "{stdout}");
    assert!(
        stdout.contains("error[rpc.action-case-mismatch]"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}:2", good.display())),
        "{stdout}"
    );
}

#[test]
fn a_directory_is_an_input_error() {
    let dir = temp();
    let out = check(dir.path(), &[]);
    out.assert_no_panic();
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stdout().contains(&format!(
            "{}: is a directory, not a trace file",
            dir.path().display()
        )),
        "{}",
        out.all()
    );
}

/// Line 2 and line 4 each hold a finding; line 3 is not UTF-8.
fn trace_with_a_bad_line_in_the_middle() -> Vec<u8> {
    let mut t = Vec::new();
    t.extend(open16("CP-1").into_bytes());
    t.extend(
        frame(
            "2026-11-22T10:15:01Z",
            "CP-1",
            "charger",
            r#"[2,"1","HeartBeat",{}]"#,
        )
        .into_bytes(),
    );
    t.extend_from_slice(
        b"{\"ts\":\"2026-11-22T10:15:02Z\",\"conn\":\"CP-\xff\",\"from\":\"charger\",\"text\":\"[]\"}\n",
    );
    t.extend(frame("2026-11-22T10:15:03Z", "CP-1", "csms", r#"[3,"nope",{}]"#).into_bytes());
    t
}

#[test]
fn a_non_utf8_line_is_named_and_the_other_lines_are_still_checked() {
    let dir = temp();
    let path = write(
        dir.path(),
        "mixed.jsonl",
        &trace_with_a_bad_line_in_the_middle(),
    );
    let at = |n: u32| format!("{}:{n}", path.display());
    // One worker and several: the same verdict.
    for jobs in ["1", "3"] {
        let out = check(&path, &["-j", jobs]);
        out.assert_no_panic();
        assert_eq!(out.code, 2, "-j {jobs}: {}", out.all());
        let stdout = out.stdout();
        assert!(
            stdout.contains(&format!("input error: {}: not valid UTF-8", at(3))),
            "-j {jobs}: {stdout}"
        );
        assert!(
            stdout.contains(&format!("--> {}  CP-1", at(2))),
            "-j {jobs}: {stdout}"
        );
        assert!(
            stdout.contains(&format!("--> {}  CP-1", at(4))),
            "-j {jobs}: {stdout}"
        );
        assert!(
            summary_line(&out).starts_with("INPUT ERROR: 2 frames in 1 file"),
            "-j {jobs}: {}",
            summary_line(&out)
        );

        let out = check(&path, &["-j", jobs, "--format", "json"]);
        assert_eq!(out.code, 2);
        assert!(out.stderr().contains(&at(3)), "{}", out.stderr());
        let doc = out.json();
        let errors = doc["input_errors"].as_array().expect("input_errors");
        assert_eq!(errors.len(), 1, "{doc}");
        assert_eq!(errors[0]["line"], 3);
        let lines: Vec<u64> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["line"].as_u64())
            .collect();
        assert!(
            lines.contains(&2) && lines.contains(&4),
            "findings on lines {lines:?}"
        );
    }
}

/// Writes a trace whose second record is a frame whose text is a `len`-byte JSON string,
/// followed by a frame with a finding (so the line after the huge one must still be read).
fn write_huge_line_trace(path: &Path, len: usize) {
    let file = std::fs::File::create(path).expect("create");
    let mut w = BufWriter::with_capacity(1 << 20, file);
    w.write_all(open16("CP-1").as_bytes()).expect("write");
    w.write_all(br#"{"ts":"2026-11-22T10:15:01Z","conn":"CP-1","from":"charger","text":"\""#)
        .expect("write");
    let chunk = vec![b'a'; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        w.write_all(&chunk[..n]).expect("write");
        left -= n;
    }
    w.write_all(b"\\\"\"}\n").expect("write");
    w.write_all(
        frame(
            "2026-11-22T10:15:02Z",
            "CP-1",
            "charger",
            r#"[2,"2","HeartBeat",{}]"#,
        )
        .as_bytes(),
    )
    .expect("write");
    w.flush().expect("flush");
}

#[test]
fn a_100_mb_line_is_judged_without_panic_in_reasonable_time() {
    let dir = temp();
    let path = dir.path().join("huge.jsonl");
    write_huge_line_trace(&path, 100 * 1024 * 1024);
    let p = path.to_str().expect("path");
    let out = run_limited(&["check", p, "--color", "never"], Duration::from_secs(120));
    out.assert_no_panic();
    assert!(
        out.code == 0 || out.code == 1,
        "exit {}: {}",
        out.code,
        out.stderr()
    );
    let stdout = out.stdout();
    // The frame is JSON but a string, not an array; the line after it is still checked.
    assert!(
        stdout.contains("error[rpc.not-array]"),
        "{}",
        &stdout[..stdout.len().min(2000)]
    );
    assert!(stdout.contains(&format!("{p}:3")), "line 3 lost");
    // The evidence is shortened: the report does not echo 100 MB.
    assert!(
        out.stdout.len() < 64 * 1024,
        "report of {} bytes",
        out.stdout.len()
    );
    eprintln!("100 MB line checked in {:?}", out.elapsed);
}

#[test]
fn deep_nesting_is_a_finding_not_a_stack_overflow() {
    let dir = temp();
    let n = 100_000;
    let unclosed = "[".repeat(n);
    let balanced = format!("{}{}", "[".repeat(n), "]".repeat(n));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
    let mut t = open16("CP-1");
    t.push_str(&frame("2026-11-22T10:15:01Z", "CP-1", "charger", &unclosed));
    t.push_str(&frame("2026-11-22T10:15:02Z", "CP-1", "charger", &balanced));
    t.push_str(&frame("2026-11-22T10:15:03Z", "CP-1", "charger", &objects));
    let path = write(dir.path(), "deep.jsonl", t.as_bytes());
    let out = check(&path, &["--format", "json"]);
    out.assert_no_panic();
    assert_eq!(out.code, 1, "{}", out.stderr());
    let doc = out.json();
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(rules, ["rpc.not-json"; 3], "{doc}");

    // As deep inside an unknown member of a record: skipped (unknown members are ignored).
    let deep_member = format!(
        "{{\"ts\":\"2026-11-22T10:15:01Z\",\"conn\":\"CP-1\",\"from\":\"charger\",\"text\":\"[2,\\\"1\\\",\\\"Heartbeat\\\",{{}}]\",\"x\":{balanced}}}\n"
    );
    let path = write(
        dir.path(),
        "deep-member.jsonl",
        format!("{}{deep_member}", open16("CP-1")).as_bytes(),
    );
    let out = check(&path, &[]);
    out.assert_no_panic();
    assert_eq!(out.code, 0, "{}", out.all());
}

/// Identities and frames with RTL marks, emoji, escaped NUL and an ANSI escape sequence.
const ODD_CONN: &str = "CP\u{200f}-🚗-\u{202e}x\u{0}\u{1b}[2J";

fn odd_unicode_trace() -> String {
    let mut t = open16(ODD_CONN);
    t.push_str(&frame(
        "2026-11-22T10:15:01Z",
        ODD_CONN,
        "charger",
        "[2,\"\u{200f}🚗\",\"DataTransfer\",{\"vendorId\":\"V\u{202e}X\",\"data\":\"\\u0000 \\u001b[31m 🚗\"}]",
    ));
    // A finding whose id and action carry the odd characters too.
    t.push_str(&frame(
        "2026-11-22T10:15:02Z",
        ODD_CONN,
        "charger",
        "[2,\"\\u0000\\u001b[2J\",\"Heart\u{202e}beat\\u0000\",{}]",
    ));
    t
}

#[test]
fn odd_unicode_survives_the_json_report_exactly() {
    let dir = temp();
    let path = write(dir.path(), "odd.jsonl", odd_unicode_trace().as_bytes());
    let out = check(&path, &["--format", "json"]);
    out.assert_no_panic();
    assert_eq!(out.code, 1, "{}", out.all());
    let doc = out.json();
    let findings = doc["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f["conn"], ODD_CONN, "{f}");
    }
    assert!(
        findings
            .iter()
            .any(|f| f["unique_id"] == "\u{0}\u{1b}[2J" && f["rule"] == "rpc.unknown-action"),
        "{doc}"
    );
    // JUnit is XML: no raw NUL or ESC may appear in it.
    let out = check(&path, &["--format", "junit"]);
    assert_eq!(out.code, 1);
    assert!(
        !out.stdout.iter().any(|&b| b == 0 || b == 0x1b),
        "raw control characters in the JUnit report"
    );
}

#[test]
fn odd_unicode_text_report_has_no_raw_control_characters() {
    let dir = temp();
    let path = write(dir.path(), "odd.jsonl", odd_unicode_trace().as_bytes());
    let out = check(&path, &[]);
    out.assert_no_panic();
    assert_eq!(out.code, 1, "{}", out.all());
    let raw: Vec<(usize, u8)> = out
        .stdout
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, b)| b < 0x20 && b != b'\n')
        .collect();
    assert!(
        raw.is_empty(),
        "raw control bytes {raw:?} in the text report:\n{}",
        out.stdout().escape_debug()
    );
}

#[test]
fn a_trace_without_open_needs_ocpp() {
    let dir = temp();
    let mut t = frame(
        "2026-11-22T10:15:01Z",
        "CP-1",
        "charger",
        r#"[2,"1","Heartbeat",{}]"#,
    );
    t.push_str(&frame(
        "2026-11-22T10:15:01.100Z",
        "CP-1",
        "csms",
        r#"[3,"1",{"currentTime":"2026-11-22T10:15:01Z"}]"#,
    ));
    let path = write(dir.path(), "no-open.jsonl", t.as_bytes());
    let out = check(&path, &[]);
    out.assert_no_panic();
    assert_eq!(out.code, 2, "{}", out.all());
    let all = out.all();
    assert!(all.contains("--ocpp"), "{all}");
    assert!(all.contains("CP-1"), "{all}");

    let out = check(&path, &["--ocpp", "1.6"]);
    out.assert_no_panic();
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        summary_line(&out).starts_with("PASS: 2 frames in 1 file, 1 connection"),
        "{}",
        summary_line(&out)
    );
}

#[test]
fn bad_flag_values_are_usage_errors_with_a_clear_message() {
    let dir = temp();
    let path = write(dir.path(), "empty.jsonl", b"");
    let p = path.to_str().expect("path");
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["check", p, "--ocpp", "1.7"],
            &["1.7", "1.6, 2.0.1 or 2.1"],
        ),
        (
            &["check", p, "--format", "xml"],
            &["xml", "text", "json", "junit"],
        ),
        (
            &["check", p, "--fail-on", "fatal"],
            &["fatal", "error", "warning", "info"],
        ),
        (&["check", p, "--call-timeout=-1"], &["--call-timeout"]),
        (&["check", p, "--call-timeout", "NaN"], &["--call-timeout"]),
        (&["check", p, "--disable", "rpc.nope"], &["rpc.nope"]),
        (&["check", p, "-j", "many"], &["many"]),
        (&["check"], &["TRACE"]),
    ];
    for (args, want) in cases {
        let out = run(args);
        out.assert_no_panic();
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        let err = out.stderr();
        for w in *want {
            assert!(err.contains(w), "{args:?}: stderr lacks {w:?}: {err}");
        }
        assert!(out.stdout.is_empty(), "{args:?}: report written anyway");
    }
}

#[test]
fn fail_on_moves_the_exit_code() {
    let dir = temp();
    // Only a warning: the empty message id.
    let mut warn = open16("CP-1");
    warn.push_str(&frame(
        "2026-11-22T10:15:01Z",
        "CP-1",
        "charger",
        r#"[2,"","Heartbeat",{}]"#,
    ));
    let warn = write(dir.path(), "warn.jsonl", warn.as_bytes());
    // Only an info: a CALLERROR with id -1 on 1.6.
    let mut info = open16("CP-1");
    info.push_str(&frame(
        "2026-11-22T10:15:01Z",
        "CP-1",
        "csms",
        r#"[4,"-1","FormationViolation","",{}]"#,
    ));
    let info = write(dir.path(), "info.jsonl", info.as_bytes());

    let code = |path: &Path, fail_on: Option<&str>| {
        let out = match fail_on {
            Some(f) => check(path, &["--fail-on", f]),
            None => check(path, &[]),
        };
        out.assert_no_panic();
        out.code
    };
    assert_eq!(code(&warn, None), 0);
    assert_eq!(code(&warn, Some("error")), 0);
    assert_eq!(code(&warn, Some("warning")), 1);
    assert_eq!(code(&warn, Some("info")), 1);
    assert_eq!(code(&info, None), 0);
    assert_eq!(code(&info, Some("warning")), 0);
    assert_eq!(code(&info, Some("info")), 1);
}

#[test]
fn a_reopened_connection_with_another_version_does_not_crash() {
    for name in [
        "crash-reopen-as-16-then-duplicate-answer.jsonl",
        "crash-reopen-as-201-then-duplicate-answer.jsonl",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus/traces")
            .join(name);
        for jobs in ["1", "2"] {
            let out = check(&path, &["-j", jobs]);
            out.assert_no_panic();
            assert_eq!(out.code, 1, "{name} -j {jobs}: {}", out.all());
        }
    }
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    // `ocpp-inspector rules --format json | head -c 10`: the registry is far larger than a
    // pipe's buffer, so the writer meets a closed pipe. It must end quietly, not complain.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"))
        .args(["rules", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 10];
    std::io::Read::read_exact(child.stdout.as_mut().expect("stdout"), &mut first).expect("read");
    drop(child.stdout.take());
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "did not end");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().expect("stderr"), &mut err).expect("read");
    assert!(err.is_empty(), "nothing on stderr: {err}");
    assert_eq!(status.code(), Some(0));
}
