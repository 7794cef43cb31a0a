//! The station's configuration as the traffic showed it, kept once: the 1.6 configuration
//! keys (GetConfiguration listings, accepted ChangeConfigurations) and the 2.x device-model
//! variables (GetVariables and SetVariables answers, NotifyReport). Every family reads it
//! here; none keeps a copy.
//!
//! Only a fixed list of keys and variables is kept ([`KEPT_KEYS`], [`KEPT_VARS`]), so the
//! store stays small whatever the reports hold. Facts only: nothing here reports a finding.

use crate::wire::doc::{Array, Json};

use crate::engine::protocol::{Call, Reply};
use crate::engine::support::{arr_of, int_of, push_capped, status_of, str_of};
use crate::ocpp::Side;

/// Keys remembered as read-only or unknown (1.6).
const MAX_KEYS: usize = 256;
/// Device-model values remembered (2.x).
const MAX_VARS: usize = 64;
/// How many entries of a request/response pair are compared at most (larger payloads are
/// skipped so a hostile frame cannot cost quadratic time).
pub(crate) const MAX_PAIRED: usize = 512;

/// What is known of a 1.6 configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cfg<'a> {
    /// Never seen.
    Unknown,
    /// A full GetConfiguration listing did not contain it (the charger does not have it).
    Absent,
    Value(&'a str),
}

/// The 1.6 keys whose values are kept.
const KEPT_KEYS: &[&str] = &[
    "GetConfigurationMaxKeys",
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit",
    "ReserveConnectorZeroSupported",
    "SecurityProfile",
    "NumberOfConnectors",
    "StopTransactionOnInvalidId",
    "MaxEnergyOnInvalidId",
    "MeterValueSampleInterval",
    "ConnectionTimeOut",
];

/// The 2.x component/variable pairs whose Actual values are kept.
const KEPT_VARS: &[(&str, &str)] = &[
    ("DeviceDataCtrlr", "ItemsPerMessage"),
    ("DeviceDataCtrlr", "BytesPerMessage"),
    ("MonitoringCtrlr", "ItemsPerMessage"),
    ("MonitoringCtrlr", "BytesPerMessage"),
    ("EVSE", "AllowReset"),
    ("SmartChargingCtrlr", "ProfileStackLevel"),
    ("SmartChargingCtrlr", "RateUnit"),
    ("SecurityCtrlr", "SecurityProfile"),
    ("SecurityCtrlr", "AllowSecurityProfileDowngrade"),
];

#[derive(Debug)]
struct Var {
    comp: &'static str,
    var: &'static str,
    evse: Option<i64>,
    inst: Option<Box<str>>,
    value: Box<str>,
}

/// The configuration of one station, as learnt from the traffic.
#[derive(Debug, Default)]
pub(crate) struct Config {
    /// 1.6: values of [`KEPT_KEYS`] (`None` = absent from a full listing).
    keys: Vec<(&'static str, Option<Box<str>>)>,
    /// 1.6: keys the charger listed as read-only.
    readonly: Vec<Box<str>>,
    /// 1.6: keys the charger listed as unknown.
    unknown: Vec<Box<str>>,
    /// 2.x: Actual values of [`KEPT_VARS`].
    vars: Vec<Var>,
}

impl Config {
    /// What is known of the 1.6 configuration key `key` (one of [`KEPT_KEYS`]).
    pub(crate) fn key(&self, key: &str) -> Cfg<'_> {
        match self.keys.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            None => Cfg::Unknown,
            Some((_, None)) => Cfg::Absent,
            Some((_, Some(v))) => Cfg::Value(v),
        }
    }

    /// The integer value of the 1.6 key `key`, when known and readable.
    pub(crate) fn key_int(&self, key: &str) -> Option<i64> {
        match self.key(key) {
            Cfg::Value(v) => v.trim().parse().ok(),
            _ => None,
        }
    }

    /// The boolean value of the 1.6 key `key`, when known and readable.
    pub(crate) fn key_bool(&self, key: &str) -> Option<bool> {
        match self.key(key) {
            Cfg::Value(v) if v.trim().eq_ignore_ascii_case("true") => Some(true),
            Cfg::Value(v) if v.trim().eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// The charger listed `key` as read-only (1.6).
    pub(crate) fn is_readonly(&self, key: &str) -> bool {
        self.readonly.iter().any(|r| r.eq_ignore_ascii_case(key))
    }

    /// The charger listed `key` as unknown (1.6).
    pub(crate) fn is_unknown(&self, key: &str) -> bool {
        self.unknown.iter().any(|u| u.eq_ignore_ascii_case(key))
    }

    /// No 2.x variable is known yet.
    pub(crate) fn no_vars(&self) -> bool {
        self.vars.is_empty()
    }

    /// The Actual value of a 2.x variable kept from the traffic ([`KEPT_VARS`]).
    pub(crate) fn var(
        &self,
        comp: &str,
        evse: Option<i64>,
        var: &str,
        inst: Option<&str>,
    ) -> Option<&str> {
        self.vars
            .iter()
            .find(|v| v.comp == comp && v.var == var && v.evse == evse && v.inst.as_deref() == inst)
            .map(|v| &*v.value)
    }

    /// Learns from a CALL (a NotifyReport lists Actual values).
    pub(crate) fn observe_call(&mut self, call: &Call<'_>) {
        if call.action != "NotifyReport" || call.from != Side::Charger {
            return;
        }
        for d in arr_of(call.payload, "reportData") {
            for a in arr_of(d, "variableAttribute") {
                if str_of(a, "type").unwrap_or("Actual") == "Actual"
                    && let (Some(c), Some(v), Some(val)) =
                        (d.get("component"), d.get("variable"), str_of(a, "value"))
                {
                    self.learn_var(c, v, val);
                }
            }
        }
    }

    /// Learns from an answered CALL.
    pub(crate) fn observe_reply(&mut self, reply: &Reply<'_>) {
        match reply.action {
            "GetConfiguration" => self.get_configuration(reply),
            "ChangeConfiguration" => {
                if let (Some(key), Some("Accepted" | "RebootRequired"), Some(value)) = (
                    str_of(reply.request, "key"),
                    status_of(reply),
                    str_of(reply.request, "value"),
                ) {
                    self.learn_key(key, Some(value));
                }
            }
            "GetVariables" => {
                let Some(result) = reply.result() else { return };
                for r in arr_of(result, "getVariableResult") {
                    self.learn_accepted(r, r);
                }
            }
            "SetVariables" => {
                let Some(result) = reply.result() else { return };
                let requests = arr_of(reply.request, "setVariableData");
                let results = arr_of(result, "setVariableResult");
                if requests.len() > MAX_PAIRED || results.len() > MAX_PAIRED {
                    return;
                }
                for (q, r) in pair(requests, results).exact {
                    if let (Some(q), Some(r)) = (requests.get(q), results.get(r)) {
                        self.learn_accepted(q, r);
                    }
                }
            }
            _ => {}
        }
    }

    /// Learns the Actual value a GetVariables / SetVariables `entry` names, when its
    /// `result` accepted it.
    fn learn_accepted(&mut self, entry: Json<'_>, result: Json<'_>) {
        if str_of(result, "attributeStatus") == Some("Accepted")
            && attr_type(entry) == "Actual"
            && let (Some(c), Some(v), Some(val)) = (
                entry.get("component"),
                entry.get("variable"),
                str_of(entry, "attributeValue"),
            )
        {
            self.learn_var(c, v, val);
        }
    }

    fn get_configuration(&mut self, reply: &Reply<'_>) {
        let Some(result) = reply.result() else { return };
        let known = arr_of(result, "configurationKey");
        for k in known {
            let Some(key) = str_of(k, "key") else {
                continue;
            };
            self.learn_key(key, str_of(k, "value").or(Some("")));
            let readonly = k.get("readonly").and_then(Json::as_bool) == Some(true);
            let pos = self
                .readonly
                .iter()
                .position(|r| r.eq_ignore_ascii_case(key));
            match (readonly, pos) {
                (true, None) => push_capped(&mut self.readonly, Box::from(key), MAX_KEYS),
                (false, Some(i)) => {
                    self.readonly.remove(i);
                }
                _ => {}
            }
            self.unknown.retain(|u| !u.eq_ignore_ascii_case(key));
        }
        for u in arr_of(result, "unknownKey").iter().filter_map(Json::as_str) {
            if !self.is_unknown(u) {
                push_capped(&mut self.unknown, Box::from(u), MAX_KEYS);
            }
            self.learn_key(u, None);
        }
        if arr_of(reply.request, "key").is_empty() && !known.is_empty() {
            // A full listing: the kept keys it lacks are absent.
            for key in KEPT_KEYS {
                if !known
                    .iter()
                    .any(|k| str_of(k, "key").is_some_and(|k| k.eq_ignore_ascii_case(key)))
                {
                    self.learn_key(key, None);
                }
            }
        }
    }

    fn learn_key(&mut self, key: &str, value: Option<&str>) {
        let Some(kept) = KEPT_KEYS.iter().find(|k| k.eq_ignore_ascii_case(key)) else {
            return;
        };
        let value = value.map(Box::from);
        match self.keys.iter_mut().find(|(k, _)| k == kept) {
            Some(slot) => slot.1 = value,
            None => self.keys.push((kept, value)),
        }
    }

    fn learn_var(&mut self, component: Json<'_>, variable: Json<'_>, value: &str) {
        let (Some(comp), Some(name)) = (str_of(component, "name"), str_of(variable, "name")) else {
            return;
        };
        let mut inst = str_of(variable, "instance");
        let mut var = name;
        // Early 2.0 drafts spell `ItemsPerMessage[GetVariables]` as `ItemsPerMessageGetVariables`.
        for base in ["ItemsPerMessage", "BytesPerMessage"] {
            if let Some(rest) = name.strip_prefix(base)
                && !rest.is_empty()
                && inst.is_none()
            {
                var = base;
                inst = Some(rest);
            }
        }
        let Some(&(kc, kv)) = KEPT_VARS.iter().find(|(c, v)| *c == comp && *v == var) else {
            return;
        };
        let evse = component.get("evse").and_then(|e| int_of(e, "id"));
        if let Some(v) = self
            .vars
            .iter_mut()
            .find(|v| v.comp == kc && v.var == kv && v.evse == evse && v.inst.as_deref() == inst)
        {
            v.value = Box::from(value);
            return;
        }
        push_capped(
            &mut self.vars,
            Var {
                comp: kc,
                var: kv,
                evse,
                inst: inst.map(Box::from),
                value: Box::from(value),
            },
            MAX_VARS,
        );
    }
}

/// The component/variable a device-model entry names.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) struct CvKey<'a> {
    pub(crate) comp: Option<&'a str>,
    pub(crate) comp_inst: Option<&'a str>,
    pub(crate) evse: Option<i64>,
    pub(crate) connector: Option<i64>,
    pub(crate) var: Option<&'a str>,
    pub(crate) var_inst: Option<&'a str>,
}

pub(crate) fn cv_key(entry: Json<'_>) -> CvKey<'_> {
    let c = entry.get("component").unwrap_or(Json::null());
    let v = entry.get("variable").unwrap_or(Json::null());
    let e = c.get("evse").unwrap_or(Json::null());
    CvKey {
        comp: str_of(c, "name"),
        comp_inst: str_of(c, "instance"),
        evse: int_of(e, "id"),
        connector: int_of(e, "connectorId"),
        var: str_of(v, "name"),
        var_inst: str_of(v, "instance"),
    }
}

/// The attributeType of a device-model entry (`Actual` when absent).
pub(crate) fn attr_type(entry: Json<'_>) -> &str {
    str_of(entry, "attributeType").unwrap_or("Actual")
}

/// How the results of a GetVariables/SetVariables pair with its request entries.
#[derive(Debug, Default)]
pub(crate) struct Pairing {
    /// (request index, result index), same component/variable and attributeType.
    pub(crate) exact: Vec<(usize, usize)>,
    /// Same component/variable, other attributeType.
    pub(crate) other_type: Vec<(usize, usize)>,
    pub(crate) unmatched_results: Vec<usize>,
    pub(crate) unanswered_requests: Vec<usize>,
}

/// Pairs each result with the request entry it answers.
pub(crate) fn pair(requests: Array<'_>, results: Array<'_>) -> Pairing {
    // Read by index below: the items once, in order.
    let requests: Vec<Json<'_>> = requests.iter().collect();
    let mut p = Pairing::default();
    let mut req_used = vec![false; requests.len()];
    let mut res_used = vec![false; results.len()];
    for (ri, res) in results.iter().enumerate() {
        let (k, t) = (cv_key(res), attr_type(res));
        if let Some(qi) = (0..requests.len())
            .find(|&qi| !req_used[qi] && cv_key(requests[qi]) == k && attr_type(requests[qi]) == t)
        {
            req_used[qi] = true;
            res_used[ri] = true;
            p.exact.push((qi, ri));
        }
    }
    for (ri, res) in results.iter().enumerate() {
        if res_used[ri] {
            continue;
        }
        let k = cv_key(res);
        if let Some(qi) = (0..requests.len()).find(|&qi| !req_used[qi] && cv_key(requests[qi]) == k)
        {
            req_used[qi] = true;
            res_used[ri] = true;
            p.other_type.push((qi, ri));
        } else {
            p.unmatched_results.push(ri);
        }
    }
    p.unanswered_requests = (0..requests.len()).filter(|&qi| !req_used[qi]).collect();
    p
}
