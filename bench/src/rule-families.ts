// `npm run bench -- rules --families[=exact,exists,...] [--sizes=10,100,1000,10000] [--runs=3]
//   [--seconds=1] [--events=10000] [--export=DIR]`
// The matcher per pattern family, as aws/event-ruler's own benchmarks measure it: GeoJSON-like
// land-lot records (~920 bytes as CloudEvents, the record in `data`), one family of rules at a time
// at several rule counts, events per CPU-second including JSON.parse. `--export=DIR` writes the
// events (events.jsonl) and each case's patterns (DIR/<family>-<size>.json), so that another engine
// can be measured on exactly the same input.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CloudEventLike, compileMatcher } from '@fuze/rules';
import { type CpuRate, timedCpuRate } from './cpu-rate.js';
import { median } from './report.js';
import { seeded } from './seeded-random.js';

type Random = () => number;
const pick = <T>(rnd: Random, list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;

const SYLLABLES = [
  'MA',
  'RKET',
  'MIS',
  'SION',
  'VAL',
  'ENCIA',
  'GEA',
  'RY',
  'POL',
  'K',
  'HAY',
  'ES',
  'FOL',
  'SOM',
  'BRY',
  'ANT',
  'DOL',
  'ORES',
  'CAS',
  'TRO',
];
const ST_TYPES = ['ST', 'AVE', 'BLVD', 'WAY', 'PL', 'TER', 'CT', 'LN'];
/** Optional properties (`ATTR_<n>`) a lot may carry: what the `exists` rules look for. */
const OPTIONAL_ATTRIBUTES = 20_000;

interface Street {
  readonly name: string;
  readonly parts: readonly [string, string, string];
}

function streetOf(rnd: Random): Street {
  const parts = [pick(rnd, SYLLABLES), pick(rnd, SYLLABLES), pick(rnd, SYLLABLES)] as const;
  return { name: parts.join(''), parts };
}

const digits = (n: number, width: number): string => String(n).padStart(width, '0');

/** A land-lot record like those of event-ruler's citylots benchmark, as a CloudEvent. */
function lotEvent(rnd: Random, i: number): CloudEventLike {
  const street = streetOf(rnd);
  const block = Math.floor(rnd() * 10_000);
  const lot = Math.floor(rnd() * 1000);
  const lon = -122.52 + rnd() * 0.16;
  const lat = 37.7 + rnd() * 0.11;
  // Six decimals, as numeric matching compares (EventBridge's fixed point): about 10 cm.
  const ring = Array.from({ length: 16 }, (_, n) => [
    Number((lon + Math.cos(n) * 0.0002).toFixed(6)),
    Number((lat + Math.sin(n) * 0.0002).toFixed(6)),
    0,
  ]);
  const properties: Record<string, unknown> = {
    MAPBLKLOT: `${digits(block, 4)}${digits(lot, 3)}`,
    BLKLOT: `${digits(block, 4)}${digits(lot, 3)}`,
    BLOCK_NUM: digits(block, 4),
    LOT_NUM: digits(lot, 3),
    FROM_ST: String(Math.floor(rnd() * 3000)),
    TO_ST: String(Math.floor(rnd() * 3000)),
    STREET: street.name,
    ST_TYPE: rnd() < 0.1 ? null : pick(rnd, ST_TYPES),
    ODD_EVEN: rnd() < 0.5 ? 'E' : 'O',
    IP: `10.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${1 + Math.floor(rnd() * 254)}`,
  };
  for (let n = 0; n < 3; n++) properties[`ATTR_${Math.floor(rnd() * OPTIONAL_ATTRIBUTES)}`] = 'y';
  return {
    specversion: '1.0',
    id: `lot-${i}`,
    source: '/gov/sf/assessor',
    type: 'gov.sf.lot.recorded',
    subject: properties['MAPBLKLOT'],
    time: '2024-05-01T12:34:56.789Z',
    datacontenttype: 'application/json',
    data: { type: 'Feature', properties, geometry: { type: 'Polygon', coordinates: [ring] } },
  };
}

const onProperties = (properties: Record<string, unknown>): unknown => ({ data: { properties } });

/** Makes the pattern of a family's `index`th rule. */
type MakePattern = (rnd: Random, index: number) => unknown;

/** One rule per family: values drawn so that matches per event stay few as rules grow. */
const families: Record<string, MakePattern> = {
  exact: (rnd) => onProperties({ STREET: [streetOf(rnd).name], ODD_EVEN: [rnd() < 0.5 ? 'E' : 'O'] }),
  prefix: (rnd) => {
    const { parts } = streetOf(rnd);
    return onProperties({ STREET: [{ prefix: `${parts[0]}${parts[1]}${parts[2].slice(0, 1)}` }] });
  },
  suffix: (rnd) => {
    const { parts } = streetOf(rnd);
    return onProperties({ STREET: [{ suffix: `${parts[0].slice(-1)}${parts[1]}${parts[2]}` }] });
  },
  'equals-ignore-case': (rnd) =>
    onProperties({ STREET: [{ 'equals-ignore-case': streetOf(rnd).name.toLowerCase() }] }),
  wildcard: (rnd) => {
    const { parts } = streetOf(rnd);
    return onProperties({ STREET: [{ wildcard: `${parts[0]}*${parts[1]}${parts[2]}` }] });
  },
  'anything-but': (rnd) => onProperties({ STREET: [{ 'anything-but': [streetOf(rnd).name] }] }),
  numeric: (rnd) => {
    const low = Number((-122.52 + rnd() * 0.16).toFixed(6));
    return {
      data: {
        geometry: { coordinates: [{ numeric: ['>', low, '<=', Number((low + 0.000002).toFixed(6))] }] },
      },
    };
  },
  exists: (rnd) => onProperties({ [`ATTR_${Math.floor(rnd() * OPTIONAL_ATTRIBUTES)}`]: [{ exists: true }] }),
  cidr: (rnd) =>
    onProperties({ IP: [{ cidr: `10.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.0/24` }] }),
  $or: (rnd) => ({
    $or: [
      onProperties({ STREET: [streetOf(rnd).name] }),
      onProperties({ BLOCK_NUM: [digits(Math.floor(rnd() * 10_000), 4)] }),
    ],
  }),
  // Each family in turn, so that even 10 rules hold one of each: drawn at random, the 10 held no
  // numeric rule, and "vs 10 rules" measured the cost of reading 48 coordinates, not of scaling.
  mixed: (rnd, index) => {
    const bounded = Object.keys(families).filter((name) => name !== 'mixed' && name !== 'anything-but');
    return (families[bounded[index % bounded.length] as string] as MakePattern)(rnd, index);
  },
};

/** Families in which every rule matches nearly every event: their cost grows with the rules. */
const UNBOUNDED = new Set(['anything-but']);

interface FamilyCase {
  readonly family: string;
  readonly size: number;
  readonly match: (event: CloudEventLike) => string[];
  readonly matchJson: (text: string) => string[];
  readonly buildMs: number;
  readonly heapBytes: number;
  /** JSON.parse, then match. */
  readonly rates: CpuRate[];
  /** matchJson: only the fields the rules name are read. */
  readonly readRates: CpuRate[];
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function runFamilies(args: string[]): Promise<void> {
  const option = (name: string, fallback: string) =>
    args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
  const ms = Number(option('seconds', '1')) * 1000;
  const runs = Number(option('runs', '3'));
  const sizes = option('sizes', '10,100,1000,10000').split(',').map(Number);
  const eventCount = Number(option('events', '10000'));
  const chosen = option('families', Object.keys(families).join(',')).split(',');
  const unknown = chosen.filter((name) => !(name in families));
  if (unknown.length > 0)
    throw new Error(`unknown families ${unknown.join(', ')}; known: ${Object.keys(families).join(', ')}`);
  const exportDir = option('export', '');

  const eventRandom = seeded(42);
  const texts = Array.from({ length: eventCount }, (_, i) => JSON.stringify(lotEvent(eventRandom, i)));
  if (exportDir) {
    mkdirSync(exportDir, { recursive: true });
    writeFileSync(join(exportDir, 'events.jsonl'), `${texts.join('\n')}\n`);
  }
  const averageBytes = texts.reduce((sum, text) => sum + text.length, 0) / texts.length;

  const cases: FamilyCase[] = [];
  for (const family of chosen) {
    for (const size of sizes) {
      const ruleRandom = seeded(size * 31 + family.length);
      const make = families[family] as MakePattern;
      const rules = Array.from({ length: size }, (_, i) => ({ id: `r${i}`, pattern: make(ruleRandom, i) }));
      if (exportDir)
        writeFileSync(join(exportDir, `${family}-${size}.json`), JSON.stringify(rules.map((r) => r.pattern)));
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      const start = performance.now();
      const matcher = compileMatcher(rules);
      const buildMs = performance.now() - start;
      gc();
      cases.push({
        family,
        size,
        match: matcher.match,
        matchJson: matcher.matchJson,
        buildMs,
        heapBytes: process.memoryUsage().heapUsed - heapBefore,
        rates: [],
        readRates: [],
      });
    }
  }
  console.log(
    `${eventCount} GeoJSON-like lot records as CloudEvents, ${Math.round(averageBytes)} bytes of JSON on average; ` +
      `${runs} interleaved runs of ${ms / 1000} s, median shown. Rates: events per CPU-second of this process, ` +
      'reading the text included: "parse+match" is JSON.parse then match; "matchJson" reads only the ' +
      'fields the rules name, as the router does; "vs 10 rules" compares matchJson rates.' +
      (exportDir ? `\nInputs written to ${exportDir}.` : ''),
  );

  let matched = 0;
  const batchOf = (c: FamilyCase, selective = false) => {
    let cursor = 0;
    return () => {
      for (let i = 0; i < 100; i++) {
        const text = texts[cursor] as string;
        matched += (selective ? c.matchJson(text) : c.match(JSON.parse(text) as CloudEventLike)).length;
        cursor = (cursor + 1) % texts.length;
      }
      return 100;
    };
  };
  for (const c of cases) timedCpuRate(Math.min(ms, 200), batchOf(c));
  for (let r = 0; r < runs; r++) {
    for (const c of cases) {
      c.rates.push(timedCpuRate(ms, batchOf(c)));
      c.readRates.push(timedCpuRate(ms, batchOf(c, true)));
    }
  }

  console.log(
    `\n${'family'.padEnd(19)} ${'rules'.padStart(7)} ${'matches/event'.padStart(14)} ${'build'.padStart(8)} ` +
      `${'heap'.padStart(9)} ${'events/cpu-s'.padStart(13)} ${'vs 10 rules'.padStart(12)}`,
  );
  for (const family of chosen) {
    const familyCases = cases.filter((c) => c.family === family);
    const base = familyCases.find((c) => c.size === Math.min(...sizes));
    const baseRate = base ? median(base.readRates.map((rate) => rate.cpu)) : Number.NaN;
    for (const c of familyCases) {
      const probe = texts.slice(0, 2000);
      const perEvent = probe.reduce((sum, text) => sum + c.match(JSON.parse(text)).length, 0) / probe.length;
      const rate = median(c.readRates.map((one) => one.cpu));
      const parsedRate = median(c.rates.map((one) => one.cpu));
      console.log(
        `${family.padEnd(19)} ${fmt(c.size).padStart(7)} ${perEvent.toFixed(3).padStart(14)} ` +
          `${`${c.buildMs.toFixed(0)} ms`.padStart(8)} ${`${(c.heapBytes / 1024 / 1024).toFixed(1)} MB`.padStart(9)} ` +
          `${fmt(parsedRate).padStart(12)} ${fmt(rate).padStart(10)} ${`${(rate / baseRate).toFixed(2)}x`.padStart(12)}`,
      );
    }
    if (UNBOUNDED.has(family))
      console.log(`${''.padEnd(19)} (every rule matches nearly every event: no scaling goal)`);
  }
  if (!globalThis.gc) console.log('\nheap figures are approximate: run node with --expose-gc');
  if (matched < 0) console.log('unreachable: keeps the loops from being optimised away');
}
