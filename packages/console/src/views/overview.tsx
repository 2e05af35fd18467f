import { useRef } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorNote, Sparkline } from '../components.js';
import type { BusView, Page, TargetView } from '../types.js';
import { usePoll } from '../use-poll.js';

const everyMs = 2_000;
const historyLength = 60; // 2 minutes of 2-second samples

/** Rates over time, per name, for the sparklines; kept while the view is shown. */
function useHistory() {
  const history = useRef(new Map<string, number[]>());
  return {
    add(name: string, value: number) {
      const values = history.current.get(name) ?? [];
      values.push(value);
      history.current.set(name, values.slice(-historyLength));
    },
    of: (name: string) => history.current.get(name) ?? [],
  };
}

const rate = (n: number) => n.toFixed(1);

/**
 * Per bus and per target, refreshed every 2 s from what the routers and delivery workers report
 * (the calls that feed /metrics): rates with their last 2 minutes charted, latency, backlog, DLQ
 * depth, breaker.
 */
export function OverviewView() {
  const history = useHistory();
  const buses = usePoll(
    async (signal) => {
      const answer = await api<{ routers: number; items: BusView[] }>('GET', '/v1/buses', undefined, signal);
      for (const bus of answer.items) history.add(`bus:${bus.name}`, bus.eventsPerSecond);
      return answer;
    },
    everyMs,
    [],
  );
  const targets = usePoll(
    async (signal) => {
      const page = await api<Page<TargetView>>('GET', '/v1/targets', undefined, signal);
      for (const t of page.items) history.add(`target:${t.name}`, t.live.deliveredPerSecond);
      return page.items;
    },
    everyMs,
    [],
  );

  return (
    <section>
      <h1>Overview</h1>
      <h2>Buses</h2>
      <ErrorNote error={buses.error} />
      {buses.value && (
        <table class="buses">
          <thead>
            <tr>
              <th>Bus</th>
              <th>Events/s</th>
              <th>Last 2 min</th>
              <th>Rules</th>
            </tr>
          </thead>
          <tbody>
            {buses.value.items.map((bus) => (
              <tr key={bus.name} data-bus={bus.name}>
                <td>{bus.name}</td>
                <td>{rate(bus.eventsPerSecond)}</td>
                <td>
                  <Sparkline
                    values={history.of(`bus:${bus.name}`)}
                    label={`events per second on ${bus.name}`}
                  />
                </td>
                <td>{bus.rules.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {buses.value && (
        <p class="muted">
          {buses.value.routers} router{buses.value.routers === 1 ? '' : 's'} reporting.
        </p>
      )}

      <h2>Targets</h2>
      <ErrorNote error={targets.error} />
      {targets.value && targets.value.length === 0 && (
        <p>No targets yet: apply rules with targets (`fuze apply`).</p>
      )}
      {targets.value && targets.value.length > 0 && (
        <table class="targets">
          <thead>
            <tr>
              <th>Target</th>
              <th>Rules</th>
              <th>Workers</th>
              <th>Delivered/s</th>
              <th>Last 2 min</th>
              <th title="from the event's acceptance to the target's answer">Latency p50 / p99</th>
              <th>Retries/s</th>
              <th>Dead letters/s</th>
              <th title="deliveries stored and not yet acknowledged">Backlog</th>
              <th>DLQ</th>
              <th>In flight</th>
              <th>Breaker</th>
              <th>Limits</th>
            </tr>
          </thead>
          <tbody>
            {targets.value.map((t) => (
              <tr key={t.name} data-target={t.name}>
                <td>
                  {t.name} <span class="muted">{t.kind}</span>
                </td>
                <td>{t.rules.map((r) => `${r.bus}/${r.rule}`).join(', ')}</td>
                <td data-testid="workers">{t.live.workers}</td>
                <td>{rate(t.live.deliveredPerSecond)}</td>
                <td>
                  <Sparkline
                    values={history.of(`target:${t.name}`)}
                    label={`deliveries per second to ${t.name}`}
                  />
                </td>
                <td>{t.live.latencyMs ? `${t.live.latencyMs.p50} / ${t.live.latencyMs.p99} ms` : '—'}</td>
                <td>{rate(t.live.retriesPerSecond)}</td>
                <td>{rate(t.live.deadLettersPerSecond)}</td>
                <td>{t.live.backlog}</td>
                <td>
                  <a
                    href={`#/dead-letters?target=${encodeURIComponent(t.name)}&state=dead`}
                    data-testid="dlq-depth"
                  >
                    {t.live.deadLetters}
                  </a>
                </td>
                <td>{t.live.inFlight}</td>
                <td class={`breaker-${t.live.breaker ?? 'none'}`}>{t.live.breaker ?? '—'}</td>
                <td>{limitsText(t)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function limitsText(t: TargetView): string {
  const parts: string[] = [];
  if (t.rateLimit) parts.push(`${t.rateLimit.perSecond}/s burst ${t.rateLimit.burst}`);
  if (t.maxConcurrency) parts.push(`max ${t.maxConcurrency} in flight`);
  if (t.circuitBreaker) parts.push(`breaker ${t.circuitBreaker.failures} in ${t.circuitBreaker.window}`);
  return parts.join(', ') || '—';
}
