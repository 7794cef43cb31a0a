//! The Cases pane's model (`testcase run --live`): the cases given, one row per case and
//! station, and how the live case runner's progress moves a row. It knows the cases only
//! as [`CaseInfo`] (the test-case side makes those), never the test-case types.

use std::sync::Arc;

use crate::ocpp::Version;
use crate::sink::tui::feed::{CaseEnd, CaseStep};

/// What the Cases pane needs of a test case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseInfo {
    pub id: String,
    pub title: String,
    pub versions: Vec<Version>,
    pub steps: usize,
}

/// Where a case stands on a station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseState {
    /// Its trigger has not (fully) matched yet.
    Waiting,
    /// Started; `next` (from 0) is the step it waits for.
    Running {
        next: usize,
    },
    /// Started; the proxy sends the CALL of step `step`.
    Injecting {
        step: usize,
        action: Box<str>,
    },
    Ended(CaseEnd),
}

impl CaseState {
    /// Passed, failed or not run: later steps do not change it.
    pub fn is_final(&self) -> bool {
        matches!(self, CaseState::Ended(_))
    }

    /// One line for a case of `steps` steps: `waiting for trigger`, `at step 2 of 5`,
    /// `passed`, `failed: <reason>`, `not run: <reason>`.
    pub fn text(&self, steps: usize) -> String {
        match self {
            CaseState::Waiting => "waiting for trigger".into(),
            CaseState::Running { next } => {
                format!("at step {} of {steps}", (next + 1).min(steps.max(1)))
            }
            CaseState::Injecting { step, action } => {
                format!("at step {} of {steps}: injecting {action}", step + 1)
            }
            CaseState::Ended(CaseEnd::Passed) => "passed".into(),
            CaseState::Ended(CaseEnd::Failed { reason, .. }) => format!("failed: {reason}"),
            // Inconclusive and not-applicable verdicts arrive named in their reason.
            CaseState::Ended(CaseEnd::NotRun { reason })
                if reason.starts_with("inconclusive: ")
                    || reason.starts_with("not applicable: ") =>
            {
                reason.clone()
            }
            CaseState::Ended(CaseEnd::NotRun { reason }) => format!("not run: {reason}"),
        }
    }
}

/// One row of the Cases pane: a case on a station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    pub station: Arc<str>,
    /// Index into [`Cases::catalog`].
    pub case: usize,
    pub state: CaseState,
    /// The last step (from 0) that matched a frame.
    pub matched: Option<usize>,
}

/// The Cases pane's state: the cases given, and one row per case and station, stations in
/// the order they appeared, cases in catalog order.
#[derive(Debug, Clone, Default)]
pub struct Cases {
    pub catalog: Vec<CaseInfo>,
    pub rows: Vec<CaseRow>,
    /// Items about a case index the catalog does not have (ignored).
    pub unknown: u64,
    pub sel: usize,
    /// The pane is shown (`t` toggles).
    pub shown: bool,
}

/// Counts of the Cases pane's rows by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseCounts {
    pub waiting: usize,
    pub running: usize,
    pub passed: usize,
    pub failed: usize,
    pub not_run: usize,
}

impl Cases {
    pub(super) fn new(catalog: Vec<CaseInfo>) -> Self {
        Cases {
            catalog,
            shown: true,
            ..Cases::default()
        }
    }

    /// Adds the rows of every case for `version` on `station` not listed yet.
    pub(super) fn station(&mut self, station: &Arc<str>, version: Version) {
        for (i, c) in self.catalog.iter().enumerate() {
            if c.versions.contains(&version)
                && !self
                    .rows
                    .iter()
                    .any(|r| r.station == *station && r.case == i)
            {
                let at = self.insert_at(station, i);
                self.rows.insert(
                    at,
                    CaseRow {
                        station: station.clone(),
                        case: i,
                        state: CaseState::Waiting,
                        matched: None,
                    },
                );
            }
        }
    }

    /// Where the row of `case` on `station` goes: after the station's rows of lower cases,
    /// or at the end when the station has none.
    fn insert_at(&self, station: &str, case: usize) -> usize {
        let mut at = None;
        for (i, r) in self.rows.iter().enumerate() {
            if &*r.station == station {
                if r.case > case {
                    return i;
                }
                at = Some(i + 1);
            }
        }
        at.unwrap_or(self.rows.len())
    }

    fn row_mut(&mut self, station: &Arc<str>, case: usize) -> &mut CaseRow {
        let i = match self
            .rows
            .iter()
            .position(|r| r.station == *station && r.case == case)
        {
            Some(i) => i,
            None => {
                // The station's announcement was dropped (the UI lagged): list it now.
                let at = self.insert_at(station, case);
                self.rows.insert(
                    at,
                    CaseRow {
                        station: station.clone(),
                        case,
                        state: CaseState::Waiting,
                        matched: None,
                    },
                );
                at
            }
        };
        &mut self.rows[i]
    }

    pub(super) fn step(&mut self, station: &Arc<str>, case: usize, step: CaseStep) {
        let Some(steps) = self.catalog.get(case).map(|c| c.steps) else {
            self.unknown += 1;
            return;
        };
        let row = self.row_mut(station, case);
        let last = steps.saturating_sub(1);
        match step {
            // The final word at the end of the run replaces whatever was shown.
            CaseStep::Ended(end @ CaseEnd::NotRun { .. }) => row.state = CaseState::Ended(end),
            _ if row.state.is_final() => {}
            CaseStep::Matched(i) => {
                row.matched = Some(i);
                // Trigger steps match while the case waits: it has not started yet.
                if row.state != CaseState::Waiting {
                    row.state = CaseState::Running {
                        next: (i + 1).min(last),
                    };
                }
            }
            CaseStep::Started => {
                row.state = CaseState::Running {
                    next: row.matched.map_or(0, |i| (i + 1).min(last)),
                };
            }
            CaseStep::Injecting { step, action } => {
                row.state = CaseState::Injecting { step, action };
            }
            CaseStep::Ended(end) => row.state = CaseState::Ended(end),
        }
    }

    pub fn counts(&self) -> CaseCounts {
        let mut c = CaseCounts::default();
        for r in &self.rows {
            match r.state {
                CaseState::Waiting => c.waiting += 1,
                CaseState::Running { .. } | CaseState::Injecting { .. } => c.running += 1,
                CaseState::Ended(CaseEnd::Passed) => c.passed += 1,
                CaseState::Ended(CaseEnd::Failed { .. }) => c.failed += 1,
                CaseState::Ended(CaseEnd::NotRun { .. }) => c.not_run += 1,
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Action, App, Focus, Limits};
    use super::*;
    use crate::sink::tui::feed::FeedItem;

    fn info(id: &str, versions: &[Version], steps: usize) -> CaseInfo {
        CaseInfo {
            id: id.into(),
            title: format!("title of {id}"),
            versions: versions.to_vec(),
            steps,
        }
    }

    /// Cases: 0 for 2.0.1 (4 steps), 1 for 1.6 only, 2 for both (2 steps).
    fn with_cases() -> App {
        let mut app = App::new("t", Limits::default());
        app.set_cases(vec![
            info("2.0.1/B/01_CS", &[Version::V201], 4),
            info("1.6/core/x01_CS", &[Version::V16], 3),
            info("any/x", &[Version::V16, Version::V201], 2),
        ]);
        app
    }

    fn case(app: &mut App, station: &str, case: usize, step: CaseStep) {
        app.on_item(FeedItem::Case {
            station: Arc::from(station),
            case,
            step,
        });
    }

    fn station(app: &mut App, station: &str, version: Version) {
        app.on_item(FeedItem::CaseStation {
            station: Arc::from(station),
            version,
        });
    }

    fn states(app: &App) -> Vec<(String, usize, String)> {
        let c = app.cases.as_ref().unwrap();
        c.rows
            .iter()
            .map(|r| {
                (
                    r.station.to_string(),
                    r.case,
                    r.state.text(c.catalog[r.case].steps),
                )
            })
            .collect()
    }

    #[test]
    fn a_station_lists_the_cases_of_its_version_waiting() {
        let mut app = with_cases();
        assert!(app.cases_shown());
        station(&mut app, "EVSE-1", Version::V201);
        station(&mut app, "CP-16", Version::V16);
        // Told twice: listed once.
        station(&mut app, "EVSE-1", Version::V201);
        let w = "waiting for trigger".to_owned();
        assert_eq!(
            states(&app),
            vec![
                ("EVSE-1".into(), 0, w.clone()),
                ("EVSE-1".into(), 2, w.clone()),
                ("CP-16".into(), 1, w.clone()),
                ("CP-16".into(), 2, w.clone()),
            ]
        );
        let n = app.cases.as_ref().unwrap().counts();
        assert_eq!((n.waiting, n.running, n.passed, n.failed), (4, 0, 0, 0));
    }

    #[test]
    fn progress_moves_a_case_through_its_steps_to_its_verdict() {
        let mut app = with_cases();
        station(&mut app, "EVSE-1", Version::V201);
        // A trigger step matched: the case has not started yet.
        case(&mut app, "EVSE-1", 0, CaseStep::Matched(0));
        assert_eq!(states(&app)[0].2, "waiting for trigger");
        case(&mut app, "EVSE-1", 0, CaseStep::Started);
        assert_eq!(states(&app)[0].2, "at step 2 of 4");
        case(&mut app, "EVSE-1", 0, CaseStep::Matched(1));
        assert_eq!(states(&app)[0].2, "at step 3 of 4");
        case(
            &mut app,
            "EVSE-1",
            0,
            CaseStep::Injecting {
                step: 2,
                action: "RequestStartTransaction".into(),
            },
        );
        assert_eq!(
            states(&app)[0].2,
            "at step 3 of 4: injecting RequestStartTransaction"
        );
        case(&mut app, "EVSE-1", 0, CaseStep::Matched(3));
        assert_eq!(states(&app)[0].2, "at step 4 of 4");
        case(&mut app, "EVSE-1", 0, CaseStep::Ended(CaseEnd::Passed));
        assert_eq!(states(&app)[0].2, "passed");
        // A passed case stays passed whatever comes after.
        case(&mut app, "EVSE-1", 0, CaseStep::Matched(1));
        case(
            &mut app,
            "EVSE-1",
            0,
            CaseStep::Ended(CaseEnd::Failed {
                step: 1,
                reason: "late".into(),
            }),
        );
        assert_eq!(states(&app)[0].2, "passed");
        // The other case fails with its reason; a trigger of one step starts at step 2.
        case(&mut app, "EVSE-1", 2, CaseStep::Matched(0));
        case(&mut app, "EVSE-1", 2, CaseStep::Started);
        assert_eq!(states(&app)[1].2, "at step 2 of 2");
        case(
            &mut app,
            "EVSE-1",
            2,
            CaseStep::Ended(CaseEnd::Failed {
                step: 1,
                reason: "step 2 (answer): status is Rejected".into(),
            }),
        );
        assert_eq!(
            states(&app)[1].2,
            "failed: step 2 (answer): status is Rejected"
        );
        let n = app.cases.as_ref().unwrap().counts();
        assert_eq!((n.waiting, n.running, n.passed, n.failed), (0, 0, 1, 1));
    }

    #[test]
    fn unannounced_stations_and_unknown_cases_are_handled() {
        let mut app = with_cases();
        // The station's announcement was dropped: its row appears with the progress.
        case(&mut app, "CP-9", 2, CaseStep::Started);
        case(&mut app, "CP-9", 1, CaseStep::Matched(0));
        assert_eq!(
            states(&app),
            vec![
                ("CP-9".into(), 1, "waiting for trigger".into()),
                ("CP-9".into(), 2, "at step 1 of 2".into()),
            ]
        );
        // Announced later: only the missing case of that version is added.
        station(&mut app, "CP-9", Version::V16);
        assert_eq!(app.cases.as_ref().unwrap().rows.len(), 2);
        // A case the catalog does not have is counted, not shown.
        case(&mut app, "CP-9", 7, CaseStep::Ended(CaseEnd::Passed));
        assert_eq!(app.cases.as_ref().unwrap().unknown, 1);
        assert_eq!(app.cases.as_ref().unwrap().rows.len(), 2);
        // The final word: never triggered, not run.
        case(
            &mut app,
            "CP-9",
            1,
            CaseStep::Ended(CaseEnd::NotRun {
                reason: "the trigger never came".into(),
            }),
        );
        assert_eq!(states(&app)[0].2, "not run: the trigger never came");
        // Without cases, progress is ignored.
        let mut plain = App::new("t", Limits::default());
        case(&mut plain, "CP-9", 0, CaseStep::Ended(CaseEnd::Passed));
        assert!(plain.cases.is_none());
        assert_eq!(plain.focus_order().len(), 3);
    }

    #[test]
    fn the_cases_pane_takes_focus_filters_and_hides() {
        let mut app = with_cases();
        station(&mut app, "EVSE-1", Version::V201);
        station(&mut app, "CP-16", Version::V16);
        assert_eq!(app.focus, Focus::Frames);
        app.apply(Action::FocusPrev);
        assert_eq!(app.focus, Focus::Cases);
        app.apply(Action::FocusPrev);
        assert_eq!(app.focus, Focus::Conns);
        app.apply(Action::FocusNext);
        assert_eq!(app.focus, Focus::Cases);
        // Down twice: the third row, CP-16's first case; Enter shows only that station.
        app.apply(Action::Down);
        app.apply(Action::Down);
        assert_eq!(app.selected_case().map(|r| &*r.station), Some("CP-16"));
        app.apply(Action::Enter);
        assert_eq!(app.filter.conn.as_deref(), Some("CP-16"));
        assert_eq!(app.visible_cases(), vec![2, 3]);
        app.apply(Action::Bottom);
        assert_eq!(app.selected_case().map(|r| r.case), Some(2));
        app.apply(Action::Top);
        assert_eq!(app.selected_case().map(|r| r.case), Some(1));
        // Again: all stations.
        app.apply(Action::Enter);
        assert_eq!(app.filter.conn, None);
        assert_eq!(app.visible_cases().len(), 4);
        // Hidden: the focus leaves it and Tab skips it.
        app.apply(Action::ToggleCases);
        assert!(!app.cases_shown());
        assert_eq!(app.focus, Focus::Frames);
        app.apply(Action::FocusPrev);
        assert_eq!(app.focus, Focus::Conns);
        app.apply(Action::ToggleCases);
        assert!(app.cases_shown());
        // Without cases the key says so.
        let mut plain = App::new("t", Limits::default());
        plain.apply(Action::ToggleCases);
        assert_eq!(plain.message.as_deref(), Some("no test cases run here"));
    }
}
