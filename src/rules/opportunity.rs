//! Opportunity rules: the probability a stage implies, the lost reason, the close time, and
//! the history of the stages entered (for funnel conversion and cycle-time reports).

use super::{Change, Lookup};
use crate::error::{Error, Result};
use crate::schema::Value;
use crate::schema::record::{Draft, Stored};

/// Each stage's default probability, in funnel order.
const PROBABILITY: &[(&str, i64)] = &[
    ("prospecting", 10),
    ("qualification", 20),
    ("proposal", 50),
    ("negotiation", 70),
    ("won", 100),
    ("lost", 0),
];

/// The probability a stage implies.
pub fn probability_of(stage: &str) -> i64 {
    PROBABILITY
        .iter()
        .find(|(s, _)| *s == stage)
        .map_or(0, |(_, p)| *p)
}

fn is_closed(stage: &str) -> bool {
    matches!(stage, "won" | "lost")
}

/// The probability follows the stage when none is given, or when the stage changes and the
/// probability was left as it was (an edit cannot tell "given the same value" from "not
/// given", so an unchanged probability counts as not given). A won or lost deal's
/// probability is a fact (100 or 0), not an estimate.
pub fn apply(d: &mut Draft, old: Option<&Stored>) -> Result<()> {
    let Some(stage) = d.text("stage").map(str::to_string) else {
        return Ok(()); // the required-field check names it
    };
    let old_stage = old.and_then(|o| o.draft.text("stage"));
    let stage_changed = old_stage != Some(stage.as_str());
    let implied = probability_of(&stage);
    let prob = d.int("probability");
    let prob_kept = old.is_some_and(|o| o.draft.int("probability") == prob);
    if prob.is_none() || (stage_changed && prob_kept) {
        d.set("probability", Value::Integer(implied));
    }
    if is_closed(&stage) && d.int("probability") != Some(implied) {
        return Err(Error::invalid(format!(
            "a {stage} opportunity has probability {implied}, not {}",
            d.int("probability").unwrap_or_default()
        ))
        .hint(format!("pass --probability {implied} or leave it out")));
    }
    if stage == "lost" && super::blank(d.get("lost_reason")) {
        return Err(
            Error::invalid("opportunity lost_reason is required when the stage is lost")
                .hint("pass --lost-reason TEXT (丢单原因)"),
        );
    }
    // A new record's close time is kept when it has one: only a historical import
    // (`--keep-times`) can give it, the field being read-only everywhere else.
    if !is_closed(&stage) {
        d.set("closed_at", Value::Null);
    } else if (stage_changed && old.is_some()) || d.int("closed_at").is_none() {
        d.set("closed_at", Value::Integer(crate::clock::now()));
    }
    Ok(())
}

/// A stage-history row when the opportunity is new or its stage differs from the last one
/// recorded (comparing with the history itself needs no old record, and a rolled-back write
/// takes its row with it).
pub fn record_stage(
    look: &dyn Lookup,
    d: &Draft,
    _old: Option<&Draft>,
    id: i64,
) -> Result<Vec<Change>> {
    let Some(stage) = d.text("stage") else {
        return Ok(Vec::new());
    };
    let last = look.last_stage(id)?;
    if last.as_deref() == Some(stage) {
        return Ok(Vec::new());
    }
    // A new opportunity entered its stage when it was closed, else when it was created:
    // the import's time for ordinary records, the file's for a historical import.
    let at = match (&last, d.int("closed_at")) {
        (None, Some(closed)) => closed,
        (None, None) => look
            .get(d.entity, id)?
            .map_or_else(crate::clock::now, |s| s.created_at),
        (Some(_), _) => crate::clock::now(),
    };
    Ok(vec![Change::EnterStage {
        opportunity: id,
        stage: stage.to_string(),
        at,
    }])
}
