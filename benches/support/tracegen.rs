//! A deterministic generator of realistic, schema-valid OCPP traffic traces.
//!
//! Self-contained (std and `serde_json` only, no code from the crate itself) so that bench
//! targets can pull it in with `#[path = "support/tracegen.rs"] mod tracegen;`.
//!
//! Output is the project's trace format, JSON Lines: one `open` record per connection, then
//! the frames of all connections interleaved in time order, then one `close` record per
//! connection. Every CALL is answered by the other side with a schema-valid CALLRESULT (same
//! unique id) before that side's next CALL on the connection; frame timestamps never
//! decrease through the file.
//!
//! Each connection simulates one charging station, OCPP 1.6 or 2.0.1: BootNotification,
//! StatusNotification per connector, Heartbeats, Authorize, and charging sessions (1.6:
//! StartTransaction / MeterValues / StopTransaction; 2.0.1: TransactionEvent Started /
//! Updated / Ended with an increasing `seqNo`) whose meter values follow a simple physical
//! model (AC per-phase currents and voltages, DC power tapering with the state of charge,
//! monotonic energy registers). The CSMS now and then asks something itself (1.6
//! GetConfiguration / ChangeConfiguration / TriggerMessage, 2.0.1 GetVariables /
//! SetVariables); 1.6 stations send vendor DataTransfers, 2.0.1 stations NotifyEvents.
//!
//! The same options always give the same bytes.

#![allow(
    clippy::too_many_arguments,
    clippy::needless_range_loop,
    reason = "a generator of sample data for benchmarks, kept simple to read"
)]

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt::Write as _;
use std::io::{self, Write};

/// What to generate.
pub struct GenOptions {
    /// Frame records to write (open/close records not counted). Every exchange is two
    /// frames and none is left half done, so an odd count writes one frame less.
    pub frames: u64,
    /// Simulated charging stations, each on its own connection.
    pub connections: u32,
    /// PRNG seed: the same options give the same output.
    pub seed: u64,
    /// Fraction of the connections speaking OCPP 2.0.1; the rest speak 1.6.
    pub v201_share: f64,
}

impl Default for GenOptions {
    fn default() -> Self {
        Self {
            frames: 1_000_000,
            connections: 200,
            seed: 1,
            v201_share: 0.3,
        }
    }
}

/// Writes a trace to `out` and returns the number of frame records written.
///
/// `out` need not be buffered: records are gathered in 64 KiB chunks.
pub fn generate(opts: &GenOptions, out: &mut impl Write) -> io::Result<u64> {
    let mut g = Gen {
        rng: Rng::new(opts.seed),
        next_tx16: 0,
    };
    g.next_tx16 = 10_000 + g.rng.below(90_000) as i64;
    let mut sink = Sink {
        out,
        buf: Vec::with_capacity(1 << 17),
        last_ts: START_MS,
    };

    let n = opts.connections as usize;
    let share = if opts.v201_share.is_finite() {
        opts.v201_share.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut stations = Vec::with_capacity(n);
    let mut heap = BinaryHeap::with_capacity(n);
    for i in 0..n {
        // Spread the 2.0.1 stations evenly: exactly round(n * share) of them.
        let v201 = ((i + 1) as f64 * share).round() > (i as f64 * share).round();
        let ts = sink.next_ts(START_MS + g.rng.range(1, 20));
        let st = Station::new(i, v201, ts, &mut g.rng);
        sink.open(ts, &st.name, if v201 { "ocpp2.0.1" } else { "ocpp1.6" })?;
        heap.push(Reverse((ts + g.rng.range(50, 2_000), i)));
        stations.push(st);
    }

    let mut written = 0u64;
    let mut outstanding = 0u64;
    while let Some(Reverse((due, i))) = heap.pop() {
        let Some(st) = stations.get_mut(i) else {
            continue;
        };
        let ts = sink.next_ts(due);
        if let Some(p) = st.pending.take() {
            sink.frame(ts, &st.name, p.from, &p.text)?;
            written += 1;
            outstanding -= 1;
            let gap = g.rng.range(20, 400);
            heap.push(Reverse((st.next_due().max(ts + gap), i)));
        } else {
            // Start an exchange only if its answer fits in the budget too.
            if written + outstanding + 2 > opts.frames {
                continue;
            }
            let ex = st.step(ts, &mut g);
            sink.frame(ts, &st.name, ex.from, &ex.call)?;
            written += 1;
            outstanding += 1;
            st.pending = Some(Pending {
                from: ex.from.other(),
                text: ex.reply,
            });
            heap.push(Reverse((ts + ex.latency, i)));
        }
    }

    let end = sink.last_ts + 1_000;
    for st in &stations {
        let ts = sink.next_ts(end);
        sink.close(ts, &st.name)?;
    }
    sink.flush()?;
    Ok(written)
}

/// 2026-11-22T08:00:00.000Z
const START_MS: u64 = 1_795_334_400_000;
const SECOND: u64 = 1_000;
const MINUTE: u64 = 60 * SECOND;

// ---------------------------------------------------------------------------------------
// PRNG: SplitMix64.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x6A09_E667_F3BC_C908)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Exponentially distributed duration with the given mean.
    fn exp_ms(&mut self, mean_ms: f64) -> u64 {
        (-mean_ms * (1.0 - self.unit()).ln()) as u64
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// A random (version 4) UUID, the usual OCPP-J message id and 2.0.1 transaction id.
    fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        let mut s = String::with_capacity(36);
        push_hex(&mut s, a >> 32, 8);
        s.push('-');
        push_hex(&mut s, (a >> 16) & 0xffff, 4);
        s.push('-');
        push_hex(&mut s, 0x4000 | (a & 0x0fff), 4);
        s.push('-');
        push_hex(&mut s, 0x8000 | ((b >> 48) & 0x3fff), 4);
        s.push('-');
        push_hex(&mut s, b & 0xffff_ffff_ffff, 12);
        s
    }

    /// An RFID card UID as chargers report it: 7 bytes, upper-case hex.
    fn rfid(&mut self) -> String {
        let mut s = String::with_capacity(14);
        push_hex_upper(&mut s, self.next_u64() >> 8, 14);
        s
    }
}

fn push_hex(s: &mut String, v: u64, digits: u32) {
    for k in (0..digits).rev() {
        let d = ((v >> (4 * k)) & 0xf) as u8;
        s.push(char::from(if d < 10 { b'0' + d } else { b'a' + d - 10 }));
    }
}

fn push_hex_upper(s: &mut String, v: u64, digits: u32) {
    for k in (0..digits).rev() {
        let d = ((v >> (4 * k)) & 0xf) as u8;
        s.push(char::from(if d < 10 { b'0' + d } else { b'A' + d - 10 }));
    }
}

// ---------------------------------------------------------------------------------------
// Time.

fn push_digits(s: &mut String, v: u64, width: u32) {
    let mut div = 10u64.pow(width.saturating_sub(1));
    while div > 0 {
        s.push(char::from(b'0' + ((v / div) % 10) as u8));
        div /= 10;
    }
}

/// `ms` since the Unix epoch as RFC 3339 UTC with milliseconds: `2026-11-22T10:15:03.120Z`.
fn push_ts(s: &mut String, ms: u64) {
    let days = (ms / 86_400_000) as i64;
    let rem = ms % 86_400_000;
    // Civil date from days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    push_digits(s, y.max(0) as u64, 4);
    s.push('-');
    push_digits(s, m as u64, 2);
    s.push('-');
    push_digits(s, d as u64, 2);
    s.push('T');
    push_digits(s, rem / 3_600_000, 2);
    s.push(':');
    push_digits(s, rem / 60_000 % 60, 2);
    s.push(':');
    push_digits(s, rem / 1_000 % 60, 2);
    s.push('.');
    push_digits(s, rem % 1_000, 3);
    s.push('Z');
}

/// `"key":"<timestamp>"`
fn push_ts_member(s: &mut String, key: &str, ms: u64) {
    s.push('"');
    s.push_str(key);
    s.push_str("\":\"");
    push_ts(s, ms);
    s.push('"');
}

// ---------------------------------------------------------------------------------------
// Output.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Charger,
    Csms,
}

impl Side {
    fn other(self) -> Self {
        match self {
            Self::Charger => Self::Csms,
            Self::Csms => Self::Charger,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Charger => "charger",
            Self::Csms => "csms",
        }
    }
}

struct Sink<'w, W: Write> {
    out: &'w mut W,
    buf: Vec<u8>,
    last_ts: u64,
}

impl<W: Write> Sink<'_, W> {
    /// The timestamp for the next record: `want`, or 1 ms after the previous record.
    /// Never earlier than the last record (the file is in time order). Equal stamps are
    /// allowed: forcing each record a millisecond later made a trace of tens of thousands of
    /// stations run minutes behind its own schedule, so every answer looked late.
    fn next_ts(&mut self, want: u64) -> u64 {
        let ts = want.max(self.last_ts);
        self.last_ts = ts;
        ts
    }

    fn head(&mut self, ts: u64, conn: &str) {
        let mut s = String::with_capacity(24);
        push_ts(&mut s, ts);
        self.buf.extend_from_slice(b"{\"ts\":\"");
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\",\"conn\":\"");
        self.buf.extend_from_slice(conn.as_bytes());
        self.buf.extend_from_slice(b"\",");
    }

    fn end(&mut self) -> io::Result<()> {
        self.buf.extend_from_slice(b"}\n");
        if self.buf.len() >= 1 << 16 {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn open(&mut self, ts: u64, conn: &str, subprotocol: &str) -> io::Result<()> {
        self.head(ts, conn);
        self.buf
            .extend_from_slice(b"\"event\":\"open\",\"subprotocol\":\"");
        self.buf.extend_from_slice(subprotocol.as_bytes());
        self.buf.push(b'"');
        self.end()
    }

    fn close(&mut self, ts: u64, conn: &str) -> io::Result<()> {
        self.head(ts, conn);
        self.buf
            .extend_from_slice(b"\"event\":\"close\",\"code\":1000,\"by\":\"csms\"");
        self.end()
    }

    fn frame(&mut self, ts: u64, conn: &str, from: Side, text: &str) -> io::Result<()> {
        self.head(ts, conn);
        self.buf.extend_from_slice(b"\"from\":\"");
        self.buf.extend_from_slice(from.as_str().as_bytes());
        self.buf.extend_from_slice(b"\",\"text\":");
        serde_json::to_writer(&mut self.buf, text).map_err(io::Error::other)?;
        self.end()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }
}

// ---------------------------------------------------------------------------------------
// The simulation.

struct Gen {
    rng: Rng,
    /// The CSMS's next 1.6 transaction id (unique over the trace).
    next_tx16: i64,
}

/// One CALL and the answer the other side will give.
struct Exchange {
    from: Side,
    call: String,
    reply: String,
    /// Milliseconds until the answer.
    latency: u64,
}

struct Pending {
    from: Side,
    text: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Current {
    /// Alternating current, with phases and the per-phase limit in A.
    Ac { phases: u32, max_amps: f64 },
    /// Direct current, with the station's power in W.
    Dc { max_watts: f64 },
}

/// A message the station sends as soon as it can (boot sequence, triggered messages).
#[derive(Clone, Copy)]
enum Urgent {
    Boot,
    /// StatusNotification of the connector (index into `connectors`, `None` = 1.6 connector 0).
    Status(Option<usize>),
    Heartbeat,
    /// MeterValues triggered by the CSMS (1.6).
    Meter(usize),
    /// NotifyEvent for the connector's AvailabilityState (2.0.1).
    Availability(usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Available; `due` is when the next driver plugs in.
    Idle,
    /// 1.6: Preparing sent, next Authorize. 2.0.1: Occupied sent, next TransactionEvent Started.
    Plugged,
    /// Waiting for the driver's card (2.0.1: the transaction has started).
    Authorizing,
    /// 1.6: next StartTransaction. 2.0.1: next TransactionEvent Updated (Authorized).
    Authorized,
    /// 1.6: transaction started, next StatusNotification Charging.
    Started,
    /// Energy flowing, periodic meter values.
    Charging,
    /// The EV is full (or paused): a few more meter values with no power.
    SuspendedEv,
    /// 2.0.1: the driver stopped with the card, next TransactionEvent Ended when unplugged.
    StopAuthorized,
    /// Next StopTransaction / TransactionEvent Ended.
    Stopping,
    /// 1.6: transaction stopped, next StatusNotification Finishing.
    Finishing,
    /// Next StatusNotification Available (the cable is out).
    Unplugging,
}

struct Connector {
    /// 1.6 connectorId, 2.0.1 evseId (each EVSE has connector 1).
    id: u32,
    phase: Phase,
    due: u64,
    /// The energy register in Wh (monotonic over the station's life).
    meter_wh: f64,
    /// Session.
    id_tag: String,
    tx16: i64,
    tx201: String,
    seq_no: u32,
    tx_start_ms: u64,
    meter_start_wh: f64,
    charging_ms: u64,
    last_sample_ms: u64,
    soc: f64,
    soc_target: f64,
    capacity_wh: f64,
    /// AC: the EV's per-phase current; DC: the EV's peak power.
    ev_limit: f64,
    suspended_left: u32,
    stop_by_card: bool,
}

impl Connector {
    fn status16(&self) -> &'static str {
        match self.phase {
            Phase::Idle => "Available",
            Phase::Plugged | Phase::Authorizing | Phase::Authorized | Phase::Started => "Preparing",
            Phase::Charging => "Charging",
            Phase::SuspendedEv => "SuspendedEV",
            Phase::StopAuthorized | Phase::Stopping => "Charging",
            Phase::Finishing | Phase::Unplugging => "Finishing",
        }
    }

    fn status201(&self) -> &'static str {
        match self.phase {
            Phase::Idle => "Available",
            _ => "Occupied",
        }
    }

    fn in_tx(&self) -> bool {
        match self.phase {
            Phase::Started | Phase::Charging | Phase::SuspendedEv | Phase::Stopping => true,
            // 2.0.1 transactions start at plug-in.
            Phase::Authorizing | Phase::Authorized | Phase::StopAuthorized => true,
            _ => false,
        }
    }
}

/// 1.6 configuration keys: name, read-only, and whether ChangeConfiguration may give it
/// another value (the timing keys are only ever rewritten with their current value).
const KEYS16: &[(&str, bool, bool)] = &[
    ("HeartbeatInterval", false, false),
    ("MeterValueSampleInterval", false, false),
    ("NumberOfConnectors", true, false),
    ("ConnectionTimeOut", false, true),
    ("MeterValuesSampledData", false, false),
    ("AuthorizeRemoteTxRequests", false, true),
    ("LocalPreAuthorize", false, true),
    ("LocalAuthorizeOffline", false, true),
    ("StopTransactionOnEVSideDisconnect", false, false),
    ("WebSocketPingInterval", false, true),
    ("ClockAlignedDataInterval", false, false),
    ("GetConfigurationMaxKeys", true, false),
    ("SupportedFeatureProfiles", true, false),
];

/// 2.0.1 device-model variables: component, variable, variable instance, writable with
/// another value.
const VARS201: &[(&str, &str, Option<&str>, bool)] = &[
    ("OCPPCommCtrlr", "HeartbeatInterval", None, false),
    ("SampledDataCtrlr", "TxUpdatedInterval", None, false),
    ("SampledDataCtrlr", "TxUpdatedMeasurands", None, false),
    ("TxCtrlr", "EVConnectionTimeOut", None, true),
    ("AuthCtrlr", "LocalPreAuthorize", None, true),
    ("OCPPCommCtrlr", "WebSocketPingInterval", None, true),
    (
        "DeviceDataCtrlr",
        "ItemsPerMessage",
        Some("GetVariables"),
        false,
    ),
    ("ChargingStation", "Model", None, false),
];

const VENDORS: &[(&str, &str, &str, bool)] = &[
    // vendor, model, firmware, DC
    ("Voltara", "VA-22T", "4.12.3", false),
    ("Voltara", "VA-11S", "4.12.3", false),
    ("Ampora Systems", "Ampora Duo", "2.7.0-rc2", false),
    ("GridLine", "GL-Wallbox-2", "1.9.14", false),
    ("Northcharge", "NC Pillar 22", "5.0.1", false),
    ("Kilowattik", "KW-DC150", "3.3.8", true),
    ("Kilowattik", "KW-DC50", "3.3.8", true),
];

struct Station {
    name: String,
    v201: bool,
    vendor: (&'static str, &'static str, &'static str, bool),
    serial: String,
    current: Current,
    /// 1.6 stations that report the EV's SoC (DC, or AC with ISO 15118).
    reports_soc: bool,
    /// Adds `format` and `location` to every sampled value.
    verbose_samples: bool,
    hb_interval: u64,
    mv_interval: u64,
    connectors: Vec<Connector>,
    config: Vec<String>,
    urgent: VecDeque<Urgent>,
    pending: Option<Pending>,
    hb_due: u64,
    csms_due: u64,
    misc_due: u64,
    event_id: u64,
}

fn push_str_member(s: &mut String, key: &str, value: &str) {
    s.push('"');
    s.push_str(key);
    s.push_str("\":\"");
    s.push_str(value);
    s.push('"');
}

fn call_head(s: &mut String, id: &str, action: &str) {
    s.push_str("[2,\"");
    s.push_str(id);
    s.push_str("\",\"");
    s.push_str(action);
    s.push_str("\",");
}

fn result_head(s: &mut String, id: &str) {
    s.push_str("[3,\"");
    s.push_str(id);
    s.push_str("\",");
}

impl Station {
    fn new(index: usize, v201: bool, open_ms: u64, rng: &mut Rng) -> Self {
        let vendor = rng.pick(VENDORS);
        let dc = vendor.3;
        let current = if dc {
            Current::Dc {
                max_watts: if vendor.1.ends_with("150") {
                    150_000.0
                } else {
                    50_000.0
                },
            }
        } else {
            Current::Ac {
                phases: if rng.chance(0.1) { 1 } else { 3 },
                max_amps: if vendor.1.contains("11") { 16.0 } else { 32.0 },
            }
        };
        let n_connectors = if rng.chance(0.7) { 2 } else { 1 };
        let hb_interval = 300 * SECOND;
        let mv_interval = if dc {
            60 * SECOND
        } else {
            rng.pick(&[60, 60, 120, 300]) * SECOND
        };
        let mut serial = String::with_capacity(16);
        let _ = write!(
            serial,
            "{}{:08}",
            &vendor.0[..2].to_uppercase(),
            rng.below(100_000_000)
        );
        let connectors = (0..n_connectors)
            .map(|k| Connector {
                id: k + 1,
                phase: Phase::Idle,
                due: open_ms + 10 * SECOND + rng.exp_ms(20.0 * MINUTE as f64),
                meter_wh: rng.range(50_000, 9_000_000) as f64,
                id_tag: String::new(),
                tx16: 0,
                tx201: String::new(),
                seq_no: 0,
                tx_start_ms: 0,
                meter_start_wh: 0.0,
                charging_ms: 0,
                last_sample_ms: 0,
                soc: 0.0,
                soc_target: 0.0,
                capacity_wh: 0.0,
                ev_limit: 0.0,
                suspended_left: 0,
                stop_by_card: false,
            })
            .collect::<Vec<_>>();
        let config = KEYS16
            .iter()
            .map(|&(key, _, _)| match key {
                "HeartbeatInterval" => (hb_interval / SECOND).to_string(),
                "MeterValueSampleInterval" => (mv_interval / SECOND).to_string(),
                "NumberOfConnectors" => n_connectors.to_string(),
                "ConnectionTimeOut" => "60".to_string(),
                "MeterValuesSampledData" => {
                    "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC"
                        .to_string()
                }
                "AuthorizeRemoteTxRequests" => "true".to_string(),
                "LocalPreAuthorize" | "LocalAuthorizeOffline" => "false".to_string(),
                "StopTransactionOnEVSideDisconnect" => "true".to_string(),
                "WebSocketPingInterval" => "60".to_string(),
                "ClockAlignedDataInterval" => "0".to_string(),
                "GetConfigurationMaxKeys" => "20".to_string(),
                "SupportedFeatureProfiles" => {
                    "Core,FirmwareManagement,LocalAuthListManagement,RemoteTrigger,SmartCharging"
                        .to_string()
                }
                _ => String::new(),
            })
            .collect();
        let mut urgent = VecDeque::with_capacity(8);
        urgent.push_back(Urgent::Boot);
        if !v201 {
            urgent.push_back(Urgent::Status(None));
        }
        for k in 0..connectors.len() {
            urgent.push_back(Urgent::Status(Some(k)));
        }
        let mut name = String::with_capacity(8);
        let _ = write!(name, "{}-{:05}", if v201 { "CS" } else { "CP" }, index + 1);
        Self {
            name,
            v201,
            vendor,
            serial,
            current,
            reports_soc: dc || rng.chance(0.25),
            verbose_samples: rng.chance(0.5),
            hb_interval,
            mv_interval,
            connectors,
            config,
            urgent,
            pending: None,
            hb_due: open_ms + hb_interval,
            csms_due: open_ms + rng.exp_ms(CSMS_MEAN_MS),
            misc_due: open_ms + rng.exp_ms(MISC_MEAN_MS),
            event_id: 0,
        }
    }

    /// When this station next wants to send (or to be asked) something.
    fn next_due(&self) -> u64 {
        if !self.urgent.is_empty() {
            return 0;
        }
        let mut due = self.hb_due.min(self.csms_due).min(self.misc_due);
        for c in &self.connectors {
            due = due.min(c.due);
        }
        due
    }

    /// The next exchange, started at `now` (the station is idle: nothing outstanding).
    fn step(&mut self, now: u64, g: &mut Gen) -> Exchange {
        let id = g.rng.uuid();
        if let Some(u) = self.urgent.pop_front() {
            return match u {
                Urgent::Boot => self.boot(&id, now, g),
                Urgent::Status(k) => self.status(&id, now, k, g),
                Urgent::Heartbeat => self.heartbeat(&id, now, g),
                Urgent::Meter(k) => self.triggered_meter(&id, now, k, g),
                Urgent::Availability(k) => self.notify_event(&id, now, k, g),
            };
        }
        // The earliest timer wins; connectors first on ties.
        let mut best = None;
        let mut best_due = u64::MAX;
        for (k, c) in self.connectors.iter().enumerate() {
            if c.due < best_due {
                best_due = c.due;
                best = Some(k);
            }
        }
        if let Some(k) =
            best.filter(|_| best_due <= self.hb_due.min(self.csms_due).min(self.misc_due))
        {
            return self.session_step(&id, now, k, g);
        }
        if self.hb_due <= self.csms_due && self.hb_due <= self.misc_due {
            self.hb_due = now + self.hb_interval;
            return self.heartbeat(&id, now, g);
        }
        if self.csms_due <= self.misc_due {
            self.csms_due = now + g.rng.exp_ms(CSMS_MEAN_MS);
            return if self.v201 {
                self.csms_call_201(&id, now, g)
            } else {
                self.csms_call_16(&id, now, g)
            };
        }
        self.misc_due = now + g.rng.exp_ms(MISC_MEAN_MS);
        if self.v201 {
            // An EVSE power/temperature style notification: the connector's availability.
            let k = g.rng.below(self.connectors.len() as u64) as usize;
            self.notify_event(&id, now, k, g)
        } else {
            self.data_transfer(&id, now, g)
        }
    }

    fn csms_latency(rng: &mut Rng) -> u64 {
        rng.range(4, 25) + rng.exp_ms(15.0)
    }

    fn charger_latency(rng: &mut Rng) -> u64 {
        rng.range(30, 150) + rng.exp_ms(120.0)
    }

    /// A charger CALL with the CSMS's answer.
    fn to_csms(call: String, reply: String, rng: &mut Rng) -> Exchange {
        Exchange {
            from: Side::Charger,
            call,
            reply,
            latency: Self::csms_latency(rng),
        }
    }

    fn boot(&mut self, id: &str, now: u64, g: &mut Gen) -> Exchange {
        let (vendor, model, fw, _) = self.vendor;
        let mut c = String::with_capacity(320);
        call_head(&mut c, id, "BootNotification");
        if self.v201 {
            c.push_str("{\"reason\":\"PowerUp\",\"chargingStation\":{");
            push_str_member(&mut c, "serialNumber", &self.serial);
            c.push(',');
            push_str_member(&mut c, "model", model);
            c.push(',');
            push_str_member(&mut c, "vendorName", vendor);
            c.push(',');
            push_str_member(&mut c, "firmwareVersion", fw);
            let _ = write!(
                c,
                ",\"modem\":{{\"iccid\":\"8949{:015}\",\"imsi\":\"26201{:010}\"}}}}}}]",
                g.rng.below(1_000_000_000_000_000),
                g.rng.below(10_000_000_000)
            );
        } else {
            c.push('{');
            push_str_member(&mut c, "chargePointVendor", vendor);
            c.push(',');
            push_str_member(&mut c, "chargePointModel", model);
            c.push(',');
            push_str_member(&mut c, "chargePointSerialNumber", &self.serial);
            c.push(',');
            push_str_member(&mut c, "chargeBoxSerialNumber", &self.serial);
            c.push(',');
            push_str_member(&mut c, "firmwareVersion", fw);
            let _ = write!(
                c,
                ",\"meterType\":\"{}\",\"meterSerialNumber\":\"MTR{:010}\"}}]",
                if self.vendor.3 {
                    "DC Meter"
                } else {
                    "AC 3ph Meter"
                },
                g.rng.below(10_000_000_000)
            );
        }
        let latency = Self::csms_latency(&mut g.rng);
        let mut r = String::with_capacity(120);
        result_head(&mut r, id);
        r.push_str("{\"status\":\"Accepted\",");
        push_ts_member(&mut r, "currentTime", now + latency - 1);
        let _ = write!(r, ",\"interval\":{}}}]", self.hb_interval / SECOND);
        self.hb_due = now + self.hb_interval;
        Exchange {
            from: Side::Charger,
            call: c,
            reply: r,
            latency,
        }
    }

    fn heartbeat(&mut self, id: &str, now: u64, g: &mut Gen) -> Exchange {
        let mut c = String::with_capacity(64);
        call_head(&mut c, id, "Heartbeat");
        c.push_str("{}]");
        let latency = Self::csms_latency(&mut g.rng);
        let mut r = String::with_capacity(80);
        result_head(&mut r, id);
        r.push('{');
        push_ts_member(&mut r, "currentTime", now + latency - 1);
        r.push_str("}]");
        Exchange {
            from: Side::Charger,
            call: c,
            reply: r,
            latency,
        }
    }

    fn empty_result(id: &str) -> String {
        let mut r = String::with_capacity(48);
        result_head(&mut r, id);
        r.push_str("{}]");
        r
    }

    /// StatusNotification of connector `k` (`None`: the 1.6 charge point as a whole).
    fn status(&mut self, id: &str, now: u64, k: Option<usize>, g: &mut Gen) -> Exchange {
        let mut c = String::with_capacity(160);
        call_head(&mut c, id, "StatusNotification");
        let conn = k.and_then(|k| self.connectors.get(k));
        if self.v201 {
            let (evse, status) = conn.map_or((1, "Available"), |c| (c.id, c.status201()));
            c.push('{');
            push_ts_member(&mut c, "timestamp", now);
            let _ = write!(
                c,
                ",\"connectorStatus\":\"{status}\",\"evseId\":{evse},\"connectorId\":1}}]"
            );
            // Some stations report the change as a device-model event as well.
            if let Some(k) = k
                && g.rng.chance(0.4)
            {
                self.urgent.push_back(Urgent::Availability(k));
            }
        } else {
            let (cid, status) = conn.map_or((0, "Available"), |c| (c.id, c.status16()));
            let _ = write!(
                c,
                "{{\"connectorId\":{cid},\"errorCode\":\"NoError\",\"status\":\"{status}\","
            );
            push_ts_member(&mut c, "timestamp", now);
            c.push_str("}]");
        }
        Self::to_csms(c, Self::empty_result(id), &mut g.rng)
    }

    fn data_transfer(&mut self, id: &str, now: u64, g: &mut Gen) -> Exchange {
        let mut c = String::with_capacity(200);
        call_head(&mut c, id, "DataTransfer");
        c.push_str("{\"vendorId\":\"com.");
        for ch in self.vendor.0.chars().filter(|c| c.is_ascii_alphanumeric()) {
            c.push(ch.to_ascii_lowercase());
        }
        c.push('"');
        // The data member is a string holding JSON, as vendors commonly do.
        let mut data = String::with_capacity(96);
        if g.rng.chance(0.5) {
            let _ = write!(
                data,
                "{{\"cabinetTempC\":{:.1},\"fanRpm\":{},\"uptimeS\":{}}}",
                g.rng.uniform(18.0, 48.0),
                g.rng.range(900, 3_200),
                (now - START_MS) / SECOND + 86_400
            );
            c.push_str(",\"messageId\":\"Diagnostics\",");
        } else {
            let _ = write!(
                data,
                "{{\"signalDbm\":-{},\"network\":\"LTE\",\"rebootCount\":{}}}",
                g.rng.range(55, 105),
                g.rng.range(0, 40)
            );
            c.push_str(",\"messageId\":\"Connectivity\",");
        }
        c.push_str("\"data\":");
        let _ = serde_json::to_writer(
            // Writing into a String through its Vec is fine: JSON output is UTF-8.
            &mut JsonInto(&mut c),
            &data,
        );
        c.push_str("}]");
        let mut r = String::with_capacity(64);
        result_head(&mut r, id);
        r.push_str("{\"status\":\"Accepted\"}]");
        Self::to_csms(c, r, &mut g.rng)
    }

    fn notify_event(&mut self, id: &str, now: u64, k: usize, g: &mut Gen) -> Exchange {
        let (evse, state) = self
            .connectors
            .get(k)
            .map_or((1, "Available"), |c| (c.id, c.status201()));
        self.event_id += 1;
        let mut c = String::with_capacity(360);
        call_head(&mut c, id, "NotifyEvent");
        c.push('{');
        push_ts_member(&mut c, "generatedAt", now);
        let _ = write!(
            c,
            ",\"seqNo\":0,\"tbc\":false,\"eventData\":[{{\"eventId\":{},",
            self.event_id
        );
        push_ts_member(&mut c, "timestamp", now.saturating_sub(g.rng.range(1, 40)));
        let _ = write!(
            c,
            ",\"trigger\":\"Delta\",\"actualValue\":\"{state}\",\
             \"component\":{{\"name\":\"Connector\",\"evse\":{{\"id\":{evse},\"connectorId\":1}}}},\
             \"variable\":{{\"name\":\"AvailabilityState\"}},\
             \"eventNotificationType\":\"HardWiredNotification\"}}]}}]"
        );
        Self::to_csms(c, Self::empty_result(id), &mut g.rng)
    }

    // --- CSMS-initiated ------------------------------------------------------------------

    fn to_charger(call: String, reply: String, rng: &mut Rng) -> Exchange {
        Exchange {
            from: Side::Csms,
            call,
            reply,
            latency: Self::charger_latency(rng),
        }
    }

    fn csms_call_16(&mut self, id: &str, now: u64, g: &mut Gen) -> Exchange {
        let _ = now;
        let roll = g.rng.unit();
        let mut c = String::with_capacity(200);
        let mut r = String::with_capacity(400);
        if roll < 0.4 {
            // GetConfiguration: a few keys (maybe one this firmware lacks), or all of them.
            call_head(&mut c, id, "GetConfiguration");
            result_head(&mut r, id);
            let mut keys: Vec<usize> = Vec::new();
            let mut unknown = None;
            if g.rng.chance(0.2) {
                c.push_str("{}]");
                keys.extend(0..KEYS16.len());
            } else {
                let n = g.rng.range(1, 3) as usize;
                while keys.len() < n {
                    let k = g.rng.below(KEYS16.len() as u64) as usize;
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                if g.rng.chance(0.15) {
                    unknown = Some(g.rng.pick(&[
                        "MaxEnergyOnInvalidId",
                        "ChargingScheduleMaxPeriods",
                        "ReserveConnectorZeroSupported",
                    ]));
                }
                c.push_str("{\"key\":[");
                for (n, &k) in keys.iter().enumerate() {
                    if n > 0 {
                        c.push(',');
                    }
                    let _ = write!(c, "\"{}\"", KEYS16[k].0);
                }
                if let Some(u) = unknown {
                    let _ = write!(c, ",\"{u}\"");
                }
                c.push_str("]}]");
            }
            r.push_str("{\"configurationKey\":[");
            for (n, &k) in keys.iter().enumerate() {
                if n > 0 {
                    r.push(',');
                }
                let (key, readonly, _) = KEYS16[k];
                let value = self.config.get(k).map_or("", String::as_str);
                let _ = write!(
                    r,
                    "{{\"key\":\"{key}\",\"readonly\":{readonly},\"value\":\"{value}\"}}"
                );
            }
            r.push(']');
            if let Some(u) = unknown {
                let _ = write!(r, ",\"unknownKey\":[\"{u}\"]");
            }
            r.push_str("}]");
        } else if roll < 0.65 {
            // ChangeConfiguration of a writable key (timing keys keep their value).
            call_head(&mut c, id, "ChangeConfiguration");
            result_head(&mut r, id);
            let writable: Vec<usize> = (0..KEYS16.len()).filter(|&k| !KEYS16[k].1).collect();
            let k = g.rng.pick(&writable);
            let (key, _, free) = KEYS16[k];
            let value = if free {
                match key {
                    "ConnectionTimeOut" => g.rng.pick(&["60", "90", "120", "180"]).to_string(),
                    "WebSocketPingInterval" => g.rng.pick(&["30", "60", "120"]).to_string(),
                    _ => g.rng.pick(&["true", "false"]).to_string(),
                }
            } else {
                self.config.get(k).cloned().unwrap_or_default()
            };
            let _ = write!(c, "{{\"key\":\"{key}\",\"value\":\"{value}\"}}]");
            if let Some(slot) = self.config.get_mut(k) {
                *slot = value;
            }
            r.push_str("{\"status\":\"Accepted\"}]");
        } else {
            // TriggerMessage: the station answers Accepted, then sends the message.
            call_head(&mut c, id, "TriggerMessage");
            result_head(&mut r, id);
            let k = g.rng.below(self.connectors.len() as u64) as usize;
            let cid = self.connectors.get(k).map_or(1, |c| c.id);
            let what = g.rng.unit();
            if what < 0.5 {
                let _ = write!(
                    c,
                    "{{\"requestedMessage\":\"StatusNotification\",\"connectorId\":{cid}}}]"
                );
                self.urgent.push_back(Urgent::Status(Some(k)));
            } else if what < 0.7 {
                c.push_str("{\"requestedMessage\":\"Heartbeat\"}]");
                self.urgent.push_back(Urgent::Heartbeat);
            } else {
                let _ = write!(
                    c,
                    "{{\"requestedMessage\":\"MeterValues\",\"connectorId\":{cid}}}]"
                );
                self.urgent.push_back(Urgent::Meter(k));
            }
            r.push_str("{\"status\":\"Accepted\"}]");
        }
        Self::to_charger(c, r, &mut g.rng)
    }

    fn var_value(&self, v: usize) -> String {
        let Some(&(comp, var, _, _)) = VARS201.get(v) else {
            return String::new();
        };
        match (comp, var) {
            ("OCPPCommCtrlr", "HeartbeatInterval") => (self.hb_interval / SECOND).to_string(),
            ("SampledDataCtrlr", "TxUpdatedInterval") => (self.mv_interval / SECOND).to_string(),
            ("SampledDataCtrlr", "TxUpdatedMeasurands") => {
                "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC"
                    .to_string()
            }
            ("ChargingStation", "Model") => self.vendor.1.to_string(),
            ("DeviceDataCtrlr", "ItemsPerMessage") => "16".to_string(),
            // Writable ones live in `config` from index KEYS16.len() on.
            _ => self
                .config
                .get(KEYS16.len() + v)
                .cloned()
                .unwrap_or_else(|| default_var(var).to_string()),
        }
    }

    fn push_cv(s: &mut String, v: usize) {
        let Some(&(comp, var, instance, _)) = VARS201.get(v) else {
            return;
        };
        let _ = write!(
            s,
            "\"component\":{{\"name\":\"{comp}\"}},\"variable\":{{\"name\":\"{var}\""
        );
        if let Some(i) = instance {
            let _ = write!(s, ",\"instance\":\"{i}\"");
        }
        s.push('}');
    }

    fn csms_call_201(&mut self, id: &str, now: u64, g: &mut Gen) -> Exchange {
        let _ = now;
        let mut c = String::with_capacity(300);
        let mut r = String::with_capacity(500);
        if self.config.len() == KEYS16.len() {
            // First device-model access: materialise the writable variables.
            for &(_, var, _, _) in VARS201 {
                self.config.push(default_var(var).to_string());
            }
        }
        if g.rng.chance(0.6) {
            call_head(&mut c, id, "GetVariables");
            result_head(&mut r, id);
            let n = g.rng.range(1, 4) as usize;
            let mut vars: Vec<usize> = Vec::with_capacity(n);
            while vars.len() < n {
                let v = g.rng.below(VARS201.len() as u64) as usize;
                if !vars.contains(&v) {
                    vars.push(v);
                }
            }
            let unknown = g.rng.chance(0.1);
            c.push_str("{\"getVariableData\":[");
            r.push_str("{\"getVariableResult\":[");
            for (n, &v) in vars.iter().enumerate() {
                if n > 0 {
                    c.push(',');
                    r.push(',');
                }
                c.push('{');
                Self::push_cv(&mut c, v);
                c.push('}');
                let value = self.var_value(v);
                let _ = write!(
                    r,
                    "{{\"attributeStatus\":\"Accepted\",\"attributeValue\":\"{value}\","
                );
                Self::push_cv(&mut r, v);
                r.push('}');
            }
            if unknown {
                c.push_str(
                    ",{\"component\":{\"name\":\"OCPPCommCtrlr\"},\"variable\":{\"name\":\"QueueAllMessages\"}}",
                );
                r.push_str(
                    ",{\"attributeStatus\":\"UnknownVariable\",\"component\":{\"name\":\"OCPPCommCtrlr\"},\"variable\":{\"name\":\"QueueAllMessages\"}}",
                );
            }
            c.push_str("]}]");
            r.push_str("]}]");
        } else {
            call_head(&mut c, id, "SetVariables");
            result_head(&mut r, id);
            let writable: Vec<usize> = (0..VARS201.len())
                .filter(|&v| VARS201[v].3 || VARS201[v].1.ends_with("Interval"))
                .collect();
            let n = g.rng.range(1, 2) as usize;
            let mut vars: Vec<usize> = Vec::with_capacity(n);
            while vars.len() < n {
                let v = g.rng.pick(&writable);
                if !vars.contains(&v) {
                    vars.push(v);
                }
            }
            c.push_str("{\"setVariableData\":[");
            r.push_str("{\"setVariableResult\":[");
            for (n, &v) in vars.iter().enumerate() {
                if n > 0 {
                    c.push(',');
                    r.push(',');
                }
                let (_, var, _, free) = VARS201[v];
                let value = if free {
                    match var {
                        "EVConnectionTimeOut" => g.rng.pick(&["60", "90", "120"]).to_string(),
                        "WebSocketPingInterval" => g.rng.pick(&["30", "60", "120"]).to_string(),
                        _ => g.rng.pick(&["true", "false"]).to_string(),
                    }
                } else {
                    self.var_value(v)
                };
                let _ = write!(c, "{{\"attributeValue\":\"{value}\",");
                Self::push_cv(&mut c, v);
                c.push('}');
                if free && let Some(slot) = self.config.get_mut(KEYS16.len() + v) {
                    *slot = value;
                }
                r.push_str("{\"attributeStatus\":\"Accepted\",");
                Self::push_cv(&mut r, v);
                r.push('}');
            }
            c.push_str("]}]");
            r.push_str("]}]");
        }
        Self::to_charger(c, r, &mut g.rng)
    }

    // --- Charging sessions ---------------------------------------------------------------

    fn session_step(&mut self, id: &str, now: u64, k: usize, g: &mut Gen) -> Exchange {
        let v201 = self.v201;
        let Some(phase) = self.connectors.get(k).map(|c| c.phase) else {
            return self.heartbeat(id, now, g);
        };
        match phase {
            Phase::Idle => {
                self.begin_session(now, k, &mut g.rng);
                self.set(k, Phase::Plugged, now + g.rng.range(300, 2_000));
                self.status(id, now, Some(k), g)
            }
            Phase::Plugged if v201 => {
                let ex = self.tx_event(id, now, k, TxEvent::Started, g);
                self.set(k, Phase::Authorizing, now + g.rng.range(4, 25) * SECOND);
                ex
            }
            Phase::Plugged | Phase::Authorizing => self.authorize(id, now, k, g),
            Phase::Authorized if v201 => {
                let ex = self.tx_event(id, now, k, TxEvent::Authorized, g);
                self.set(k, Phase::Charging, now + self.mv_interval);
                ex
            }
            Phase::Authorized => {
                let ex = self.start_transaction(id, now, k, g);
                self.set(k, Phase::Started, now + g.rng.range(500, 3_000));
                ex
            }
            Phase::Started => {
                self.set(k, Phase::Charging, now + self.mv_interval);
                self.status(id, now, Some(k), g)
            }
            Phase::Charging | Phase::SuspendedEv => self.charging_step(id, now, k, g),
            Phase::StopAuthorized | Phase::Stopping => {
                if v201 {
                    let ex = self.tx_event(id, now, k, TxEvent::Ended, g);
                    self.set(k, Phase::Unplugging, now + g.rng.range(200, 1_500));
                    ex
                } else {
                    let by_card = self.connectors.get(k).is_some_and(|c| c.stop_by_card);
                    let ex = self.stop_transaction(id, now, k, g);
                    if by_card {
                        self.set(k, Phase::Finishing, now + g.rng.range(300, 1_500));
                    } else {
                        self.set(k, Phase::Unplugging, now + g.rng.range(300, 1_500));
                    }
                    ex
                }
            }
            Phase::Finishing => {
                // Finishing shown until the driver takes the cable away.
                let ex = self.status_as(id, now, k, "Finishing", g);
                self.set(k, Phase::Unplugging, now + g.rng.range(20, 240) * SECOND);
                ex
            }
            Phase::Unplugging => {
                self.set(
                    k,
                    Phase::Idle,
                    now + g.rng.exp_ms(IDLE_MEAN_MS) + 30 * SECOND,
                );
                self.status(id, now, Some(k), g)
            }
        }
    }

    fn set(&mut self, k: usize, phase: Phase, due: u64) {
        if let Some(c) = self.connectors.get_mut(k) {
            c.phase = phase;
            c.due = due;
        }
    }

    /// 1.6 status sent while the connector is between two phases.
    fn status_as(&mut self, id: &str, now: u64, k: usize, status: &str, g: &mut Gen) -> Exchange {
        let cid = self.connectors.get(k).map_or(1, |c| c.id);
        let mut c = String::with_capacity(160);
        call_head(&mut c, id, "StatusNotification");
        let _ = write!(
            c,
            "{{\"connectorId\":{cid},\"errorCode\":\"NoError\",\"status\":\"{status}\","
        );
        push_ts_member(&mut c, "timestamp", now);
        c.push_str("}]");
        Self::to_csms(c, Self::empty_result(id), &mut g.rng)
    }

    fn begin_session(&mut self, now: u64, k: usize, rng: &mut Rng) {
        let current = self.current;
        let Some(c) = self.connectors.get_mut(k) else {
            return;
        };
        c.id_tag = rng.rfid();
        c.capacity_wh = rng.pick(&[
            40_000.0, 52_000.0, 58_000.0, 64_000.0, 77_000.0, 82_000.0, 95_000.0,
        ]);
        c.soc = rng.uniform(8.0, 65.0);
        c.soc_target = if rng.chance(0.6) {
            80.0
        } else {
            rng.uniform(85.0, 100.0)
        };
        c.ev_limit = match current {
            Current::Ac { max_amps, .. } => max_amps.min(rng.pick(&[16.0, 16.0, 32.0, 10.0])),
            Current::Dc { max_watts } => {
                max_watts.min(rng.pick(&[50_000.0, 100_000.0, 135_000.0, 170_000.0]))
            }
        };
        c.seq_no = 0;
        c.charging_ms = 0;
        c.suspended_left = 0;
        c.tx_start_ms = now;
        c.last_sample_ms = now;
        c.meter_start_wh = c.meter_wh.floor();
        c.stop_by_card = rng.chance(0.6);
    }

    fn authorize(&mut self, id: &str, now: u64, k: usize, g: &mut Gen) -> Exchange {
        let v201 = self.v201;
        // A few drivers first present a card the CSMS does not know.
        let rejected = g.rng.chance(0.05);
        let Some(conn) = self.connectors.get_mut(k) else {
            return self.heartbeat(id, now, g);
        };
        let tag = if rejected {
            g.rng.rfid()
        } else {
            conn.id_tag.clone()
        };
        let mut c = String::with_capacity(128);
        call_head(&mut c, id, "Authorize");
        let latency = Self::csms_latency(&mut g.rng);
        let mut r = String::with_capacity(128);
        result_head(&mut r, id);
        let status = if rejected { "Invalid" } else { "Accepted" };
        if v201 {
            let _ = write!(
                c,
                "{{\"idToken\":{{\"idToken\":\"{tag}\",\"type\":\"ISO14443\"}}}}]"
            );
            let _ = write!(r, "{{\"idTokenInfo\":{{\"status\":\"{status}\"");
            if !rejected {
                r.push(',');
                push_ts_member(&mut r, "cacheExpiryDateTime", now + 7 * 86_400_000);
            }
            r.push_str("}}]");
        } else {
            let _ = write!(c, "{{\"idTag\":\"{tag}\"}}]");
            let _ = write!(r, "{{\"idTagInfo\":{{\"status\":\"{status}\"");
            if !rejected {
                r.push(',');
                push_ts_member(&mut r, "expiryDate", now + 7 * 86_400_000);
            }
            r.push_str("}}]");
        }
        if rejected {
            conn.phase = Phase::Authorizing;
            conn.due = now + g.rng.range(5, 30) * SECOND;
        } else {
            conn.phase = Phase::Authorized;
            conn.due = now + g.rng.range(300, 2_500);
        }
        Exchange {
            from: Side::Charger,
            call: c,
            reply: r,
            latency,
        }
    }

    fn start_transaction(&mut self, id: &str, now: u64, k: usize, g: &mut Gen) -> Exchange {
        let tx = g.next_tx16;
        g.next_tx16 += 1;
        let Some(conn) = self.connectors.get_mut(k) else {
            return self.heartbeat(id, now, g);
        };
        conn.tx16 = tx;
        conn.tx_start_ms = now;
        conn.last_sample_ms = now;
        let mut c = String::with_capacity(160);
        call_head(&mut c, id, "StartTransaction");
        let _ = write!(
            c,
            "{{\"connectorId\":{},\"idTag\":\"{}\",\"meterStart\":{},",
            conn.id, conn.id_tag, conn.meter_start_wh as u64
        );
        push_ts_member(&mut c, "timestamp", now);
        c.push_str("}]");
        let mut r = String::with_capacity(128);
        result_head(&mut r, id);
        r.push_str("{\"idTagInfo\":{\"status\":\"Accepted\",");
        push_ts_member(&mut r, "expiryDate", now + 7 * 86_400_000);
        let _ = write!(r, "}},\"transactionId\":{tx}}}]");
        Self::to_csms(c, r, &mut g.rng)
    }

    fn stop_transaction(&mut self, id: &str, now: u64, k: usize, g: &mut Gen) -> Exchange {
        let Some(conn) = self.connectors.get(k) else {
            return self.heartbeat(id, now, g);
        };
        let mut c = String::with_capacity(480);
        call_head(&mut c, id, "StopTransaction");
        c.push('{');
        if conn.stop_by_card {
            let _ = write!(c, "\"idTag\":\"{}\",", conn.id_tag);
        }
        let stop = conn.meter_wh.floor() as u64;
        let _ = write!(c, "\"meterStop\":{stop},");
        push_ts_member(&mut c, "timestamp", now);
        let _ = write!(
            c,
            ",\"transactionId\":{},\"reason\":\"{}\",\"transactionData\":[{{",
            conn.tx16,
            if conn.stop_by_card {
                "Local"
            } else {
                "EVDisconnected"
            }
        );
        push_ts_member(&mut c, "timestamp", conn.tx_start_ms);
        let _ = write!(
            c,
            ",\"sampledValue\":[{{\"value\":\"{}\",\"context\":\"Transaction.Begin\",\
             \"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"Wh\"}}]}},{{",
            conn.meter_start_wh as u64
        );
        push_ts_member(&mut c, "timestamp", now);
        let _ = write!(
            c,
            ",\"sampledValue\":[{{\"value\":\"{stop}\",\"context\":\"Transaction.End\",\
             \"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"Wh\"}}]}}]}}]"
        );
        let mut r = String::with_capacity(64);
        result_head(&mut r, id);
        if conn.stop_by_card {
            r.push_str("{\"idTagInfo\":{\"status\":\"Accepted\"}}]");
        } else {
            r.push_str("{}]");
        }
        Self::to_csms(c, r, &mut g.rng)
    }

    /// Advances the connector's energy model to `now`; returns the power, per-phase currents
    /// and voltages of the interval.
    fn advance(&mut self, now: u64, k: usize, rng: &mut Rng) -> Sample {
        let current = self.current;
        let mut s = Sample {
            power_w: 0.0,
            amps: [0.0; 3],
            volts: [0.0; 3],
            phases: 1,
            soc: 0.0,
        };
        let Some(c) = self.connectors.get_mut(k) else {
            return s;
        };
        let dt_h = now.saturating_sub(c.last_sample_ms) as f64 / 3_600_000.0;
        c.last_sample_ms = now;
        let flowing = c.phase == Phase::Charging;
        match current {
            Current::Ac { phases, .. } => {
                s.phases = phases as usize;
                for p in 0..s.phases {
                    let v = 230.0 + rng.uniform(-4.5, 4.5);
                    let a = if flowing {
                        // Taper a little near the target, like the EV's charger does.
                        let taper = if c.soc > 90.0 { 0.6 } else { 1.0 };
                        c.ev_limit * taper * rng.uniform(0.94, 0.995)
                    } else {
                        0.0
                    };
                    s.volts[p] = v;
                    s.amps[p] = a;
                    s.power_w += v * a;
                }
            }
            Current::Dc { .. } => {
                let taper = if c.soc < 50.0 {
                    1.0
                } else if c.soc < 80.0 {
                    1.0 - (c.soc - 50.0) / 30.0 * 0.55
                } else {
                    (0.45 - (c.soc - 80.0) / 20.0 * 0.35).max(0.08)
                };
                let v = 340.0 + c.soc * 0.9 + rng.uniform(-2.0, 2.0);
                let p = if flowing {
                    c.ev_limit * taper * rng.uniform(0.95, 1.0)
                } else {
                    0.0
                };
                s.volts[0] = v;
                s.amps[0] = p / v;
                s.power_w = p;
            }
        }
        let wh = s.power_w * dt_h;
        c.meter_wh += wh;
        if c.capacity_wh > 0.0 {
            c.soc = (c.soc + wh / c.capacity_wh * 100.0 * 0.93).min(100.0);
        }
        if flowing {
            c.charging_ms += (dt_h * 3_600_000.0) as u64;
        }
        s.soc = c.soc;
        s
    }

    /// A periodic meter value while charging (or suspended), deciding when the session ends.
    fn charging_step(&mut self, id: &str, now: u64, k: usize, g: &mut Gen) -> Exchange {
        let v201 = self.v201;
        let interval = self.mv_interval;
        let sample = self.advance(now, k, &mut g.rng);
        let Some(conn) = self.connectors.get_mut(k) else {
            return self.heartbeat(id, now, g);
        };
        // Decide what comes after this sample.
        let mut suspend_now = false;
        if conn.phase == Phase::Charging {
            if conn.soc >= conn.soc_target {
                suspend_now = true;
            } else if g.rng.chance(0.025) {
                // The driver leaves early.
                conn.phase = Phase::Stopping;
            }
        } else if conn.suspended_left == 0 {
            conn.phase = Phase::Stopping;
        } else {
            conn.suspended_left -= 1;
        }
        if conn.phase == Phase::Stopping {
            conn.due = now + g.rng.range(5, (interval / SECOND).max(6) - 1) * SECOND;
        } else {
            conn.due = now + interval;
        }
        if suspend_now {
            // 1.6 reports the pause with a status; 2.0.1 with a TransactionEvent.
            conn.phase = Phase::SuspendedEv;
            conn.suspended_left = g.rng.range(0, 3) as u32;
            if v201 {
                let ex = self.tx_event(id, now, k, TxEvent::Suspended(sample), g);
                return ex;
            }
            // The sample is dropped; the status tells the story, meter values go on.
            let ex = self.status(id, now, Some(k), g);
            if let Some(c) = self.connectors.get_mut(k) {
                c.due = now + g.rng.range(1, 10) * SECOND;
            }
            return ex;
        }
        if v201 {
            self.tx_event(id, now, k, TxEvent::Periodic(sample), g)
        } else {
            self.meter_values(id, now, k, &sample, "Sample.Periodic", g)
        }
    }

    fn triggered_meter(&mut self, id: &str, now: u64, k: usize, g: &mut Gen) -> Exchange {
        let in_tx = self.connectors.get(k).is_some_and(|c| c.in_tx());
        let sample = if in_tx {
            // Sample without disturbing the periodic schedule's energy accounting.
            self.advance(now, k, &mut g.rng)
        } else {
            Sample {
                power_w: 0.0,
                amps: [0.0; 3],
                volts: [230.0; 3],
                phases: 0,
                soc: 0.0,
            }
        };
        self.meter_values(id, now, k, &sample, "Trigger", g)
    }

    fn push_sampled_16(
        &self,
        s: &mut String,
        value: &str,
        context: &str,
        measurand: &str,
        phase: Option<&str>,
        unit: &str,
    ) {
        let _ = write!(s, "{{\"value\":\"{value}\",\"context\":\"{context}\",");
        if self.verbose_samples {
            s.push_str("\"format\":\"Raw\",");
        }
        let _ = write!(s, "\"measurand\":\"{measurand}\",");
        if let Some(p) = phase {
            let _ = write!(s, "\"phase\":\"{p}\",");
        }
        if self.verbose_samples {
            let loc = if measurand == "SoC" { "EV" } else { "Outlet" };
            let _ = write!(s, "\"location\":\"{loc}\",");
        }
        let _ = write!(s, "\"unit\":\"{unit}\"}}");
    }

    fn meter_values(
        &mut self,
        id: &str,
        now: u64,
        k: usize,
        sample: &Sample,
        context: &str,
        g: &mut Gen,
    ) -> Exchange {
        let Some(conn) = self.connectors.get(k) else {
            return self.heartbeat(id, now, g);
        };
        let in_tx = conn.in_tx();
        let mut c = String::with_capacity(1_600);
        call_head(&mut c, id, "MeterValues");
        let _ = write!(c, "{{\"connectorId\":{}", conn.id);
        if in_tx {
            let _ = write!(c, ",\"transactionId\":{}", conn.tx16);
        }
        c.push_str(",\"meterValue\":[{");
        push_ts_member(&mut c, "timestamp", now);
        c.push_str(",\"sampledValue\":[");
        let mut v = String::with_capacity(16);
        let _ = write!(v, "{}", conn.meter_wh.floor() as u64);
        self.push_sampled_16(
            &mut c,
            &v,
            context,
            "Energy.Active.Import.Register",
            None,
            "Wh",
        );
        if sample.phases > 0 {
            v.clear();
            let _ = write!(v, "{:.1}", sample.power_w);
            c.push(',');
            self.push_sampled_16(&mut c, &v, context, "Power.Active.Import", None, "W");
            let dc = matches!(self.current, Current::Dc { .. });
            for (amps, phase) in sample.amps.iter().zip(PHASES).take(sample.phases) {
                v.clear();
                let _ = write!(v, "{amps:.2}");
                c.push(',');
                let ph = if dc { None } else { Some(phase) };
                self.push_sampled_16(&mut c, &v, context, "Current.Import", ph, "A");
            }
            for (volts, phase) in sample.volts.iter().zip(PHASES_N).take(sample.phases) {
                v.clear();
                let _ = write!(v, "{volts:.1}");
                c.push(',');
                let ph = if dc { None } else { Some(phase) };
                self.push_sampled_16(&mut c, &v, context, "Voltage", ph, "V");
            }
            if self.reports_soc && in_tx {
                v.clear();
                let _ = write!(v, "{}", sample.soc.floor() as u32);
                c.push(',');
                self.push_sampled_16(&mut c, &v, context, "SoC", None, "Percent");
            }
        }
        c.push_str("]}]}]");
        Self::to_csms(c, Self::empty_result(id), &mut g.rng)
    }

    fn push_sampled_201(
        &self,
        s: &mut String,
        value: f64,
        decimals: usize,
        context: &str,
        measurand: &str,
        phase: Option<&str>,
        unit: &str,
    ) {
        let _ = write!(
            s,
            "{{\"value\":{value:.decimals$},\"context\":\"{context}\","
        );
        let _ = write!(s, "\"measurand\":\"{measurand}\",");
        if let Some(p) = phase {
            let _ = write!(s, "\"phase\":\"{p}\",");
        }
        if self.verbose_samples {
            let loc = if measurand == "SoC" { "EV" } else { "Outlet" };
            let _ = write!(s, "\"location\":\"{loc}\",");
        }
        let _ = write!(s, "\"unitOfMeasure\":{{\"unit\":\"{unit}\"}}}}");
    }

    fn tx_event(&mut self, id: &str, now: u64, k: usize, ev: TxEvent, g: &mut Gen) -> Exchange {
        let current = self.current;
        let reports_soc = self.reports_soc;
        let Some(conn) = self.connectors.get_mut(k) else {
            return self.heartbeat(id, now, g);
        };
        if let TxEvent::Started = ev {
            conn.tx201 = g.rng.uuid();
            conn.seq_no = 0;
            conn.tx_start_ms = now;
            conn.last_sample_ms = now;
        }
        let seq = conn.seq_no;
        conn.seq_no += 1;
        let (event_type, trigger, state) = match ev {
            TxEvent::Started => ("Started", "CablePluggedIn", "EVConnected"),
            TxEvent::Authorized => ("Updated", "Authorized", "Charging"),
            TxEvent::Periodic(_) => ("Updated", "MeterValuePeriodic", "Charging"),
            TxEvent::Suspended(_) => ("Updated", "ChargingStateChanged", "SuspendedEV"),
            TxEvent::StopAuthorized => ("Updated", "StopAuthorized", "EVConnected"),
            TxEvent::Ended => (
                "Ended",
                if conn.stop_by_card {
                    "EVDeparted"
                } else {
                    "EVCommunicationLost"
                },
                "Idle",
            ),
        };
        let (event_type, trigger) = if let (TxEvent::Ended, false) = (ev, conn.stop_by_card) {
            (event_type, "EVDeparted")
        } else {
            (event_type, trigger)
        };
        let id_tag = conn.id_tag.clone();
        let tx_id = conn.tx201.clone();
        let evse = conn.id;
        let meter = conn.meter_wh;
        let start_wh = conn.meter_start_wh;
        let charging_s = conn.charging_ms / SECOND;
        let stop_by_card = conn.stop_by_card;
        let state = if let (TxEvent::Periodic(_), Phase::SuspendedEv) = (ev, conn.phase) {
            "SuspendedEV"
        } else {
            state
        };
        let mut c = String::with_capacity(1_800);
        call_head(&mut c, id, "TransactionEvent");
        let _ = write!(c, "{{\"eventType\":\"{event_type}\",");
        push_ts_member(&mut c, "timestamp", now);
        let _ = write!(
            c,
            ",\"triggerReason\":\"{trigger}\",\"seqNo\":{seq},\"transactionInfo\":{{\"transactionId\":\"{tx_id}\",\"chargingState\":\"{state}\""
        );
        match ev {
            TxEvent::Periodic(_) | TxEvent::Suspended(_) | TxEvent::StopAuthorized => {
                let _ = write!(c, ",\"timeSpentCharging\":{charging_s}");
            }
            TxEvent::Ended => {
                let _ = write!(
                    c,
                    ",\"timeSpentCharging\":{charging_s},\"stoppedReason\":\"{}\"",
                    if stop_by_card {
                        "Local"
                    } else {
                        "EVDisconnected"
                    }
                );
            }
            TxEvent::Started | TxEvent::Authorized => {}
        }
        c.push('}');
        match ev {
            TxEvent::Started => {
                let _ = write!(c, ",\"evse\":{{\"id\":{evse},\"connectorId\":1}}");
                if let Current::Ac { phases, .. } = current {
                    let _ = write!(c, ",\"numberOfPhasesUsed\":{phases}");
                }
            }
            TxEvent::Authorized | TxEvent::StopAuthorized => {
                let _ = write!(
                    c,
                    ",\"idToken\":{{\"idToken\":\"{id_tag}\",\"type\":\"ISO14443\"}}"
                );
            }
            _ => {}
        }
        // Meter values: begin/end register, or a full periodic sample.
        match ev {
            TxEvent::Started | TxEvent::Ended => {
                let (ctx, wh, at) = if let TxEvent::Started = ev {
                    ("Transaction.Begin", start_wh, now)
                } else {
                    ("Transaction.End", meter.floor(), now)
                };
                c.push_str(",\"meterValue\":[{");
                push_ts_member(&mut c, "timestamp", at);
                c.push_str(",\"sampledValue\":[");
                self.push_sampled_201(
                    &mut c,
                    wh,
                    0,
                    ctx,
                    "Energy.Active.Import.Register",
                    None,
                    "Wh",
                );
                c.push_str("]}]");
            }
            TxEvent::Periodic(sample) | TxEvent::Suspended(sample) => {
                c.push_str(",\"meterValue\":[{");
                push_ts_member(&mut c, "timestamp", now);
                c.push_str(",\"sampledValue\":[");
                let ctx = "Sample.Periodic";
                self.push_sampled_201(
                    &mut c,
                    meter.floor(),
                    0,
                    ctx,
                    "Energy.Active.Import.Register",
                    None,
                    "Wh",
                );
                c.push(',');
                self.push_sampled_201(
                    &mut c,
                    sample.power_w,
                    1,
                    ctx,
                    "Power.Active.Import",
                    None,
                    "W",
                );
                let dc = matches!(current, Current::Dc { .. });
                for p in 0..sample.phases {
                    c.push(',');
                    let ph = if dc { None } else { Some(PHASES[p]) };
                    self.push_sampled_201(
                        &mut c,
                        sample.amps[p],
                        2,
                        ctx,
                        "Current.Import",
                        ph,
                        "A",
                    );
                }
                for p in 0..sample.phases {
                    c.push(',');
                    let ph = if dc { None } else { Some(PHASES_N[p]) };
                    self.push_sampled_201(&mut c, sample.volts[p], 1, ctx, "Voltage", ph, "V");
                }
                if reports_soc {
                    c.push(',');
                    self.push_sampled_201(
                        &mut c,
                        sample.soc.floor(),
                        0,
                        ctx,
                        "SoC",
                        None,
                        "Percent",
                    );
                }
                c.push_str("]}]");
            }
            TxEvent::Authorized | TxEvent::StopAuthorized => {}
        }
        c.push_str("}]");
        let mut r = String::with_capacity(128);
        result_head(&mut r, id);
        match ev {
            TxEvent::Authorized | TxEvent::StopAuthorized => {
                r.push_str("{\"idTokenInfo\":{\"status\":\"Accepted\"}}]");
            }
            TxEvent::Ended => {
                let kwh = (meter - start_wh).max(0.0) / 1_000.0;
                let _ = write!(r, "{{\"totalCost\":{:.2}}}]", kwh * 0.39);
            }
            TxEvent::Periodic(_) if g.rng.chance(0.3) => {
                let kwh = (meter - start_wh).max(0.0) / 1_000.0;
                let _ = write!(r, "{{\"totalCost\":{:.2}}}]", kwh * 0.39);
            }
            _ => r.push_str("{}]"),
        }
        // The driver stops with the card before unplugging: one extra Updated.
        if let TxEvent::Periodic(_) | TxEvent::Suspended(_) = ev
            && let Some(conn) = self.connectors.get_mut(k)
            && conn.phase == Phase::Stopping
            && conn.stop_by_card
        {
            conn.phase = Phase::StopAuthorized;
        }
        Self::to_csms(c, r, &mut g.rng)
    }
}

#[derive(Clone, Copy)]
struct Sample {
    power_w: f64,
    amps: [f64; 3],
    volts: [f64; 3],
    phases: usize,
    soc: f64,
}

#[derive(Clone, Copy)]
enum TxEvent {
    Started,
    Authorized,
    Periodic(Sample),
    Suspended(Sample),
    #[allow(
        dead_code,
        reason = "the generator does not emit a stop-authorization event yet"
    )]
    StopAuthorized,
    Ended,
}

const PHASES: [&str; 3] = ["L1", "L2", "L3"];
const PHASES_N: [&str; 3] = ["L1-N", "L2-N", "L3-N"];

/// Mean time between two CSMS-initiated calls on one connection.
const CSMS_MEAN_MS: f64 = 20.0 * MINUTE as f64;
/// Mean time between two DataTransfer / NotifyEvent messages of a station.
const MISC_MEAN_MS: f64 = 15.0 * MINUTE as f64;
/// Mean idle time of a connector between two sessions.
const IDLE_MEAN_MS: f64 = 25.0 * MINUTE as f64;

fn default_var(var: &str) -> &'static str {
    match var {
        "EVConnectionTimeOut" => "60",
        "LocalPreAuthorize" => "false",
        "WebSocketPingInterval" => "60",
        _ => "",
    }
}

/// Lets `serde_json` write into a `String` (it only ever writes UTF-8).
struct JsonInto<'a>(&'a mut String);

impl Write for JsonInto<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let s = std::str::from_utf8(buf).map_err(io::Error::other)?;
        self.0.push_str(s);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
