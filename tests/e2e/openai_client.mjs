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

const intruder = new OpenAI({ baseURL, apiKey: 'sk-wrong', maxRetries: 0 });
await assert.rejects(intruder.models.list(), (e) => e.status === 401 && e.code === 'invalid_api_key');
ok('wrong API key is refused with 401');

await assert.rejects(
  client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
  (e) => e.status === 404);
ok('unknown model is 404');
console.log(`${checks} passed, 0 failed`);
