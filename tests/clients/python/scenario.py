"""The client-compatibility scenario (tests/tests/clients.rs), run by boto3 or the AWS CLI.

    scenario.py boto3|awscli ENDPOINT TABLE

Both drive the same steps through `call(service, operation, params)`: boto3's low-level
client, or `aws <service> <operation> --cli-input-json ...` (AWS CLI v1, output parsed
as JSON). Create a table with a GSI and a stream, put/get/query (table and GSI)/update/
delete, batch write/get, a transaction, then read the stream. Any difference from what
DynamoDB answers raises; success prints one JSON line of what was seen.
"""
import json
import os
import subprocess
import sys


def boto3_caller(endpoint):
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="AKIDCLIENTS", aws_secret_access_key="secret", region_name="us-east-1"
    )
    clients = {
        s: session.client(s, endpoint_url=endpoint) for s in ("dynamodb", "dynamodbstreams")
    }

    def call(service, op, params):
        out = getattr(clients[service], op)(**params)
        out.pop("ResponseMetadata", None)
        return out

    return call


def awscli_caller(endpoint):
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDCLIENTS", AWS_SECRET_ACCESS_KEY="secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")

    def call(service, op, params):
        cmd = [aws, service, op.replace("_", "-"), "--endpoint-url", endpoint,
               "--output", "json", "--cli-input-json", json.dumps(params)]
        if op in ("scan", "query", "list_tables"):
            cmd.append("--no-paginate")
        run = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"aws {service} {op} failed ({run.returncode}): {run.stderr.strip()}")
        return json.loads(run.stdout) if run.stdout.strip() else {}

    return call


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def scenario(call, table):
    S = lambda v: {"S": v}
    N = lambda v: {"N": str(v)}
    created = call("dynamodb", "create_table", {
        "TableName": table,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": "by_status",
            "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    })
    check(created["TableDescription"]["TableName"] == table, "CreateTable names the table")
    tables = call("dynamodb", "list_tables", {})["TableNames"]
    check(table in tables, f"ListTables lists {table}: {tables}")

    for i, status in enumerate(["open", "open", "closed"]):
        call("dynamodb", "put_item", {"TableName": table, "Item": {
            "pk": S("order"), "sk": S(f"#{i}"), "status": S(status), "n": N(i)}})
    got = call("dynamodb", "get_item", {"TableName": table, "Key": {"pk": S("order"), "sk": S("#1")},
                                        "ConsistentRead": True})
    check(got.get("Item", {}).get("n") == N(1), f"GetItem: {got}")

    q = call("dynamodb", "query", {"TableName": table, "KeyConditionExpression": "pk = :p",
                                   "ExpressionAttributeValues": {":p": S("order")}})
    check(q["Count"] == 3 and [i["sk"]["S"] for i in q["Items"]] == ["#0", "#1", "#2"], f"Query: {q}")
    g = call("dynamodb", "query", {"TableName": table, "IndexName": "by_status",
                                   "KeyConditionExpression": "#s = :s",
                                   "ExpressionAttributeNames": {"#s": "status"},
                                   "ExpressionAttributeValues": {":s": S("open")}})
    check(g["Count"] == 2, f"Query on the GSI: {g}")

    up = call("dynamodb", "update_item", {
        "TableName": table, "Key": {"pk": S("order"), "sk": S("#0")},
        "UpdateExpression": "SET #s = :c ADD n :one",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":c": S("closed"), ":one": N(1)},
        "ReturnValues": "ALL_NEW"})
    check(up["Attributes"]["status"] == S("closed") and up["Attributes"]["n"] == N(1), f"UpdateItem: {up}")
    try:
        call("dynamodb", "put_item", {"TableName": table, "Item": {"pk": S("order"), "sk": S("#0")},
                                      "ConditionExpression": "attribute_not_exists(pk)"})
        raise AssertionError("a failed condition must be refused")
    except AssertionError:
        raise
    except Exception as e:  # boto3 ClientError or the CLI's stderr
        check("ConditionalCheckFailedException" in str(e), f"the refusal names the condition: {e}")
    deleted = call("dynamodb", "delete_item", {"TableName": table, "Key": {"pk": S("order"), "sk": S("#2")},
                                               "ReturnValues": "ALL_OLD"})
    check(deleted["Attributes"]["status"] == S("closed"), f"DeleteItem: {deleted}")

    bw = call("dynamodb", "batch_write_item", {"RequestItems": {table: [
        {"PutRequest": {"Item": {"pk": S("batch"), "sk": S(f"#{i}"), "status": S("open")}}}
        for i in range(3)]}})
    check(bw.get("UnprocessedItems", {}) == {}, f"BatchWriteItem: {bw}")
    bg = call("dynamodb", "batch_get_item", {"RequestItems": {table: {
        "Keys": [{"pk": S("batch"), "sk": S(f"#{i}")} for i in range(3)]}}})
    check(len(bg["Responses"][table]) == 3, f"BatchGetItem: {bg}")

    call("dynamodb", "transact_write_items", {"TransactItems": [
        {"Put": {"TableName": table, "Item": {"pk": S("tx"), "sk": S("#0"), "status": S("open")},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": table, "Key": {"pk": S("order"), "sk": S("#1")},
                    "UpdateExpression": "SET #s = :c", "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":c": S("shipped")}}},
    ]})
    tg = call("dynamodb", "transact_get_items", {"TransactItems": [
        {"Get": {"TableName": table, "Key": {"pk": S("tx"), "sk": S("#0")}}},
        {"Get": {"TableName": table, "Key": {"pk": S("order"), "sk": S("#1")}}},
    ]})
    check([r["Item"]["status"]["S"] for r in tg["Responses"]] == ["open", "shipped"], f"TransactGetItems: {tg}")
    scan = call("dynamodb", "scan", {"TableName": table, "ConsistentRead": True})
    check(scan["Count"] == 6, f"Scan after the writes: {scan['Count']} items")

    arn = call("dynamodb", "describe_table", {"TableName": table})["Table"]["LatestStreamArn"]
    shards = call("dynamodbstreams", "describe_stream", {"StreamArn": arn})["StreamDescription"]["Shards"]
    events = []
    for shard in shards:
        it = call("dynamodbstreams", "get_shard_iterator", {
            "StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
        records = call("dynamodbstreams", "get_records", {"ShardIterator": it})["Records"]
        events += [r["eventName"] for r in records]
    # 3 puts + update + delete + 3 batch puts + tx put + tx update
    expected = ["INSERT"] * 3 + ["MODIFY", "REMOVE"] + ["INSERT"] * 4 + ["MODIFY"]
    check(events == expected, f"stream records: {events}")
    call("dynamodb", "delete_table", {"TableName": table})
    return {"ok": True, "items": scan["Count"], "stream_records": len(events)}


if __name__ == "__main__":
    kind, endpoint, table = sys.argv[1:4]
    caller = {"boto3": boto3_caller, "awscli": awscli_caller}[kind](endpoint)
    print(json.dumps(scenario(caller, table)))
