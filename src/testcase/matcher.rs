//! Payload matchers of a scenario step: a dotted path into the payload and the operators it
//! must satisfy (`equals`, `not_equals`, `one_of`, `exists`, `regex`, `gt`/`ge`/`lt`/`le`,
//! `var`). Compiled once at load time; judging a payload allocates only for the reason of a
//! mismatch. Pure functions: no state, no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use regex::Regex;
use serde_json::Value;

/// Captured variables of one case run.
pub type Vars = BTreeMap<String, Value>;

/// One path segment: a member name, an array index, or `*` (every element).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
    Any,
}

/// What is wrong with a field matcher in a case file (the case loader adds where).
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    #[error("the path is empty")]
    EmptyPath,
    #[error("`{0}` has an empty segment")]
    EmptySegment(String),
    #[error("an empty operator table matches nothing; say `exists = true`")]
    EmptyTable,
    #[error("`default` alone judges nothing; add an operator (`equals`, `one_of`, ...)")]
    DefaultAlone,
    #[error("`default` and `exists` contradict each other")]
    DefaultAndExists,
    #[error("variable `{0}` is not captured by an earlier step")]
    UnknownVar(String),
    #[error("`{op}` takes {what}")]
    Argument { op: String, what: &'static str },
    #[error("bad regex: {0}")]
    Regex(regex::Error),
    #[error(
        "unknown operator `{0}` (equals, not_equals, one_of, exists, regex, gt, ge, lt, le, var, default)"
    )]
    UnknownOperator(String),
    #[error("cannot use this value: {0}")]
    Value(serde_json::Error),
}

/// A dotted path into a payload: `idTagInfo.status`, `meterValue.*.sampledValue.0.value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    text: String,
    segs: Vec<Seg>,
}

impl Path {
    pub fn parse(text: &str) -> Result<Path, MatcherError> {
        if text.is_empty() {
            return Err(MatcherError::EmptyPath);
        }
        let mut segs = Vec::new();
        for part in text.split('.') {
            if part.is_empty() {
                return Err(MatcherError::EmptySegment(text.to_owned()));
            }
            segs.push(if part == "*" {
                Seg::Any
            } else if let Ok(i) = part.parse::<usize>() {
                Seg::Index(i)
            } else {
                Seg::Key(part.to_owned())
            });
        }
        Ok(Path {
            text: text.to_owned(),
            segs,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Every value the path reaches (several with `*`, none when it leads nowhere).
    pub fn resolve<'v>(&self, root: &'v Value) -> Vec<&'v Value> {
        let mut cur = vec![root];
        for seg in &self.segs {
            let mut next = Vec::new();
            for v in cur {
                match (seg, v) {
                    (Seg::Key(k), Value::Object(o)) => next.extend(o.get(k)),
                    (Seg::Index(i), Value::Array(a)) => next.extend(a.get(*i)),
                    // A numeric member name of an object (rare, but legal JSON).
                    (Seg::Index(i), Value::Object(o)) => next.extend(o.get(&i.to_string())),
                    (Seg::Any, Value::Array(a)) => next.extend(a.iter()),
                    (Seg::Any, Value::Object(o)) => next.extend(o.values()),
                    _ => {}
                }
            }
            cur = next;
        }
        cur
    }
}

/// A number to compare with: a literal or a captured variable (`"$meterStart"`).
#[derive(Debug, Clone)]
pub enum Operand {
    Num(f64),
    Var(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Cmp {
    fn name(self) -> &'static str {
        match self {
            Cmp::Gt => "gt",
            Cmp::Ge => "ge",
            Cmp::Lt => "lt",
            Cmp::Le => "le",
        }
    }
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
        }
    }
}

/// One operator on the values a path reaches.
#[derive(Debug, Clone)]
pub enum Op {
    Equals(Value),
    NotEquals(Value),
    OneOf(Vec<Value>),
    Exists(bool),
    Regex(Regex),
    Cmp(Cmp, Operand),
    /// Equal to a variable captured by an earlier step.
    Var(String),
}

/// A path and the operators its value must satisfy.
#[derive(Debug, Clone)]
pub struct FieldMatcher {
    pub path: Path,
    pub ops: Vec<Op>,
    /// `default = V`: the value the specification gives an absent field (a 1.6
    /// StopTransaction without `reason` means `Local`); the operators judge it instead.
    pub default: Option<Value>,
}

/// Compiles `path = value` from a step's `match` table. A plain value means `equals`; a
/// table holds operators. `known_vars` are the variables captured by earlier steps.
pub fn compile_field(
    path: &str,
    value: &toml::Value,
    known_vars: &BTreeSet<String>,
) -> Result<FieldMatcher, MatcherError> {
    let path = Path::parse(path)?;
    let mut ops = Vec::new();
    let mut default = None;
    match value {
        toml::Value::Table(t) => {
            if t.is_empty() {
                return Err(MatcherError::EmptyTable);
            }
            for (op, arg) in t {
                if op == "default" {
                    default = Some(to_json(arg)?);
                    continue;
                }
                ops.push(compile_op(op, arg, known_vars)?);
            }
            if ops.is_empty() {
                return Err(MatcherError::DefaultAlone);
            }
            if default.is_some() && ops.iter().any(|o| matches!(o, Op::Exists(_))) {
                return Err(MatcherError::DefaultAndExists);
            }
        }
        other => ops.push(Op::Equals(to_json(other)?)),
    }
    Ok(FieldMatcher { path, ops, default })
}

fn compile_op(op: &str, arg: &toml::Value, known: &BTreeSet<String>) -> Result<Op, MatcherError> {
    let var_ref = |name: &str| -> Result<String, MatcherError> {
        if known.contains(name) {
            Ok(name.to_owned())
        } else {
            Err(MatcherError::UnknownVar(name.to_owned()))
        }
    };
    let takes = |what: &'static str| MatcherError::Argument {
        op: op.to_owned(),
        what,
    };
    Ok(match op {
        "equals" => Op::Equals(to_json(arg)?),
        "not_equals" => Op::NotEquals(to_json(arg)?),
        "one_of" => match arg {
            toml::Value::Array(a) if !a.is_empty() => {
                Op::OneOf(a.iter().map(to_json).collect::<Result<_, _>>()?)
            }
            _ => return Err(takes("a non-empty array")),
        },
        "exists" => match arg {
            toml::Value::Boolean(b) => Op::Exists(*b),
            _ => return Err(takes("true or false")),
        },
        "regex" => match arg {
            toml::Value::String(s) => Op::Regex(Regex::new(s).map_err(MatcherError::Regex)?),
            _ => return Err(takes("a string")),
        },
        "gt" | "ge" | "lt" | "le" => {
            let cmp = match op {
                "gt" => Cmp::Gt,
                "ge" => Cmp::Ge,
                "lt" => Cmp::Lt,
                _ => Cmp::Le,
            };
            let operand = match arg {
                toml::Value::Integer(i) => Operand::Num(*i as f64),
                toml::Value::Float(f) if f.is_finite() => Operand::Num(*f),
                toml::Value::String(s) if s.starts_with('$') => Operand::Var(var_ref(&s[1..])?),
                _ => return Err(takes("a number or a captured variable (`\"$name\"`)")),
            };
            Op::Cmp(cmp, operand)
        }
        "var" => match arg {
            toml::Value::String(s) => Op::Var(var_ref(s)?),
            _ => return Err(takes("the name of a captured variable")),
        },
        other => return Err(MatcherError::UnknownOperator(other.to_owned())),
    })
}

pub(crate) fn to_json(v: &toml::Value) -> Result<Value, MatcherError> {
    serde_json::to_value(v).map_err(MatcherError::Value)
}

/// A JSON number, or a string holding one (OCPP 1.6 meter values are strings).
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn short(v: &Value) -> String {
    crate::finding::shorten(&v.to_string(), 80)
}

impl Op {
    /// Whether one reached value satisfies the operator (`Exists` is judged by the caller).
    fn holds(&self, v: &Value, vars: &Vars) -> bool {
        match self {
            Op::Equals(e) => json_eq(v, e),
            Op::NotEquals(e) => !json_eq(v, e),
            Op::OneOf(list) => list.iter().any(|e| json_eq(v, e)),
            Op::Exists(_) => true,
            Op::Regex(r) => v.as_str().is_some_and(|s| r.is_match(s)),
            Op::Cmp(c, operand) => {
                let rhs = match operand {
                    Operand::Num(n) => Some(*n),
                    Operand::Var(name) => vars.get(name).and_then(as_number),
                };
                match (as_number(v), rhs) {
                    (Some(a), Some(b)) => c.holds(a, b),
                    _ => false,
                }
            }
            Op::Var(name) => vars.get(name).is_some_and(|e| json_eq(v, e)),
        }
    }

    fn expected(&self, vars: &Vars) -> String {
        match self {
            Op::Equals(e) => short(e),
            Op::NotEquals(e) => format!("not {}", short(e)),
            Op::OneOf(list) => format!(
                "one of [{}]",
                list.iter().map(short).collect::<Vec<_>>().join(", ")
            ),
            Op::Exists(true) => "present".into(),
            Op::Exists(false) => "absent".into(),
            Op::Regex(r) => format!("a string matching /{}/", r.as_str()),
            Op::Cmp(c, Operand::Num(n)) => format!("{} {n}", c.name()),
            Op::Cmp(c, Operand::Var(name)) => match vars.get(name) {
                Some(v) => format!("{} ${name} ({})", c.name(), short(v)),
                None => format!("{} ${name} (not captured)", c.name()),
            },
            Op::Var(name) => match vars.get(name) {
                Some(v) => format!("${name} ({})", short(v)),
                None => format!("${name} (not captured)"),
            },
        }
    }
}

impl FieldMatcher {
    /// `Ok` when the payload satisfies every operator; otherwise what was expected and what
    /// came. With several reached values (`*`), one satisfying value is enough.
    pub fn check(&self, payload: &Value, vars: &Vars) -> Result<(), String> {
        let mut found = self.path.resolve(payload);
        let defaulted = found.is_empty() && self.default.is_some();
        if let (true, Some(d)) = (found.is_empty(), &self.default) {
            found.push(d);
        }
        for op in &self.ops {
            if let Op::Exists(want) = op {
                if found.is_empty() == *want {
                    return Err(format!(
                        "{}: expected {}, it is {}",
                        self.path.as_str(),
                        op.expected(vars),
                        if *want { "absent" } else { "present" }
                    ));
                }
                continue;
            }
            if found.is_empty() {
                return Err(format!(
                    "{}: expected {}, it is absent",
                    self.path.as_str(),
                    op.expected(vars)
                ));
            }
            if !found.iter().any(|v| op.holds(v, vars)) {
                let got = found
                    .iter()
                    .map(|v| short(v))
                    .collect::<Vec<_>>()
                    .join(", ");
                let absent = if defaulted {
                    " (absent: the default)"
                } else {
                    ""
                };
                return Err(format!(
                    "{}: expected {}, got {got}{absent}",
                    self.path.as_str(),
                    op.expected(vars)
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for FieldMatcher {
    /// The matcher as written (variables by name, not value): `idTag $tag`, `status "Accepted"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ops: Vec<String> = self
            .ops
            .iter()
            .map(|o| match o {
                Op::Var(name) => format!("${name}"),
                Op::Cmp(c, Operand::Var(name)) => format!("{} ${name}", c.name()),
                other => other.expected(&Vars::new()),
            })
            .collect();
        write!(f, "{} {}", self.path.as_str(), ops.join(" and "))?;
        if let Some(d) = &self.default {
            write!(f, " (absent means {})", short(d))?;
        }
        Ok(())
    }
}

/// Checks every matcher; the first failure's reason.
pub fn check_all(matchers: &[FieldMatcher], payload: &Value, vars: &Vars) -> Result<(), String> {
    for m in matchers {
        m.check(payload, vars)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(path: &str, toml_value: &str, known: &[&str]) -> FieldMatcher {
        let v: toml::Value = toml::from_str::<toml::Table>(&format!("x = {toml_value}"))
            .unwrap()
            .remove("x")
            .unwrap();
        let known: BTreeSet<String> = known.iter().map(|s| (*s).to_owned()).collect();
        compile_field(path, &v, &known).unwrap()
    }

    #[test]
    fn a_default_stands_for_an_absent_field() {
        let vars = Vars::new();
        let local = m("reason", "{ equals = \"Local\", default = \"Local\" }", &[]);
        assert!(local.check(&json!({}), &vars).is_ok());
        assert!(local.check(&json!({"reason": "Local"}), &vars).is_ok());
        assert_eq!(
            local
                .check(&json!({"reason": "Remote"}), &vars)
                .unwrap_err(),
            "reason: expected \"Local\", got \"Remote\""
        );
        let remote = m(
            "reason",
            "{ equals = \"Remote\", default = \"Local\" }",
            &[],
        );
        assert_eq!(
            remote.check(&json!({}), &vars).unwrap_err(),
            "reason: expected \"Remote\", got \"Local\" (absent: the default)"
        );
        assert_eq!(
            remote.to_string(),
            "reason \"Remote\" (absent means \"Local\")"
        );
        let bad = |t: &str| {
            let v: toml::Value = toml::from_str::<toml::Table>(&format!("x = {t}"))
                .unwrap()
                .remove("x")
                .unwrap();
            compile_field("reason", &v, &BTreeSet::new())
                .unwrap_err()
                .to_string()
        };
        assert!(bad("{ default = \"Local\" }").contains("judges nothing"));
        assert!(bad("{ default = 1, exists = true }").contains("contradict"));
    }

    #[test]
    fn operators() {
        let p = json!({"idTagInfo": {"status": "Accepted"}, "transactionId": 7,
            "meterValue": [{"sampledValue": [{"value": "10.5"}, {"value": "99"}]}]});
        let vars = Vars::new();
        assert!(
            m("idTagInfo.status", "\"Accepted\"", &[])
                .check(&p, &vars)
                .is_ok()
        );
        let e = m("idTagInfo.status", "\"Blocked\"", &[])
            .check(&p, &vars)
            .unwrap_err();
        assert_eq!(
            e,
            "idTagInfo.status: expected \"Blocked\", got \"Accepted\""
        );
        assert!(
            m(
                "idTagInfo.status",
                "{ one_of = [\"Accepted\", \"ConcurrentTx\"] }",
                &[]
            )
            .check(&p, &vars)
            .is_ok()
        );
        assert!(
            m("transactionId", "{ equals = 7.0 }", &[])
                .check(&p, &vars)
                .is_ok()
        );
        assert!(
            m("transactionId", "{ gt = 6, le = 7 }", &[])
                .check(&p, &vars)
                .is_ok()
        );
        assert!(
            m("transactionId", "{ gt = 7 }", &[])
                .check(&p, &vars)
                .is_err()
        );
        assert!(
            m("reason", "{ exists = false }", &[])
                .check(&p, &vars)
                .is_ok()
        );
        let e = m("reason", "{ exists = true }", &[])
            .check(&p, &vars)
            .unwrap_err();
        assert!(e.contains("absent"), "{e}");
        assert!(
            m("idTagInfo.status", "{ regex = \"^Acc\" }", &[])
                .check(&p, &vars)
                .is_ok()
        );
        assert!(
            m("idTagInfo.status", "{ not_equals = \"Accepted\" }", &[])
                .check(&p, &vars)
                .is_err()
        );
        // `*` reaches every element; numeric strings compare as numbers.
        assert!(
            m("meterValue.*.sampledValue.*.value", "{ gt = 50 }", &[])
                .check(&p, &vars)
                .is_ok()
        );
        assert!(
            m("meterValue.0.sampledValue.0.value", "{ gt = 50 }", &[])
                .check(&p, &vars)
                .is_err()
        );
    }

    #[test]
    fn variables() {
        let p = json!({"transactionId": 7, "meterStop": 1200});
        let mut vars = Vars::new();
        let same = m("transactionId", "{ var = \"tx\" }", &["tx", "start"]);
        assert!(same.check(&p, &vars).is_err(), "not captured yet");
        vars.insert("tx".into(), json!(7));
        vars.insert("start".into(), json!(1000));
        assert!(same.check(&p, &vars).is_ok());
        assert!(
            m("meterStop", "{ ge = \"$start\" }", &["start"])
                .check(&p, &vars)
                .is_ok()
        );
        vars.insert("start".into(), json!(1300));
        assert!(
            m("meterStop", "{ ge = \"$start\" }", &["start"])
                .check(&p, &vars)
                .is_err()
        );
    }

    #[test]
    fn compile_errors() {
        let none = BTreeSet::new();
        let t = |s: &str| {
            toml::from_str::<toml::Table>(&format!("x = {s}"))
                .unwrap()
                .remove("x")
                .unwrap()
        };
        assert!(
            compile_field("a", &t("{ var = \"tx\" }"), &none)
                .unwrap_err()
                .to_string()
                .contains("`tx`")
        );
        assert!(
            compile_field("a", &t("{ bigger = 1 }"), &none)
                .unwrap_err()
                .to_string()
                .contains("bigger")
        );
        assert!(compile_field("a..b", &t("1"), &none).is_err());
        assert!(compile_field("a", &t("{ gt = \"x\" }"), &none).is_err());
        assert!(compile_field("a", &t("{}"), &none).is_err());
    }
}
