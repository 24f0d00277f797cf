// kafkajs with SASL_SSL and SCRAM-SHA-256/512 against Skiff's SASL_SSL
// listener (env: SKIFF_SASL_SSL, SKIFF_CA, SKIFF_USER, SKIFF_PASSWORD; set by
// compat-tests/security.rs); a wrong password must fail.
const { Kafka, logLevel } = require('kafkajs')
const fs = require('fs')
const crypto = require('crypto')

const uniq = p => `${p}-${crypto.randomBytes(4).toString('hex')}`
const ca = [fs.readFileSync(process.env.SKIFF_CA, 'utf-8')]
const client = (mechanism, password) => new Kafka({
  clientId: 'skiff-compat-sec',
  brokers: [process.env.SKIFF_SASL_SSL],
  ssl: { ca },
  sasl: { mechanism, username: process.env.SKIFF_USER, password },
  logLevel: logLevel.NOTHING,
  retry: { retries: 2 },
})

async function roundtrip(mechanism) {
  const kafka = client(mechanism, process.env.SKIFF_PASSWORD)
  const topic = uniq('kjs-sec')
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic, messages: [{ value: 'hello' }] })
  await producer.disconnect()
  const consumer = kafka.consumer({ groupId: uniq('kjs-sec-g') })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  const got = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), 20000)
    consumer.run({ eachMessage: async ({ message }) => { clearTimeout(t); resolve(message.value.toString()) } })
  })
  await consumer.disconnect()
  if (got !== 'hello') throw new Error(`${mechanism}: ${got}`)
}

async function main() {
  let failed = false
  for (const m of ['scram-sha-256', 'scram-sha-512']) {
    try { await roundtrip(m); console.log(`PASS kafkajs ${m} over TLS`) } catch (e) { failed = true; console.log(`FAIL kafkajs ${m}: ${e}`) }
  }
  try {
    const admin = client('scram-sha-256', 'wrong').admin()
    await admin.connect()
    failed = true
    console.log('FAIL kafkajs wrong password was accepted')
  } catch (e) {
    console.log('PASS kafkajs wrong password refused')
  }
  process.exit(failed ? 1 : 0)
}
main()
