//! A read-only view of one JSON value, whatever holds it.
//!
//! [`JsonView`] is the few questions the fast schema verdict
//! ([`crate::engine::schema::fast`]) asks of a payload: its kind, its scalar, its items and
//! members. It is implemented here for `&serde_json::Value`; any other document (an arena of
//! parsed frames, ...) implements the same methods and is judged by the same programs.
//!
//! Numbers are answered as serde_json stores them: a number that fits `u64` answers
//! [`JsonView::as_u64`], else one that fits `i64` answers [`JsonView::as_i64`], else it is an
//! `f64`. An implementation must keep that split (the schema keywords `type: integer`
//! under draft 4 and `minimum`/`maximum` depend on it). Nothing here allocates or mutates.

use serde_json::Value;

/// The six kinds of JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// Read-only access to one JSON value and, through it, to everything inside.
#[allow(
    clippy::len_without_is_empty,
    reason = "the shared interface is exactly these methods"
)]
pub trait JsonView<'a>: Copy {
    /// What kind of value this is.
    fn kind(self) -> JsonKind;
    /// The boolean, if this is one.
    fn as_bool(self) -> Option<bool>;
    /// The string (unescaped), if this is one.
    fn as_str(self) -> Option<&'a str>;
    /// The number, if it is stored as (or fits) an `i64`.
    fn as_i64(self) -> Option<i64>;
    /// The number, if it is stored as (or fits) a `u64`.
    fn as_u64(self) -> Option<u64>;
    /// The number as an `f64` (rounded for large integers), if this is a number.
    fn as_f64(self) -> Option<f64>;
    /// How many items (array) or members (object); 0 for anything else.
    fn len(self) -> usize;
    /// The items of an array in order; nothing for anything else.
    fn items(self) -> impl Iterator<Item = Self>;
    /// The members of an object in document order; nothing for anything else.
    fn members(self) -> impl Iterator<Item = (&'a str, Self)>;
    /// The member named `key` of an object.
    fn get(self, key: &str) -> Option<Self>;
}

impl<'a> JsonView<'a> for &'a Value {
    fn kind(self) -> JsonKind {
        match self {
            Value::Null => JsonKind::Null,
            Value::Bool(_) => JsonKind::Bool,
            Value::Number(_) => JsonKind::Number,
            Value::String(_) => JsonKind::String,
            Value::Array(_) => JsonKind::Array,
            Value::Object(_) => JsonKind::Object,
        }
    }

    fn as_bool(self) -> Option<bool> {
        Value::as_bool(self)
    }

    fn as_str(self) -> Option<&'a str> {
        Value::as_str(self)
    }

    fn as_i64(self) -> Option<i64> {
        Value::as_i64(self)
    }

    fn as_u64(self) -> Option<u64> {
        Value::as_u64(self)
    }

    fn as_f64(self) -> Option<f64> {
        Value::as_f64(self)
    }

    fn len(self) -> usize {
        match self {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => 0,
        }
    }

    fn items(self) -> impl Iterator<Item = Self> {
        let items: &'a [Value] = match self {
            Value::Array(a) => a,
            _ => &[],
        };
        items.iter()
    }

    fn members(self) -> impl Iterator<Item = (&'a str, Self)> {
        self.as_object()
            .into_iter()
            .flat_map(|o| o.iter().map(|(k, v)| (k.as_str(), v)))
    }

    fn get(self, key: &str) -> Option<Self> {
        self.as_object()?.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_view_answers_like_the_value() {
        let v: Value = serde_json::from_str(
            r#"{"a":[1,-2,3.5,18446744073709551615,null,true,"x"],"b":{"c":"é"}}"#,
        )
        .unwrap();
        let view = &v;
        assert_eq!(view.kind(), JsonKind::Object);
        assert_eq!(view.len(), 2);
        let keys: Vec<_> = view.members().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b"]);
        let a = view.get("a").unwrap();
        assert_eq!(a.len(), 7);
        let kinds: Vec<_> = a.items().map(JsonView::kind).collect();
        use JsonKind::*;
        assert_eq!(kinds, [Number, Number, Number, Number, Null, Bool, String]);
        let items: Vec<_> = a.items().collect();
        assert_eq!(items[0].as_u64(), Some(1));
        assert_eq!(items[1].as_u64(), None);
        assert_eq!(items[1].as_i64(), Some(-2));
        assert_eq!(items[2].as_i64(), None);
        assert_eq!(items[2].as_f64(), Some(3.5));
        assert_eq!(items[3].as_u64(), Some(u64::MAX));
        assert_eq!(items[3].as_i64(), None);
        assert_eq!(items[5].as_bool(), Some(true));
        assert_eq!(items[6].as_str(), Some("x"));
        assert_eq!(
            view.get("b")
                .and_then(|b| b.get("c"))
                .and_then(JsonView::as_str),
            Some("é")
        );
        assert!(view.get("z").is_none());
        assert!(items[6].get("a").is_none());
        assert_eq!(items[6].items().count(), 0);
        assert_eq!(items[6].members().count(), 0);
        assert_eq!(items[6].len(), 0);
    }
}
