//! The charger's clock as its CALLs show it: the offset (charger time minus recording time,
//! in microseconds) of the latest charger CALL whose payload carries a readable timestamp
//! (top-level `timestamp` / `generatedAt`, and those of its meter value entries), and
//! whether the charger's last CALL was one. A CALL with several timestamps counts by its
//! latest: the others may be values kept from earlier (meter values sent late).
//!
//! The payload's timestamps are read here once per charger CALL; `seq/liveness.rs` judges
//! the offset (`cs.timestamp-future`) instead of reading them again. Facts only: how far
//! ahead is too far, the rules decide.

use crate::engine::protocol::Call;
use crate::engine::support::str_of;
use crate::ocpp::Side;
use crate::time::Timestamp;
use crate::wire::doc::Json;

/// Which charger CALLs carried a timestamp.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Seen {
    #[default]
    Never,
    /// An earlier one, not the charger's last CALL.
    Before,
    /// The charger's last CALL.
    LastCall,
}

/// The charger's clock offset as last observed.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_us: i64,
    seen: Seen,
}

/// The timestamps a charger payload carries: top-level `timestamp` / `generatedAt` and
/// those of its meter value entries.
fn timestamps(p: Json<'_>) -> impl Iterator<Item = &str> {
    // Every charger CALL is read for them: the four members in one pass.
    let [timestamp, generated_at, meter_value, transaction_data] =
        p.get_each(["timestamp", "generatedAt", "meterValue", "transactionData"]);
    let top = [timestamp, generated_at]
        .into_iter()
        .filter_map(|v| v.and_then(Json::as_str));
    let nested = [meter_value, transaction_data]
        .into_iter()
        .flatten()
        .flat_map(Json::items)
        .filter_map(|mv| str_of(mv, "timestamp"));
    top.chain(nested)
}

/// How far `s` is ahead of `now` (negative: behind), when it is a readable timestamp.
fn ahead_of(s: &str, now: Timestamp) -> Option<i64> {
    let t = Timestamp::parse_rfc3339(s).ok()?;
    Some(t.micros().saturating_sub(now.micros()))
}

impl Clock {
    /// Charger time minus recording time, in microseconds, of the latest charger CALL with a
    /// readable timestamp (`None` before one).
    pub(crate) fn offset_us(&self) -> Option<i64> {
        (self.seen != Seen::Never).then_some(self.offset_us)
    }

    /// The offset the charger's last CALL showed (`None` when it carried no readable
    /// timestamp).
    pub(crate) fn of_last_call(&self) -> Option<i64> {
        (self.seen == Seen::LastCall).then_some(self.offset_us)
    }

    /// The timestamp of `payload`, the charger's last CALL sent at `now`, that showed its
    /// offset (the first, if several did); `None` when the CALL showed none. It reads the
    /// payload again: for naming the timestamp in a finding, not for every frame.
    pub(crate) fn shown_by<'p>(&self, payload: Json<'p>, now: Timestamp) -> Option<&'p str> {
        let offset = self.of_last_call()?;
        timestamps(payload).find(|s| ahead_of(s, now) == Some(offset))
    }

    /// A CALL was sent at `now`.
    pub(crate) fn observe_call(&mut self, call: &Call<'_>, now: Timestamp) {
        if call.from != Side::Charger {
            return;
        }
        match timestamps(call.payload)
            .filter_map(|s| ahead_of(s, now))
            .max()
        {
            Some(offset) => {
                self.offset_us = offset;
                self.seen = Seen::LastCall;
            }
            None if self.seen == Seen::LastCall => self.seen = Seen::Before,
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::station::testing::call;
    use crate::wire::doc::Doc;
    use serde_json::json;

    #[test]
    fn the_latest_timestamp_of_the_last_charger_call_that_had_one() {
        let now = Timestamp::parse_rfc3339("2026-11-22T10:00:00Z").unwrap();
        let mut c = Clock::default();
        assert_eq!((c.offset_us(), c.of_last_call()), (None, None));
        // Meter values sent late: the latest timestamp counts, 2 s ahead.
        let mv = Doc::from_value(&json!({"connectorId": 1, "meterValue": [
            {"timestamp": "2026-11-22T09:00:00Z", "sampledValue": [{"value": "1"}]},
            {"timestamp": "2026-11-22T10:00:02Z", "sampledValue": [{"value": "2"}]}]}));
        c.observe_call(&call("m", "MeterValues", Side::Charger, mv.root()), now);
        assert_eq!(
            (c.offset_us(), c.of_last_call()),
            (Some(2_000_000), Some(2_000_000))
        );
        assert_eq!(c.shown_by(mv.root(), now), Some("2026-11-22T10:00:02Z"));
        // A CSMS CALL tells nothing of the charger's clock.
        let at_csms = Doc::from_value(&json!({"timestamp": "2026-11-22T11:00:00Z"}));
        c.observe_call(&call("x", "DataTransfer", Side::Csms, at_csms.root()), now);
        assert_eq!(c.of_last_call(), Some(2_000_000));
        // A Heartbeat carries none: the offset stays, but not as the last CALL's.
        let hb = Doc::from_value(&json!({}));
        c.observe_call(&call("h", "Heartbeat", Side::Charger, hb.root()), now);
        assert_eq!((c.offset_us(), c.of_last_call()), (Some(2_000_000), None));
        assert_eq!(c.shown_by(mv.root(), now), None);
        // An unreadable timestamp counts as none; 2.x generatedAt, 3 s behind.
        let bad = Doc::from_value(&json!({"timestamp": "yesterday"}));
        c.observe_call(
            &call("s", "StatusNotification", Side::Charger, bad.root()),
            now,
        );
        assert_eq!(c.of_last_call(), None);
        let report = Doc::from_value(&json!({"generatedAt": "2026-11-22T09:59:57Z"}));
        c.observe_call(
            &call("r", "NotifyReport", Side::Charger, report.root()),
            now,
        );
        assert_eq!(
            (c.offset_us(), c.of_last_call()),
            (Some(-3_000_000), Some(-3_000_000))
        );
        // 1.6 StopTransaction's transactionData entries.
        let stop = Doc::from_value(&json!({"timestamp": "2026-11-22T09:59:59Z",
            "transactionId": 1, "meterStop": 5,
            "transactionData": [{"timestamp": "2026-11-22T10:00:01Z", "sampledValue": []}]}));
        c.observe_call(
            &call("t", "StopTransaction", Side::Charger, stop.root()),
            now,
        );
        assert_eq!(c.offset_us(), Some(1_000_000));
    }
}
