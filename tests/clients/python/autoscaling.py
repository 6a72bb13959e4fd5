"""Application Auto Scaling through boto3 (tests/tests/autoscaling.rs), in two phases
around a restart of the server on the same data directory.

    autoscaling.py before|after ENDPOINT TABLE

before: create a 5/5 provisioned table; RegisterScalableTarget (read, Min 10 raises the
table at once; write, Max 3 lowers it, spending one decrease), DescribeScalableTargets,
PutScalingPolicy, DescribeScalingPolicies, DescribeScalingActivities, and the refusals
(unsupported dimension, unknown namespace, missing target) with AWS's codes and messages.
after: the same targets, policy, activities and decrease counter are still there; then
DeleteScalingPolicy and DeregisterScalableTarget, and their ObjectNotFoundException.
Any difference raises; success prints one JSON line.
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError

UNSUPPORTED = "Unsupported service namespace, resource type or scalable dimension"


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def clients(endpoint):
    session = boto3.session.Session(
        aws_access_key_id="AKIDCLIENTS", aws_secret_access_key="secret", region_name="us-east-1"
    )
    return (session.client("application-autoscaling", endpoint_url=endpoint),
            session.client("dynamodb", endpoint_url=endpoint))


def refused(call, code, message, **params):
    try:
        call(**params)
    except ClientError as e:
        err = e.response["Error"]
        check(err["Code"] == code, f"{call.__name__}: code {err['Code']} != {code}: {err}")
        check(err["Message"] == message, f"{call.__name__}: message {err['Message']!r} != {message!r}")
        check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, f"{call.__name__}: status")
        return
    raise AssertionError(f"{call.__name__}({params}) succeeded; expected {code}")


def target(table, dim):
    return {"ServiceNamespace": "dynamodb", "ResourceId": f"table/{table}",
            "ScalableDimension": f"dynamodb:table:{dim}CapacityUnits"}


POLICY = {"PolicyName": "reads", "PolicyType": "TargetTrackingScaling",
          "TargetTrackingScalingPolicyConfiguration": {
              "TargetValue": 70.0, "ScaleOutCooldown": 30, "ScaleInCooldown": 60,
              "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}}}


def throughput(ddb, table):
    return ddb.describe_table(TableName=table)["Table"]["ProvisionedThroughput"]


def before(aas, ddb, table):
    ddb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    # The refusals, before anything is registered.
    refused(aas.register_scalable_target, "ValidationException", UNSUPPORTED,
            ServiceNamespace="dynamodb", ResourceId=f"table/{table}",
            ScalableDimension="dynamodb:index:ReadCapacityUnits", MinCapacity=1, MaxCapacity=5)
    refused(aas.register_scalable_target, "ValidationException", UNSUPPORTED,
            ServiceNamespace="ecs", ResourceId=f"table/{table}",
            ScalableDimension="dynamodb:table:ReadCapacityUnits", MinCapacity=1, MaxCapacity=5)
    refused(aas.register_scalable_target, "ValidationException",
            "1 validation error detected: Value 'nope' at 'serviceNamespace' failed to satisfy "
            "constraint: Member must satisfy enum value set: [ecs, elasticmapreduce, ec2, appstream, "
            "dynamodb, rds, sagemaker, custom-resource, comprehend, lambda, cassandra, kafka, "
            "elasticache, neptune, workspaces]",
            ServiceNamespace="nope", ResourceId=f"table/{table}",
            ScalableDimension="dynamodb:table:ReadCapacityUnits", MinCapacity=1, MaxCapacity=5)
    refused(aas.put_scaling_policy, "ObjectNotFoundException",
            f"No scalable target registered for service namespace: dynamodb, resource ID: table/{table}, "
            "scalable dimension: dynamodb:table:ReadCapacityUnits",
            **target(table, "Read"), **POLICY)

    arn = aas.register_scalable_target(**target(table, "Read"), MinCapacity=10, MaxCapacity=100)[
        "ScalableTargetARN"]
    check(arn.startswith("arn:aws:application-autoscaling:us-east-1:"), f"target ARN {arn}")
    aas.register_scalable_target(**target(table, "Write"), MinCapacity=1, MaxCapacity=3)
    pt = throughput(ddb, table)
    check((pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]) == (10, 3), f"throughput {pt}")
    check(pt["NumberOfDecreasesToday"] == 1, f"one decrease: {pt}")

    got = aas.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=[f"table/{table}"])
    dims = sorted((t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"]) for t in got["ScalableTargets"])
    check(dims == [("dynamodb:table:ReadCapacityUnits", 10, 100),
                   ("dynamodb:table:WriteCapacityUnits", 1, 3)], f"targets {dims}")

    put = aas.put_scaling_policy(**target(table, "Read"), **POLICY)
    check(put["PolicyARN"].endswith(f":resource/dynamodb/table/{table}:policyName/reads"), f"{put}")
    check(len(put["Alarms"]) == 4 and put["Alarms"][0]["AlarmName"].startswith(
        f"TargetTracking-table/{table}-AlarmHigh-"), f"alarms {put['Alarms']}")
    policies = aas.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=f"table/{table}")
    check([p["PolicyName"] for p in policies["ScalingPolicies"]] == ["reads"], f"{policies}")
    cfg = policies["ScalingPolicies"][0]["TargetTrackingScalingPolicyConfiguration"]
    check((cfg["TargetValue"], cfg["ScaleOutCooldown"], cfg["ScaleInCooldown"]) == (70.0, 30, 60), f"{cfg}")

    acts = activities(aas, table)
    check(acts == [("Setting write capacity units to 3.", "maximum capacity was set to 3", "Successful"),
                   ("Setting read capacity units to 10.", "minimum capacity was set to 10", "Successful")],
          f"activities {acts}")
    return {"ok": True, "targets": len(dims), "activities": len(acts)}


def activities(aas, table):
    got = aas.describe_scaling_activities(ServiceNamespace="dynamodb", ResourceId=f"table/{table}")
    return [(a["Description"], a["Cause"], a["StatusCode"]) for a in got["ScalingActivities"]]


def after(aas, ddb, table):
    got = aas.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    check(len(got) == 2, f"targets after the restart: {got}")
    policies = aas.describe_scaling_policies(ServiceNamespace="dynamodb")["ScalingPolicies"]
    check([p["PolicyName"] for p in policies] == ["reads"], f"policies after the restart: {policies}")
    acts = activities(aas, table)
    check(len(acts) == 2 and acts[1][0] == "Setting read capacity units to 10.", f"activities {acts}")
    pt = throughput(ddb, table)
    check((pt["ReadCapacityUnits"], pt["WriteCapacityUnits"], pt["NumberOfDecreasesToday"]) == (10, 3, 1),
          f"throughput after the restart: {pt}")

    aas.delete_scaling_policy(PolicyName="reads", **target(table, "Read"))
    refused(aas.delete_scaling_policy, "ObjectNotFoundException",
            f"No scaling policy found for service namespace: dynamodb, resource ID: table/{table}, "
            "scalable dimension: dynamodb:table:ReadCapacityUnits, policy name: reads",
            PolicyName="reads", **target(table, "Read"))
    for dim in ("Read", "Write"):
        aas.deregister_scalable_target(**target(table, dim))
    refused(aas.deregister_scalable_target, "ObjectNotFoundException",
            f"No scalable target registered for service namespace: dynamodb, resource ID: table/{table}, "
            "scalable dimension: dynamodb:table:WriteCapacityUnits",
            **target(table, "Write"))
    left = aas.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    check(left == [], f"targets after deregistering: {left}")
    return {"ok": True, "targets": len(got), "activities": len(acts)}


if __name__ == "__main__":
    phase, endpoint, table = sys.argv[1:4]
    aas, ddb = clients(endpoint)
    print(json.dumps({"before": before, "after": after}[phase](aas, ddb, table)))
