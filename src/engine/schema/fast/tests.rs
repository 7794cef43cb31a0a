use super::*;
use serde_json::json;

fn validator(schema: &Value) -> Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap()
}

#[test]
fn date_times_agree_with_jsonschema() {
    let v = validator(&json!({"format": "date-time"}));
    for s in [
        "2026-11-22T10:15:03.125Z",
        "2026-11-22t10:15:03z",
        "2024-02-29T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2000-02-29T00:00:00Z",
        "2026-11-22T23:59:60Z",
        "2026-11-22T22:59:60Z",
        "2026-11-22T23:59:60+01:00",
        "2026-11-22T00:59:60+01:00",
        "2026-11-22T00:29:60+00:30",
        "2026-11-22T23:29:60-00:30",
        "2026-11-22T10:15:03.Z",
        "2026-11-22T10:15:03+24:00",
        "2026-11-22T10:15:03+23:60",
        "2026-11-22T10:15:03+2300",
        "2026-11-22T10:15:03",
        "2026-11-22 10:15:03Z",
        "2026-13-22T10:15:03Z",
        "2026-00-22T10:15:03Z",
        "2026-11-00T10:15:03Z",
        "2026-11-22T24:00:00Z",
        "2026-11-22T10:60:00Z",
        "2026-11-22T10:15:61Z",
        "2026-11-22T10:15:03ZZ",
        "2026-11-22T10:15:03.1234567890123Z",
        "2026-1１-22T10:15:03Z",
        "T",
        "",
        "2026-11-22T",
    ] {
        assert_eq!(is_date_time(s), v.is_valid(&json!(s)), "{s:?}");
    }
}

#[test]
fn unknown_keywords_get_no_program() {
    let e = Program::compile(&json!({
        "$schema": "http://json-schema.org/draft-06/schema#",
        "type": "string", "pattern": "^a"
    }))
    .unwrap_err();
    assert_eq!(e.what, "keyword pattern");
    assert!(
        Program::compile(&json!({"type": "string"})).is_err(),
        "no $schema: the default draft is not compiled"
    );
}

#[test]
fn tables_find_exactly_their_names() {
    let names = [
        "",
        "a",
        "ab",
        "abc",
        "abcd",
        "abcdefg",
        "abcdefgh",
        "Energy.Active.Import.Register",
        "Energy.Reactive.Import.Register",
        "Energy.Active.Export.Register",
        "Energy.Active.Import.Interval",
        "0123456789abcdef",
        "0123456789abcdefX",
    ];
    let t = Table::new(names.iter().map(|n| Box::<str>::from(*n)).collect());
    assert!(!t.slots.is_empty(), "a perfect hash was found");
    for (i, n) in names.iter().enumerate() {
        assert_eq!(t.find(n), Some(i), "{n:?}");
    }
    // Same length, head and tail as a name, another middle; near misses of every length.
    for miss in [
        "Energy.Active.ImporX.Register",
        "Energy.Active.Export.Interval",
        "b",
        "ba",
        "abd",
        "abce",
        "abcdefh",
        "abcdefgi",
        "0123456789abcdeF",
        "0123456789abcdefY",
        "é",
        "Energy.Active.Import.Register ",
    ] {
        assert_eq!(t.find(miss), None, "{miss:?}");
    }
}

#[test]
fn a_table_without_a_perfect_hash_is_scanned() {
    let names: Vec<String> = (0..300)
        .map(|i| format!("Energy.Active.{i:03}.Register"))
        .collect();
    let t = Table::new(names.iter().map(|n| Box::<str>::from(n.as_str())).collect());
    assert!(t.slots.is_empty(), "more than 255 names: no slots");
    for (i, n) in names.iter().enumerate() {
        assert_eq!(t.find(n), Some(i), "{n:?}");
    }
    assert_eq!(t.find("Energy.Active.300.Register"), None);
    assert_eq!(t.find("Energy.Active.0O0.Register"), None);
}

#[test]
fn numbers_compare_exactly() {
    let ord = |a: Num, b: Num| a.cmp_exact(b);
    assert_eq!(
        ord(Num::U(u64::MAX), Num::F(18_446_744_073_709_551_616.0)),
        Some(Ordering::Less)
    );
    assert_eq!(ord(Num::U(1), Num::F(1.0)), Some(Ordering::Equal));
    assert_eq!(ord(Num::I(-1), Num::F(-0.5)), Some(Ordering::Less));
    assert_eq!(ord(Num::F(-0.5), Num::I(-1)), Some(Ordering::Greater));
    assert_eq!(ord(Num::I(0), Num::F(-0.0)), Some(Ordering::Equal));
    assert_eq!(ord(Num::U(3), Num::I(-3)), Some(Ordering::Greater));
}
