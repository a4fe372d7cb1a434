// Runs the GraphQL-over-HTTP specification's server audits (graphql-http's `auditServer`)
// against a running server and fails on any failure or warning.
//
//   node http-audit.mjs http://127.0.0.1:8080/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node http-audit.mjs <graphql url>');
  process.exit(2);
}
const results = await auditServer({ url, fetchFn: fetch });
const count = (status) => results.filter((r) => r.status === status).length;
for (const result of results) {
  if (result.status !== 'ok') {
    console.log(`${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason ?? ''}`);
  }
}
console.log(`${count('ok')} passed, ${count('error')} failed, ${count('warn')} warnings`);
process.exit(count('error') + count('warn') === 0 ? 0 : 1);
