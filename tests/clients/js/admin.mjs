// dynamodb-admin (the GUI) against daxlite (tests/tests/clients.rs): seeds a table with a
// GSI and two items through @aws-sdk/client-dynamodb, starts dynamodb-admin on a free
// port pointed at daxlite, and fetches its pages as a browser would: the table list (HTML
// and /api/tables), the table's page, its items (the JSON the page loads, by scan and by
// query on the GSI), one item's page and the meta page. Each must name the table and
// items. Prints one JSON line on success; throws otherwise. Always stops dynamodb-admin.
//   node admin.mjs ENDPOINT TABLE
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { DynamoDBClient, CreateTableCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";

const [endpoint, table] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const cli = require.resolve("dynamodb-admin/dist/dynamodb-admin.js");
const check = (cond, what) => { if (!cond) throw new Error(what); };

const ddb = new DynamoDBClient({
  endpoint, region: "us-east-1", credentials: { accessKeyId: "key", secretAccessKey: "secret" },
});
await ddb.send(new CreateTableCommand({
  TableName: table,
  AttributeDefinitions: [
    { AttributeName: "pk", AttributeType: "S" }, { AttributeName: "status", AttributeType: "S" },
  ],
  KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
  GlobalSecondaryIndexes: [{
    IndexName: "by_status", KeySchema: [{ AttributeName: "status", KeyType: "HASH" }],
    Projection: { ProjectionType: "ALL" },
  }],
  BillingMode: "PAY_PER_REQUEST",
}));
for (const [pk, status] of [["alpha-item", "open"], ["beta-item", "closed"]]) {
  await ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, status: { S: status } } }));
}

const port = await new Promise((resolve, reject) => {
  const s = createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  s.on("error", reject);
});
const admin = spawn(process.execPath, [cli, "--host", "127.0.0.1", "--port", String(port), "--dynamo-endpoint", endpoint], {
  stdio: ["ignore", "pipe", "inherit"],
});
try {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("dynamodb-admin did not start within 20 s")), 20000);
    admin.on("exit", (code) => reject(new Error(`dynamodb-admin exited (${code})`)));
    admin.stdout.on("data", (d) => { if (String(d).includes("listening on")) { clearTimeout(timer); resolve(); } });
  });
  const base = `http://127.0.0.1:${port}`;
  const page = async (path) => {
    const r = await fetch(base + path);
    const text = await r.text();
    check(r.status === 200, `GET ${path}: ${r.status} ${text.slice(0, 300)}`);
    return text;
  };
  const pages = {};
  pages.home = await page("/");
  check(pages.home.includes(table), "the table list names the table");
  const api = JSON.parse(await page("/api/tables"));
  const listed = api.find((t) => t.TableName === table);
  check(listed, `/api/tables lists the table: ${JSON.stringify(api).slice(0, 300)}`);
  pages.table = await page(`/tables/${table}`);
  check(pages.table.includes(table) && pages.table.includes("by_status"), "the table page names the table and its GSI");
  const scan = JSON.parse(await page(`/tables/${table}/items`));
  const keys = scan.Items.map((i) => i.pk).sort();
  check(keys.join() === "alpha-item,beta-item", `the items page lists both items: ${JSON.stringify(scan.Items)}`);
  const filters = encodeURIComponent(JSON.stringify({ status: { value: "open", type: "S", operator: "=" } }));
  const query = JSON.parse(await page(`/tables/${table}/items?operationType=query&queryableSelection=by_status&filters=${filters}`));
  check(query.Items.length === 1 && query.Items[0].pk === "alpha-item", `query on the GSI: ${JSON.stringify(query.Items)}`);
  // the item page's key is the key values joined by commas, as the GUI's links have it
  pages.item = await page(`/tables/${table}/items/alpha-item`);
  check(pages.item.includes("alpha-item"), "the item page shows the item");
  pages.meta = await page(`/tables/${table}/meta`);
  check(pages.meta.includes(table), "the meta page names the table");
  console.log(JSON.stringify({ ok: true, pages: Object.keys(pages).length + 3, items: keys.length }));
} finally {
  admin.kill();
}
