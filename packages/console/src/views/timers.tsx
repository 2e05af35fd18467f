import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { ErrorNote, Field, formatTime } from '../components.js';
import type { Page, Timer } from '../types.js';
import { usePoll } from '../use-poll.js';

function scheduleText(t: Timer): string {
  const s = t.schedule;
  if (s.kind === 'cron') return `cron ${s.cron}${s.timezone ? ` (${s.timezone})` : ''}`;
  if (s.kind === 'rate') return `every ${s.rate}`;
  return `at ${formatTime(s.at)}`;
}

/** Timers by key prefix and state, a page at a time. */
export function TimersView() {
  const [prefix, setPrefix] = useState('');
  const [state, setState] = useState('');
  const [filter, setFilter] = useState({ prefix: '', state: '' });
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const page = usePoll(
    (signal) =>
      api<Page<Timer>>('GET', `/v1/timers${query({ ...filter, cursor, limit: 50 })}`, undefined, signal),
    5_000,
    [filter.prefix, filter.state, cursor],
  );
  return (
    <section>
      <h1>Timers</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setCursors([]);
          setFilter({ prefix, state });
        }}
      >
        <Field label="Key prefix">
          <input name="prefix" value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} />
        </Field>
        <Field label="State">
          <select name="state" value={state} onChange={(e) => setState(e.currentTarget.value)}>
            <option value="">any</option>
            {['scheduled', 'completed', 'cancelled', 'paused', 'failed'].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={page.error} />
      {page.value?.items.length === 0 && <p>No timers match.</p>}
      {page.value && page.value.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Key</th>
              <th>Bus</th>
              <th>Schedule</th>
              <th>State</th>
              <th>Next fire</th>
              <th>Fired</th>
              <th>Last outcome</th>
            </tr>
          </thead>
          <tbody>
            {page.value.items.map((t) => (
              <tr key={t.key} data-key={t.key}>
                <td>
                  <a href={`#/timers/${encodeURIComponent(t.key)}`}>{t.key}</a>
                </td>
                <td>{t.bus}</td>
                <td>{scheduleText(t)}</td>
                <td>{t.state}</td>
                <td>{formatTime(t.nextFireAt)}</td>
                <td>{t.fireCount}</td>
                <td>{t.lastOutcome?.state ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        {cursors.length > 0 && (
          <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
            Previous page
          </button>
        )}{' '}
        {page.value?.nextCursor && (
          <button type="button" onClick={() => setCursors([...cursors, page.value!.nextCursor!])}>
            Next page
          </button>
        )}
      </p>
    </section>
  );
}

/** One timer: its record, next firing and last outcome; fire it now, or cancel it. */
export function TimerView({ timerKey }: { timerKey: string }) {
  const timer = usePoll(
    (signal) => api<Timer>('GET', `/v1/timers/${encodeURIComponent(timerKey)}`, undefined, signal),
    3_000,
    [timerKey],
  );
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<Error>();
  const t = timer.value;
  const [fired, setFired] = useState<string>();
  const fireNow = async () => {
    setError(undefined);
    try {
      await api('POST', `/v1/timers/${encodeURIComponent(timerKey)}/fire`);
      setFired(`${timerKey} is due now: the scheduler fires it in a moment.`);
      timer.refresh();
    } catch (err) {
      setError(err as Error);
    }
  };
  const cancel = async () => {
    setError(undefined);
    try {
      await api('DELETE', `/v1/timers/${encodeURIComponent(timerKey)}`);
      timer.refresh();
    } catch (err) {
      setError(err as Error);
    }
    setConfirming(false);
  };
  return (
    <section>
      <p>
        <a href="#/timers">← Timers</a>
      </p>
      <h1>Timer {timerKey}</h1>
      <ErrorNote error={timer.error} />
      {t && (
        <>
          <dl class="facts">
            <dt>State</dt>
            <dd data-testid="timer-state">{t.state}</dd>
            <dt>Bus</dt>
            <dd>{t.bus}</dd>
            <dt>Origin</dt>
            <dd>{t.origin}</dd>
            <dt>Schedule</dt>
            <dd>{scheduleText(t)}</dd>
            <dt>Next fire</dt>
            <dd>{formatTime(t.nextFireAt)}</dd>
            <dt>Last fired</dt>
            <dd data-testid="timer-fired">
              {formatTime(t.lastFiredAt)} ({t.fireCount} firings)
            </dd>
            <dt>Last outcome</dt>
            <dd>
              {t.lastOutcome
                ? `${t.lastOutcome.state}${t.lastOutcome.target ? ` to ${t.lastOutcome.target}` : ''}${t.lastOutcome.error ? `: ${t.lastOutcome.error}` : ''}`
                : '—'}
            </dd>
            {t.lastError && (
              <>
                <dt>Last error</dt>
                <dd class="error-text">{t.lastError}</dd>
              </>
            )}
          </dl>
          {t.state === 'scheduled' && !confirming && (
            <div class="actions">
              <button type="button" onClick={() => void fireNow()}>
                Fire now
              </button>
              <button type="button" class="danger" onClick={() => setConfirming(true)}>
                Cancel timer…
              </button>
            </div>
          )}
          {fired && <p class="notice">{fired}</p>}
          {confirming && (
            <span class="confirm" role="alertdialog" aria-label="Confirm cancel">
              Cancel {timerKey}? It stops firing; its record stays (a PUT re-arms it).{' '}
              <button type="button" class="danger" onClick={() => void cancel()}>
                Cancel the timer
              </button>{' '}
              <button type="button" onClick={() => setConfirming(false)}>
                Keep it
              </button>
            </span>
          )}
          <ErrorNote error={error} />
          <h2>Event it fires</h2>
          <pre>{JSON.stringify(t.event, null, 2)}</pre>
        </>
      )}
    </section>
  );
}
