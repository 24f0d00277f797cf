// kafkajs against Skiff, default client settings.
// Run: cd compat-tests/clients/js && npm install && SKIFF_BOOTSTRAP=localhost:9092 node kafkajs_test.js [scenario ...]
const { Kafka, logLevel, CompressionTypes } = require('kafkajs')
const crypto = require('crypto')

const BOOTSTRAP = process.env.SKIFF_BOOTSTRAP || 'localhost:9092'
const kafka = new Kafka({
  clientId: 'skiff-compat',
  brokers: [BOOTSTRAP],
  logLevel: process.env.VERBOSE ? logLevel.DEBUG : logLevel.NOTHING,
})
const uniq = p => `${p}-${crypto.randomBytes(4).toString('hex')}`
const sleep = ms => new Promise(r => setTimeout(r, ms))
function check(cond, msg) { if (!cond) throw new Error(msg) }
const withTimeout = (p, ms, what) =>
  Promise.race([p, sleep(ms).then(() => { throw new Error(`timeout: ${what}`) })])

async function createTopic(topic, numPartitions = 3) {
  const admin = kafka.admin()
  await admin.connect()
  const created = await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true })
  await admin.disconnect()
  return created
}

// consume everything from the beginning with a throwaway group until `n` messages
async function readAll(topic, n, timeoutMs = 20000) {
  const consumer = kafka.consumer({ groupId: uniq('kjs-read') })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  const out = []
  let done
  const finished = new Promise(r => { done = r })
  await consumer.run({ eachMessage: async ({ partition, message }) => {
    out.push({ partition, ...message })
    if (out.length >= n) done()
  } })
  try { await withTimeout(finished, timeoutMs, `read ${n} from ${topic}, got ${out.length}`) }
  finally { await consumer.disconnect() }
  return out
}

const scenarios = {}

scenarios['metadata+admin'] = async () => {
  const t = uniq('kjs-adm')
  const admin = kafka.admin()
  await admin.connect()
  try {
    const created = await admin.createTopics({ topics: [{ topic: t, numPartitions: 3 }], waitForLeaders: true })
    check(created === true, `createTopics returned ${created}`)
    check((await admin.listTopics()).includes(t), 'listTopics misses topic')
    const md = await admin.fetchTopicMetadata({ topics: [t] })
    check(md.topics[0].partitions.length === 3, `metadata ${JSON.stringify(md)}`)
    const cl = await admin.describeCluster()
    check(cl.brokers.length === 1 && cl.controller !== null, `describeCluster ${JSON.stringify(cl)}`)
    const cfg = await admin.describeConfigs({ resources: [{ type: 2, name: t }], includeSynonyms: false })
    const names = cfg.resources[0].configEntries.map(e => e.configName)
    check(names.includes('retention.ms') && names.includes('cleanup.policy'), `configs ${names}`)
    await admin.deleteTopics({ topics: [t] })
    await sleep(300)
    check(!(await admin.listTopics()).includes(t), 'deleted topic still listed')
  } finally { await admin.disconnect() }
}

scenarios['produce-consume'] = async () => {
  const t = uniq('kjs-pc')
  await createTopic(t, 1)
  const producer = kafka.producer()
  await producer.connect()
  const res = await producer.send({ topic: t, messages: [
    { key: 'k1', value: 'v1', headers: { h1: 'x', h2: '' } },
    { key: 'k2', value: null },
    { value: 'v3' },
  ] })
  check(res[0].errorCode === 0 && res[0].baseOffset === '0', `send result ${JSON.stringify(res)}`)
  await producer.disconnect()
  const got = await readAll(t, 3)
  const kv = got.map(m => [m.key && m.key.toString(), m.value && m.value.toString()])
  check(JSON.stringify(kv) === JSON.stringify([['k1', 'v1'], ['k2', null], [null, 'v3']]), `got ${JSON.stringify(kv)}`)
  check(got[0].headers.h1.toString() === 'x' && got[0].headers.h2.toString() === '', `headers ${JSON.stringify(got[0].headers)}`)
}

// kafkajs ships only gzip; the others need external codec plugins
scenarios['compression-gzip'] = async () => {
  const t = uniq('kjs-gz')
  await createTopic(t, 1)
  const producer = kafka.producer()
  await producer.connect()
  const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `value-${i}`.repeat(10) }))
  await producer.send({ topic: t, compression: CompressionTypes.GZIP, messages })
  await producer.disconnect()
  const got = await readAll(t, 50)
  check(got.map(m => m.value.toString()).join() === messages.map(m => m.value).join(), 'gzip roundtrip')
}

scenarios['consumer-group'] = async () => {
  const t = uniq('kjs-grp'), groupId = uniq('kjs-g')
  await createTopic(t, 3)
  const seen = [], byMember = [new Set(), new Set()]
  const consumers = [kafka.consumer({ groupId }), kafka.consumer({ groupId })]
  for (const [i, c] of consumers.entries()) {
    await c.connect()
    await c.subscribe({ topics: [t], fromBeginning: true })
    await c.run({ eachMessage: async ({ partition, message }) => {
      byMember[i].add(partition); seen.push(message.value.toString())
    } })
  }
  // wait until both members hold partitions before producing
  const assigned = () => Promise.all(consumers.map(c => c.describeGroup()))
  let deadline = Date.now() + 30000, desc
  while (Date.now() < deadline) {
    desc = await assigned()
    if (desc[0].state === 'Stable' && desc[0].members.length === 2) break
    await sleep(500)
  }
  check(desc[0].members.length === 2, `group never stable with 2 members: ${JSON.stringify(desc[0])}`)
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic: t, messages: Array.from({ length: 30 }, (_, i) => ({ value: `${i}`, partition: i % 3 })) })
  deadline = Date.now() + 20000
  while (seen.length < 30 && Date.now() < deadline) await sleep(200)
  await sleep(1000)
  check(seen.length === 30 && new Set(seen).size === 30, `seen ${seen.length}: ${seen.sort()}`)
  check(byMember[0].size > 0 && byMember[1].size > 0 &&
        [...byMember[0]].every(p => !byMember[1].has(p)), `split ${[...byMember[0]]} / ${[...byMember[1]]}`)
  for (const c of consumers) await c.disconnect()  // default autoCommit commits on disconnect

  const admin = kafka.admin()
  await admin.connect()
  try {
    const { groups } = await admin.listGroups()
    check(groups.some(g => g.groupId === groupId && g.protocolType === 'consumer'), `listGroups ${JSON.stringify(groups)}`)
    const d = await admin.describeGroups([groupId])
    check(d.groups[0].state === 'Empty' && d.groups[0].errorCode === 0, `describeGroups ${JSON.stringify(d)}`)
    const offs = await admin.fetchOffsets({ groupId, topics: [t] })
    const o = offs[0].partitions.map(p => [p.partition, p.offset]).sort()
    check(JSON.stringify(o) === JSON.stringify([[0, '10'], [1, '10'], [2, '10']]), `fetchOffsets ${JSON.stringify(offs)}`)
  } finally { await admin.disconnect() }

  await producer.send({ topic: t, messages: [{ value: 'new', partition: 1 }] })
  await producer.disconnect()
  const c3 = kafka.consumer({ groupId })
  await c3.connect()
  await c3.subscribe({ topics: [t], fromBeginning: true })
  const resumed = []
  await c3.run({ eachMessage: async ({ message }) => { resumed.push(message.value.toString()) } })
  deadline = Date.now() + 20000
  while (resumed.length < 1 && Date.now() < deadline) await sleep(200)
  await sleep(1000)
  await c3.disconnect()
  check(JSON.stringify(resumed) === '["new"]', `resumed consumer got ${JSON.stringify(resumed)}`)
}

scenarios['idempotent-producer'] = async () => {
  const t = uniq('kjs-idem')
  await createTopic(t, 1)
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  for (let i = 0; i < 3; i++) await producer.send({ topic: t, messages: [{ value: `m${i}` }, { value: `n${i}` }] })
  await producer.disconnect()
  const got = await readAll(t, 6)
  check(got.map(m => m.value.toString()).join() === 'm0,n0,m1,n1,m2,n2', `got ${got.map(m => m.value.toString())}`)
}

scenarios['topic-offsets'] = async () => {
  const t = uniq('kjs-off')
  await createTopic(t, 1)
  const producer = kafka.producer()
  await producer.connect()
  const base = Date.now() - 100000
  for (let i = 0; i < 5; i++) await producer.send({ topic: t, messages: [{ value: 'x', timestamp: `${base + i * 1000}` }] })
  await producer.disconnect()
  const admin = kafka.admin()
  await admin.connect()
  try {
    const offs = await admin.fetchTopicOffsets(t)
    check(offs[0].low === '0' && offs[0].high === '5' && offs[0].offset === '5', `fetchTopicOffsets ${JSON.stringify(offs)}`)
    const byTs = await admin.fetchTopicOffsetsByTimestamp(t, base + 1500)
    check(byTs[0].offset === '2', `byTimestamp ${JSON.stringify(byTs)}`)
    const future = await admin.fetchTopicOffsetsByTimestamp(t, base + 999999)
    check(future[0].offset === '5', `byTimestamp(future) ${JSON.stringify(future)}`)
  } finally { await admin.disconnect() }
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
