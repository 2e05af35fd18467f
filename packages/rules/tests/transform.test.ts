import { describe, expect, it } from 'vitest';
import { compileInput, InputTransformError, InvalidInputError } from '../src/transform/index.js';

/** The Amazon EC2 event of the EventBridge guide's "Input transform examples". */
const ec2Event = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2015-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: { 'instance-id': 'i-0123456789', state: 'RUNNING' },
};

/** The guide's Input Path for that event. */
const ec2Paths = {
  timestamp: '$.time',
  instance: '$.detail.instance-id',
  state: '$.detail.state',
  resource: '$.resources[0]',
};

function render(
  template: string,
  event: Record<string, unknown> = ec2Event,
  paths: Record<string, string> = ec2Paths,
) {
  return compileInput({ paths, template }).apply(event, { ruleName: 'example' });
}

function invalid(spec: unknown): InvalidInputError {
  try {
    compileInput(spec);
  } catch (err) {
    if (err instanceof InvalidInputError) return err;
    throw err;
  }
  throw new Error('expected InvalidInputError');
}

describe('EventBridge guide examples', () => {
  it('simple string', () => {
    expect(render('"instance <instance> is in <state>"')).toEqual({
      body: '"instance i-0123456789 is in RUNNING"',
      contentType: 'application/json',
    });
  });

  it('string with escaped quotes (the console behaviour)', () => {
    expect(render('"instance \\"<instance>\\" is in <state>"').body).toBe(
      '"instance \\"i-0123456789\\" is in RUNNING"',
    );
  });

  it('simple JSON: string values get quotes', () => {
    expect(render('{\n  "instance" : <instance>,\n  "state": <state>\n}')).toEqual({
      body: '{"instance":"i-0123456789","state":"RUNNING"}',
      contentType: 'application/json',
    });
  });

  it('JSON with strings and variables', () => {
    const body = render(
      '{\n "instance" : <instance>,\n "state": "<state>",\n "instanceStatus": "instance \\"<instance>\\" is in <state>"\n}',
    ).body;
    expect(JSON.parse(body)).toEqual({
      instance: 'i-0123456789',
      state: 'RUNNING',
      instanceStatus: 'instance "i-0123456789" is in RUNNING',
    });
  });

  it('JSON with a mix of variables and static information, minified', () => {
    expect(
      render('{\n  "instance" : <instance>,\n  "state": [ 9, <state>, true ],\n  "Transformed" : "Yes"\n}')
        .body,
    ).toBe('{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}');
  });

  it('reserved variables in JSON', () => {
    const body = render(
      '{"instance": <instance>, "state": <state>, "ruleName": <fuze.rule-name>, "originalEvent": <fuze.event.json>}',
    ).body;
    expect(JSON.parse(body)).toEqual({
      instance: 'i-0123456789',
      state: 'RUNNING',
      ruleName: 'example',
      originalEvent: ec2Event,
    });
  });

  it('reserved variables in a string', () => {
    expect(render('"<fuze.rule-name> triggered"').body).toBe('"example triggered"');
  });

  it('CloudWatch log group example (the guide renders the delivered JSON unescaped)', () => {
    const body = render(
      '{\n  "timestamp" : <timestamp>,\n  "message": "instance \\"<instance>\\" is in <state>"\n}',
    ).body;
    expect(JSON.parse(body)).toEqual({
      timestamp: '2015-11-11T21:29:54Z',
      message: 'instance "i-0123456789" is in RUNNING',
    });
  });

  it('API reference: an unquoted text template', () => {
    expect(render('<instance> is in state <state>')).toEqual({
      body: 'i-0123456789 is in state RUNNING',
      contentType: 'text/plain',
    });
  });

  it('API reference: JSON with variables in quotes or out', () => {
    const body = render('{"myInstance": <instance>,"myStatus": "<instance> is in state \\"<state>\\""}').body;
    expect(JSON.parse(body)).toEqual({
      myInstance: 'i-0123456789',
      myStatus: 'i-0123456789 is in state "RUNNING"',
    });
  });

  it('array index paths', () => {
    expect(render('{"r": <resource>}').body).toBe(
      '{"r":"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"}',
    );
  });
});

describe('missing paths (as recorded against AWS: an empty string)', () => {
  const paths = { type: '$.detail-type', command: '$.detail.notinmessage' };
  const event = { 'detail-type': 'core.update-account-command', detail: { command: 'update-account' } };

  it('as a JSON value', () => {
    expect(render('{"detailType": <type>, "command": <command>}', event, paths).body).toBe(
      '{"detailType":"core.update-account-command","command":""}',
    );
  });

  it('inside a JSON string', () => {
    expect(render('"Event of <type> type, info <command>"', event, paths).body).toBe(
      '"Event of core.update-account-command type, info "',
    );
  });

  it('in text', () => {
    expect(render('info: <command>.', event, paths).body).toBe('info: .');
  });

  it('an explicit null stays null', () => {
    expect(render('{"a": <a>, "b": "<a>"}', { x: null }, { a: '$.x' }).body).toBe('{"a":null,"b":"null"}');
  });

  it('a path through a non-object is missing', () => {
    const paths2 = { a: '$.x.y', b: '$.x[0]', c: '$.list[5]' };
    expect(render('[<a>, <b>, <c>]', { x: 'text', list: [1] }, paths2).body).toBe('["","",""]');
  });
});

describe('value rendering', () => {
  const event = { data: { n: 42, ok: true, obj: { a: [1, 'x'] }, s: 'say "hi"\n', list: [1, 2] } };
  const paths = { n: '$.data.n', ok: '$.data.ok', obj: '$.data.obj', s: '$.data.s', list: '$.data.list' };

  it('bare: values as JSON', () => {
    expect(render('{"n": <n>, "ok": <ok>, "obj": <obj>, "s": <s>, "list": <list>}', event, paths).body).toBe(
      '{"n":42,"ok":true,"obj":{"a":[1,"x"]},"s":"say \\"hi\\"\\n","list":[1,2]}',
    );
  });

  it('quoted: values escaped, without quotes, so the result stays valid JSON', () => {
    const body = render('{"text": "<n> <ok> <obj> <s>"}', event, paths).body;
    expect(JSON.parse(body)).toEqual({ text: '42 true {"a":[1,"x"]} say "hi"\n' });
  });

  it('text: strings raw, others as JSON', () => {
    expect(render('n=<n> s=<s> obj=<obj>', event, paths).body).toBe('n=42 s=say "hi"\n obj={"a":[1,"x"]}');
  });

  it('a single bare placeholder is a JSON template', () => {
    expect(render('<obj>', event, paths)).toEqual({ body: '{"a":[1,"x"]}', contentType: 'application/json' });
  });

  it('a JSON scalar template is JSON', () => {
    expect(render(' 42 ', event, {})).toEqual({ body: '42', contentType: 'application/json' });
  });

  it('whitespace inside strings is kept', () => {
    expect(render('{ "a b" : " x  y " }', event, {}).body).toBe('{"a b":" x  y "}');
  });

  it('unicode and escapes in the template pass through', () => {
    expect(render('{"é": "\\u00e9\\n", "k": "<s>✓"}', event, paths).body).toBe(
      '{"é":"\\u00e9\\n","k":"say \\"hi\\"\\n✓"}',
    );
  });
});

describe('predefined placeholders', () => {
  const event = {
    specversion: '1.0',
    id: '1',
    type: 't',
    source: 's',
    time: '2024-01-02T03:04:05Z',
    data: { a: 1 },
  };

  it('<fuze.event> is the event without its data', () => {
    const body = render('{"e": <fuze.event>}', event, {}).body;
    expect(JSON.parse(body)).toEqual({
      e: { specversion: '1.0', id: '1', type: 't', source: 's', time: event.time },
    });
  });

  it('<fuze.event> drops data_base64 too', () => {
    const body = render('{"e": <fuze.event>}', { id: '1', data_base64: 'AA==' }, {}).body;
    expect(JSON.parse(body)).toEqual({ e: { id: '1' } });
  });

  it('<fuze.ingestion-time> comes from the context, else the event time', () => {
    const transformer = compileInput({ template: '"<fuze.ingestion-time>"' });
    expect(transformer.apply(event).body).toBe('"2024-01-02T03:04:05Z"');
    expect(transformer.apply(event, { ingestionTime: new Date(Date.UTC(2025, 0, 1)) }).body).toBe(
      '"2025-01-01T00:00:00.000Z"',
    );
    expect(transformer.apply(event, { ingestionTime: '2026-01-01T00:00:00Z' }).body).toBe(
      '"2026-01-01T00:00:00Z"',
    );
  });

  it('<fuze.rule-name> without a context is missing', () => {
    expect(compileInput({ template: '{"r": <fuze.rule-name>}' }).apply(event).body).toBe('{"r":""}');
  });

  it('paths are optional', () => {
    expect(compileInput({ template: '{"a": 1}' }).apply(event).body).toBe('{"a":1}');
  });
});

describe('whole, data, constant', () => {
  const event = { specversion: '1.0', id: '1', type: 't', source: 's', data: { a: 1 } };

  it('whole is the default', () => {
    for (const spec of [undefined, null, 'whole']) {
      const transformer = compileInput(spec);
      expect(transformer.kind).toBe('whole');
      expect(transformer.spec).toBe('whole');
      expect(transformer.apply(event)).toEqual({
        body: JSON.stringify(event),
        contentType: 'application/cloudevents+json',
      });
    }
  });

  it('data sends JSON data as JSON', () => {
    expect(compileInput('data').apply(event)).toEqual({ body: '{"a":1}', contentType: 'application/json' });
    const typed = { ...event, datacontenttype: 'application/vnd.shop+json' };
    expect(compileInput('data').apply(typed)).toEqual({
      body: '{"a":1}',
      contentType: 'application/vnd.shop+json',
    });
    const jsonString = { ...event, data: 'hi', datacontenttype: 'application/json' };
    expect(compileInput('data').apply(jsonString)).toEqual({ body: '"hi"', contentType: 'application/json' });
  });

  it('data sends text data as text, with its type', () => {
    const xml = { ...event, datacontenttype: 'application/xml', data: '<a/>' };
    expect(compileInput('data').apply(xml)).toEqual({ body: '<a/>', contentType: 'application/xml' });
  });

  it('data passes base64 data through', () => {
    const binary = { id: '1', datacontenttype: 'image/png', data_base64: 'iVBORw==' };
    expect(compileInput('data').apply(binary)).toEqual({
      body: 'iVBORw==',
      contentType: 'image/png',
      encoding: 'base64',
    });
    expect(compileInput('data').apply({ data_base64: 'AA==' }).contentType).toBe('application/octet-stream');
  });

  it('data of an event without data is an empty body', () => {
    expect(compileInput('data').apply({ id: '1' })).toEqual({ body: '', contentType: 'application/json' });
  });

  it('constant JSON and constant text', () => {
    expect(compileInput({ constant: '{"hello": 1}' }).apply(event)).toEqual({
      body: '{"hello": 1}',
      contentType: 'application/json',
    });
    expect(compileInput({ constant: 'ping' }).apply(event)).toEqual({
      body: 'ping',
      contentType: 'text/plain',
    });
  });

  it('a constant written as YAML data is sent as its JSON', () => {
    const transformer = compileInput({ constant: { hello: 1 } });
    expect(transformer.apply(event)).toEqual({ body: '{"hello":1}', contentType: 'application/json' });
    expect(transformer.spec).toEqual({ constant: '{"hello":1}' });
  });

  it('the normalised spec compiles to the same transformer', () => {
    const spec = { paths: { id: '$.id' }, template: '{"id": <id>}' };
    const transformer = compileInput(spec);
    expect(transformer.spec).toEqual(spec);
    expect(compileInput(transformer.spec).apply(event)).toEqual(transformer.apply(event));
  });
});

describe('runtime failures', () => {
  it('a value JSON cannot represent throws InputTransformError', () => {
    const event = { data: { big: 10n } };
    const transformer = compileInput({ paths: { big: '$.data.big' }, template: '{"b": <big>}' });
    const err = (() => {
      try {
        transformer.apply(event);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InputTransformError);
    expect((err as InputTransformError).code).toBe('FUZE_INPUT_TRANSFORM_FAILED');
    expect(() => compileInput('whole').apply(event)).toThrow(InputTransformError);
    expect(() => compileInput('data').apply(event)).toThrow(InputTransformError);
  });
});

describe('invalid specs', () => {
  it('unknown input kind, with a suggestion', () => {
    const err = invalid('dat');
    expect(err.code).toBe('FUZE_INVALID_INPUT');
    expect(err.path).toBe('input');
    expect(err.message).toContain('Did you mean "data"?');
  });

  it('not a string or mapping', () => {
    expect(invalid(42).path).toBe('input');
    expect(invalid(['whole']).path).toBe('input');
  });

  it('unknown fields, with a suggestion', () => {
    const err = invalid({ templat: '{}', paths: {} });
    expect(err.issues.map((i) => i.path)).toEqual(['input.templat', 'input']);
    expect(err.issues[0]?.message).toContain('Did you mean "template"?');
  });

  it('constant with paths or template', () => {
    expect(invalid({ constant: 'x', template: 'y' }).message).toContain('keep one');
  });

  it('missing template', () => {
    const err = invalid({ paths: { id: '$.id' } });
    expect(err.path).toBe('input');
    expect(err.message).toContain('needs a template');
    expect(invalid({ template: '  ' }).path).toBe('input.template');
    expect(invalid({ template: 5 }).path).toBe('input.template');
  });

  it('paths that do not start with $.', () => {
    for (const path of ['data.id', '$', '$data', '.data']) {
      const err = invalid({ paths: { id: path }, template: '<id>' });
      expect(err.path).toBe('input.paths.id');
      expect(err.message).toContain('must start with "$."');
    }
  });

  it('unsupported JSON path syntax', () => {
    expect(invalid({ paths: { a: "$.a['b']" }, template: '<a>' }).message).toContain('only array indexes');
    expect(invalid({ paths: { a: '$.a[*]' }, template: '<a>' }).message).toContain(
      'wildcards are not supported',
    );
    expect(invalid({ paths: { a: '$.a.*' }, template: '<a>' }).message).toContain('empty or invalid key');
    expect(invalid({ paths: { a: '$.a[01]' }, template: '<a>' }).message).toContain('invalid index');
    expect(invalid({ paths: { a: '$.a..b' }, template: '<a>' }).message).toContain('empty or invalid key');
    expect(invalid({ paths: { a: `$.${'a'.repeat(300)}` }, template: '<a>' }).message).toContain(
      'limit is 256',
    );
  });

  it('path names', () => {
    expect(invalid({ paths: { 'a b': '$.a' }, template: '1' }).path).toBe('input.paths["a b"]');
    const reserved = invalid({ paths: { 'fuze.rule-name': '$.a' }, template: '1' });
    expect(reserved.path).toBe('input.paths["fuze.rule-name"]');
    expect(reserved.message).toContain('reserved');
    expect(invalid({ paths: { a: 5 }, template: '1' }).path).toBe('input.paths.a');
    expect(invalid({ paths: ['$.a'], template: '1' }).path).toBe('input.paths');
  });

  it('at most 100 paths', () => {
    const paths = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, `$.data.f${i}`]));
    expect(invalid({ paths, template: '1' }).message).toContain('limit is 100');
    const hundred = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, `$.data.f${i}`]));
    expect(compileInput({ paths: hundred, template: '<p99>' }).apply({ data: { f99: 1 } }).body).toBe('1');
  });

  it('templates over 8192 characters', () => {
    expect(invalid({ template: `"${'a'.repeat(8191)}"` }).message).toContain('limit is 8192');
    expect(invalid({ constant: 'a'.repeat(8193) }).path).toBe('input.constant');
  });

  it('unknown placeholder, with its offset and a suggestion', () => {
    const err = invalid({ paths: { orderId: '$.data.orderId' }, template: '{"order": <orderid>}' });
    expect(err.path).toBe('input.template');
    expect(err.offset).toBe(10);
    expect(err.message).toBe(
      'input.template: unknown placeholder <orderid> at character 11: define it under input.paths. Did you mean "orderId"?',
    );
  });

  it('unbalanced <', () => {
    const unclosed = invalid({ paths: { id: '$.id' }, template: '{"a": <id}' });
    expect(unclosed.offset).toBe(6);
    expect(unclosed.message).toContain('not closed');
    const stray = invalid({ template: 'a < b' });
    expect(stray.offset).toBe(2);
    expect(stray.message).toContain('cannot be escaped');
    expect(invalid({ template: 'a <b c>' }).message).toContain('not closed');
  });

  it('invalid JSON templates are rejected with the offending character', () => {
    const err = invalid({ paths: { id: '$.id' }, template: '{"a": <id>,}' });
    expect(err.offset).toBe(11);
    expect(err.message).toBe(
      'input.template: is not valid JSON at character 12: expected a quoted object key but found "}"',
    );
    expect(invalid({ template: '[1, 2' }).message).toContain('found the end of the template');
    expect(invalid({ template: '"a" and "b"' }).message).toContain('after the end of the JSON value');
    expect(invalid({ template: '{"a": "x\ny"}' }).message).toContain('line break');
    expect(invalid({ template: '{"a": "\\x"}' }).message).toContain('invalid escape');
    expect(invalid({ template: '{"a": tru}' }).message).toContain('expected a JSON value');
    expect(invalid({ template: '{"a": 01}' }).message).toContain('expected "," or "}"');
    expect(invalid({ template: '{"a" 1}' }).message).toContain('expected ":"');
    expect(invalid({ template: '"unterminated' }).message).toContain('not closed');
  });

  it('placeholders cannot be object keys', () => {
    const paths = { k: '$.k' };
    expect(invalid({ paths, template: '{<k>: 1}' }).message).toContain('cannot be used as an object key');
    expect(invalid({ paths, template: '{"<k>": 1}' }).message).toContain('cannot be used in an object key');
  });

  it('<fuze.event> and <fuze.event.json> only as JSON values', () => {
    expect(invalid({ template: '"<fuze.event> happened"' }).message).toContain(
      'can only be used as a JSON value',
    );
    expect(invalid({ template: 'event: <fuze.event.json>' }).message).toContain(
      'can only be used as a JSON value',
    );
  });

  it('reports every problem', () => {
    const err = invalid({
      paths: { a: 'x', b: '$.b' },
      template: '{"a": <fuze.event.json>, "s": "<fuze.event>", "c": <c>}',
    });
    expect(err.issues.map((i) => i.path)).toEqual(['input.paths.a', 'input.template']);
    const err2 = invalid({ paths: { b: '$.b' }, template: '{"s": "<fuze.event>", "c": <c>}' });
    expect(err2.issues.map((i) => i.offset)).toEqual([7, 27]);
  });
});
