//! A table ARN where a request takes a TableName: DynamoDB accepts
//! `arn:<partition>:dynamodb:<region>:<account>:table/<name>` in every TableName but
//! CreateTable's, in BatchGetItem/BatchWriteItem `RequestItems` keys and in each
//! TransactItems element. An ARN of this engine's region and account is replaced by the
//! table's name before the operation runs (answers then carry the name); anything else —
//! an index or stream ARN, another region or account, a malformed ARN — is left as
//! written and meets the TableName pattern check (ValidationException) **[G]**.

use serde_json::{Map, Value};

use crate::wire::Operation;

/// The table name an ARN of `region` and `account` names, if it is one.
pub fn name_of<'a>(arn: &'a str, region: &str, account: &str) -> Option<&'a str> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let (partition, service, r, a, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let name = resource.strip_prefix("table/")?;
    (!partition.is_empty()
        && service == "dynamodb"
        && r == region
        && a == account
        && !name.is_empty()
        && !name.contains('/'))
    .then_some(name)
}

/// Replaces the table ARNs of this region and account in `req` by table names.
pub fn resolve(op: Operation, req: &mut Map<String, Value>, region: &str, account: &str) {
    let rename = |v: &mut Value| {
        if let Some(name) = v
            .as_str()
            .and_then(|s| name_of(s, region, account))
            .map(str::to_string)
        {
            *v = Value::String(name);
        }
    };
    match op {
        Operation::CreateTable => {}
        Operation::BatchGetItem | Operation::BatchWriteItem => {
            let Some(Value::Object(items)) = req.get_mut("RequestItems") else {
                return;
            };
            let arns: Vec<(String, String)> = items
                .keys()
                .filter_map(|k| Some((k.clone(), name_of(k, region, account)?.to_string())))
                .collect();
            for (arn, name) in arns {
                // The name and its ARN both given: left as written (the ARN fails the
                // name check) rather than one silently replacing the other.
                if items.contains_key(&name) {
                    continue;
                }
                if let Some(v) = items.remove(&arn) {
                    items.insert(name, v);
                }
            }
        }
        Operation::TransactGetItems | Operation::TransactWriteItems => {
            let Some(Value::Array(list)) = req.get_mut("TransactItems") else {
                return;
            };
            for element in list.iter_mut().filter_map(Value::as_object_mut) {
                for action in element.values_mut().filter_map(Value::as_object_mut) {
                    if let Some(t) = action.get_mut("TableName") {
                        rename(t);
                    }
                }
            }
        }
        _ => {
            if let Some(t) = req.get_mut("TableName") {
                rename(t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const R: &str = "us-east-1";
    const A: &str = "000000000000";

    #[test]
    fn only_table_arns_of_this_region_and_account_are_names() {
        let ok = "arn:aws:dynamodb:us-east-1:000000000000:table/Music";
        assert_eq!(name_of(ok, R, A), Some("Music"));
        for bad in [
            "Music",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/index/ByYear",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/2024",
            "arn:aws:dynamodb:eu-west-1:000000000000:table/Music",
            "arn:aws:dynamodb:us-east-1:111111111111:table/Music",
            "arn:aws:s3:us-east-1:000000000000:table/Music",
            "arn:aws:dynamodb:us-east-1:000000000000:table/",
            "arn::dynamodb:us-east-1:000000000000:table/Music",
            "arn:aws:dynamodb:us-east-1:000000000000:backup/Music",
        ] {
            assert_eq!(name_of(bad, R, A), None, "{bad}");
        }
    }

    #[test]
    fn every_table_name_of_a_request_is_resolved() {
        let arn = |t: &str| format!("arn:aws:dynamodb:us-east-1:000000000000:table/{t}");
        let mut get = json!({"TableName": arn("T"), "Key": {}});
        resolve(Operation::GetItem, get.as_object_mut().unwrap(), R, A);
        assert_eq!(get["TableName"], "T");
        let mut create = json!({"TableName": arn("T")});
        resolve(
            Operation::CreateTable,
            create.as_object_mut().unwrap(),
            R,
            A,
        );
        assert_eq!(
            create["TableName"],
            arn("T"),
            "CreateTable takes a name only"
        );
        let mut batch = json!({"RequestItems": {arn("A"): {"Keys": []}, "B": {"Keys": []}, arn("B"): {"Keys": [1]}}});
        resolve(
            Operation::BatchGetItem,
            batch.as_object_mut().unwrap(),
            R,
            A,
        );
        let items = batch["RequestItems"].as_object().unwrap();
        assert!(items.contains_key("A") && items.contains_key("B"));
        assert!(
            items.contains_key(&arn("B")),
            "a name given twice is left as written"
        );
        let mut tx = json!({"TransactItems": [{"Put": {"TableName": arn("A")}}, {"ConditionCheck": {"TableName": arn("C")}}]});
        resolve(
            Operation::TransactWriteItems,
            tx.as_object_mut().unwrap(),
            R,
            A,
        );
        assert_eq!(tx["TransactItems"][0]["Put"]["TableName"], "A");
        assert_eq!(tx["TransactItems"][1]["ConditionCheck"]["TableName"], "C");
    }
}
