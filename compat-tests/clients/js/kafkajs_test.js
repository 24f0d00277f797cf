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
async function readAll(topic, n, timeoutMs = 20000, readUncommitted = false) {
  const consumer = kafka.consumer({ groupId: uniq('kjs-read'), readUncommitted })
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

// ---- transactions (kafkajs producer.transaction()) ----

async function txnProducer(transactionalId) {
  const p = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 })
  await p.connect()
  return p
}
const vals = msgs => msgs.map(m => m.value.toString())
// admin ListOffsets asks READ_COMMITTED: `high` is the last stable offset
const lso = async (admin, t) => (await admin.fetchTopicOffsets(t)).sort((a, b) => a.partition - b.partition).map(o => o.high)

scenarios['txn-commit'] = async () => {
  const t = uniq('kjs-txc')
  await createTopic(t, 2)
  const p = await txnProducer(uniq('kjs-tid'))
  const admin = kafka.admin()
  await admin.connect()
  try {
    const txn = await p.transaction()  // InitProducerId with the transactional id, then begin
    await txn.send({ topic: t, messages: Array.from({ length: 6 }, (_, i) => ({ value: `c${i}`, partition: i % 2 })) })
    check((await lso(admin, t)).join() === '0,0', `LSO during open txn ${await lso(admin, t)}`)
    await txn.commit()
    check((await lso(admin, t)).join() === '4,4', `LSO after commit ${await lso(admin, t)}`)
    const txn2 = await p.transaction()
    await txn2.send({ topic: t, messages: [{ value: 'second', partition: 1 }] })
    await txn2.commit()
  } finally { await admin.disconnect(); await p.disconnect() }
  const want = [...Array.from({ length: 6 }, (_, i) => `c${i}`), 'second'].sort().join()
  const rc = await readAll(t, 7)
  check(vals(rc).sort().join() === want, `read_committed got ${vals(rc)}`)
  const ru = await readAll(t, 7, 20000, true)
  check(vals(ru).sort().join() === want, `read_uncommitted got ${vals(ru)}`)
}

scenarios['txn-abort'] = async () => {
  const t = uniq('kjs-txa')
  await createTopic(t, 1)
  const p = await txnProducer(uniq('kjs-tid'))
  try {
    const txn = await p.transaction()
    await txn.send({ topic: t, messages: [{ value: 'a0' }, { value: 'a1' }, { value: 'a2' }] })
    await txn.abort()
    const txn2 = await p.transaction()
    await txn2.send({ topic: t, messages: [{ value: 'c0' }, { value: 'c1' }] })
    await txn2.commit()
  } finally { await p.disconnect() }
  // the aborted records (offsets 0-2) come first, so a leak would show up here
  const rc = await readAll(t, 2)
  check(JSON.stringify(rc.map(m => [m.offset, m.value.toString()])) === '[["4","c0"],["5","c1"]]',
        `read_committed got ${JSON.stringify(rc.map(m => [m.offset, m.value.toString()]))}`)
  const ru = await readAll(t, 5, 20000, true)
  check(vals(ru).join() === 'a0,a1,a2,c0,c1', `read_uncommitted got ${vals(ru)}`)
}

scenarios['txn-consume-transform-produce'] = async () => {
  const src = uniq('kjs-in'), dst = uniq('kjs-out'), groupId = uniq('kjs-eos')
  await createTopic(src, 2); await createTopic(dst, 2)
  const plain = kafka.producer()
  await plain.connect()
  await plain.send({ topic: src, messages: Array.from({ length: 10 }, (_, i) => ({ value: `${i}`, partition: i % 2 })) })
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 })  // read_committed by default; short long-poll so disconnect is quick
  const got = []
  await consumer.connect()
  await consumer.subscribe({ topics: [src], fromBeginning: true })
  await consumer.run({ autoCommit: false, eachMessage: async ({ partition, message }) => { got.push({ partition, ...message }) } })
  const p = await txnProducer(uniq('kjs-tid'))
  const admin = kafka.admin()
  await admin.connect()
  const waitFor = async n => {
    const deadline = Date.now() + 30000
    while (got.length < n && Date.now() < deadline) await sleep(100)
    check(got.length === n, `consumed ${got.length} of ${n}`)
    return got.splice(0)
  }
  // next offset to consume per partition, as the group should commit it
  const nextOffsets = msgs => {
    const next = {}
    for (const m of msgs) next[m.partition] = Math.max(next[m.partition] || 0, Number(m.offset) + 1)
    return [{ topic: src, partitions: Object.entries(next).map(([partition, o]) => ({ partition: Number(partition), offset: `${o}` })) }]
  }
  const committed = async () => (await admin.fetchOffsets({ groupId, topics: [src] }))[0].partitions
    .sort((a, b) => a.partition - b.partition).map(x => x.offset).join()
  try {
    let batch = await waitFor(10)
    let txn = await p.transaction()
    await txn.send({ topic: dst, messages: batch.map(m => ({ value: `x${m.value}`, partition: m.partition })) })
    await txn.sendOffsets({ consumerGroupId: groupId, topics: nextOffsets(batch) })
    await txn.commit()
    check(await committed() === '5,5', `committed after commit ${await committed()}`)
    const out = await readAll(dst, 10)
    check(vals(out).sort().join() === Array.from({ length: 10 }, (_, i) => `x${i}`).sort().join(), `output ${vals(out)}`)

    // again, but abort: the group's offsets must not move, the output must stay hidden
    await plain.send({ topic: src, messages: Array.from({ length: 4 }, (_, i) => ({ value: `${10 + i}`, partition: i % 2 })) })
    batch = await waitFor(4)
    txn = await p.transaction()
    await txn.send({ topic: dst, messages: batch.map(m => ({ value: `x${m.value}`, partition: m.partition })) })
    await txn.sendOffsets({ consumerGroupId: groupId, topics: nextOffsets(batch) })
    await txn.abort()
    check(await committed() === '5,5', `committed after abort ${await committed()}`)
    txn = await p.transaction()
    await txn.send({ topic: dst, messages: [{ value: 'end', partition: 0 }, { value: 'end', partition: 1 }] })
    await txn.commit()
  } finally {
    await consumer.disconnect(); await admin.disconnect(); await p.disconnect(); await plain.disconnect()
  }
  const out = await readAll(dst, 12)
  check(vals(out).sort().join() === [...Array.from({ length: 10 }, (_, i) => `x${i}`), 'end', 'end'].sort().join(), `output ${vals(out)}`)
}

scenarios['txn-fencing'] = async () => {
  const t = uniq('kjs-txf'), tid = uniq('kjs-tid')
  await createTopic(t, 1)
  const p1 = await txnProducer(tid), p2 = await txnProducer(tid)
  try {
    const txn1 = await p1.transaction()
    await txn1.send({ topic: t, messages: [{ value: 'zombie' }] })
    const txn2 = await p2.transaction()  // bumps the epoch and aborts p1's open transaction
    let err = null
    try { await txn1.commit() } catch (e) { err = e }
    check(err !== null, "fenced producer's commit succeeded")
    check(err.type === 'INVALID_PRODUCER_EPOCH' || err.type === 'PRODUCER_FENCED', `commit error ${err.name} ${err.type}: ${err.message}`)
    await txn2.send({ topic: t, messages: [{ value: 'live' }] })
    await txn2.commit()
  } finally { await p1.disconnect(); await p2.disconnect() }
  const rc = await readAll(t, 1)
  check(vals(rc).join() === 'live', `read_committed got ${vals(rc)}`)
  const ru = await readAll(t, 2, 20000, true)
  check(vals(ru).join() === 'zombie,live', `read_uncommitted got ${vals(ru)}`)
}

scenarios['txn-interleaved'] = async () => {
  // two transactional producers interleave on one partition; the first to commit cannot be
  // read until the other ends (LSO); then read_committed filters the aborted one's records
  const t = uniq('kjs-txi')
  await createTopic(t, 1)
  const pa = await txnProducer(uniq('kjs-tid')), pb = await txnProducer(uniq('kjs-tid'))
  const admin = kafka.admin()
  await admin.connect()
  try {
    const ta = await pa.transaction(), tb = await pb.transaction()
    for (let i = 0; i < 3; i++) {
      await ta.send({ topic: t, messages: [{ value: `a${i}` }] })
      await tb.send({ topic: t, messages: [{ value: `b${i}` }] })
    }
    await tb.commit()
    check((await lso(admin, t)).join() === '0', `LSO with a's txn open ${await lso(admin, t)}`)
    await ta.abort()
    const plain = kafka.producer()
    await plain.connect()
    await plain.send({ topic: t, messages: [{ value: 'plain' }] })
    await plain.disconnect()
    check((await lso(admin, t)).join() === '9', `LSO after both ended ${await lso(admin, t)}`)
  } finally { await admin.disconnect(); await pa.disconnect(); await pb.disconnect() }
  const rc = await readAll(t, 4)
  check(vals(rc).join() === 'b0,b1,b2,plain', `read_committed got ${vals(rc)}`)
  const ru = await readAll(t, 7, 20000, true)
  check(vals(ru).join() === 'a0,b0,a1,b1,a2,b2,plain', `read_uncommitted got ${vals(ru)}`)
}

scenarios['txn-commit-wakes-read-committed'] = async () => {
  // a read_committed fetch parked at the LSO (maxWaitTimeInMs 5000 by default) returns
  // when the transaction commits, not when its long-poll times out
  const t = uniq('kjs-txw'), groupId = uniq('kjs-read')
  await createTopic(t, 1)
  const consumer = kafka.consumer({ groupId })
  const got = []
  let fetches = 0
  consumer.on(consumer.events.FETCH_START, () => { fetches++ })
  await consumer.connect()
  await consumer.subscribe({ topics: [t], fromBeginning: true })
  const p = await txnProducer(uniq('kjs-tid'))
  try {
    const txn = await p.transaction()
    await txn.send({ topic: t, messages: [{ value: 'w0' }, { value: 'w1' }, { value: 'w2' }] })
    await consumer.run({ eachMessage: async ({ message }) => { got.push(message.value.toString()) } })
    const deadline = Date.now() + 20000
    while (fetches < 1 && Date.now() < deadline) await sleep(50)  // joined and fetching
    check(fetches >= 1, 'consumer never fetched')
    await sleep(300)  // the fetch reaches the broker and parks at the LSO (nothing to poll for)
    check(got.length === 0, `read uncommitted records ${got}`)
    const t0 = Date.now()
    await txn.commit()
    while (got.length < 3 && Date.now() < t0 + 10000) await sleep(50)
    const took = (Date.now() - t0) / 1000
    check(got.join() === 'w0,w1,w2', `got ${got}`)
    check(took < 2.5, `records arrived ${took}s after the commit`)
  } finally { await consumer.disconnect(); await p.disconnect() }
}

scenarios['txn-invalid-timeout'] = async () => {
  const p = kafka.producer({ transactionalId: uniq('kjs-tid'), transactionTimeout: 1000000, idempotent: true, maxInFlightRequests: 1 })
  await p.connect()
  try {
    let err = null
    try { await p.transaction() } catch (e) { err = e }
    check(err !== null, 'transactionTimeout above transaction.max.timeout.ms accepted')
    check(err.type === 'INVALID_TRANSACTION_TIMEOUT', `error ${err.name} ${err.type}: ${err.message}`)
  } finally { await p.disconnect() }
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
