// The client-compatibility scenario (tests/tests/clients.rs) with the AWS SDK for
// JavaScript v3: @aws-sdk/client-dynamodb for the table, the GSI, batch, transactions
// and conditions; @aws-sdk/lib-dynamodb's DynamoDBDocumentClient (native JS values) for
// put/get/query/update/delete; @aws-sdk/client-dynamodb-streams to read the stream.
//   node scenario.mjs ENDPOINT TABLE
// Any difference from what DynamoDB answers throws; success prints one JSON line.
import {
  DynamoDBClient, CreateTableCommand, ListTablesCommand, BatchWriteItemCommand,
  BatchGetItemCommand, TransactWriteItemsCommand, TransactGetItemsCommand, ScanCommand,
  DescribeTableCommand, DeleteTableCommand, PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient, PutCommand, GetCommand, QueryCommand, UpdateCommand, DeleteCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  DynamoDBStreamsClient, DescribeStreamCommand, GetShardIteratorCommand, GetRecordsCommand,
} from "@aws-sdk/client-dynamodb-streams";

const [endpoint, table] = process.argv.slice(2);
const config = {
  endpoint, region: "us-east-1",
  credentials: { accessKeyId: "AKIDCLIENTS", secretAccessKey: "secret" },
};
const ddb = new DynamoDBClient(config);
const doc = DynamoDBDocumentClient.from(ddb);
const streams = new DynamoDBStreamsClient(config);
const check = (cond, what) => { if (!cond) throw new Error(what); };
const show = (v) => JSON.stringify(v);

const created = await ddb.send(new CreateTableCommand({
  TableName: table,
  AttributeDefinitions: [
    { AttributeName: "pk", AttributeType: "S" },
    { AttributeName: "sk", AttributeType: "S" },
    { AttributeName: "status", AttributeType: "S" },
  ],
  KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
  GlobalSecondaryIndexes: [{
    IndexName: "by_status",
    KeySchema: [{ AttributeName: "status", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
    Projection: { ProjectionType: "ALL" },
  }],
  BillingMode: "PAY_PER_REQUEST",
  StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
}));
check(created.TableDescription.TableName === table, "CreateTable names the table");
const { TableNames } = await ddb.send(new ListTablesCommand({}));
check(TableNames.includes(table), `ListTables: ${show(TableNames)}`);

for (const [i, status] of ["open", "open", "closed"].entries()) {
  await doc.send(new PutCommand({ TableName: table, Item: { pk: "order", sk: `#${i}`, status, n: i } }));
}
const got = await doc.send(new GetCommand({ TableName: table, Key: { pk: "order", sk: "#1" }, ConsistentRead: true }));
check(got.Item?.n === 1 && got.Item.status === "open", `GetItem: ${show(got.Item)}`);
const q = await doc.send(new QueryCommand({
  TableName: table, KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": "order" },
}));
check(q.Count === 3 && q.Items.map((i) => i.sk).join() === "#0,#1,#2", `Query: ${show(q.Items)}`);
const g = await doc.send(new QueryCommand({
  TableName: table, IndexName: "by_status", KeyConditionExpression: "#s = :s",
  ExpressionAttributeNames: { "#s": "status" }, ExpressionAttributeValues: { ":s": "open" },
}));
check(g.Count === 2, `Query on the GSI: ${show(g.Items)}`);
const up = await doc.send(new UpdateCommand({
  TableName: table, Key: { pk: "order", sk: "#0" }, UpdateExpression: "SET #s = :c ADD n :one",
  ExpressionAttributeNames: { "#s": "status" }, ExpressionAttributeValues: { ":c": "closed", ":one": 1 },
  ReturnValues: "ALL_NEW",
}));
check(up.Attributes.status === "closed" && up.Attributes.n === 1, `UpdateItem: ${show(up.Attributes)}`);
let refused = null;
try {
  await ddb.send(new PutItemCommand({
    TableName: table, Item: { pk: { S: "order" }, sk: { S: "#0" } },
    ConditionExpression: "attribute_not_exists(pk)",
  }));
} catch (e) { refused = e; }
check(refused?.name === "ConditionalCheckFailedException", `a failed condition: ${refused?.name}`);
const del = await doc.send(new DeleteCommand({ TableName: table, Key: { pk: "order", sk: "#2" }, ReturnValues: "ALL_OLD" }));
check(del.Attributes.status === "closed", `DeleteItem: ${show(del.Attributes)}`);

const S = (v) => ({ S: v });
const bw = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: [0, 1, 2].map((i) => ({
  PutRequest: { Item: { pk: S("batch"), sk: S(`#${i}`), status: S("open") } },
})) } }));
check(Object.keys(bw.UnprocessedItems ?? {}).length === 0, `BatchWriteItem: ${show(bw)}`);
const bg = await ddb.send(new BatchGetItemCommand({ RequestItems: { [table]: {
  Keys: [0, 1, 2].map((i) => ({ pk: S("batch"), sk: S(`#${i}`) })),
} } }));
check(bg.Responses[table].length === 3, `BatchGetItem: ${show(bg)}`);

await ddb.send(new TransactWriteItemsCommand({ TransactItems: [
  { Put: { TableName: table, Item: { pk: S("tx"), sk: S("#0"), status: S("open") },
    ConditionExpression: "attribute_not_exists(pk)" } },
  { Update: { TableName: table, Key: { pk: S("order"), sk: S("#1") }, UpdateExpression: "SET #s = :c",
    ExpressionAttributeNames: { "#s": "status" }, ExpressionAttributeValues: { ":c": S("shipped") } } },
] }));
const tg = await ddb.send(new TransactGetItemsCommand({ TransactItems: [
  { Get: { TableName: table, Key: { pk: S("tx"), sk: S("#0") } } },
  { Get: { TableName: table, Key: { pk: S("order"), sk: S("#1") } } },
] }));
check(tg.Responses.map((r) => r.Item.status.S).join() === "open,shipped", `TransactGetItems: ${show(tg)}`);
const scan = await ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
check(scan.Count === 6, `Scan after the writes: ${scan.Count} items`);

const arn = (await ddb.send(new DescribeTableCommand({ TableName: table }))).Table.LatestStreamArn;
const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
const events = [];
for (const shard of StreamDescription.Shards) {
  const { ShardIterator } = await streams.send(new GetShardIteratorCommand({
    StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON",
  }));
  const { Records } = await streams.send(new GetRecordsCommand({ ShardIterator }));
  events.push(...Records.map((r) => r.eventName));
}
const expected = ["INSERT", "INSERT", "INSERT", "MODIFY", "REMOVE", "INSERT", "INSERT", "INSERT", "INSERT", "MODIFY"];
check(events.join() === expected.join(), `stream records: ${events.join()}`);
await ddb.send(new DeleteTableCommand({ TableName: table }));
console.log(JSON.stringify({ ok: true, items: scan.Count, stream_records: events.length }));
