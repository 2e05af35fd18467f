import { useState } from 'preact/hooks';
import { stringify } from 'yaml';
import { api, query } from '../api.js';
import { ErrorNote, Field } from '../components.js';
import type { BusView } from '../types.js';
import { usePoll } from '../use-poll.js';

interface StoredRule {
  bus: string;
  name: string;
  enabled: boolean;
  revision: number;
  document: { targets?: { name: string }[] } & Record<string, unknown>;
  updatedAt: string;
}

interface RuleTest {
  bus: string;
  matched: { rule: string; targets: string[] }[];
  notMatched: { rule: string; enabled: boolean; path?: string; reason: string }[];
}

const sampleEvent = `{
  "specversion": "1.0",
  "id": "1",
  "source": "orders",
  "type": "order.created",
  "data": {}
}`;

/** Every rule as YAML (as stored), its targets and matches per second; and "test an event": which rules match, and why not. */
export function RulesView() {
  const [bus, setBus] = useState('');
  const rules = usePoll(
    (signal) => api<{ items: StoredRule[] }>('GET', `/v1/rules${query({ bus })}`, undefined, signal),
    10_000,
    [bus],
  );
  const counters = usePoll(
    (signal) => api<{ items: BusView[] }>('GET', '/v1/buses', undefined, signal),
    2_000,
    [],
  );
  const matchedPerSecond = (ruleBus: string, name: string) =>
    counters.value?.items.find((b) => b.name === ruleBus)?.rules.find((r) => r.name === name)
      ?.matchedPerSecond;
  return (
    <section>
      <h1>Rules</h1>
      <TestEventForm bus={bus} />
      <h2>Rules</h2>
      <Field label="Bus">
        <input value={bus} placeholder="every bus" onChange={(e) => setBus(e.currentTarget.value)} />
      </Field>
      <ErrorNote error={rules.error} />
      {rules.value?.items.length === 0 && <p>No rules{bus ? ` on bus ${bus}` : ''}.</p>}
      {rules.value?.items.map((rule) => (
        <details key={`${rule.bus}/${rule.name}`} class="rule">
          <summary>
            <strong>
              {rule.bus}/{rule.name}
            </strong>{' '}
            {rule.enabled ? '' : '(disabled) '}→ {(rule.document.targets ?? []).map((t) => t.name).join(', ')}{' '}
            <span class="muted">
              revision {rule.revision}; {(matchedPerSecond(rule.bus, rule.name) ?? 0).toFixed(1)} matched/s
            </span>
          </summary>
          <p class="muted">As stored: normalised, every default filled in.</p>
          <pre>{stringify(rule.document)}</pre>
        </details>
      ))}
    </section>
  );
}

function TestEventForm({ bus }: { bus: string }) {
  const [event, setEvent] = useState(sampleEvent);
  const [result, setResult] = useState<RuleTest>();
  const [error, setError] = useState<Error>();
  const test = async () => {
    setError(undefined);
    setResult(undefined);
    try {
      const parsed = JSON.parse(event) as unknown;
      setResult(await api<RuleTest>('POST', '/v1/rules/test', { event: parsed, ...(bus ? { bus } : {}) }));
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <form
      class="panel"
      onSubmit={(e) => {
        e.preventDefault();
        void test();
      }}
    >
      <h2>Test an event</h2>
      <Field label="CloudEvent (JSON)">
        <textarea
          name="event"
          rows={8}
          value={event}
          onInput={(e) => setEvent(e.currentTarget.value)}
          spellcheck={false}
        />
      </Field>
      <button type="submit">Test against the rules</button>
      <ErrorNote error={error} />
      {result && (
        <div class="test-result" aria-live="polite">
          <p>
            Bus <strong>{result.bus}</strong>: {result.matched.length} matching, {result.notMatched.length}{' '}
            not.
          </p>
          <ul>
            {result.matched.map((m) => (
              <li key={m.rule} class="matched">
                <strong>{m.rule}</strong> matches → {m.targets.join(', ')}
              </li>
            ))}
            {result.notMatched.map((m) => (
              <li key={m.rule} class="not-matched">
                <strong>{m.rule}</strong> does not match{m.path ? ` at ${m.path}` : ''}: {m.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
    </form>
  );
}
