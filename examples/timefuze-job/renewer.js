// TimeFuze: "data + timer + trigger". The record `cert-renew:<host>` carries the certificate's
// data and the time of its next renewal; when that time comes, Fuze publishes the record's event,
// with no cron host. The handler renews the certificate, then re-arms the same record with the
// new data and the next renewal time. After RENEWALS renewals it cancels the record (kept, as
// `cancelled`) and exits.
import { createConsumer, createTimersClient } from '@fuze/sdk';

const natsUrl = process.env.FUZE_NATS_URL ?? 'nats://127.0.0.1:4222';
const adminUrl = process.env.FUZE_ADMIN_URL ?? 'http://127.0.0.1:8081';
const host = process.env.CERT_HOST ?? 'example.com';
const renewals = Number(process.env.RENEWALS ?? 3);
const every = process.env.RENEW_EVERY ?? '2s'; // a real job would say 60d
const key = `cert-renew:${host}`;
const timers = createTimersClient({ adminUrl, token: process.env.FUZE_ADMIN_TOKEN });

/** The record: the event the timer fires, carrying the certificate's data, and when. */
const arm = (certificate) =>
  timers.put(key, {
    event: { type: 'com.example.cert.renew', source: '/examples/timefuze-job', data: certificate },
    delay: every,
  });

let finished = () => {};
const allRenewed = new Promise((resolve) => {
  finished = resolve;
});

const consumer = await createConsumer({ target: 'cert-renewer', natsUrl }).handle(async (event) => {
  const certificate = event.data;
  if (certificate.host !== host || certificate.run !== process.pid) return; // another run's record
  const renewed = { ...certificate, serial: certificate.serial + 1, renewedAt: new Date().toISOString() };
  console.log(JSON.stringify({ renewed: host, serial: renewed.serial, firedAt: event.time }));
  if (renewed.serial < renewals)
    await arm(renewed); // re-arm: the same record, new data and time
  else {
    await timers.cancel(key);
    finished();
  }
});

await arm({ host, serial: 0, run: process.pid });
console.log(JSON.stringify({ armed: key, every }));
const timeout = setTimeout(
  () => {
    console.error(`timed out waiting for ${renewals} renewals of ${host}`);
    process.exit(1);
  },
  Number(process.env.EXAMPLE_TIMEOUT_MS ?? 60_000),
);
await allRenewed;
clearTimeout(timeout);
const record = await timers.get(key);
console.log(JSON.stringify({ done: key, state: record?.state, fireCount: record?.fireCount }));
await consumer.close();
