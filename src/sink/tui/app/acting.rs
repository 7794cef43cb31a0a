//! Acting on a live station, the app's side: `i` opens the form ([`super::super::act`]),
//! its keys edit it, Enter asks for the confirmation and then for the send (an
//! [`Effect::Inject`] the loop carries out through the live pipeline's port); the outcome
//! and the judged answer frame are followed here. No I/O.

use std::sync::Arc;

use serde_json::Value;

use super::super::act::{ActForm, Field};
use super::super::feed::{Seen, SeenKind};
use super::{Action, App, Effect, Focus, Mode};
use crate::finding::Severity;
use crate::ocpp::Version;
use crate::wire::frame::MessageType;

/// Rows searched back for an answer that arrived before its outcome.
const ANSWER_LOOKBACK: usize = 10_000;

/// A CALL sent from the screen, and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Injection {
    pub station: Arc<str>,
    pub action: Box<str>,
    /// The injected message id, once the outcome told it.
    pub id: Option<Box<str>>,
    /// `None`: sent, no outcome yet; `Ok`: the answer on one line; `Err`: why none.
    pub outcome: Option<Result<Box<str>, String>>,
    /// The answer's row in the frames pane, once the engine has seen it.
    pub answer: Option<u64>,
}

/// Why `i` does nothing on a screen that has no way to send (replaced by the caller).
pub const OFF_LIVE: &str =
    "acting on a station is off: start the proxy (or testcase run --live) with --allow-inject";
/// The same, for `view` (a recorded trace).
pub const OFF_VIEW: &str =
    "acting on a station needs a live screen (proxy or testcase run --live with --allow-inject)";

impl App {
    /// Lets the user send CALLs from the screen, with the actions and templates of
    /// `catalog` (the loop needs the port that sends them).
    pub fn allow_acting(&mut self, catalog: Arc<super::super::act::ActCatalog>) {
        self.act_catalog = Some(catalog);
    }

    /// Whether `i` opens the form.
    pub fn acting_allowed(&self) -> bool {
        self.act_catalog.is_some()
    }

    /// The stations connected now whose version is known.
    fn act_stations(&self) -> Vec<(Arc<str>, Version)> {
        self.conns
            .iter()
            .filter(|c| !c.closed)
            .filter_map(|c| Some((c.name.clone(), c.version.parse::<Version>().ok()?)))
            .collect()
    }

    pub(super) fn start_act(&mut self) -> Option<Effect> {
        let Some(catalog) = self.act_catalog.clone() else {
            self.message = Some(if self.live { OFF_LIVE } else { OFF_VIEW }.to_owned());
            return None;
        };
        let stations = self.act_stations();
        if stations.is_empty() {
            self.message =
                Some("no station to act on: none is connected with a known OCPP version".into());
            return None;
        }
        // Start on the station in view: the selected connection, or the selected frame's.
        let wanted = match self.focus {
            Focus::Conns => self.conns.get(self.conn_sel).map(|c| c.name.clone()),
            _ => self.selected_frame().map(|f| f.conn.clone()),
        };
        let first = wanted
            .and_then(|w| stations.iter().position(|(s, _)| *s == w))
            .unwrap_or(0);
        let at = self.latest_at();
        self.act = Some(ActForm::new(&catalog, stations, first, at));
        self.mode = Mode::Act;
        self.message = None;
        None
    }

    /// The time of the newest row (template date-times).
    fn latest_at(&self) -> Option<crate::time::Timestamp> {
        self.frame(self.frames_len().checked_sub(1)?).map(|f| f.at)
    }

    /// A key while the form is open.
    pub(super) fn apply_act(&mut self, action: Action) -> Option<Effect> {
        let catalog = self.act_catalog.clone()?;
        let Some(form) = self.act.as_mut() else {
            self.mode = Mode::Normal;
            return None;
        };
        if form.confirm {
            match action {
                Action::Quit => return Some(Effect::Quit),
                Action::ActSubmit => return self.submit_act(),
                Action::ActCancel => form.confirm = false,
                _ => {}
            }
            return None;
        }
        match action {
            Action::Quit => return Some(Effect::Quit),
            Action::ActCancel => {
                self.act = None;
                self.mode = Mode::Normal;
            }
            Action::ActField(d) => form.next_field(d),
            Action::ActMove(d) => form.move_by(&catalog, d),
            Action::ActChar(c) => form.type_char(&catalog, c),
            Action::ActBackspace => form.backspace(&catalog),
            Action::ActEdit => return Some(Effect::Edit),
            Action::ActSubmit => match form.parsed() {
                Ok(_) => form.confirm = true,
                Err(e) => self.message = Some(e.to_string()),
            },
            _ => {}
        }
        None
    }

    fn submit_act(&mut self) -> Option<Effect> {
        let form = self.act.take()?;
        self.mode = Mode::Normal;
        let (Some(station), Some(action), Ok(payload)) = (
            form.station_name().cloned(),
            form.action_name(),
            form.parsed(),
        ) else {
            self.message = Some("nothing sent: no station, action or payload".into());
            return None;
        };
        self.injection = Some(Injection {
            station: station.clone(),
            action: action.into(),
            id: None,
            outcome: None,
            answer: None,
        });
        self.act_request = Some((station, action, payload));
        self.message = None;
        Some(Effect::Inject)
    }

    /// The CALL the loop is to send after [`Effect::Inject`]: station, action, payload.
    pub fn take_act_request(&mut self) -> Option<(Arc<str>, &'static str, Value)> {
        self.act_request.take()
    }

    /// The open form's payload laid out for `$EDITOR`.
    pub fn act_payload_for_editor(&self) -> Option<String> {
        self.act.as_ref().map(ActForm::for_editor)
    }

    /// What `$EDITOR` left (or why it could not run).
    pub fn act_edited(&mut self, text: Result<String, crate::sink::tui::EditError>) {
        let Some(catalog) = self.act_catalog.clone() else {
            return;
        };
        match (text, self.act.as_mut()) {
            (Ok(t), Some(form)) => form.edited(&catalog, &t),
            (Err(e), _) => self.message = Some(format!("editor: {e}")),
            (Ok(_), None) => {}
        }
    }

    /// The outcome of the CALL sent from the screen.
    pub(super) fn on_injected(
        &mut self,
        station: Arc<str>,
        action: Box<str>,
        id: Option<Box<str>>,
        outcome: Result<Box<str>, String>,
    ) {
        let mut inj = Injection {
            station,
            action,
            id,
            outcome: Some(outcome),
            answer: None,
        };
        // The answer may have come through the engine first.
        if let (Some(id), Some(Ok(_))) = (&inj.id, &inj.outcome) {
            let n = self.frames_len();
            inj.answer = (n.saturating_sub(ANSWER_LOOKBACK)..n)
                .rev()
                .filter_map(|p| self.frame(p))
                .find(|f| {
                    **f.conn == *inj.station
                        && matches!(
                            f.message_type,
                            Some(MessageType::CallResult | MessageType::CallError)
                        )
                        && self.shown(f).id.as_deref() == Some(&**id)
                })
                .map(|f| f.seq);
        }
        let answer = inj.answer;
        self.injection = Some(inj);
        if let Some(seq) = answer {
            self.show_answer(seq);
        }
    }

    /// An event just kept as row `seq`: the answer to the CALL sent from the screen?
    pub(super) fn watch_answer(&mut self, e: &Seen, seq: u64) {
        let Some(inj) = self.injection.as_mut() else {
            return;
        };
        if inj.answer.is_some() || *inj.station != *e.conn {
            return;
        }
        let (Some(want), SeenKind::Message(m)) = (&inj.id, &e.what) else {
            return;
        };
        if m.message_type != MessageType::Call && m.id == *want {
            inj.answer = Some(seq);
            self.show_answer(seq);
        }
    }

    /// Selects the answer row (the panes, the frames focused), unless the user is busy
    /// elsewhere.
    fn show_answer(&mut self, seq: u64) {
        if self.mode == Mode::Normal {
            self.focus = Focus::Frames;
            self.select_frame(seq);
        }
    }

    /// The status line's word on the CALL sent from the screen.
    pub fn injection_status(&self) -> Option<String> {
        let i = self.injection.as_ref()?;
        Some(match &i.outcome {
            None => format!("{} sent to {}: waiting for the answer", i.action, i.station),
            Some(Err(e)) => format!("not injected: {e}"),
            Some(Ok(short)) => {
                let id = i.id.as_deref().unwrap_or("?");
                format!(
                    "{} answered {} {id}: {short} · judged: {}",
                    i.station,
                    i.action,
                    self.judged(i.answer)
                )
            }
        })
    }

    /// The findings on the answer row and on its CALL, in words.
    fn judged(&self, answer: Option<u64>) -> String {
        let Some(seq) = answer else {
            return "waiting for the engine".to_owned();
        };
        let partner = self.row(seq).and_then(|r| r.partner);
        let mut counts = [0u64; 3];
        let mut rules: Vec<&str> = Vec::new();
        for r in self
            .findings
            .iter()
            .filter(|r| r.frame == Some(seq) || (partner.is_some() && r.frame == partner))
        {
            counts[match r.finding.severity {
                Severity::Error => 0,
                Severity::Warning => 1,
                Severity::Info => 2,
            }] += 1;
            if !rules.contains(&r.finding.rule.id) {
                rules.push(r.finding.rule.id);
            }
        }
        if rules.is_empty() {
            return "no findings".to_owned();
        }
        let mut parts = Vec::new();
        for (n, word) in counts.iter().zip(["error", "warning", "info"]) {
            if *n > 0 {
                parts.push(super::super::ui::plural(*n, word));
            }
        }
        format!("{} ({})", parts.join(" "), rules.join(", "))
    }

    /// The field of the open form that has the keyboard.
    pub fn act_field(&self) -> Option<Field> {
        self.act.as_ref().map(|f| f.field)
    }
}
