// kafkajs with @kafkajs/confluent-schema-registry against Skiff's built-in registry.
// Run: SKIFF_BOOTSTRAP=host:port SKIFF_SCHEMA_REGISTRY=http://host:port node schema_registry_test.js [scenario ...]
const { Kafka, logLevel } = require('kafkajs')
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry')
const crypto = require('crypto')

const BOOTSTRAP = process.env.SKIFF_BOOTSTRAP || 'localhost:9092'
const REGISTRY = process.env.SKIFF_SCHEMA_REGISTRY || 'http://localhost:8081'
const kafka = new Kafka({ clientId: 'skiff-sr', brokers: [BOOTSTRAP], logLevel: logLevel.NOTHING })
const registry = () => new SchemaRegistry({ host: REGISTRY })
const uniq = p => `${p}-${crypto.randomBytes(4).toString('hex')}`
const sleep = ms => new Promise(r => setTimeout(r, ms))
function check(cond, msg) { if (!cond) throw new Error(msg) }
const withTimeout = (p, ms, what) =>
  Promise.race([p, sleep(ms).then(() => { throw new Error(`timeout: ${what}`) })])

// Produces the encoded values, reads them back and decodes them with a fresh registry client.
async function roundTrip(topic, encoded) {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
  await admin.disconnect()
  const p = kafka.producer()
  await p.connect()
  await p.send({ topic, messages: encoded.map(value => ({ value })) })
  await p.disconnect()
  const c = kafka.consumer({ groupId: uniq('sr-read') })
  await c.connect()
  await c.subscribe({ topics: [topic], fromBeginning: true })
  const out = []
  let done
  const finished = new Promise(r => { done = r })
  const reader = registry()
  await c.run({ eachMessage: async ({ message }) => {
    check(message.value[0] === 0, 'Confluent wire format starts with magic byte 0')
    out.push(await reader.decode(message.value))
    if (out.length >= encoded.length) done()
  } })
  try { await withTimeout(finished, 20000, `read ${encoded.length} from ${topic}`) }
  finally { await c.disconnect() }
  return out
}

const scenarios = {}

scenarios['avro-round-trip'] = async () => {
  const r = registry()
  const subject = uniq('kjs-avro') + '-value'
  const schema = JSON.stringify({ type: 'record', name: 'Point', namespace: 'skiff.kjs',
    fields: [{ name: 'x', type: 'int' }, { name: 'y', type: 'int' }] })
  const { id } = await r.register({ type: SchemaType.AVRO, schema }, { subject })
  const again = await r.register({ type: SchemaType.AVRO, schema }, { subject })
  check(again.id === id, `same schema twice: ${id} then ${again.id}`)
  check(await r.getLatestSchemaId(subject) === id, 'getLatestSchemaId')
  const values = [{ x: 1, y: 2 }, { x: -3, y: 40000 }]
  const encoded = await Promise.all(values.map(v => r.encode(id, v)))
  const got = await roundTrip(uniq('kjs-avro'), encoded)
  check(JSON.stringify(got) === JSON.stringify(values), `decoded ${JSON.stringify(got)}`)
}

scenarios['json-round-trip'] = async () => {
  const r = registry()
  const subject = uniq('kjs-json') + '-value'
  const schema = JSON.stringify({ type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] })
  const { id } = await r.register({ type: SchemaType.JSON, schema }, { subject })
  const values = [{ n: 1 }, { n: 2 }]
  const encoded = await Promise.all(values.map(v => r.encode(id, v)))
  const got = await roundTrip(uniq('kjs-json'), encoded)
  check(JSON.stringify(got) === JSON.stringify(values), `decoded ${JSON.stringify(got)}`)
}

scenarios['protobuf-round-trip'] = async () => {
  const r = registry()
  const subject = uniq('kjs-proto') + '-value'
  const schema = 'syntax = "proto3";\npackage skiff.kjs;\nmessage Event {\n  string name = 1;\n  int32 count = 2;\n}\n'
  const { id } = await r.register({ type: SchemaType.PROTOBUF, schema }, { subject })
  const values = [{ name: 'a', count: 1 }, { name: 'b', count: 2 }]
  const encoded = await Promise.all(values.map(v => r.encode(id, v)))
  const got = await roundTrip(uniq('kjs-proto'), encoded)
  check(JSON.stringify(got.map(m => ({ name: m.name, count: m.count }))) === JSON.stringify(values),
    `decoded ${JSON.stringify(got)}`)
}

scenarios['incompatible-register'] = async () => {
  const r = registry()
  const subject = uniq('kjs-compat') + '-value'
  const v1 = JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] })
  const bad = JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }, { name: 'b', type: 'int' }] })
  await r.register({ type: SchemaType.AVRO, schema: v1 }, { subject })
  let err = null
  try { await r.register({ type: SchemaType.AVRO, schema: bad }, { subject }) } catch (e) { err = e }
  check(err !== null, 'incompatible schema registered')
  check(/incompatible/i.test(err.message), `error ${err.name}: ${err.message}`)
}

;(async () => {
  const only = process.argv.slice(2)
  let failed = 0
  for (const [name, fn] of Object.entries(scenarios)) {
    if (only.length && !only.includes(name)) continue
    const t0 = Date.now()
    try {
      await withTimeout(fn(), 90000, name)
      console.log(`PASS ${name} (${(Date.now() - t0) / 1000}s)`)
    } catch (e) {
      failed++
      console.log(`FAIL ${name} (${(Date.now() - t0) / 1000}s): ${e && e.name}: ${e && e.message}`)
      if (process.env.VERBOSE) console.log(e)
    }
  }
  process.exit(failed ? 1 : 0)
})()
