//! Acting on a live station from the screen: the form `i` opens (pick a station and an
//! action, edit the payload, confirm) and the templates it starts from. A template holds the
//! request's required members with placeholder values, built from the request schema
//! document and checked against the schemas the engine loaded ([`ActCatalog`]).
//!
//! It sends nothing itself and knows no proxy: the live pipeline hands the screen an
//! [`InjectPort`] when injection is allowed (`--allow-inject`), and the outcome comes back
//! through the screen's feed ([`super::feed::FeedItem::Injected`]); the injected CALL and
//! the answer come back as frames, judged by the engine like any other. No I/O here.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::engine::schema::{Direction, SchemaSet, builtin_documents};
use crate::ocpp::Version;
use crate::ocpp::action::{Dir, catalogue, lookup};
use crate::time::Timestamp;

/// How the screen asks the live pipeline to send a CALL to a station.
pub trait InjectPort: Send + Sync {
    /// Starts sending the CALL `action` with `payload` to the charger `station` and returns
    /// at once; the answer (or why there is none) comes back through the screen's feed.
    fn inject(&self, station: &str, action: &str, payload: Value);
}

/// The actions a screen may send, per version, with the request schema documents their
/// templates are built from, and the engine's schemas the payloads are checked against.
pub struct ActCatalog {
    schemas: Arc<SchemaSet>,
    docs: HashMap<(Version, &'static str), Value>,
}

impl std::fmt::Debug for ActCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActCatalog")
            .field("actions", &self.docs.len())
            .finish_non_exhaustive()
    }
}

impl ActCatalog {
    /// The CALLs a CSMS may send, for every version, checked against `schemas`.
    pub fn new(schemas: Arc<SchemaSet>) -> Self {
        let mut docs = HashMap::new();
        for (version, name, text) in builtin_documents() {
            let Some(action) = name.strip_suffix("Request") else {
                continue;
            };
            let Some((_, info)) = lookup(version, action) else {
                continue;
            };
            if info.dir == Dir::ChargerToCsms {
                continue;
            }
            if let Ok(doc) = serde_json::from_str::<Value>(text) {
                docs.insert((version, info.name), doc);
            }
        }
        ActCatalog { schemas, docs }
    }

    /// The actions a CSMS may send to a station of `version`, by name.
    pub fn actions(&self, version: Version) -> Vec<&'static str> {
        catalogue(version)
            .iter()
            .filter(|a| self.docs.contains_key(&(version, a.name)))
            .map(|a| a.name)
            .collect()
    }

    /// The request's required members with placeholder values (date-times: `at`).
    pub fn template(&self, version: Version, action: &str) -> Value {
        self.template_at(version, action, None)
    }

    /// [`ActCatalog::template`] with date-times at `at`.
    pub fn template_at(&self, version: Version, action: &str, at: Option<Timestamp>) -> Value {
        let Some(doc) =
            lookup(version, action).and_then(|(_, a)| self.docs.get(&(version, a.name)))
        else {
            return Value::Object(Map::new());
        };
        placeholder(doc, doc, "", &at_text(at), 0)
    }

    /// What the loaded request schema says is wrong with `payload` (empty: valid).
    pub fn check(&self, version: Version, action: &str, payload: &Value) -> Vec<String> {
        let Some((i, _)) = lookup(version, action) else {
            return vec![format!("{action} is no {version} action")];
        };
        if !self.schemas.has(version, i, Direction::Request) {
            return Vec::new();
        }
        self.schemas
            .violations(version, i, Direction::Request, payload, 3)
            .into_iter()
            .map(|v| {
                let at = if v.pointer.is_empty() {
                    "payload".to_owned()
                } else {
                    v.pointer
                };
                format!("{at}: {}", v.message)
            })
            .collect()
    }
}

/// A date-time placeholder: `at`, or a fixed one.
fn at_text(at: Option<Timestamp>) -> String {
    at.map_or_else(
        || "2026-01-01T00:00:00Z".to_owned(),
        |t| {
            // Whole seconds, as most stations expect.
            let s = t.to_rfc3339_micros();
            match s.split_once('.') {
                Some((head, _)) => format!("{head}Z"),
                None => s,
            }
        },
    )
}

/// Nesting followed at most (the OCPP schemas are far shallower).
const MAX_DEPTH: usize = 24;

/// A placeholder value valid for `schema` (a part of `root`); `name` is the member it is
/// for (a string placeholder says it).
fn placeholder(schema: &Value, root: &Value, name: &str, at: &str, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
            Some(s) => placeholder(s, root, name, at, depth + 1),
            None => Value::Null,
        };
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return first.clone();
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts.iter().find_map(Value::as_str).unwrap_or(""),
        _ if schema.get("properties").is_some() => "object",
        _ => "",
    };
    match ty {
        "object" => {
            let mut out = Map::new();
            let props = schema.get("properties");
            for req in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let sub = props.and_then(|p| p.get(req)).unwrap_or(&Value::Null);
                out.insert(req.to_owned(), placeholder(sub, root, req, at, depth + 1));
            }
            Value::Object(out)
        }
        "array" => {
            let n = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let items = schema.get("items").unwrap_or(&Value::Null);
            Value::Array(
                (0..n.min(8))
                    .map(|_| placeholder(items, root, name, at, depth + 1))
                    .collect(),
            )
        }
        "string" => match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => Value::from(at),
            Some("uri") => Value::from("https://example.invalid/"),
            _ => {
                let max = schema
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX));
                let min = schema
                    .get("minLength")
                    .and_then(Value::as_u64)
                    .map_or(0, |m| usize::try_from(m).unwrap_or(0));
                let mut s: String = if name.is_empty() { "x" } else { name }
                    .chars()
                    .take(max)
                    .collect();
                while s.chars().count() < min.min(4096) {
                    s.push('x');
                }
                Value::from(s)
            }
        },
        "integer" | "number" => {
            let lo = match (schema.get("minimum"), schema.get("exclusiveMinimum")) {
                (_, Some(Value::Number(n))) => n.as_f64().map(|x| x.floor() + 1.0),
                (Some(m), Some(Value::Bool(true))) => m.as_f64().map(|x| x.floor() + 1.0),
                (Some(m), _) => m.as_f64().map(f64::ceil),
                _ => None,
            };
            let hi = schema.get("maximum").and_then(Value::as_f64);
            let mut v = lo.unwrap_or(0.0);
            if let Some(h) = hi
                && v > h
            {
                v = h.floor();
            }
            #[expect(
                clippy::cast_possible_truncation,
                reason = "schema bounds are small whole numbers"
            )]
            Value::from(v as i64)
        }
        "boolean" => Value::Bool(false),
        _ => Value::Null,
    }
}

/// The field of the form that has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Station,
    Action,
    Payload,
}

/// Why the typed payload cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("the payload must be a JSON object")]
    NotObject,
    #[error("not JSON: {0}")]
    NotJson(serde_json::Error),
}

/// The form of `i`: a station, an action, a payload, and whether it waits for the
/// confirmation.
#[derive(Debug, Clone)]
pub struct ActForm {
    /// The stations connected now with the version they speak.
    pub stations: Vec<(Arc<str>, Version)>,
    pub station: usize,
    /// The actions of the selected station's version.
    pub actions: Vec<&'static str>,
    pub action: usize,
    pub field: Field,
    /// The payload as typed (one line; `$EDITOR` may make it several).
    pub payload: String,
    /// The cursor in `payload`, in chars.
    pub cursor: usize,
    /// Waiting for Enter to send (Esc goes back to the form).
    pub confirm: bool,
    /// What is wrong with the payload: not JSON, not an object, or what the schema says
    /// (empty: it is valid).
    pub problems: Vec<String>,
    /// Date-times of templates.
    at: Option<Timestamp>,
}

impl ActForm {
    /// A form for `stations` (at least one), starting on station `first`.
    pub fn new(
        catalog: &ActCatalog,
        stations: Vec<(Arc<str>, Version)>,
        first: usize,
        at: Option<Timestamp>,
    ) -> Self {
        let mut f = ActForm {
            station: first.min(stations.len().saturating_sub(1)),
            stations,
            actions: Vec::new(),
            action: 0,
            field: Field::Station,
            payload: String::new(),
            cursor: 0,
            confirm: false,
            problems: Vec::new(),
            at,
        };
        f.station_changed(catalog);
        f
    }

    pub fn version(&self) -> Option<Version> {
        self.stations.get(self.station).map(|s| s.1)
    }

    pub fn station_name(&self) -> Option<&Arc<str>> {
        self.stations.get(self.station).map(|s| &s.0)
    }

    pub fn action_name(&self) -> Option<&'static str> {
        self.actions.get(self.action).copied()
    }

    fn station_changed(&mut self, catalog: &ActCatalog) {
        let keep = self.action_name();
        self.actions = self
            .version()
            .map(|v| catalog.actions(v))
            .unwrap_or_default();
        self.action = keep
            .and_then(|k| self.actions.iter().position(|a| *a == k))
            .unwrap_or(0);
        self.reset_payload(catalog);
    }

    /// The payload back to the template of the action.
    fn reset_payload(&mut self, catalog: &ActCatalog) {
        self.payload = match (self.version(), self.action_name()) {
            (Some(v), Some(a)) => catalog.template_at(v, a, self.at).to_string(),
            _ => String::new(),
        };
        self.cursor = self.payload.chars().count();
        self.recheck(catalog);
    }

    /// Works out [`ActForm::problems`] again.
    pub fn recheck(&mut self, catalog: &ActCatalog) {
        self.problems = match self.parsed() {
            Err(e) => vec![e.to_string()],
            Ok(v) => match (self.version(), self.action_name()) {
                (Some(ver), Some(a)) => catalog.check(ver, a, &v),
                _ => vec!["no action to send".to_owned()],
            },
        };
    }

    /// The payload as JSON, or what is wrong with it.
    pub fn parsed(&self) -> Result<Value, PayloadError> {
        match serde_json::from_str::<Value>(&self.payload) {
            Ok(v) if v.is_object() => Ok(v),
            Ok(_) => Err(PayloadError::NotObject),
            Err(e) => Err(PayloadError::NotJson(e)),
        }
    }

    /// The next (+1) or previous (-1) field.
    pub fn next_field(&mut self, delta: i8) {
        let order = [Field::Station, Field::Action, Field::Payload];
        let i = order.iter().position(|f| *f == self.field).unwrap_or(0);
        let j = (i + if delta < 0 { 2 } else { 1 }) % 3;
        self.field = order[j];
    }

    /// ←/→: another station or action, or the cursor in the payload.
    pub fn move_by(&mut self, catalog: &ActCatalog, delta: i8) {
        let step = |i: usize, n: usize| -> usize {
            if n == 0 {
                0
            } else if delta < 0 {
                (i + n - 1) % n
            } else {
                (i + 1) % n
            }
        };
        match self.field {
            Field::Station => {
                self.station = step(self.station, self.stations.len());
                self.station_changed(catalog);
            }
            Field::Action => {
                self.action = step(self.action, self.actions.len());
                self.reset_payload(catalog);
            }
            Field::Payload => {
                let n = self.payload.chars().count();
                self.cursor = if delta < 0 {
                    self.cursor.saturating_sub(1)
                } else {
                    (self.cursor + 1).min(n)
                };
            }
        }
    }

    /// A typed character: into the payload, or on a station or action the next one that
    /// starts with it.
    pub fn type_char(&mut self, catalog: &ActCatalog, c: char) {
        let starts = |s: &str| {
            s.chars()
                .next()
                .is_some_and(|f| f.to_lowercase().eq(c.to_lowercase()))
        };
        match self.field {
            Field::Station => {
                let n = self.stations.len();
                if let Some(j) = (1..=n)
                    .map(|k| (self.station + k) % n)
                    .find(|&j| starts(&self.stations[j].0))
                {
                    self.station = j;
                    self.station_changed(catalog);
                }
            }
            Field::Action => {
                let n = self.actions.len();
                if let Some(j) = (1..=n)
                    .map(|k| (self.action + k) % n)
                    .find(|&j| starts(self.actions[j]))
                {
                    self.action = j;
                    self.reset_payload(catalog);
                }
            }
            Field::Payload => {
                let at = byte_at(&self.payload, self.cursor);
                self.payload.insert(at, c);
                self.cursor += 1;
                self.recheck(catalog);
            }
        }
    }

    /// Deletes the character before the cursor (in the payload).
    pub fn backspace(&mut self, catalog: &ActCatalog) {
        if self.field == Field::Payload && self.cursor > 0 {
            let at = byte_at(&self.payload, self.cursor - 1);
            self.payload.remove(at);
            self.cursor -= 1;
            self.recheck(catalog);
        }
    }

    /// The payload laid out for an editor.
    pub fn for_editor(&self) -> String {
        match serde_json::from_str::<Value>(&self.payload) {
            Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| self.payload.clone()),
            Err(_) => self.payload.clone(),
        }
    }

    /// The text an editor left: on one line again when it is JSON.
    pub fn edited(&mut self, catalog: &ActCatalog, text: &str) {
        self.payload = match serde_json::from_str::<Value>(text) {
            Ok(v) => v.to_string(),
            Err(_) => text.trim().to_owned(),
        };
        self.cursor = self.payload.chars().count();
        self.field = Field::Payload;
        self.recheck(catalog);
    }
}

/// The byte index of char `n` of `s` (its end when `n` is past it).
fn byte_at(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::schema::ErrataSelection;

    fn catalog() -> ActCatalog {
        ActCatalog::new(Arc::new(
            SchemaSet::builtin(&ErrataSelection::all()).expect("schemas"),
        ))
    }

    #[test]
    fn every_template_is_valid_against_the_loaded_schema() {
        let c = catalog();
        for v in Version::ALL {
            let actions = c.actions(v);
            assert!(actions.len() > 10, "{v}: {actions:?}");
            assert!(!actions.contains(&"BootNotification"), "a charger's CALL");
            for a in actions {
                let t = c.template(v, a);
                let problems = c.check(v, a, &t);
                assert!(problems.is_empty(), "{v} {a}: {t} → {problems:?}");
            }
        }
        assert_eq!(
            c.template(Version::V16, "TriggerMessage"),
            serde_json::json!({"requestedMessage": "BootNotification"})
        );
        assert_eq!(
            c.template(Version::V16, "GetConfiguration"),
            serde_json::json!({})
        );
        // Required members only, nested through $ref, strings cut to their maxLength.
        let t = c.template(Version::V201, "RequestStartTransaction");
        assert_eq!(t["idToken"]["idToken"], "idToken");
        assert!(t["remoteStartId"].is_i64());
        assert!(t.get("evseId").is_none(), "optional: left out");
        // A template that breaks the schema is told why.
        let bad = serde_json::json!({"requestedMessage": "Nothing"});
        let p = c.check(Version::V16, "TriggerMessage", &bad);
        assert!(
            p.len() == 1 && p[0].starts_with("/requestedMessage: "),
            "{p:?}"
        );
    }

    #[test]
    fn the_form_picks_types_and_checks() {
        let c = catalog();
        let stations = vec![
            (Arc::from("CP-1"), Version::V16),
            (Arc::from("EV-2"), Version::V201),
        ];
        let mut f = ActForm::new(&c, stations, 0, Some(Timestamp::from_secs(1_700_000_000)));
        assert_eq!(f.station_name().map(|s| &**s), Some("CP-1"));
        f.next_field(1);
        assert_eq!(f.field, Field::Action);
        f.type_char(&c, 't');
        assert_eq!(f.action_name(), Some("TriggerMessage"));
        assert_eq!(f.payload, r#"{"requestedMessage":"BootNotification"}"#);
        assert!(f.problems.is_empty());
        // Another station keeps the action when its version has it too.
        f.field = Field::Station;
        f.move_by(&c, 1);
        assert_eq!(f.station_name().map(|s| &**s), Some("EV-2"));
        assert_eq!(f.action_name(), Some("TriggerMessage"));
        // Typing in the payload, at the cursor.
        f.field = Field::Payload;
        f.payload = "{}".into();
        f.cursor = 1;
        for ch in r#""x":1"#.chars() {
            f.type_char(&c, ch);
        }
        assert_eq!(f.payload, r#"{"x":1}"#);
        assert!(
            f.problems.iter().any(|p| p.contains("requestedMessage")),
            "{:?}",
            f.problems
        );
        f.backspace(&c);
        f.backspace(&c);
        assert_eq!(f.payload, r#"{"x"}"#);
        assert!(f.problems[0].starts_with("not JSON"), "{:?}", f.problems);
        f.edited(&c, "{\n  \"requestedMessage\": \"Heartbeat\"\n}\n");
        assert_eq!(f.payload, r#"{"requestedMessage":"Heartbeat"}"#);
        assert!(f.problems.is_empty());
        assert!(f.for_editor().contains("\n  \"requestedMessage\""));
    }
}
