//! From an official schema file to the facts `schemas/` holds: the prose keys stripped at
//! keyword positions, and the same pretty layout as the committed files (member order of the
//! official file, two-space indent, trailing newline).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Keys that carry the specification's prose (or identify the file), not facts.
pub const PROSE_KEYS: &[&str] = &["description", "comment", "javaType", "title", "$id", "id"];

/// Keywords whose value is a map from names to schemas (the names are data, not keywords).
const SCHEMA_MAPS: &[&str] = &["properties", "definitions", "patternProperties"];
/// Keywords whose value is one schema (or, for `items`, an array of schemas).
const SCHEMA_ONE: &[&str] = &["items", "additionalProperties", "additionalItems", "not"];
/// Keywords whose value is an array of schemas.
const SCHEMA_LISTS: &[&str] = &["anyOf", "oneOf", "allOf"];

/// Removes the prose keys wherever they are keywords of a schema node.
pub fn strip(schema: &Value) -> Value {
    let Value::Object(obj) = schema else {
        // `true` / `false` schemas and non-schema values stay as they are.
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in obj {
        if PROSE_KEYS.contains(&k.as_str()) {
            continue;
        }
        let v = if SCHEMA_MAPS.contains(&k.as_str()) {
            match v {
                Value::Object(m) => {
                    Value::Object(m.iter().map(|(name, s)| (name.clone(), strip(s))).collect())
                }
                other => other.clone(),
            }
        } else if SCHEMA_ONE.contains(&k.as_str()) || SCHEMA_LISTS.contains(&k.as_str()) {
            match v {
                Value::Array(a) => Value::Array(a.iter().map(strip).collect()),
                other => strip(other),
            }
        } else {
            v.clone()
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

/// The shape of a JSON document with its members in document order (values dropped):
/// `serde_json::Value` sorts members, this remembers how the file had them.
pub enum Shape {
    Leaf,
    Array(Vec<Shape>),
    Object(Vec<(String, Shape)>),
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Shape;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Shape, E> {
                Ok(Shape::Leaf)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Shape, E> {
                Ok(Shape::Leaf)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Shape, E> {
                Ok(Shape::Leaf)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Shape, E> {
                Ok(Shape::Leaf)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Shape, E> {
                Ok(Shape::Leaf)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Shape, E> {
                Ok(Shape::Leaf)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
                let mut items = Vec::new();
                while let Some(s) = seq.next_element()? {
                    items.push(s);
                }
                Ok(Shape::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
                let mut members = Vec::new();
                while let Some((k, s)) = map.next_entry::<String, Shape>()? {
                    members.push((k, s));
                }
                Ok(Shape::Object(members))
            }
        }
        d.deserialize_any(V)
    }
}

/// Pretty JSON (two-space indent, like `serde_json::to_string_pretty`) with object members in
/// the order of `shape` where it names them, the others after them in sorted order.
pub fn pretty(value: &Value, shape: Option<&Shape>) -> String {
    let mut out = String::new();
    write(&mut out, value, shape, 0);
    out.push('\n');
    out
}

fn write(out: &mut String, value: &Value, shape: Option<&Shape>, indent: usize) {
    let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
    match value {
        Value::Object(m) if !m.is_empty() => {
            let mut keys: Vec<(&String, Option<&Shape>)> = Vec::new();
            if let Some(Shape::Object(members)) = shape {
                for (k, s) in members {
                    if m.contains_key(k) && !keys.iter().any(|(x, _)| *x == k) {
                        keys.push((k, Some(s)));
                    }
                }
            }
            for k in m.keys() {
                if !keys.iter().any(|(x, _)| *x == k) {
                    keys.push((k, None));
                }
            }
            out.push_str("{\n");
            for (i, (k, s)) in keys.iter().enumerate() {
                pad(out, indent + 2);
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push_str(": ");
                write(out, &m[k.as_str()], *s, indent + 2);
                if i + 1 < keys.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(out, indent);
            out.push('}');
        }
        Value::Array(a) if !a.is_empty() => {
            let shapes = match shape {
                Some(Shape::Array(s)) => Some(s),
                _ => None,
            };
            out.push_str("[\n");
            for (i, v) in a.iter().enumerate() {
                pad(out, indent + 2);
                write(out, v, shapes.and_then(|s| s.get(i)), indent + 2);
                if i + 1 < a.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(out, indent);
            out.push(']');
        }
        leaf => out.push_str(&leaf.to_string()),
    }
}
