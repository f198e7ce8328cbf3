// Runs graphql-http's audits of the GraphQL over HTTP specification against GRAPHQL_URL and
// exits non-zero when a MUST fails. SHOULD and MAY findings are printed, for the record.
import { serverAudits } from 'graphql-http';

const url = process.env.GRAPHQL_URL;
if (!url) {
  console.error('GRAPHQL_URL is not set');
  process.exit(2);
}

let mustFailures = 0;
let warnings = 0;
let passed = 0;
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  if (result.status === 'ok') {
    passed++;
    continue;
  }
  if (result.status === 'error') {
    mustFailures++;
  } else {
    warnings++;
  }
  console.log(`${result.status.toUpperCase()} ${audit.id} ${audit.name}: ${result.reason}`);
}
console.log(`${passed} passed, ${warnings} warnings (SHOULD, MAY), ${mustFailures} failures (MUST)`);
process.exit(mustFailures > 0 ? 1 : 0);
