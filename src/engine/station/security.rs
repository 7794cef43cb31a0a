//! The station's security profile, as facts: the profile each connection's handshake showed
//! (the current connection's and the one before), the profile configured as the traffic
//! told it (a query of the configuration, [`Station::configured_profile`]), a profile change
//! asked of the station and the answer that accepted it, whether one was accepted since the
//! connection opened, and a 1.6 upgrade to profile 3 no profile-3 connection confirmed yet.
//!
//! Observed profile of a connection: the one its handshake shows
//! (`Handshake::security_profile`: `ws` + Basic auth = 1, `wss` + Basic auth = 2, `wss` +
//! client certificate = 3); anything the recorder did not know leaves it unknown. A profile
//! change: a 1.6 ChangeConfiguration of SecurityProfile, a 2.x SetNetworkProfile (its
//! `connectionData.securityProfile`); a 2.x SetVariables accepting
//! OCPPCommCtrlr.NetworkConfigurationPriority (the slot the station connects with) also
//! counts as an accepted change.
//!
//! Facts only: whether a profile change, a downgrade or a missing client certificate is
//! wrong, `auth/profile.rs` decides. Lazily allocated: the changes of a station never asked
//! one hold one empty pointer.

use crate::engine::protocol::{Call, OpenInfo, Reply};
use crate::engine::support::{MsgId, arr_of, int_of, status_of, str_of};
use crate::ocpp::Side;

use super::{Cfg, Config, Station};

/// A security-profile change asked of the station.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Change {
    /// The profile in use when it was asked: the configured one, else the one the
    /// connection showed (`None`: neither known).
    pub(crate) current: Option<u8>,
    /// The profile asked for.
    pub(crate) new: i64,
    /// 2.x: SecurityCtrlr.AllowSecurityProfileDowngrade when it was asked, when known.
    pub(crate) allow_downgrade: Option<bool>,
}

#[derive(Debug, Default)]
struct Changes {
    /// The change asked and not answered yet, with its message id.
    pending: Option<(MsgId, Change)>,
    /// The change the current message accepted (Accepted or RebootRequired).
    accepted: Option<Change>,
}

/// The security-profile facts of one station.
#[derive(Debug, Default)]
pub(crate) struct Security {
    /// The profile the current connection's handshake showed (`None`: not known).
    pub(crate) current: Option<u8>,
    /// The profile of the latest earlier connection whose handshake showed one.
    pub(crate) previous: Option<u8>,
    /// A profile change was accepted between the opening of `previous`'s connection and the
    /// current one's.
    pub(crate) accepted_before_open: bool,
    /// A profile change was accepted since the current connection opened (while its profile
    /// is unknown: since the latest connection with a known profile opened).
    pub(crate) change_accepted: bool,
    /// 1.6: a change to profile 3 was accepted and no profile-3 connection followed yet (the
    /// charger may fall back to its old profile when it cannot connect, A05.FR.08).
    pub(crate) upgrade_unconfirmed: bool,
    changes: Option<Box<Changes>>,
}

/// The configured security profile in `config`, as far as the traffic told it (`v16`: the
/// 1.6 key, else the 2.x variable).
fn configured(config: &Config, v16: bool) -> Option<u8> {
    let v = if v16 {
        match config.key("SecurityProfile") {
            Cfg::Value(v) => Some(v),
            _ => None,
        }
    } else {
        config.var("SecurityCtrlr", None, "SecurityProfile", None)
    };
    v.and_then(|v| v.trim().parse().ok())
}

/// A SetVariables answer accepting OCPPCommCtrlr.NetworkConfigurationPriority.
fn sets_priority(reply: &Reply<'_>) -> bool {
    let Some(result) = reply.result() else {
        return false;
    };
    arr_of(result, "setVariableResult").iter().any(|r| {
        r.get("variable")
            .and_then(|v| str_of(v, "name"))
            .is_some_and(|n| n == "NetworkConfigurationPriority")
            && matches!(
                str_of(r, "attributeStatus"),
                Some("Accepted" | "RebootRequired")
            )
    })
}

impl Station {
    /// The configured security profile, as far as the traffic told it (1.6 SecurityProfile,
    /// 2.x SecurityCtrlr.SecurityProfile, read from [`Station::config`]).
    pub(crate) fn configured_profile(&self) -> Option<u8> {
        configured(&self.config, self.is_v16())
    }
}

impl Security {
    /// The change asked and not answered yet.
    #[cfg(test)]
    pub(crate) fn pending(&self) -> Option<Change> {
        Some(self.changes.as_ref()?.pending.as_ref()?.1)
    }

    /// The change the current message (an answer) accepted.
    pub(crate) fn accepted(&self) -> Option<Change> {
        self.changes.as_ref()?.accepted
    }

    /// A connection opened with the handshake `open`.
    pub(crate) fn observe_open(&mut self, open: &OpenInfo<'_>) {
        let shown = open.profile;
        self.previous = self.current.or(self.previous);
        self.current = shown;
        self.accepted_before_open = self.change_accepted;
        if shown.is_some() {
            self.change_accepted = false;
        }
        if shown == Some(3) {
            self.upgrade_unconfirmed = false;
        }
    }

    /// A CALL was sent (`config` already updated by it; `v16`: the connection speaks 1.6).
    pub(crate) fn observe_call(&mut self, call: &Call<'_>, config: &Config, v16: bool) {
        if let Some(changes) = &mut self.changes {
            changes.accepted = None;
        }
        if call.from != Side::Csms {
            return;
        }
        let p = call.payload;
        let (new, allow_downgrade) = match call.action {
            "ChangeConfiguration" => {
                let (Some(key), Some(value)) = (str_of(p, "key"), str_of(p, "value")) else {
                    return;
                };
                if !key.eq_ignore_ascii_case("SecurityProfile") {
                    return;
                }
                let Ok(new) = value.trim().parse::<i64>() else {
                    return;
                };
                (new, None)
            }
            "SetNetworkProfile" => {
                let Some(new) = p
                    .get("connectionData")
                    .and_then(|c| int_of(c, "securityProfile"))
                else {
                    return;
                };
                let allow = config
                    .var("SecurityCtrlr", None, "AllowSecurityProfileDowngrade", None)
                    .map(|v| v.trim().eq_ignore_ascii_case("true"));
                (new, allow)
            }
            _ => return,
        };
        let change = Change {
            current: configured(config, v16).or(self.current),
            new,
            allow_downgrade,
        };
        self.changes.get_or_insert_default().pending = Some((MsgId::from(call.id), change));
    }

    /// A CALL was answered; `v2`: the connection speaks 2.x.
    pub(crate) fn observe_reply(&mut self, reply: &Reply<'_>, v2: bool) {
        if let Some(changes) = &mut self.changes {
            changes.accepted = None;
        }
        match reply.action {
            "ChangeConfiguration" | "SetNetworkProfile" => {
                let Some(changes) = &mut self.changes else {
                    return;
                };
                let Some((_, change)) = changes.pending.take_if(|(id, _)| **id == *reply.id) else {
                    return;
                };
                if !matches!(status_of(reply), Some("Accepted" | "RebootRequired")) {
                    return;
                }
                changes.accepted = Some(change);
                self.change_accepted = true;
                if !v2 && change.new == 3 {
                    self.upgrade_unconfirmed = true;
                }
            }
            "SetVariables" if sets_priority(reply) => self.change_accepted = true,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::station::testing::{answer, call};
    use crate::source::event::Handshake;
    use crate::time::Timestamp;
    use crate::wire::doc::Doc;
    use serde_json::json;

    fn open<'a>(
        scheme: Option<&'a str>,
        cert: Option<&'a str>,
        user: Option<&'a str>,
    ) -> OpenInfo<'a> {
        let handshake = Handshake {
            scheme,
            client_cert_subject: cert,
            basic_auth_user: user,
            ..Handshake::default()
        };
        OpenInfo {
            scheme,
            tls_version: None,
            client_cert_subject: cert,
            basic_auth_user: user,
            profile: handshake.security_profile(),
        }
    }

    /// Sends `request` as `action` from the CSMS (id `id`) and answers it with `result`.
    fn ask(
        s: &mut Security,
        config: &Config,
        v16: bool,
        (id, action): (&str, &'static str),
        request: serde_json::Value,
        result: serde_json::Value,
    ) {
        let request = Doc::from_value(&request);
        let result = Doc::from_value(&result);
        s.observe_call(&call(id, action, Side::Csms, request.root()), config, v16);
        let t = Timestamp::from_secs(1);
        s.observe_reply(
            &answer(id, action, Side::Csms, request.root(), t, result.root()),
            !v16,
        );
    }

    #[test]
    fn the_connections_show_their_profiles_and_an_accepted_change_is_kept_until_the_next() {
        let mut s = Security::default();
        let config = Config::default();
        s.observe_open(&open(Some("wss"), None, Some("CS")));
        assert_eq!((s.current, s.previous), (Some(2), None));
        // 1.6: a change to profile 3, accepted; the configuration said nothing, so the
        // profile in use is the one the connection showed.
        let req = json!({"key": "SecurityProfile", "value": "3"});
        let request = Doc::from_value(&req);
        s.observe_call(
            &call("p", "ChangeConfiguration", Side::Csms, request.root()),
            &config,
            true,
        );
        let asked = Change {
            current: Some(2),
            new: 3,
            allow_downgrade: None,
        };
        assert_eq!(s.pending(), Some(asked));
        let ok = Doc::from_value(&json!({"status": "Accepted"}));
        let t = Timestamp::from_secs(1);
        s.observe_reply(
            &answer(
                "p",
                "ChangeConfiguration",
                Side::Csms,
                request.root(),
                t,
                ok.root(),
            ),
            false,
        );
        assert_eq!((s.pending(), s.accepted()), (None, Some(asked)));
        assert!(s.change_accepted && s.upgrade_unconfirmed);
        // The next message sees no accepted change any more.
        let hb = Doc::from_value(&json!({}));
        s.observe_call(
            &call("h", "Heartbeat", Side::Charger, hb.root()),
            &config,
            true,
        );
        assert_eq!(s.accepted(), None);
        // A connection with no client certificate: profile 2 again, the upgrade not
        // confirmed; the change was accepted before it opened.
        s.observe_open(&open(Some("wss"), None, Some("CS")));
        assert_eq!((s.current, s.previous), (Some(2), Some(2)));
        assert!(s.accepted_before_open && !s.change_accepted && s.upgrade_unconfirmed);
        // An unknown handshake keeps what the connections before showed.
        s.observe_open(&open(None, None, None));
        assert_eq!((s.current, s.previous), (None, Some(2)));
        // Profile 3 confirms the upgrade; nothing was accepted since profile 2 opened.
        s.observe_open(&open(Some("wss"), Some("CN=CS"), None));
        assert_eq!((s.current, s.previous), (Some(3), Some(2)));
        assert!(!s.accepted_before_open && !s.upgrade_unconfirmed);
    }

    #[test]
    fn a_refused_or_unrelated_answer_accepts_nothing() {
        let mut s = Security::default();
        let config = Config::default();
        ask(
            &mut s,
            &config,
            true,
            ("p", "ChangeConfiguration"),
            json!({"key": "SecurityProfile", "value": "3"}),
            json!({"status": "Rejected"}),
        );
        assert!(s.pending().is_none() && s.accepted().is_none());
        ask(
            &mut s,
            &config,
            true,
            ("k", "ChangeConfiguration"),
            json!({"key": "HeartbeatInterval", "value": "3"}),
            json!({"status": "Accepted"}),
        );
        assert!(!s.change_accepted && !s.upgrade_unconfirmed);
        // An answer to another id leaves the change asked pending.
        let req = Doc::from_value(&json!({"key": "SecurityProfile", "value": "2"}));
        s.observe_call(
            &call("q", "ChangeConfiguration", Side::Csms, req.root()),
            &config,
            true,
        );
        let ok = Doc::from_value(&json!({"status": "Accepted"}));
        s.observe_reply(
            &answer(
                "other",
                "ChangeConfiguration",
                Side::Csms,
                req.root(),
                Timestamp::from_secs(1),
                ok.root(),
            ),
            false,
        );
        assert_eq!(s.pending().map(|c| c.new), Some(2));
        assert!(!s.change_accepted);
    }

    #[test]
    fn a_2x_network_profile_reads_the_configuration_and_a_priority_change_counts() {
        let mut s = Security::default();
        let mut config = Config::default();
        let get = Doc::from_value(&json!({"getVariableData": [
            {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "SecurityProfile"}},
            {"component": {"name": "SecurityCtrlr"},
             "variable": {"name": "AllowSecurityProfileDowngrade"}}]}));
        let got = Doc::from_value(&json!({"getVariableResult": [
            {"attributeStatus": "Accepted", "attributeValue": "3",
             "component": {"name": "SecurityCtrlr"}, "variable": {"name": "SecurityProfile"}},
            {"attributeStatus": "Accepted", "attributeValue": "true",
             "component": {"name": "SecurityCtrlr"},
             "variable": {"name": "AllowSecurityProfileDowngrade"}}]}));
        config.observe_reply(&answer(
            "g",
            "GetVariables",
            Side::Csms,
            get.root(),
            Timestamp::from_secs(1),
            got.root(),
        ));
        let station = Station {
            version: Some(crate::ocpp::Version::V201),
            config,
            ..Station::default()
        };
        assert_eq!(station.configured_profile(), Some(3));
        let config = &station.config;
        ask(
            &mut s,
            config,
            false,
            ("n", "SetNetworkProfile"),
            json!({"configurationSlot": 1, "connectionData": {"securityProfile": 2,
                "ocppVersion": "OCPP20", "ocppTransport": "JSON",
                "ocppCsmsUrl": "wss://csms/", "messageTimeout": 30,
                "ocppInterface": "Wired0"}}),
            json!({"status": "Accepted"}),
        );
        assert_eq!(
            s.accepted(),
            Some(Change {
                current: Some(3),
                new: 2,
                allow_downgrade: Some(true)
            })
        );
        // 2.x: no unconfirmed 1.6 upgrade.
        assert!(s.change_accepted && !s.upgrade_unconfirmed);
        s.observe_open(&open(Some("wss"), None, Some("CS")));
        assert!(!s.change_accepted);
        ask(
            &mut s,
            config,
            false,
            ("v", "SetVariables"),
            json!({"setVariableData": [{"attributeValue": "2",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "NetworkConfigurationPriority"}}]}),
            json!({"setVariableResult": [{"attributeStatus": "RebootRequired",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "NetworkConfigurationPriority"}}]}),
        );
        assert!(s.change_accepted && s.accepted().is_none());
    }
}
