// probe.mjs - the OpenFeature server SDK reading flags from lever-agent
// through its OFREP provider, for tests/integration/test_agent_ofrep.py.
//   node probe.mjs BASE_URL TOKEN|- CONTEXT_JSON CALL...
// CALL is TYPE:FLAG:DEFAULT with TYPE boolean, string, number or object.
// Prints one JSON line per call: the SDK's evaluation details.
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';

const [baseUrl, token, contextJson, ...calls] = process.argv.slice(2);
const options = { baseUrl };
if (token !== '-') options.headers = [['Authorization', `Bearer ${token}`]];
await OpenFeature.setProviderAndWait(new OFREPProvider(options));
const client = OpenFeature.getClient();
const context = JSON.parse(contextJson);
for (const call of calls) {
  const [type, flag, ...rest] = call.split(':');
  const def = rest.join(':');
  let d;
  if (type === 'boolean') d = await client.getBooleanDetails(flag, def === 'true', context);
  else if (type === 'string') d = await client.getStringDetails(flag, def, context);
  else if (type === 'number') d = await client.getNumberDetails(flag, Number(def), context);
  else d = await client.getObjectDetails(flag, JSON.parse(def || '{}'), context);
  console.log(JSON.stringify({ flag, value: d.value, reason: d.reason, variant: d.variant ?? null,
                               errorCode: d.errorCode ?? null, metadata: d.flagMetadata ?? {} }));
}
await OpenFeature.close();
