// `npm run bench -- rules [--seconds=1] [--runs=3] [--sizes=10,1000,10000] [--events=5000]`
// Events/s through one compiled matcher (compileMatcher) at several rule counts, next to the
// naive baseline measured in the same run: every rule's compiled pattern tried in turn.
// Over 300 lines: one benchmark read top to bottom (set-up, load, report), as its printout is.
import { type CloudEventLike, type CompiledPattern, compileMatcher, compilePattern } from '@fuze/rules';
import { type CpuRate, timedCpuRate } from './cpu-rate.js';
import { median } from './report.js';
import { runFamilies } from './rule-families.js';
import { seeded } from './seeded-random.js';

type Random = () => number;
const pick = <T>(rnd: Random, list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
const between = (rnd: Random, low: number, high: number): number =>
  low + Math.floor(rnd() * (high - low + 1));

/** What events and rules of one bus draw from: entities x 10 actions event types, tenants. */
interface Vocabulary {
  readonly entities: readonly string[];
  readonly tenants: number;
  /** Whether wildcard rules may span entities (`com.shop.*.paid`), matching events of many types. */
  readonly crossTypeWildcards: boolean;
}

const vocabulary = (entities: number, tenants: number, crossTypeWildcards: boolean): Vocabulary => ({
  entities: Array.from({ length: entities }, (_, i) => `entity${i}`),
  tenants,
  crossTypeWildcards,
});
const actions = [
  'created',
  'updated',
  'deleted',
  'placed',
  'paid',
  'shipped',
  'cancelled',
  'refunded',
  'viewed',
  'failed',
];
const services = Array.from({ length: 20 }, (_, i) => `svc${i}`);
const countries = ['FR', 'DE', 'US', 'CA', 'GB', 'ES', 'IT', 'NL', 'JP', 'BR'];
const tiers = ['bronze', 'silver', 'gold', 'platinum'];
const statuses = ['new', 'pending', 'paid', 'shipped', 'delivered', 'cancelled', 'failed'];
const categories = ['books', 'games', 'garden', 'kitchen', 'toys', 'tools', 'music', 'sports'];
const channels = ['web', 'ios', 'android', 'pos', 'partner'];

const typeOf = (entity: string, action: string) => `com.shop.${entity}.${action}`;

/** A CloudEvent of about 1 KB of JSON. */
function makeEvent(rnd: Random, i: number, { entities, tenants }: Vocabulary): CloudEventLike {
  const entity = pick(rnd, entities);
  const service = pick(rnd, services);
  const items = Array.from({ length: between(rnd, 1, 4) }, (_, n) => ({
    sku: `sku-${between(rnd, 1000, 9999)}`,
    qty: between(rnd, 1, 5),
    price: between(rnd, 100, 20000) / 100,
    category: pick(rnd, categories),
    line: n,
  }));
  const data: Record<string, unknown> = {
    orderId: `o-${100000 + i}`,
    customer: {
      id: `c-${between(rnd, 1, 50000)}`,
      email: `user${between(rnd, 1, 50000)}@example.com`,
      tier: pick(rnd, tiers),
      country: pick(rnd, countries),
      since: '2021-03-04',
    },
    total: between(rnd, 100, 100000) / 100,
    currency: pick(rnd, ['EUR', 'USD', 'GBP']),
    status: pick(rnd, statuses),
    channel: pick(rnd, channels),
    ip: `10.${between(rnd, 0, 255)}.${between(rnd, 0, 255)}.${between(rnd, 1, 254)}`,
    items,
    shipping: {
      method: pick(rnd, ['standard', 'express', 'pickup']),
      address: {
        street: `${between(rnd, 1, 200)} Main Street`,
        city: 'Springfield',
        zip: `${between(rnd, 10000, 99999)}`,
      },
    },
    tags: ['bench', pick(rnd, ['promo', 'repeat', 'first-order', 'gift'])],
    notes: 'Leave the parcel at the door; ring twice. This note pads the event to a realistic size.',
  };
  if (rnd() < 0.3) data['coupon'] = `SAVE${between(rnd, 5, 30)}`;
  return {
    specversion: '1.0',
    id: `evt-${i}-${between(rnd, 0, 1e9)}`,
    source: `/com.shop/${service}/${pick(rnd, ['eu-west-1', 'us-east-1'])}`,
    type: typeOf(entity, pick(rnd, actions)),
    subject: `orders/o-${100000 + i}`,
    time: '2024-05-01T12:34:56.789Z',
    datacontenttype: 'application/json',
    tenant: `tenant-${between(rnd, 1, tenants)}`,
    data,
  };
}

/** A rule as users write them: mostly a type (or source) first, then a condition or two on data. */
function makePattern(rnd: Random, { entities, tenants, crossTypeWildcards }: Vocabulary): unknown {
  const entity = pick(rnd, entities);
  const type = typeOf(entity, pick(rnd, actions));
  const roll = rnd();
  if (roll < 0.2) return { type: [type] };
  if (roll < 0.3) return { type: [type], source: [{ prefix: `/com.shop/${pick(rnd, services)}/` }] };
  if (roll < 0.45) {
    const low = between(rnd, 0, 900);
    return { type: [type], data: { total: [{ numeric: ['>=', low, '<', low + between(rnd, 10, 200)] }] } };
  }
  if (roll < 0.55)
    return { type: [type], data: { status: [{ 'anything-but': [pick(rnd, statuses), 'failed'] }] } };
  if (roll < 0.6) return { type: [type], data: { coupon: [{ exists: rnd() < 0.5 }] } };
  if (roll < 0.68) {
    const wildcard =
      rnd() < 0.5
        ? `com.shop.${entity}.*`
        : crossTypeWildcards
          ? `com.shop.*.${pick(rnd, actions)}`
          : `com.shop.${entity}.*ed`;
    return { type: [{ wildcard }], data: { customer: { country: [pick(rnd, countries)] } } };
  }
  if (roll < 0.75) {
    return {
      type: [type],
      $or: [
        { data: { customer: { tier: [pick(rnd, tiers)] } } },
        { data: { total: [{ numeric: ['>', between(rnd, 100, 900)] }] } },
      ],
    };
  }
  if (roll < 0.8)
    return { type: [type], data: { channel: [{ 'equals-ignore-case': pick(rnd, channels).toUpperCase() }] } };
  if (roll < 0.84) return { type: [type], data: { customer: { email: [{ suffix: '@example.com' }] } } };
  if (roll < 0.88) return { type: [type], data: { ip: [{ cidr: `10.${between(rnd, 0, 255)}.0.0/16` }] } };
  if (roll < 0.94) {
    return {
      type: [type],
      data: { items: { category: [pick(rnd, categories)], qty: [{ numeric: ['>=', 3] }] } },
    };
  }
  return { tenant: [`tenant-${between(rnd, 1, tenants)}`], data: { customer: { tier: ['platinum'] } } };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

interface Case {
  readonly mix: string;
  readonly size: number;
  readonly events: readonly CloudEventLike[];
  /** The same events as JSON text, as the router receives them. */
  readonly texts: readonly string[];
  readonly rules: readonly { id: string; pattern: unknown }[];
  readonly match: (event: CloudEventLike) => string[];
  readonly states: number;
  readonly buildMs: number;
  readonly heapBytes: number;
  readonly matchOnly: CpuRate[];
  readonly parseAndMatch: CpuRate[];
}

/** Two ways a bus grows: more rules per event type, or more event types with a few rules each. */
const mixes = [
  {
    name: 'shared',
    about: 'the same 600 event types and 40 tenants at every size: matches per event grow with the rules',
    vocabulary: (_size: number) => vocabulary(60, 40, true),
  },
  {
    name: 'spread',
    about:
      'event types and tenants grow with the rules (about 2 rules per type): matches per event stay level',
    vocabulary: (size: number) => vocabulary(Math.ceil(size / 20), Math.ceil(size / 25), false),
  },
] as const;

function buildCase(mix: (typeof mixes)[number], size: number, eventCount: number): Case {
  const words = mix.vocabulary(size);
  const eventRandom = seeded(7);
  const events = Array.from({ length: eventCount }, (_, i) => makeEvent(eventRandom, i, words));
  const ruleRandom = seeded(size);
  const rules = Array.from({ length: size }, (_, i) => ({
    id: `rule-${i}`,
    pattern: makePattern(ruleRandom, words),
  }));
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const buildStart = performance.now();
  const matcher = compileMatcher(rules);
  const buildMs = performance.now() - buildStart;
  gc();
  const heapBytes = process.memoryUsage().heapUsed - heapBefore;
  return {
    mix: mix.name,
    size,
    events,
    texts: events.map((event) => JSON.stringify(event)),
    rules,
    match: matcher.match,
    states: matcher.stateCount,
    buildMs,
    heapBytes,
    matchOnly: [],
    parseAndMatch: [],
  };
}

/** A batch of 200 events through the matcher, from parsed objects or from JSON text. */
function batchOf(c: Case, parse: boolean, count: (matched: number) => void): () => number {
  let cursor = 0;
  return () => {
    for (let i = 0; i < 200; i++) {
      const event = parse
        ? (JSON.parse(c.texts[cursor] as string) as CloudEventLike)
        : (c.events[cursor] as CloudEventLike);
      count(c.match(event).length);
      cursor = (cursor + 1) % c.events.length;
    }
    return 200;
  };
}

/** The baseline: every rule's own compiled pattern tried in turn, on the same parsed events. */
function naiveRate(c: Case, ms: number, count: (matched: number) => void): CpuRate {
  const patterns: CompiledPattern[] = c.rules.map((rule) => compilePattern(rule.pattern));
  let cursor = 0;
  return timedCpuRate(ms, () => {
    const event = c.events[cursor] as CloudEventLike;
    cursor = (cursor + 1) % c.events.length;
    let matched = 0;
    for (const pattern of patterns) if (pattern.matches(event)) matched++;
    count(matched);
    return 1;
  });
}

export async function run(args: string[]): Promise<void> {
  if (args.some((a) => a === '--families' || a.startsWith('--families='))) return runFamilies(args);
  const option = (name: string, fallback: string) =>
    args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
  const ms = Number(option('seconds', '1')) * 1000;
  const runs = Number(option('runs', '3'));
  const sizes = option('sizes', '10,1000,10000').split(',').map(Number);
  const eventCount = Number(option('events', '5000'));

  const cases = mixes.flatMap((mix) => sizes.map((size) => buildCase(mix, size, eventCount)));
  const first = cases[0];
  const eventBytes = first ? first.texts.reduce((sum, text) => sum + text.length, 0) / first.texts.length : 0;
  const memory = process.memoryUsage();
  console.log(
    `${eventCount} distinct events per case, ${Math.round(eventBytes)} bytes of JSON on average; ` +
      `${runs} interleaved runs of ${ms / 1000} s after a warm-up, median shown.\n` +
      'Rates are events per CPU-second of this process (wall-clock rates suffer from whatever else the ' +
      'machine runs; on an idle machine the two agree). "match" starts from parsed events; "parse+match" ' +
      'from JSON text, as the router does.\n' +
      `Memory with all ${cases.length} matchers and their events built: RSS ${mb(memory.rss)}, heap used ${mb(memory.heapUsed)}.`,
  );

  let matchedTotal = 0;
  const count = (matched: number) => {
    matchedTotal += matched;
  };
  for (const c of cases) timedCpuRate(Math.min(ms, 300), batchOf(c, false, count));
  for (let r = 0; r < runs; r++) {
    for (const c of cases) {
      c.matchOnly.push(timedCpuRate(ms, batchOf(c, false, count)));
      c.parseAndMatch.push(timedCpuRate(ms, batchOf(c, true, count)));
    }
  }

  const cpuOf = (rates: readonly CpuRate[]) => median(rates.map((rate) => rate.cpu));
  for (const mix of mixes) {
    console.log(`\nmix "${mix.name}": ${mix.about}`);
    console.log(
      `${'rules'.padStart(7)} ${'matches/event'.padStart(14)} ${'states'.padStart(7)} ${'build'.padStart(7)} ` +
        `${'heap'.padStart(8)} ${'match'.padStart(10)} ${'(wall)'.padStart(10)} ${'parse+match'.padStart(12)} ` +
        `${'naive match'.padStart(12)} ${'vs naive'.padStart(9)}`,
    );
    const mixCases = cases.filter((c) => c.mix === mix.name);
    for (const c of mixCases) {
      const probe = c.events.slice(0, 1000);
      const perEvent = probe.reduce((sum, event) => sum + c.match(event).length, 0) / probe.length;
      const naive = naiveRate(c, ms, count);
      const matchCpu = cpuOf(c.matchOnly);
      console.log(
        `${fmt(c.size).padStart(7)} ${perEvent.toFixed(2).padStart(14)} ${fmt(c.states).padStart(7)} ` +
          `${`${c.buildMs.toFixed(0)} ms`.padStart(7)} ${mb(c.heapBytes).padStart(8)} ${fmt(matchCpu).padStart(10)} ` +
          `${fmt(median(c.matchOnly.map((rate) => rate.wall))).padStart(10)} ${fmt(cpuOf(c.parseAndMatch)).padStart(12)} ` +
          `${fmt(naive.cpu).padStart(12)} ${`${(matchCpu / naive.cpu).toFixed(0)}x`.padStart(9)}`,
      );
    }
    const smallest = mixCases.find((c) => c.size === Math.min(...sizes));
    const largest = mixCases.find((c) => c.size === Math.max(...sizes));
    const thousand = mixCases.find((c) => c.size === 1000);
    if (smallest && largest) {
      const ratio = (pick: (c: Case) => readonly CpuRate[]) =>
        (cpuOf(pick(largest)) / cpuOf(pick(smallest))).toFixed(2);
      console.log(
        `  ${fmt(largest.size)} vs ${fmt(smallest.size)} rules: ${ratio((c) => c.matchOnly)}x (match), ` +
          `${ratio((c) => c.parseAndMatch)}x (parse+match); goal >= 0.5x`,
      );
    }
    if (thousand) {
      console.log(
        `  1,000 rules: ${fmt(cpuOf(thousand.matchOnly))} events/s (match), ` +
          `${fmt(cpuOf(thousand.parseAndMatch))} (parse+match); goal >= 100,000`,
      );
    }
  }
  const largest = cases.filter((c) => c.size === Math.max(...sizes));
  console.log(
    `\nheap taken by the largest matchers: ${largest.map((c) => `${c.mix} ${mb(c.heapBytes)}`).join(', ')} ` +
      `(goal < 200 MB)${globalThis.gc ? '' : '; approximate: run node with --expose-gc'}`,
  );
  if (matchedTotal < 0) console.log('unreachable: keeps the loops from being optimised away');
}
