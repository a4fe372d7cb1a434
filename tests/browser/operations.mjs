// Validates every GraphQL document the web app sends (api/src/web/operations/*.graphql)
// against the checked-in schema.graphql with graphql-js: a page cannot drift from the
// public API. Prints one line per document; exits 1 on the first invalid one.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSchema, parse, validate } from "graphql";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const schema = buildSchema(readFileSync(join(root, "schema.graphql"), "utf8"));
const folder = join(root, "api", "src", "web", "operations");
const files = readdirSync(folder).filter((f) => f.endsWith(".graphql")).sort();
if (files.length === 0) {
  console.error(`no operations in ${folder}`);
  process.exit(1);
}
let failed = 0;
for (const file of files) {
  const document = parse(readFileSync(join(folder, file), "utf8"));
  const names = document.definitions.map((d) => d.name && d.name.value);
  const expected = file.replace(/\.graphql$/, "");
  const errors = validate(schema, document).map((e) => e.message);
  if (!names.includes(expected)) errors.push(`the file holds no operation named ${expected}`);
  if (errors.length) {
    failed += 1;
    console.log(`FAIL ${file}: ${errors.join("; ")}`);
  } else {
    console.log(`ok   ${file}`);
  }
}
console.log(`${files.length - failed} of ${files.length} operations valid`);
process.exit(failed ? 1 : 0);
