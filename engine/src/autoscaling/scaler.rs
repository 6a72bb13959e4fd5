//! The target-tracking scaler (CAPACITY.md §4), run by the background tick and before
//! the Describe calls answer, over every minute of the engine clock completed since the
//! last run. For each target with a policy, per minute, utilization = consumed units /
//! (provisioned × minute length in s):
//!
//! - above the target value for 2 consecutive minutes (the AlarmHigh alarm: Sum over
//!   60 s > target% × provisioned × 60, 2 evaluation periods) → scale out;
//! - below the target minus 20 points for 15 consecutive minutes (AlarmLow) → scale in,
//!   unless DisableScaleIn or scale-in is suspended;
//! - the new value is ceil(consumed per second / target%) over those minutes, clamped
//!   to [Min, Max]; cooldowns count from the last activity of the same direction;
//! - each change is an UpdateTable (so scale-in spends the decrease budget) recorded
//!   as a ScalingActivity, Successful or Failed with UpdateTable's error message.

use serde_json::{json, Map, Value};

use super::model::{Activity, Dimension, Policy, Target};
use crate::capacity::Axis;
use crate::catalog::{BillingMode, TableDef};
use crate::ctx::Ctx;
use crate::wire::ApiResult;

/// Minutes above the target before scaling out.
pub const HIGH_MINUTES: u32 = 2;
/// Minutes below the target minus [`LOW_MARGIN`] before scaling in.
pub const LOW_MINUTES: u32 = 15;
/// Points below the target value of the scale-in alarm.
pub const LOW_MARGIN: f64 = 20.0;
/// At most this many minutes are replayed in one run (a longer gap is idle time: only
/// its last minutes can change a decision).
const MAX_REPLAY: i64 = 2 * LOW_MINUTES as i64;

/// The provisioned value of `dim` on the table or its GSI `index` (None: no such
/// index, or an index dimension without an index).
pub fn provisioned(def: &TableDef, index: Option<&str>, dim: Dimension) -> Option<i64> {
    let t = match index {
        None if !dim.is_index() => &def.throughput,
        Some(i) if dim.is_index() => def.gsis.iter().find(|g| g.name == i)?.throughput.as_ref()?,
        _ => return None,
    };
    Some(if dim.is_read() { t.read } else { t.write })
}

/// What one minute's evaluation decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub to: i64,
    pub out: bool,
}

/// ceil(consumed per second / target%), with a guard against float noise.
pub fn desired(per_s: f64, target_value: f64) -> i64 {
    let raw = per_s / (target_value / 100.0);
    (raw - 1e-9).ceil().max(0.0) as i64
}

/// Runs the scaler up to the clock's last completed minute.
pub async fn catch_up(ctx: &Ctx) -> ApiResult<usize> {
    if !ctx.autoscaling.is_active() {
        return Ok(0);
    }
    let _turn = ctx.autoscaling.turn().await;
    let series = &ctx.meter.series;
    let minute_ms = series.minute_ms();
    let last_done = series.minute_of(ctx.now_ms()) - 1;
    let state = ctx.autoscaling.snapshot();
    let mut changes = 0;
    for t in &state.targets {
        let policies: Vec<&Policy> = state
            .policies
            .iter()
            .filter(|p| p.resource_id == t.resource_id && p.dimension == t.dimension)
            .collect();
        let first = t
            .evaluated_minute
            .map(|m| m + 1)
            .unwrap_or_else(|| series.minute_of(t.created_ms));
        if first > last_done {
            continue;
        }
        let mut t = t.clone();
        let from = first.max(last_done - MAX_REPLAY + 1);
        if from > first {
            // Skipped minutes were idle: they keep a low streak going, end a high one.
            t.high_streak = 0;
            t.low_streak = t.low_streak.saturating_add((from - first) as u32);
        }
        for minute in from..=last_done {
            let end_ms = (minute + 1) * minute_ms;
            if let Some(d) = evaluate(ctx, &mut t, &policies, minute, end_ms).await? {
                changes += 1;
                let (rid, dim) = (t.resource_id.clone(), t.dimension);
                let cause = cause_of(&policies, &d);
                apply(ctx, &rid, dim, d.to, cause, Some(end_ms)).await?;
                t.high_streak = 0;
                t.low_streak = 0;
                if d.out {
                    t.last_out_ms = Some(end_ms);
                } else {
                    t.last_in_ms = Some(end_ms);
                }
            }
            t.evaluated_minute = Some(minute);
        }
        ctx.autoscaling
            .change(&ctx.store, |s| {
                if let Some(cur) = s.target_mut(&t.resource_id, t.dimension) {
                    cur.evaluated_minute = t.evaluated_minute;
                    cur.high_streak = t.high_streak;
                    cur.low_streak = t.low_streak;
                    cur.last_out_ms = t.last_out_ms;
                    cur.last_in_ms = t.last_in_ms;
                }
                Ok(())
            })
            .await?;
    }
    Ok(changes)
}

fn cause_of(policies: &[&Policy], d: &Decision) -> String {
    let kind = if d.out { "AlarmHigh" } else { "AlarmLow" };
    match policies.first() {
        Some(p) => format!(
            "monitor alarm {} in state ALARM triggered policy {}",
            p.alarm_name(kind),
            p.name
        ),
        None => "monitor alarm in state ALARM".to_string(),
    }
}

/// One minute of one target: updates its streaks and answers a change to make.
async fn evaluate(
    ctx: &Ctx,
    t: &mut Target,
    policies: &[&Policy],
    minute: i64,
    end_ms: i64,
) -> ApiResult<Option<Decision>> {
    if policies.is_empty() {
        return Ok(None);
    }
    let def = {
        let txn = ctx.store.read()?;
        ctx.visible_table(&txn, &t.table, ctx.now_ms())?
    };
    let Some(def) = def.filter(|d| d.billing == BillingMode::Provisioned) else {
        return Ok(None);
    };
    let Some(current) = provisioned(&def, t.index.as_deref(), t.dimension) else {
        return Ok(None);
    };
    let series = &ctx.meter.series;
    let axis = if t.dimension.is_read() {
        Axis::Read
    } else {
        Axis::Write
    };
    let secs = series.minute_ms() as f64 / 1000.0;
    let per_s = |m: i64| series.consumed(&t.table, t.index.as_deref(), axis, m) / secs;
    let now_per_s = per_s(minute);
    let util = if current > 0 {
        now_per_s / current as f64 * 100.0
    } else {
        f64::INFINITY
    };
    // The strictest policy decides each alarm (AWS: the largest capacity wins).
    let high = policies.iter().any(|p| util > p.target_value);
    let low = policies
        .iter()
        .all(|p| util < p.target_value - LOW_MARGIN && !p.disable_scale_in);
    t.high_streak = if high { t.high_streak + 1 } else { 0 };
    t.low_streak = if low { t.low_streak + 1 } else { 0 };
    let mean = |n: u32| (0..n as i64).map(|k| per_s(minute - k)).sum::<f64>() / n as f64;
    let want = |n: u32| {
        let avg = mean(n);
        policies
            .iter()
            .map(|p| desired(avg, p.target_value))
            .max()
            .unwrap_or(current)
            .clamp(t.min, t.max)
    };
    let cooled = |last: Option<i64>, secs: i64| {
        last.is_none_or(|l| end_ms - l >= secs * series.minute_ms() / 60)
    };
    let out_cd = policies
        .iter()
        .map(|p| p.scale_out_cooldown_s)
        .max()
        .unwrap_or(0);
    let in_cd = policies
        .iter()
        .map(|p| p.scale_in_cooldown_s)
        .max()
        .unwrap_or(0);
    if t.high_streak >= HIGH_MINUTES && !t.scale_out_suspended && cooled(t.last_out_ms, out_cd) {
        let to = want(HIGH_MINUTES);
        if to > current {
            return Ok(Some(Decision { to, out: true }));
        }
    }
    if t.low_streak >= LOW_MINUTES && !t.scale_in_suspended && cooled(t.last_in_ms, in_cd) {
        let to = want(LOW_MINUTES);
        if to < current {
            return Ok(Some(Decision { to, out: false }));
        }
    }
    Ok(None)
}

/// Sets the dimension to `to` through UpdateTable and records the activity (at `at_ms`,
/// or now).
pub async fn apply(
    ctx: &Ctx,
    resource_id: &str,
    dim: Dimension,
    to: i64,
    cause: String,
    at_ms: Option<i64>,
) -> ApiResult<()> {
    let start = at_ms.unwrap_or_else(|| ctx.now_ms());
    let state = ctx.autoscaling.snapshot();
    let Some(t) = state.target(resource_id, dim) else {
        return Ok(());
    };
    let def = {
        let txn = ctx.store.read()?;
        ctx.visible_table(&txn, &t.table, ctx.now_ms())?
    };
    let word = dim.word();
    let outcome = match def {
        None => Err(format!("Table {} does not exist", t.table)),
        Some(def) => {
            let body = update_body(&def, t.index.as_deref(), dim, to);
            crate::api::table::update_table(ctx, &body)
                .await
                .map(|_| ())
                .map_err(|e| e.message().unwrap_or(e.code().name()).to_string())
        }
    };
    let (status, message) = match outcome {
        Ok(()) => (
            "Successful",
            format!(
                "Successfully set {word} capacity units to {to}. Change successfully fulfilled by dynamodb."
            ),
        ),
        Err(m) => ("Failed", format!("Failed to set {word} capacity units to {to}. Reason: {m}")),
    };
    let activity = Activity {
        id: uuid::Uuid::new_v4().to_string(),
        resource_id: resource_id.to_string(),
        dimension: dim,
        description: format!("Setting {word} capacity units to {to}."),
        cause,
        start_ms: start,
        end_ms: start.max(ctx.now_ms()),
        status: status.to_string(),
        message,
    };
    ctx.autoscaling
        .change(&ctx.store, |s| {
            s.record(activity);
            Ok(())
        })
        .await
}

/// UpdateTable's request setting `dim` to `to`, the other axis unchanged.
fn update_body(def: &TableDef, index: Option<&str>, dim: Dimension, to: i64) -> Map<String, Value> {
    let (r, w) = crate::capacity::series::provisioned(def, index);
    let (r, w) = if dim.is_read() { (to, w) } else { (r, to) };
    let pt = json!({"ReadCapacityUnits": r, "WriteCapacityUnits": w});
    let body = match index {
        None => json!({"TableName": def.name, "ProvisionedThroughput": pt}),
        Some(i) => json!({
            "TableName": def.name,
            "GlobalSecondaryIndexUpdates": [{"Update": {"IndexName": i, "ProvisionedThroughput": pt}}],
        }),
    };
    match body {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desired_capacity_as_the_developer_guide_computes_it() {
        // 90 units/s at 70 % → 129 (CAPACITY.md test 18).
        assert_eq!(desired(90.0, 70.0), 129);
        // Exactly on target stays (no float noise: 70 / 0.7 = 100).
        assert_eq!(desired(70.0, 70.0), 100);
        assert_eq!(desired(0.0, 70.0), 0);
        // The DG's example: 150 consumed at 70 % → 215.
        assert_eq!(desired(150.0, 70.0), 215);
    }
}
