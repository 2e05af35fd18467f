import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_POLICY,
  type DocumentError,
  formatDocumentError,
  parseDuration,
  parseRuleDocuments,
  type RuleDocument,
  type ScheduleDocument,
} from '../src/document/index.js';

function errorsOf(text: string): Pick<DocumentError, 'line' | 'column' | 'path' | 'message'>[] {
  return parseRuleDocuments(text, 'rules.yaml').errors.map(({ line, column, path, message }) => ({
    line,
    column,
    path,
    message,
  }));
}

function onlyRule(text: string): RuleDocument {
  const { documents, errors } = parseRuleDocuments(text, 'rules.yaml');
  expect(errors).toEqual([]);
  expect(documents).toHaveLength(1);
  return documents[0] as RuleDocument;
}

const minimalRule = `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: minimal }
spec:
  pattern: { type: [com.shop.order.placed] }
  targets:
    - name: billing
      http: { url: "http://billing:3000/events" }
`;

describe('parseDuration', () => {
  it('reads units and combinations', () => {
    expect(parseDuration('10ms')).toBe(10);
    expect(parseDuration('5s')).toBe(5_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1m30s500ms')).toBe(90_500);
    expect(parseDuration('1.5s')).toBe(1_500);
  });

  it('refuses anything else', () => {
    for (const text of ['', '5', '5 s', '5sec', 'm5', '-1s', '1h 30m', '1.s']) {
      expect(() => parseDuration(text), text).toThrow(/duration/);
    }
  });
});

describe('normalisation', () => {
  it('fills every default', () => {
    const rule = onlyRule(minimalRule);
    expect(rule).toEqual({
      kind: 'Rule',
      apiVersion: 'fuze.dev/v1',
      name: 'minimal',
      bus: 'default',
      enabled: true,
      pattern: { type: ['com.shop.order.placed'] },
      targets: [
        {
          kind: 'http',
          name: 'billing',
          http: {
            url: 'http://billing:3000/events',
            method: 'POST',
            mode: 'structured',
            headers: {},
            timeoutMs: 5_000,
          },
          input: 'whole',
          retry: DEFAULT_RETRY_POLICY,
        },
      ],
      source: { file: 'rules.yaml', line: 1 },
    });
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxAttempts: 10,
      backoff: 'exponential',
      initialDelayMs: 1_000,
      maxDelayMs: 300_000,
      maxAgeMs: 86_400_000,
    });
  });

  it('converts durations and keeps what was written', () => {
    const rule = onlyRule(`apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: full, bus: shop, description: everything }
spec:
  enabled: false
  pattern: { type: [a] }
  targets:
    - name: billing
      http:
        url: https://billing.example.com/events
        method: PATCH
        headers: { X-Tenant: acme }
        timeout: 1m30s
        secretRef: billing-key
      input: { paths: { id: "$.data.orderId" }, template: '{"order": "<id>"}' }
      ordering: { partitionKey: "$.data.customerId", partitions: 4 }
      retry: { maxAttempts: 3, backoff: fixed, initialDelay: 250ms, maxDelay: 1h, maxAge: 2h }
    - name: audit
      nats: { subject: audit.orders, jetstream: true }
      ordering: {}
    - name: app
      consumer:
      input: { constant: ping }
`);
    expect(rule.bus).toBe('shop');
    expect(rule.description).toBe('everything');
    expect(rule.enabled).toBe(false);
    expect(rule.targets).toEqual([
      {
        kind: 'http',
        name: 'billing',
        http: {
          url: 'https://billing.example.com/events',
          method: 'PATCH',
          // A transformed input cannot travel in structured mode: binary is the default then.
          mode: 'binary',
          headers: { 'X-Tenant': 'acme' },
          timeoutMs: 90_000,
          secretRef: 'billing-key',
        },
        input: { paths: { id: '$.data.orderId' }, template: '{"order": "<id>"}' },
        ordering: { partitionKey: '$.data.customerId', partitions: 4 },
        retry: {
          maxAttempts: 3,
          backoff: 'fixed',
          initialDelayMs: 250,
          maxDelayMs: 3_600_000,
          maxAgeMs: 7_200_000,
        },
      },
      {
        kind: 'nats',
        name: 'audit',
        nats: { subject: 'audit.orders', jetstream: true },
        input: 'whole',
        ordering: { partitions: 16 },
        retry: DEFAULT_RETRY_POLICY,
      },
      { kind: 'consumer', name: 'app', input: { constant: 'ping' }, retry: DEFAULT_RETRY_POLICY },
    ]);
  });

  it('parses every kind of schedule', () => {
    const { documents, errors } = parseRuleDocuments(
      `apiVersion: fuze.dev/v1
kind: Schedule
metadata: { name: nightly }
spec:
  event: { type: com.shop.report.due, source: /scheduler, data: { report: sales }, extensions: { tenant: acme } }
  cron: "0 2 * * MON-FRI"
---
apiVersion: fuze.dev/v1
kind: Schedule
metadata: { name: heartbeat, bus: infra }
spec:
  key: hb
  enabled: false
  event: { type: t, source: /s }
  rate: 30s
  misfire: fire-all
---
apiVersion: fuze.dev/v1
kind: Schedule
metadata: { name: once }
spec:
  event: { type: t, source: /s, subject: x, datacontenttype: text/plain, dataschema: "https://s/1" }
  at: 2030-01-01T09:00:00.5+02:00
---
apiVersion: fuze.dev/v1
kind: Schedule
metadata: { name: later }
spec:
  event: { type: t, source: /s }
  delay: 1h30m
`,
      'schedules.yaml',
    );
    expect(errors).toEqual([]);
    const [nightly, heartbeat, once, later] = documents as ScheduleDocument[];
    expect(nightly).toEqual({
      kind: 'Schedule',
      apiVersion: 'fuze.dev/v1',
      name: 'nightly',
      bus: 'default',
      enabled: true,
      key: 'nightly',
      event: {
        type: 'com.shop.report.due',
        source: '/scheduler',
        data: { report: 'sales' },
        extensions: { tenant: 'acme' },
      },
      timing: { kind: 'cron', cron: '0 2 * * MON-FRI', timezone: 'UTC' },
      misfire: 'fire-once',
      source: { file: 'schedules.yaml', line: 1 },
    });
    expect(heartbeat).toMatchObject({
      bus: 'infra',
      key: 'hb',
      enabled: false,
      misfire: 'fire-all',
      timing: { kind: 'rate', rateMs: 30_000 },
    });
    expect(once?.timing).toEqual({ kind: 'at', at: '2030-01-01T09:00:00.5+02:00' });
    expect(once?.event).toEqual({
      type: 't',
      source: '/s',
      subject: 'x',
      datacontenttype: 'text/plain',
      dataschema: 'https://s/1',
      extensions: {},
    });
    expect(later?.timing).toEqual({ kind: 'delay', delayMs: 5_400_000 });
    expect(later?.source.line).toBe(25);
  });

  it('accepts cron macros, names, steps and lists', () => {
    for (const cron of ['@daily', '*/15 * * * *', '0 9-17/2 * JAN-MAR,DEC 1-5', '0 0 1,15 * 7']) {
      const text = `apiVersion: fuze.dev/v1\nkind: Schedule\nmetadata: { name: c }\nspec:\n  event: { type: t, source: /s }\n  cron: "${cron}"\n`;
      expect(parseRuleDocuments(text, 'c.yaml').errors, cron).toEqual([]);
    }
  });

  it('skips empty documents and comments', () => {
    expect(parseRuleDocuments('', 'empty.yaml')).toEqual({ documents: [], errors: [] });
    expect(parseRuleDocuments('# nothing yet\n---\n---\n', 'empty.yaml')).toEqual({
      documents: [],
      errors: [],
    });
    const { documents } = parseRuleDocuments(`---\n${minimalRule}---\n`, 'r.yaml');
    expect(documents).toHaveLength(1);
    expect(documents[0]?.source.line).toBe(2);
  });
});

describe('an alias bomb', () => {
  it('is one problem at its document, not an exception, and the other documents still parse', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      ...Array.from({ length: 8 }, (_, i) => {
        const prev = String.fromCharCode(97 + i);
        const next = String.fromCharCode(98 + i);
        return `${next}: &${next} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`;
      }),
    ].join('\n');
    const good = `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: fine }
spec:
  pattern: { type: [a] }
  targets: [{ name: t, consumer: {} }]
`;
    const { documents, errors } = parseRuleDocuments(`${bomb}\n---\n${good}`, 'bomb.yaml');
    expect(errors).toEqual([
      expect.objectContaining({
        file: 'bomb.yaml',
        line: 1,
        message: expect.stringMatching(/^YAML: .*alias/i),
      }),
    ]);
    expect(documents.map((d) => d.name)).toEqual(['fine']);
  });
});

describe('error positions', () => {
  it('points at the key of an unknown field and the value of a bad one, and reports both', () => {
    const text = `apiVersion: fuze.dev/v1
kind: Rule
metadata:
  name: big-orders
spec:
  pattern: { type: [a] }
  targets:
    - name: billing
      http:
        url: http://billing/
        timout: 5s
      retry:
        maxDelay: 5 minutes
`;
    const { errors } = parseRuleDocuments(text, 'rules/orders.yaml');
    expect(errors).toEqual([
      {
        file: 'rules/orders.yaml',
        line: 11,
        column: 9,
        rule: 'big-orders',
        path: 'spec.targets[0].http.timout',
        message: 'unknown field "timout". Did you mean "timeout"?',
      },
      {
        file: 'rules/orders.yaml',
        line: 13,
        column: 19,
        rule: 'big-orders',
        path: 'spec.targets[0].retry.maxDelay',
        message:
          '"5 minutes" is not a duration: use a number and a unit (ms, s, m, h, d), e.g. 500ms, 5s, 1h30m, 7d',
      },
    ]);
    expect(formatDocumentError(errors[0] as DocumentError)).toBe(
      'rules/orders.yaml:11:9: [big-orders] spec.targets[0].http.timout: unknown field "timout". Did you mean "timeout"?',
    );
  });

  it('points a missing field at the field that should hold it', () => {
    expect(
      errorsOf(`apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: r }
spec:
  pattern: { type: [a] }
  targets:
    - name: t
      http:
        method: POST
`),
    ).toEqual([{ line: 8, column: 7, path: 'spec.targets[0].http.url', message: '"url" is required' }]);
  });

  it('points a target without a kind at the list item', () => {
    expect(
      errorsOf(`apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: r }
spec:
  pattern: { type: [a] }
  targets:
    - name: t
      retry: { maxAttempts: 3 }
`),
    ).toEqual([
      {
        line: 7,
        column: 7,
        path: 'spec.targets[0]',
        message: 'a target needs exactly one of http, nats or consumer',
      },
    ]);
  });

  it('points a missing top-level field at the document start', () => {
    expect(
      errorsOf(
        '# rules\n\nkind: Rule\nmetadata: { name: r }\nspec: { pattern: { a: [1] }, targets: [{ name: t, consumer: {} }] }\n',
      ),
    ).toEqual([
      {
        line: 3,
        column: 1,
        path: 'apiVersion',
        message: '"apiVersion" is required: add apiVersion: fuze.dev/v1',
      },
    ]);
  });

  it('points inside a one-line template at the character at fault', () => {
    const text = `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: r }
spec:
  pattern: { type: [a] }
  targets:
    - name: t
      consumer: {}
      input:
        paths: { orderId: "$.data.id" }
        template: '{"order": <orderid>}'
`;
    expect(errorsOf(text)).toEqual([
      {
        line: 11,
        column: 30,
        path: 'spec.targets[0].input.template',
        message:
          'unknown placeholder <orderid> at character 11: define it under input.paths. Did you mean "orderId"?',
      },
    ]);
  });

  it('points at the start of a template whose source cannot be mapped character by character', () => {
    const text = `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: r }
spec:
  pattern: { type: [a] }
  targets:
    - name: t
      consumer: {}
      input:
        template: |
          {"a": "\\u00e9",
           "b": <b>}
`;
    const [error] = errorsOf(text);
    expect(error).toMatchObject({ line: 10, column: 19, path: 'spec.targets[0].input.template' });
    expect(error?.message).toContain('unknown placeholder <b> at character 23');
  });

  it('maps a pattern error onto the pattern node', () => {
    const text = `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: r }
spec:
  pattern:
    data:
      total: [{ numeric: [">>", 100] }]
  targets: [{ name: t, consumer: {} }]
`;
    const [error] = errorsOf(text);
    expect(error?.path.startsWith('spec.pattern.data.total[0]')).toBe(true);
    expect(error).toMatchObject({ line: 7, column: 27 });
  });

  it('reports YAML syntax errors at their position and skips only that document', () => {
    const text = `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: broken
---
${minimalRule}`;
    const { documents, errors } = parseRuleDocuments(text, 'r.yaml');
    expect(documents.map((d) => d.name)).toEqual(['minimal']);
    expect(errors.length).toBeGreaterThan(0);
    // The unclosed flow mapping is detected where the next document starts.
    expect(errors[0]).toMatchObject({ file: 'r.yaml', line: 4, column: 1, path: '' });
    expect(errors[0]?.message.startsWith('YAML syntax: ')).toBe(true);
  });

  it('reports duplicate keys', () => {
    const [error] = errorsOf(`apiVersion: fuze.dev/v1\nkind: Rule\nkind: Rule\n`);
    expect(error).toMatchObject({ line: 3, column: 1, path: '' });
    expect(error?.message).toContain('unique');
  });

  it('reports every problem of a document, sorted by position', () => {
    const text = `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: Bad_Name, bsu: x }
spec:
  enabld: true
  pattern: { type: [a] }
  targets:
    - name: a
      http: { url: "not a url", method: GET, timeout: 0ms }
      ordering: { partitions: 0, partitionKey: "$.x[*]" }
      retry: { maxAttempts: 1.5, backoff: linear, maxAge: 30s }
      input: { template: '<nope>' }
    - name: a
      nats: { subject: "a..b" }
`;
    expect(errorsOf(text).map((e) => `${e.line}:${e.column} ${e.path}`)).toEqual([
      '3:19 metadata.name',
      '3:29 metadata.bsu',
      '5:3 spec.enabld',
      '9:20 spec.targets[0].http.url',
      '9:41 spec.targets[0].http.method',
      '9:55 spec.targets[0].http.timeout',
      '10:31 spec.targets[0].ordering.partitions',
      '10:48 spec.targets[0].ordering.partitionKey',
      '11:29 spec.targets[0].retry.maxAttempts',
      '11:43 spec.targets[0].retry.backoff',
      '11:59 spec.targets[0].retry.maxAge',
      '12:27 spec.targets[0].input.template',
      '14:24 spec.targets[1].nats.subject',
    ]);
    expect(parseRuleDocuments(text, 'r.yaml').errors.every((e) => e.rule === 'Bad_Name')).toBe(true);
  });
});

describe('messages say what to do', () => {
  function messageFor(snippet: string): string {
    const text = `apiVersion: fuze.dev/v1\nkind: Rule\nmetadata: { name: r }\nspec:\n  pattern: { type: [a] }\n  targets:\n    - name: t\n${snippet}`;
    return errorsOf(text)
      .map((e) => `${e.path}: ${e.message}`)
      .join('\n');
  }

  it('suggests the closest field or value', () => {
    expect(messageFor('      consumer: {}\n      retyr: {}\n')).toBe(
      'spec.targets[0].retyr: unknown field "retyr". Did you mean "retry"?',
    );
    expect(messageFor('      consumer: {}\n      retry: { maxattempts: 3 }\n')).toBe(
      'spec.targets[0].retry.maxattempts: unknown field "maxattempts". Did you mean "maxAttempts"?',
    );
    expect(messageFor('      consumer: {}\n      retry: { backoff: exponentail }\n')).toBe(
      'spec.targets[0].retry.backoff: must be one of exponential, fixed, not string "exponentail". Did you mean "exponential"?',
    );
    expect(messageFor('      consumer: {}\n      xyz: 1\n')).toBe(
      'spec.targets[0].xyz: unknown field "xyz". Allowed here: name, http, nats, consumer, input, ordering, retry, circuitBreaker, rateLimit, maxConcurrency.',
    );
  });

  it('explains header, URL and subject rules', () => {
    expect(messageFor('      http: { url: "http://u:p@x/" }\n')).toBe(
      'spec.targets[0].http.url: must not embed credentials: use headers or secretRef',
    );
    expect(messageFor('      http: { url: "http://x/", headers: { ce-id: "1", X-A: 1 } }\n')).toBe(
      [
        'spec.targets[0].http.headers.ce-id: "ce-id" is set by Fuze for each delivery and cannot be configured',
        'spec.targets[0].http.headers.X-A: header values must be strings: quote it',
      ].join('\n'),
    );
    expect(messageFor('      nats: { subject: "a b" }\n')).toBe(
      'spec.targets[0].nats.subject: "a b" may not contain whitespace, "*" or ">"',
    );
  });

  it('rejects duplicate header names ignoring case', () => {
    expect(messageFor('      http: { url: "http://x/", headers: { X-A: a, x-a: b } }\n')).toBe(
      'spec.targets[0].http.headers.x-a: "x-a" repeats "X-A": header names ignore case',
    );
  });

  it('explains retry relations', () => {
    expect(messageFor('      consumer: {}\n      retry: { initialDelay: 2m, maxDelay: 1m }\n')).toBe(
      'spec.targets[0].retry.maxDelay: initialDelay (2m) is longer than maxDelay (1m): lower initialDelay or raise maxDelay',
    );
  });

  it('consumer takes no options', () => {
    expect(messageFor('      consumer: { group: x }\n')).toBe(
      'spec.targets[0].consumer.group: unknown field "group": consumer takes no options, write consumer: {}',
    );
  });
});

describe('documents and names', () => {
  it('rejects a document that is not a mapping', () => {
    expect(errorsOf('- a\n- b\n')).toEqual([
      {
        line: 1,
        column: 1,
        path: '',
        message:
          'must be a mapping (e.g. apiVersion: fuze.dev/v1, kind: Rule, metadata: {...}, spec: {...}), not a list',
      },
    ]);
  });

  it('rejects duplicate names per kind and bus, keeping the first', () => {
    const rule = (name: string, bus: string) =>
      `apiVersion: fuze.dev/v1\nkind: Rule\nmetadata: { name: ${name}, bus: ${bus} }\nspec: { pattern: { a: [1] }, targets: [{ name: t, consumer: {} }] }\n`;
    const schedule =
      'apiVersion: fuze.dev/v1\nkind: Schedule\nmetadata: { name: x }\nspec: { event: { type: t, source: /s }, rate: 1m }\n';
    const text = [rule('x', 'default'), rule('x', 'other'), schedule, rule('x', 'default')].join('---\n');
    const { documents, errors } = parseRuleDocuments(text, 'r.yaml');
    expect(documents.map((d) => `${d.kind}/${d.bus}/${d.name}`)).toEqual([
      'Rule/default/x',
      'Rule/other/x',
      'Schedule/default/x',
    ]);
    expect(errors).toEqual([
      {
        file: 'r.yaml',
        line: 18,
        column: 19,
        rule: 'x',
        path: 'metadata.name',
        message:
          'rule "x" is already defined on bus "default" at r.yaml:3:19: rename one of them or put it on another bus',
      },
    ]);
  });

  it('names its rule in errors even when the name is invalid, and not when absent', () => {
    const text =
      'apiVersion: fuze.dev/v1\nkind: Rule\nmetadata: { bus: b }\nspec: { pattern: { a: [1] }, targets: [{ name: t, consumer: {} }] }\n';
    const { errors } = parseRuleDocuments(text, 'r.yaml');
    expect(errors).toEqual([
      { file: 'r.yaml', line: 3, column: 1, path: 'metadata.name', message: '"name" is required' },
    ]);
  });
});
