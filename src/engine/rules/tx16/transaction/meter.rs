//! MeterValues (and the transaction data of a StopTransaction): sampled values, their
//! measurands, phases, locations and units, numeric values, and the energy register.

use super::*;
use crate::ocpp::meter::{LOCATIONS, PHASES, READING_CONTEXTS as CONTEXTS};
use crate::wire::doc::Array;

/// A decimal number as OCPP 1.6 raw sampled values carry them: an optional sign, digits
/// with an optional fraction, an optional exponent.
pub(super) fn is_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if i < b.len() && matches!(b[i], b'+' | b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

pub(super) const UNITS: &[&str] = &["Wh", "kWh"];

pub(super) fn index_of(list: &[&str], v: Option<&str>) -> u8 {
    v.and_then(|v| list.iter().position(|x| *x == v))
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

/// One sampled value, with the defaults of OCPP 1.6 §7.43 applied.
pub(super) struct Sample<'a> {
    pub(super) value: &'a str,
    context: &'a str,
    pub(super) raw: bool,
    register_key: Option<RegisterKey>,
}

/// What makes two register readings comparable: the same reading context, phase, location
/// and unit. Readings of different contexts (a Transaction.Begin reading beside a periodic
/// one in the same meterValue) may come from different sources and are not successive
/// readings of one register.
pub(super) type RegisterKey = (u8, u8, u8, u8);

pub(super) fn sample(v: Json<'_>) -> Option<Sample<'_>> {
    // One pass over the members instead of a lookup per member: a sampled value has up to
    // seven, and MeterValues carry many sampled values (each read by two checks).
    let (mut value, mut format, mut measurand, mut unit, mut context, mut phase, mut location) =
        (None, None, None, None, None, None, None);
    for (key, member) in v.as_object()? {
        let slot = match key {
            "value" => &mut value,
            "format" => &mut format,
            "measurand" => &mut measurand,
            "unit" => &mut unit,
            "context" => &mut context,
            "phase" => &mut phase,
            "location" => &mut location,
            _ => continue,
        };
        *slot = member.as_str();
    }
    let value = value?;
    let measurand = measurand.unwrap_or("Energy.Active.Import.Register");
    let unit = unit.unwrap_or("Wh");
    let context = context.unwrap_or("Sample.Periodic");
    let register_key =
        (measurand == "Energy.Active.Import.Register" && matches!(unit, "Wh" | "kWh")).then(|| {
            (
                index_of(CONTEXTS, Some(context)),
                index_of(PHASES, phase),
                index_of(LOCATIONS, location),
                index_of(UNITS, Some(unit)),
            )
        });
    Some(Sample {
        value,
        context,
        raw: format.is_none_or(|f| f == "Raw"),
        register_key,
    })
}

/// The value of a sampled value in format Raw (the default), as [`sample`] reads it: the
/// two members the numeric check needs, without the rest of the sample.
pub(super) fn raw_value(v: Json<'_>) -> Option<&str> {
    let [value, format] = v.get_each(["value", "format"]);
    let value = value?.as_str()?;
    format
        .and_then(Json::as_str)
        .is_none_or(|f| f == "Raw")
        .then_some(value)
}

/// Reports the first raw sampled value of `values` (the `meterValue` or `transactionData`
/// array named `member`) that is not a number.
pub(super) fn check_numeric(ctx: &mut Ctx<'_>, values: Array<'_>, member: &str) {
    let mut bad = 0usize;
    let mut first = None;
    for (i, mv) in values.iter().enumerate() {
        for (j, sv) in arr_of(mv, "sampledValue").iter().enumerate() {
            if let Some(value) = raw_value(sv)
                && !is_decimal(value)
            {
                bad += 1;
                if first.is_none() {
                    first = Some((i, j, value));
                }
            }
        }
    }
    if let Some((i, j, value)) = first {
        let more = if bad > 1 {
            format!(" ({} more in this message)", bad - 1)
        } else {
            String::new()
        };
        ctx.report_at(
            &SAMPLED_VALUE_NOT_NUMERIC,
            format!("/{member}/{i}/sampledValue/{j}/value"),
            format!(
                "raw sampled value {value:?} is not a decimal number{more}; non-numeric data belongs in format SignedData"
            ),
        );
    }
}

/// Follows the samples of `values` in a transaction: register readings, Transaction.Begin
/// / End contexts, periodic spacing. Returns the earliest and latest timestamp of the
/// periodic and clock-aligned samples.
pub(super) fn follow_samples(
    tx: &mut PerTx,
    id: i64,
    start_ts: Option<Timestamp>,
    ctx: &mut Ctx<'_>,
    values: Array<'_>,
    interval: Option<i64>,
) -> Option<(Timestamp, Timestamp)> {
    let window = ctx.config().tol.followup_window_us;
    let mut span: Option<(Timestamp, Timestamp)> = None;
    for mv in values {
        let ts = ts_of(mv, "timestamp");
        let mut periodic = false;
        for sv in arr_of(mv, "sampledValue") {
            let Some(s) = sample(sv) else { continue };
            match s.context {
                "Sample.Periodic" | "Sample.Clock" => {
                    periodic |= s.context == "Sample.Periodic";
                    if let Some(ts) = ts {
                        span = Some(match span {
                            None => (ts, ts),
                            Some((lo, hi)) => (lo.min(ts), hi.max(ts)),
                        });
                    }
                }
                "Transaction.Begin" => {
                    if let (Some(ts), Some(start)) = (ts, start_ts)
                        && !tx.begin_flagged
                        && ts > Timestamp::after(start, window)
                    {
                        tx.begin_flagged = true;
                        ctx.report(
                                &CONTEXT_MISMATCH,
                                format!(
                                    "sample of transaction {id} labelled Transaction.Begin is timestamped {ts}, {:.0} s after the transaction started ({start})",
                                    ts.secs_since(start)
                                ),
                            );
                    }
                }
                "Transaction.End" => {
                    if let Some(ts) = ts
                        && tx.end_sample.is_none_or(|e| ts < e)
                    {
                        tx.end_sample = Some(ts);
                    }
                }
                _ => {}
            }
            if let (Some(key), true) = (s.register_key, s.raw)
                && let Ok(value) = s.value.parse::<f64>()
            {
                follow_register(tx, id, ctx, key, ts, value);
            }
        }
        if let (true, Some(ts), Some(interval)) = (periodic, ts, interval.filter(|i| *i > 0)) {
            match tx.last_periodic {
                Some((prev, i)) if i == interval && ts > prev => {
                    let gap = ts.micros() - prev.micros();
                    let want = interval.saturating_mul(1_000_000);
                    if !tx.interval_flagged && (gap < want / 2 || gap > want + want / 2) {
                        tx.interval_flagged = true;
                        ctx.report(
                            &SAMPLE_INTERVAL_MISMATCH,
                            format!(
                                "periodic samples of transaction {id} are {:.0} s apart (at {prev} and {ts}); MeterValueSampleInterval is {interval} s",
                                ts.secs_since(prev)
                            ),
                        );
                    }
                    tx.last_periodic = Some((ts, interval));
                }
                Some((prev, i)) if i == interval && ts <= prev => {}
                _ => tx.last_periodic = Some((ts, interval)),
            }
        }
    }
    span
}

pub(super) fn follow_register(
    tx: &mut PerTx,
    id: i64,
    ctx: &mut Ctx<'_>,
    key: RegisterKey,
    ts: Option<Timestamp>,
    value: f64,
) {
    match tx.registers.iter_mut().find(|r| r.key == key) {
        Some(r) => {
            if let (Some(new), Some(old)) = (ts, r.ts)
                && new < old
            {
                return; // delivered out of order: not a successive reading
            }
            if value < r.value && !tx.register_flagged {
                tx.register_flagged = true;
                ctx.report(
                    &REGISTER_DECREASING,
                    format!(
                        "Energy.Active.Import.Register of transaction {id} fell from {} to {value}; a register only counts up",
                        r.value
                    ),
                );
            }
            r.value = value;
            if ts.is_some() {
                r.ts = ts;
            }
        }
        None => push_capped(
            &mut tx.registers,
            Register { key, ts, value },
            MAX_REGISTERS,
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Hooks.

pub(super) fn meter_values(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let values = arr_of(p, "meterValue");
    check_numeric(ctx, values, "meterValue");
    let (Some(connector), Some(id)) = (int_of(p, "connectorId"), int_of(p, "transactionId")) else {
        return;
    };
    if connector == 0 {
        ctx.report(
            &METER_VALUES_MAIN_METER_WITH_TX,
            format!("MeterValues for connectorId 0 (the main meter) carries transactionId {id}; errata 3.16 recommends leaving it out"),
        );
    }
    if id == -1 {
        ctx.report(
            &MINUS_ONE_TRANSACTION_ID,
            "MeterValues with transactionId -1: a transaction whose StartTransaction was never acknowledged",
        );
        return;
    }
    let txs = &st.station.transactions.v16();
    if let v16::Change::Adopted { issued, .. } = txs.change {
        let message = format!(
            "MeterValues for transactionId {id}, which no StartTransaction answer in the trace issued"
        );
        let earliest = values.iter().filter_map(|mv| ts_of(mv, "timestamp")).min();
        let proven = st
            .station
            .since_boot(earliest, ctx.config().tol.clock_skew_us)
            && !issued;
        report_unless_excused(
            ctx,
            &METER_VALUES_UNKNOWN_TX,
            proven,
            (
                Severity::Info,
                "it may have started before the trace or the last boot",
            ),
            message,
        );
    }
    let Some(tx) = txs.get(id) else { return };
    if connector > 0
        && let Some(c) = tx.connector
        && c != connector
    {
        ctx.report(
            &METER_VALUES_WRONG_CONNECTOR,
            format!("MeterValues for connector {connector} names transaction {id}, which runs on connector {c}"),
        );
    }
    let interval = st.station.config.key_int("MeterValueSampleInterval");
    let own = per_tx(&mut st.tx16.per_tx, txs, tx);
    let span = follow_samples(own, id, tx.start_ts, ctx, values, interval);
    if let Some((lo, hi)) = span {
        let stop = tx.stop.filter(|x| x.acked_after_us.is_some());
        match (stop, stop.and_then(|x| x.ts)) {
            (Some(_), Some(stop_ts)) if hi > stop_ts => ctx.report(
                &METER_VALUES_AFTER_STOP,
                format!("MeterValues for transaction {id}, sampled at {hi}, after its StopTransaction ({stop_ts}) was acknowledged"),
            ),
            _ => {
                if let Some(last) = own.last_ts
                    && lo < last {
                        ctx.report(
                            &TX_MESSAGES_OUT_OF_ORDER,
                            format!("MeterValues of transaction {id} sampled at {lo}, before the transaction's earlier delivered message ({last}); transaction messages must be delivered in the order they were created"),
                        );
                    }
            }
        }
        if credible_stamp(ctx, hi) {
            own.see(hi);
        }
    }
}
