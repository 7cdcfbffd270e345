// Drives `minnow serve` with the official OpenAI Node client, unmodified.
// Usage: node openai_client.mjs BASE_URL API_KEY [EMBEDDING_MODEL]
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const [baseURL, apiKey, embeddingModel] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey });
let checks = 0;
const ok = (name) => { checks++; console.log(`ok ${checks} - ${name}`); };

const models = await client.models.list();
const ids = models.data.map((m) => m.id);
assert.ok(ids.includes('tiny'), `models: ${ids}`);
ok('models.list');

const chat = await client.chat.completions.create({
  model: 'tiny', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello!' }],
  max_tokens: 8, temperature: 0, seed: 1,
});
assert.equal(chat.object, 'chat.completion');
assert.equal(chat.choices[0].message.role, 'assistant');
assert.equal(typeof chat.choices[0].message.content, 'string');
assert.equal(chat.usage.total_tokens, chat.usage.prompt_tokens + chat.usage.completion_tokens);
ok('chat.completions.create');

const stream = await client.chat.completions.create({
  model: 'tiny', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 8, temperature: 0, seed: 1,
  stream: true, stream_options: { include_usage: true },
});
let streamed = '';
let usage = null;
for await (const chunk of stream) {
  if (chunk.choices.length) streamed += chunk.choices[0].delta?.content ?? '';
  if (chunk.usage) usage = chunk.usage;
}
const whole = await client.chat.completions.create({
  model: 'tiny', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 8, temperature: 0, seed: 1,
});
assert.equal(streamed, whole.choices[0].message.content);
assert.ok(usage && usage.completion_tokens > 0);
ok('streaming chat matches the whole answer');

const completion = await client.completions.create({ model: 'tiny', prompt: 'Once upon', max_tokens: 5, temperature: 0 });
assert.equal(completion.object, 'text_completion');
assert.equal(typeof completion.choices[0].text, 'string');
ok('completions.create');

if (embeddingModel) {
  const emb = await client.embeddings.create({ model: embeddingModel, input: ['hello world', 'goodbye'] });
  assert.equal(emb.data.length, 2);
  const norm = Math.hypot(...emb.data[0].embedding);
  assert.ok(Math.abs(norm - 1) < 1e-3, `norm ${norm}`);
  ok('embeddings.create (float and the client\'s default base64 decoding)');
}

// Tools: request -> tool_calls -> tool message -> answer. A random-weight
// model never calls a tool on its own, so the first turn forces one.
const tools = [{
  type: 'function',
  function: {
    name: 'get_weather', description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 }, unit: { enum: ['c', 'f'] } },
                  required: ['city', 'unit'] },
  },
}];
const messages = [{ role: 'user', content: 'What is the weather in Lisbon?' }];
const first = await client.chat.completions.create({
  model: 'tiny', messages, tools, tool_choice: 'required', temperature: 0.7, seed: 3, max_tokens: 200,
});
assert.equal(first.choices[0].finish_reason, 'tool_calls');
const call = first.choices[0].message.tool_calls?.[0];
assert.ok(call, JSON.stringify(first));
assert.equal(call.type, 'function');
assert.equal(call.function.name, 'get_weather');
const args = JSON.parse(call.function.arguments);
assert.equal(typeof args.city, 'string');
assert.ok(['c', 'f'].includes(args.unit), call.function.arguments);
ok('tools: tool_choice required gives a valid call');
messages.push(first.choices[0].message);
messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify({ temperature: 21, unit: args.unit }) });
const answer = await client.chat.completions.create({ model: 'tiny', messages, tools, max_tokens: 8, temperature: 0 });
assert.ok(answer.usage.prompt_tokens > first.usage.prompt_tokens);
assert.ok(typeof answer.choices[0].message.content === 'string' || answer.choices[0].message.tool_calls);
ok('tools: the tool result goes back and an answer comes');

const toolStream = await client.chat.completions.create({
  model: 'tiny', messages: [{ role: 'user', content: 'weather?' }], tools,
  tool_choice: { type: 'function', function: { name: 'get_weather' } }, temperature: 0, max_tokens: 200, stream: true,
});
let streamedArgs = '';
let streamedName = '';
let finish = null;
for await (const chunk of toolStream) {
  const c = chunk.choices[0];
  if (!c) continue;
  for (const tc of c.delta?.tool_calls ?? []) {
    if (tc.function?.name) streamedName += tc.function.name;
    if (tc.function?.arguments) streamedArgs += tc.function.arguments;
  }
  if (c.finish_reason) finish = c.finish_reason;
}
assert.equal(streamedName, 'get_weather');
assert.equal(finish, 'tool_calls');
assert.equal(typeof JSON.parse(streamedArgs).city, 'string');
ok('tools: streamed tool-call deltas');

const structured = await client.chat.completions.create({
  model: 'tiny', messages: [{ role: 'user', content: 'A colour as JSON' }], temperature: 1, seed: 5, max_tokens: 200,
  response_format: { type: 'json_schema', json_schema: { name: 'colour', strict: true, schema: {
    type: 'object', properties: { name: { type: 'string', maxLength: 10 }, rgb: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 255 }, minItems: 3, maxItems: 3 } },
    required: ['name', 'rgb'], additionalProperties: false } } },
});
const colour = JSON.parse(structured.choices[0].message.content);
assert.equal(colour.rgb.length, 3);
assert.equal(typeof colour.name, 'string');
ok('response_format json_schema');

await assert.rejects(
  client.chat.completions.create({ model: 'tiny', messages, response_format: { type: 'json_schema',
    json_schema: { name: 'x', schema: { type: 'string', pattern: '^a' } } } }),
  (e) => e.status === 400 && e.param === 'response_format');
ok('unsupported schema keywords are refused with 400');

const intruder = new OpenAI({ baseURL, apiKey: 'sk-wrong', maxRetries: 0 });
await assert.rejects(intruder.models.list(), (e) => e.status === 401 && e.code === 'invalid_api_key');
ok('wrong API key is refused with 401');

await assert.rejects(
  client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
  (e) => e.status === 404);
ok('unknown model is 404');
console.log(`${checks} passed, 0 failed`);
