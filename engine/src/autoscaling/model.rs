//! The state of Application Auto Scaling: scalable targets, target-tracking policies and
//! scaling activities, as stored in the data file (one JSON document) and as the API
//! answers them (epoch-second timestamps, AWS's member names).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Read or write capacity of a table or of one of its GSIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dimension {
    TableRead,
    TableWrite,
    IndexRead,
    IndexWrite,
}

impl Dimension {
    pub fn parse(s: &str) -> Option<Dimension> {
        Some(match s {
            "dynamodb:table:ReadCapacityUnits" => Dimension::TableRead,
            "dynamodb:table:WriteCapacityUnits" => Dimension::TableWrite,
            "dynamodb:index:ReadCapacityUnits" => Dimension::IndexRead,
            "dynamodb:index:WriteCapacityUnits" => Dimension::IndexWrite,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::TableRead => "dynamodb:table:ReadCapacityUnits",
            Dimension::TableWrite => "dynamodb:table:WriteCapacityUnits",
            Dimension::IndexRead => "dynamodb:index:ReadCapacityUnits",
            Dimension::IndexWrite => "dynamodb:index:WriteCapacityUnits",
        }
    }

    pub fn is_read(self) -> bool {
        matches!(self, Dimension::TableRead | Dimension::IndexRead)
    }

    pub fn is_index(self) -> bool {
        matches!(self, Dimension::IndexRead | Dimension::IndexWrite)
    }

    /// "read" / "write", as the activity texts say it.
    pub fn word(self) -> &'static str {
        if self.is_read() {
            "read"
        } else {
            "write"
        }
    }

    /// The predefined metric that tracks this dimension.
    pub fn metric(self) -> &'static str {
        if self.is_read() {
            "DynamoDBReadCapacityUtilization"
        } else {
            "DynamoDBWriteCapacityUtilization"
        }
    }
}

/// A scalable target: one dimension of one table or GSI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub resource_id: String,
    pub dimension: Dimension,
    /// The table, and the GSI for an index dimension.
    pub table: String,
    pub index: Option<String>,
    pub min: i64,
    pub max: i64,
    pub role_arn: String,
    pub arn: String,
    pub created_ms: i64,
    pub scale_in_suspended: bool,
    pub scale_out_suspended: bool,
    pub scheduled_suspended: bool,
    /// The last minute the scaler evaluated (minute index on the engine clock).
    pub evaluated_minute: Option<i64>,
    /// When the last scale-out / scale-in activity ended (cooldowns).
    pub last_out_ms: Option<i64>,
    pub last_in_ms: Option<i64>,
    /// Consecutive minutes above the target / below the target minus 20 points.
    pub high_streak: u32,
    pub low_streak: u32,
}

impl Target {
    pub fn key_matches(&self, resource_id: &str, dimension: Dimension) -> bool {
        self.resource_id == resource_id && self.dimension == dimension
    }

    pub fn to_json(&self) -> Value {
        json!({
            "ServiceNamespace": "dynamodb",
            "ResourceId": self.resource_id,
            "ScalableDimension": self.dimension.as_str(),
            "MinCapacity": self.min,
            "MaxCapacity": self.max,
            "RoleARN": self.role_arn,
            "CreationTime": secs(self.created_ms),
            "SuspendedState": {
                "DynamicScalingInSuspended": self.scale_in_suspended,
                "DynamicScalingOutSuspended": self.scale_out_suspended,
                "ScheduledScalingSuspended": self.scheduled_suspended,
            },
            "ScalableTargetARN": self.arn,
        })
    }
}

/// A TargetTrackingScaling policy on a predefined DynamoDB utilization metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub name: String,
    pub resource_id: String,
    pub dimension: Dimension,
    pub arn: String,
    /// The uuid of the policy's alarms' names.
    pub alarm_id: String,
    pub target_value: f64,
    pub metric: String,
    pub resource_label: Option<String>,
    pub scale_out_cooldown_s: i64,
    pub scale_in_cooldown_s: i64,
    pub disable_scale_in: bool,
    pub created_ms: i64,
}

impl Policy {
    /// `TargetTracking-table/T-AlarmHigh-<uuid>` and the other three alarm names.
    pub fn alarm_name(&self, kind: &str) -> String {
        format!(
            "TargetTracking-{}-{kind}-{}",
            self.resource_id, self.alarm_id
        )
    }

    pub fn alarms(&self, region: &str, account: &str) -> Value {
        let list: Vec<Value> = [
            "AlarmHigh",
            "AlarmLow",
            "ProvisionedCapacityHigh",
            "ProvisionedCapacityLow",
        ]
        .iter()
        .map(|k| {
            let name = self.alarm_name(k);
            json!({
                "AlarmName": name,
                "AlarmARN": format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}"),
            })
        })
        .collect();
        Value::Array(list)
    }

    pub fn to_json(&self, region: &str, account: &str) -> Value {
        let mut metric = json!({"PredefinedMetricType": self.metric});
        if let Some(l) = &self.resource_label {
            metric["ResourceLabel"] = json!(l);
        }
        json!({
            "PolicyARN": self.arn,
            "PolicyName": self.name,
            "ServiceNamespace": "dynamodb",
            "ResourceId": self.resource_id,
            "ScalableDimension": self.dimension.as_str(),
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": self.target_value,
                "PredefinedMetricSpecification": metric,
                "ScaleOutCooldown": self.scale_out_cooldown_s,
                "ScaleInCooldown": self.scale_in_cooldown_s,
                "DisableScaleIn": self.disable_scale_in,
            },
            "Alarms": self.alarms(region, account),
            "CreationTime": secs(self.created_ms),
        })
    }
}

/// One scaling activity (AWS's StatusCode: Successful or Failed here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: String,
    pub resource_id: String,
    pub dimension: Dimension,
    pub description: String,
    pub cause: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub status: String,
    pub message: String,
}

impl Activity {
    pub fn to_json(&self) -> Value {
        json!({
            "ActivityId": self.id,
            "ServiceNamespace": "dynamodb",
            "ResourceId": self.resource_id,
            "ScalableDimension": self.dimension.as_str(),
            "Description": self.description,
            "Cause": self.cause,
            "StartTime": secs(self.start_ms),
            "EndTime": secs(self.end_ms),
            "StatusCode": self.status,
            "StatusMessage": self.message,
        })
    }
}

/// Everything Application Auto Scaling keeps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub targets: Vec<Target>,
    pub policies: Vec<Policy>,
    /// Oldest first, at most [`MAX_ACTIVITIES`].
    pub activities: Vec<Activity>,
}

/// Activities kept (oldest dropped first); AWS keeps six weeks of them.
pub const MAX_ACTIVITIES: usize = 1_000;

impl State {
    pub fn target(&self, resource_id: &str, dimension: Dimension) -> Option<&Target> {
        self.targets
            .iter()
            .find(|t| t.key_matches(resource_id, dimension))
    }

    pub fn target_mut(&mut self, resource_id: &str, dimension: Dimension) -> Option<&mut Target> {
        self.targets
            .iter_mut()
            .find(|t| t.key_matches(resource_id, dimension))
    }

    pub fn record(&mut self, a: Activity) {
        self.activities.push(a);
        if self.activities.len() > MAX_ACTIVITIES {
            let extra = self.activities.len() - MAX_ACTIVITIES;
            self.activities.drain(..extra);
        }
    }
}

/// Epoch seconds, as JSON 1.1 timestamps are sent.
pub fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}
