// Proves that a running GraphQL service works as an Apollo Federation v2 subgraph.
//
//   node tests/federation/compose.mjs <subgraph-graphql-url> <clause-id>
//
// 1. reads the subgraph SDL from `{ _service { sdl } }` at the URL;
// 2. composes it with a second, in-process subgraph "agency" that only references
//    `Clause @key(fields: "id", resolvable: false)` and serves `featuredClauses`;
// 3. runs a query through an Apollo Gateway built from the composed supergraph, so the
//    gateway has to fetch the Clause fields from the service's `_entities`;
// 4. prints one JSON line: {"supergraph": true, "data": ..., "errors": ... | null}.
//
// Exit codes: 0 no errors, 1 composition or execution errors (or bad usage),
// 2 hard timeout.

import { ApolloGateway, LocalGraphQLDataSource, RemoteGraphQLDataSource } from '@apollo/gateway';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { parse } from 'graphql';

const TIMEOUT_MS = 30_000;
const SUBGRAPH_NAME = 'commons';
const AGENCY_NAME = 'agency';

const QUERY = '{ featuredClauses { id latest { title } organization { id name } } }';

const AGENCY_SDL = `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Query {
    featuredClauses: [Clause!]!
  }

  type Clause @key(fields: "id", resolvable: false) {
    id: ID!
  }
`;

function printResult(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function fail(message, extra = {}) {
  process.stderr.write(`compose.mjs: ${message}\n`);
  printResult({ supergraph: false, data: null, errors: [{ message }], ...extra });
  process.exitCode = 1;
}

async function fetchSubgraphSdl(url) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`_service query: HTTP ${response.status}, not JSON: ${text.slice(0, 500)}`);
  }
  if (body.errors?.length) {
    throw new Error(`_service query failed: ${JSON.stringify(body.errors)}`);
  }
  const sdl = body.data?._service?.sdl;
  if (typeof sdl !== 'string' || sdl.trim() === '') {
    throw new Error(`_service query returned no SDL: ${text.slice(0, 500)}`);
  }
  return sdl;
}

// The gateway does not report an error when `_entities` answers `null` for a
// representation: it just nulls the fields (and, through non-null fields, possibly all of
// `data`). So also check that the entity's fields really came back from the subgraph.
function checkData(data, clauseId) {
  const problem = (message) => [{ message, extensions: { code: 'HARNESS_CHECK_FAILED' } }];
  const clauses = data?.featuredClauses;
  if (!Array.isArray(clauses) || clauses.length !== 1) {
    return problem('expected data.featuredClauses to hold exactly one clause');
  }
  const [clause] = clauses;
  if (clause?.id !== clauseId) return problem(`expected clause id ${JSON.stringify(clauseId)}`);
  if (typeof clause.latest?.title !== 'string') {
    return problem('Clause.latest.title was not resolved through _entities (is the clause published?)');
  }
  if (typeof clause.organization?.id !== 'string' || typeof clause.organization?.name !== 'string') {
    return problem('Clause.organization was not resolved through _entities');
  }
  return [];
}

async function main(url, clauseId) {
  let sdl;
  try {
    sdl = await fetchSubgraphSdl(url);
  } catch (err) {
    fail(`could not read the subgraph SDL from ${url}: ${err.message}`);
    return;
  }

  let subgraphTypeDefs;
  try {
    subgraphTypeDefs = parse(sdl);
  } catch (err) {
    fail(`the subgraph SDL does not parse: ${err.message}`);
    return;
  }

  const agencyTypeDefs = parse(AGENCY_SDL);
  const agencySchema = buildSubgraphSchema({
    typeDefs: agencyTypeDefs,
    resolvers: {
      Query: {
        featuredClauses: () => [{ id: clauseId }],
      },
    },
  });

  const composition = composeServices([
    { name: SUBGRAPH_NAME, url, typeDefs: subgraphTypeDefs },
    { name: AGENCY_NAME, url: 'http://agency.invalid/graphql', typeDefs: agencyTypeDefs },
  ]);
  if (composition.errors?.length) {
    const errors = composition.errors.map((e) => ({
      message: e.message,
      code: e.extensions?.code ?? null,
    }));
    for (const e of errors) process.stderr.write(`composition error [${e.code}]: ${e.message}\n`);
    printResult({ supergraph: false, data: null, errors });
    process.exitCode = 1;
    return;
  }
  for (const hint of composition.hints ?? []) {
    process.stderr.write(`composition hint [${hint.definition?.code ?? '?'}]: ${hint.message}\n`);
  }

  const gateway = new ApolloGateway({
    supergraphSdl: composition.supergraphSdl,
    buildService({ name, url: serviceUrl }) {
      if (name === AGENCY_NAME) return new LocalGraphQLDataSource(agencySchema);
      return new RemoteGraphQLDataSource({ url: serviceUrl || url });
    },
  });
  const server = new ApolloServer({
    gateway,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
    ],
    stopOnTerminationSignals: false,
  });

  try {
    await server.start();
    const response = await server.executeOperation({ query: QUERY });
    if (response.body.kind !== 'single') {
      throw new Error(`unexpected response kind ${response.body.kind}`);
    }
    const { data = null, errors } = response.body.singleResult;
    const allErrors = [...(errors ?? []), ...checkData(data, clauseId)];
    const hasErrors = allErrors.length > 0;
    printResult({ supergraph: true, data, errors: hasErrors ? allErrors : null });
    process.exitCode = hasErrors ? 1 : 0;
  } catch (err) {
    fail(`gateway failed: ${err.stack ?? err}`, { supergraph: true });
  } finally {
    // Stops the gateway as well.
    await server.stop().catch((err) => process.stderr.write(`stopping: ${err}\n`));
  }
}

const [url, clauseId] = process.argv.slice(2);
if (!url || !clauseId) {
  process.stderr.write('usage: node tests/federation/compose.mjs <subgraph-graphql-url> <clause-id>\n');
  process.exit(1);
}

const hardTimeout = setTimeout(() => {
  process.stderr.write(`compose.mjs: timed out after ${TIMEOUT_MS / 1000} s\n`);
  process.exit(2);
}, TIMEOUT_MS);
hardTimeout.unref();

try {
  await main(url, clauseId);
} catch (err) {
  fail(`unexpected error: ${err.stack ?? err}`);
}
