//! GetVariables / SetVariables: each result paired with its request ([`pair`]), and what the
//! answers say about the variables.

use super::*;

pub(super) fn describe(entry: Json<'_>) -> String {
    let k = cv_key(entry);
    let mut s = String::new();
    s.push_str(k.comp.unwrap_or("?"));
    if let Some(i) = k.comp_inst {
        s.push('[');
        s.push_str(i);
        s.push(']');
    }
    if let Some(e) = k.evse {
        s.push_str(&format!("@evse{e}"));
        if let Some(c) = k.connector {
            s.push_str(&format!(":{c}"));
        }
    }
    s.push('.');
    s.push_str(k.var.unwrap_or("?"));
    if let Some(i) = k.var_inst {
        s.push('[');
        s.push_str(i);
        s.push(']');
    }
    s
}

pub(super) fn list(items: &[String]) -> String {
    let mut s = items.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > 3 {
        s.push_str(&format!(" and {} more", items.len() - 3));
    }
    s
}

/// The count, pairing and attributeType checks shared by GetVariables and SetVariables.
pub(super) fn check_pairing(
    ctx: &mut Ctx<'_>,
    action: &str,
    requests: Array<'_>,
    results: Array<'_>,
    rules: [&'static Rule; 3],
) -> Option<Pairing> {
    let [count_rule, unmatched_rule, type_rule] = rules;
    if requests.len() != results.len() {
        ctx.report(
            count_rule,
            format!(
                "the {action} request had {} entries; the response has {} result{}",
                requests.len(),
                results.len(),
                if results.len() == 1 { "" } else { "s" }
            ),
        );
    }
    if requests.len() > MAX_PAIRED || results.len() > MAX_PAIRED {
        return None;
    }
    let p = pair(requests, results);
    if !p.unmatched_results.is_empty() || !p.unanswered_requests.is_empty() {
        let extra: Vec<String> = p
            .unmatched_results
            .iter()
            .map(|&i| results.get(i).map(describe).unwrap_or_default())
            .collect();
        let missing: Vec<String> = p
            .unanswered_requests
            .iter()
            .map(|&i| requests.get(i).map(describe).unwrap_or_default())
            .collect();
        let mut msg = String::new();
        if !extra.is_empty() {
            msg.push_str(&format!(
                "result(s) for {} that were not requested",
                list(&extra)
            ));
        }
        if !missing.is_empty() {
            if !msg.is_empty() {
                msg.push_str("; ");
            }
            msg.push_str(&format!("no result for requested {}", list(&missing)));
        }
        ctx.report(unmatched_rule, msg);
    }
    if !p.other_type.is_empty() {
        let items: Vec<String> = p
            .other_type
            .iter()
            .map(|&(q, r)| {
                format!(
                    "{} (requested {}, answered {})",
                    describe(requests.get(q).unwrap_or(Json::null())),
                    attr_type(requests.get(q).unwrap_or(Json::null())),
                    attr_type(results.get(r).unwrap_or(Json::null()))
                )
            })
            .collect();
        ctx.report(
            type_rule,
            format!(
                "attributeType differs from the request for {}",
                list(&items)
            ),
        );
    }
    Some(p)
}

pub(super) fn get_variables_reply(ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let Some(result) = reply.result() else { return };
    let requests = arr_of(reply.request, "getVariableData");
    let results = arr_of(result, "getVariableResult");
    check_pairing(
        ctx,
        "GetVariables",
        requests,
        results,
        [
            &GET_VARIABLES_COUNT_MISMATCH,
            &GET_VARIABLES_UNMATCHED_RESULT,
            &GET_VARIABLES_ATTRIBUTE_TYPE,
        ],
    );
    let mut on_failure = Vec::new();
    let mut missing = Vec::new();
    for r in results {
        let status = str_of(r, "attributeStatus").unwrap_or("");
        let value = str_of(r, "attributeValue");
        match (status, value) {
            ("UnknownComponent" | "UnknownVariable" | "NotSupportedAttributeType", Some(_)) => {
                on_failure.push(format!("{} ({status})", describe(r)));
            }
            ("Accepted", None) => missing.push(describe(r)),
            _ => {}
        }
        auth::secrets::check_variable_result(ctx, r);
    }
    if !on_failure.is_empty() {
        ctx.report(
            &GET_VARIABLES_VALUE_ON_FAILURE,
            format!(
                "attributeValue given with a failure status for {}",
                list(&on_failure)
            ),
        );
    }
    if !missing.is_empty() {
        ctx.report(
            &GET_VARIABLES_VALUE_MISSING,
            format!(
                "Accepted without attributeValue for {} (an unset value is answered with \"\")",
                list(&missing)
            ),
        );
    }
}

pub(super) fn set_variables_reply(ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let Some(result) = reply.result() else { return };
    let requests = arr_of(reply.request, "setVariableData");
    let results = arr_of(result, "setVariableResult");
    check_pairing(
        ctx,
        "SetVariables",
        requests,
        results,
        [
            &SET_VARIABLES_COUNT_MISMATCH,
            &SET_VARIABLES_UNMATCHED_RESULT,
            &SET_VARIABLES_ATTRIBUTE_TYPE,
        ],
    );
}
