//! Unit tests of the scenario format: parsing, validation and loading.

use super::*;

const GOOD: &str = r#"
id = "2.0.1/B/01"
title = "Cold boot"
versions = ["2.0.1"]
dut = "charger"
refs = ["OCPP 2.0.1 B01"]
oca = { id = "TC_B_01_CS", name = "Cold Boot Charging Station - Accepted", requirements = ["B01.FR.01"] }
[[steps]]
from = "charger"
call = "BootNotification"
[[steps]]
from = "csms"
result = "BootNotification"
match = { status = "Accepted" }
capture = { hb = "interval" }
"#;

#[test]
fn a_good_case_loads() {
    let c = parse_case(GOOD, "good.toml").unwrap();
    assert_eq!(c.id, "2.0.1/B/01");
    assert_eq!(c.steps.len(), 2);
    assert_eq!(c.steps[1].kind, StepKind::Result);
    assert_eq!(c.octt(), vec!["TC_B_01_CS"]);
    assert!(c.selected_by("2.0.1/B") && c.selected_by("TC_B_01_CS") && !c.selected_by("1.6"));
}

#[test]
fn errors_name_file_and_key() {
    let bad = GOOD.replace(
        "result = \"BootNotification\"",
        "result = \"BootNotifcation\"",
    );
    let e = parse_case(&bad, "x.toml").unwrap_err();
    assert_eq!((e.file.as_str(), e.key.as_str()), ("x.toml", "steps[1]"));
    assert!(e.message.contains("BootNotifcation"), "{e}");

    let bad = GOOD.replace("status = \"Accepted\"", "status = { regex = \"(\" }");
    let e = parse_case(&bad, "x.toml").unwrap_err();
    assert_eq!(e.key, "steps[1].match.status", "{e}");

    let bad = GOOD.replace("dut = \"charger\"", "dut = \"charger\"\nsteppes = 1");
    let e = parse_case(&bad, "x.toml").unwrap_err();
    assert!(e.to_string().contains("steppes"), "{e}");

    let bad = GOOD.replace("from = \"csms\"", "from = \"charger\"");
    let e = parse_case(&bad, "x.toml").unwrap_err();
    assert!(e.message.contains("does not send"), "{e}");

    let bad = GOOD.replace("2.0.1/B/01", "1.6/B/01");
    assert_eq!(parse_case(&bad, "x.toml").unwrap_err().key, "id");
}

#[test]
fn a_variable_must_be_captured_before_use() {
    let bad = GOOD.replace(
        "match = { status = \"Accepted\" }",
        "match = { interval = { var = \"tx\" } }",
    );
    let e = parse_case(&bad, "x.toml").unwrap_err();
    assert!(e.message.contains("`tx`"), "{e}");
}

#[test]
fn the_oca_table_is_checked_and_cited_once() {
    let c = parse_case(GOOD, "good.toml").unwrap();
    let oca = c.oca.as_ref().unwrap();
    assert_eq!(oca.requirements, vec!["B01.FR.01"]);
    assert_eq!(oca.differs, "");
    assert!(
        c.refs
            .contains(&"OCTT TC_B_01_CS (Cold Boot Charging Station - Accepted)".to_owned())
    );
    let e = parse_case(
        &GOOD.replace("[\"OCPP 2.0.1 B01\"]", "[\"OCTT TC_B_01_CS\"]"),
        "x.toml",
    )
    .unwrap_err();
    assert_eq!(e.key, "refs[0]", "{e}");
    let e = parse_case(
        &GOOD.replace("\"TC_B_01_CS\"", "\"TC_B_01_CSMS\""),
        "x.toml",
    )
    .unwrap_err();
    assert!(e.key == "oca.id" && e.message.contains("other side"), "{e}");
    let e = parse_case(&GOOD.replace("\"TC_B_01_CS\"", "\"B01\""), "x.toml").unwrap_err();
    assert_eq!(e.key, "oca.id", "{e}");
    // One case per OCA case.
    let other = GOOD.replace("id = \"2.0.1/B/01\"", "id = \"2.0.1/B/x01\"");
    let e = load_texts([("a.toml", GOOD), ("b.toml", other.as_str())]).unwrap_err();
    assert!(
        e[0].key == "oca.id" && e[0].message.contains("one case per OCA case"),
        "{}",
        e[0]
    );
}

#[test]
fn rearm_on_is_parsed_like_forbid_without_until() {
    let rearm =
        "[[rearm_on]]\nfrom = \"charger\"\ncall = \"TransactionEvent\"\nreason = \"ended\"\n";
    let c = parse_case(&format!("{GOOD}{rearm}"), "x.toml").unwrap();
    assert_eq!(c.rearm_on.len(), 1);
    assert!(c.forbid.is_empty());
    assert_eq!(c.rearm_on[0].action.as_deref(), Some("TransactionEvent"));
    let e = parse_case(&format!("{GOOD}{rearm}until = \"x\"\n"), "x.toml").unwrap_err();
    assert_eq!(e.key, "rearm_on[0].until", "{e}");
    let wrong = rearm.replace("\"charger\"", "\"csms\"");
    let e = parse_case(&format!("{GOOD}{wrong}"), "x.toml").unwrap_err();
    assert_eq!(e.key, "rearm_on[0]", "{e}");
}

#[test]
fn unless_after_var_and_until_are_checked() {
    let steps = |extra: &str| {
        format!(
            "{GOOD}[[steps]]\nname = \"A\"\nfrom = \"charger\"\ncall = \"StatusNotification\"\noptional = true\n[[steps]]\nname = \"B\"\nfrom = \"charger\"\ncall = \"NotifyEvent\"\n{extra}\n"
        )
    };
    let c = parse_case(&steps("unless = \"A\"\nafter_var = \"hb\""), "x.toml").unwrap();
    assert_eq!(c.steps[3].unless, Some(2));
    assert_eq!(c.steps[3].after_var.as_deref(), Some("hb"));
    let e = parse_case(&steps("unless = \"Z\""), "x.toml").unwrap_err();
    assert_eq!(e.key, "steps[3].unless", "{e}");
    let e = parse_case(&steps("unless = \"B\""), "x.toml").unwrap_err();
    assert_eq!(e.key, "steps[3].unless", "{e}");
    let e = parse_case(
        &steps("unless = \"A\"").replace("optional = true\n", ""),
        "x.toml",
    )
    .unwrap_err();
    assert!(e.message.contains("required anyway"), "{e}");
    let e = parse_case(&steps("after_var = \"nope\""), "x.toml").unwrap_err();
    assert_eq!(e.key, "steps[3].after_var", "{e}");
    let until = format!(
        "{GOOD}[[forbid]]\nfrom = \"charger\"\nany_call = true\nuntil = \"nope\"\nreason = \"r\"\n"
    );
    assert_eq!(
        parse_case(&until, "x.toml").unwrap_err().key,
        "forbid[0].until"
    );
    let e = parse_case(
        &GOOD
            .replace("dut = \"charger\"", "dut = \"charger\"\ntrigger = 2\n")
            .replace("match = { status", "optional = true\nmatch = { status"),
        "x.toml",
    )
    .unwrap_err();
    assert!(e.message.contains("last trigger step"), "{e}");
}

#[test]
fn duplicate_ids_are_refused() {
    let e = load_texts([("a.toml", GOOD), ("b.toml", GOOD)]).unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(e[0].message.contains("a.toml"), "{}", e[0]);
}

#[test]
fn an_inject_step_is_a_csms_call_with_checked_variables() {
    let with = |step: &str| format!("{GOOD}[[steps]]\n{step}\n",);
    let c = parse_case(
            &with(r#"inject = { action = "TriggerMessage", payload = { requestedMessage = "Heartbeat", evse = { id = "$hb" } } }"#),
            "x.toml",
        )
        .unwrap();
    let s = &c.steps[2];
    assert_eq!(
        (s.from, s.kind, s.action.as_str()),
        (Side::Csms, StepKind::Call, "TriggerMessage")
    );
    assert_eq!(
        s.inject,
        Some(serde_json::json!({"requestedMessage": "Heartbeat", "evse": {"id": "$hb"}}))
    );
    for (step, key, needle) in [
        (
            r#"inject = { action = "TriggerMessage", payload = { x = "$nope" } }"#,
            "steps[2].inject.payload",
            "`nope`",
        ),
        (
            r#"inject = { action = "BootNotification" }"#,
            "steps[2]",
            "does not send",
        ),
        (
            r#"inject = { action = "Reset" }
from = "csms""#,
            "steps[2].inject",
            "takes no `from`",
        ),
        (
            r#"inject = { action = "Reset" }
optional = true"#,
            "steps[2].inject",
            "cannot be `optional`",
        ),
    ] {
        let e = parse_case(&with(step), "x.toml").unwrap_err();
        assert_eq!(e.key, key, "{e}");
        assert!(e.message.contains(needle), "{e}");
    }
    let csms = with(r#"inject = { action = "Reset" }"#)
        .replace("dut = \"charger\"", "dut = \"csms\"")
        .replace("TC_B_01_CS\"", "TC_B_01_CSMS\"");
    assert!(
        parse_case(&csms, "x.toml")
            .unwrap_err()
            .message
            .contains("only for `dut = \"charger\"`")
    );
    let first = GOOD.replace(
        "from = \"charger\"\ncall = \"BootNotification\"",
        "inject = { action = \"Reset\" }",
    );
    assert!(
        parse_case(&first, "x.toml")
            .unwrap_err()
            .message
            .contains("cannot be the first step")
    );
}

#[test]
fn after_s_is_checked_on_load() {
    let c = parse_case(
        &GOOD.replace(
            "result = \"BootNotification\"",
            "result = \"BootNotification\"\nafter_s = 0.5\nwithin_s = 5",
        ),
        "x.toml",
    )
    .unwrap();
    assert_eq!(c.steps[1].after_s, Some(0.5));
    assert_eq!(c.steps[0].after_s, None);
    for (edit, needle) in [
        ("after_s = -1", "positive number of seconds, got -1"),
        ("after_s = 5\nwithin_s = 5", "less than within_s (5), got 5"),
    ] {
        let bad = GOOD.replace(
            "result = \"BootNotification\"",
            &format!("result = \"BootNotification\"\n{edit}"),
        );
        let e = parse_case(&bad, "x.toml").unwrap_err();
        assert_eq!(e.key, "steps[1].after_s", "{e}");
        assert!(e.message.contains(needle), "{e}");
    }
    let first = GOOD.replace(
        "call = \"BootNotification\"",
        "call = \"BootNotification\"\nafter_s = 3",
    );
    let e = parse_case(&first, "x.toml").unwrap_err();
    assert_eq!(e.key, "steps[0].after_s", "{e}");
    assert!(e.message.contains("no previous step"), "{e}");
    let inject = format!(
        "{GOOD}[[steps]]\ninject = {{ action = \"Reset\", payload = {{ type = \"Immediate\" }} }}\nafter_s = 3\n"
    );
    let e = parse_case(&inject, "x.toml").unwrap_err();
    assert_eq!(e.key, "steps[2].after_s", "{e}");
}
