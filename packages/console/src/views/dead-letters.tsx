import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { ErrorNote, Field, formatTime } from '../components.js';
import type { DeadLetter, DeadLetterState, Page } from '../types.js';
import { usePoll } from '../use-poll.js';
import { ReplayProgress } from './replay-progress.js';

const filterFields = ['target', 'rule', 'bus', 'type', 'source', 'error'] as const;
type Filter = Partial<Record<(typeof filterFields)[number] | 'from' | 'to' | 'state', string>>;

/** The filter as the API takes it: the fields set, times as RFC 3339. */
function apiFilter(filter: Filter): Filter {
  const out: Filter = {};
  for (const [name, value] of Object.entries(filter) as [keyof Filter, string][]) {
    if (!value) continue;
    out[name] = name === 'from' || name === 'to' ? new Date(value).toISOString() : value;
  }
  return out;
}

/** Dead letters: filter, select, replay (with a dry run first if wanted), purge with a confirmation. */
export function DeadLettersView({ initial }: { initial: URLSearchParams }) {
  const [draft, setDraft] = useState<Filter>(() => Object.fromEntries(initial) as Filter);
  const [filter, setFilter] = useState<Filter>(draft);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [dryRun, setDryRun] = useState(false);
  const [jobId, setJobId] = useState<string>();
  const [actionError, setActionError] = useState<Error>();
  const [purging, setPurging] = useState(false);
  const [notice, setNotice] = useState<string>();
  const list = usePoll(
    (signal) =>
      api<Page<DeadLetter>>(
        'GET',
        `/v1/dlq${query({ ...apiFilter(filter), limit: 100 })}`,
        undefined,
        signal,
      ),
    3_000,
    [JSON.stringify(filter)],
  );
  const hasFilter = Object.keys(apiFilter(filter)).length > 0;

  const replay = async (selection: { ids: string[] } | { filter: Filter } | { all: true }) => {
    setActionError(undefined);
    try {
      const job = await api<{ id: string }>('POST', '/v1/dlq/replay', {
        ...selection,
        ...(dryRun ? { dryRun: true } : {}),
      });
      setJobId(job.id);
      setSelected(new Set());
    } catch (err) {
      setActionError(err as Error);
    }
  };
  const purge = async () => {
    setActionError(undefined);
    try {
      const result = await api<{ purged: number; skipped: number }>(
        'DELETE',
        `/v1/dlq${query(apiFilter(filter))}`,
      );
      setNotice(`Purged ${result.purged} dead letters (${result.skipped} left alone: being replayed).`);
      list.refresh();
    } catch (err) {
      setActionError(err as Error);
    }
    setPurging(false);
  };

  return (
    <section>
      <h1>Dead letters</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter(draft);
          setSelected(new Set());
        }}
      >
        {filterFields.map((name) => (
          <Field key={name} label={name === 'error' ? 'error text' : name}>
            <input
              name={name}
              value={draft[name] ?? ''}
              onInput={(e) => setDraft({ ...draft, [name]: e.currentTarget.value })}
            />
          </Field>
        ))}
        <Field label="from">
          <input
            type="datetime-local"
            name="from"
            value={draft.from ?? ''}
            onInput={(e) => setDraft({ ...draft, from: e.currentTarget.value })}
          />
        </Field>
        <Field label="to">
          <input
            type="datetime-local"
            name="to"
            value={draft.to ?? ''}
            onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value })}
          />
        </Field>
        <Field label="state">
          <select
            name="state"
            value={draft.state ?? ''}
            onChange={(e) => setDraft({ ...draft, state: e.currentTarget.value as DeadLetterState })}
          >
            <option value="">all but purged</option>
            <option value="dead">dead</option>
            <option value="replaying">replaying</option>
            <option value="replayed">replayed</option>
            <option value="purged">purged</option>
          </select>
        </Field>
        <button type="submit">Filter</button>
      </form>

      <div class="actions">
        <label>
          <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.currentTarget.checked)} /> dry
          run
        </label>
        <button
          type="button"
          disabled={selected.size === 0}
          onClick={() => void replay({ ids: [...selected] })}
        >
          Replay selected ({selected.size})
        </button>
        <button
          type="button"
          onClick={() => void replay(hasFilter ? { filter: apiFilter(filter) } : { all: true })}
        >
          Replay all {hasFilter ? 'matching the filter' : 'dead letters'}
        </button>
        {!purging && (
          <button
            type="button"
            class="danger"
            disabled={!hasFilter}
            title={hasFilter ? '' : 'set a filter first'}
            onClick={() => setPurging(true)}
          >
            Purge matching…
          </button>
        )}
        {purging && (
          <span class="confirm" role="alertdialog" aria-label="Confirm purge">
            Purge every dead letter matching the filter? This cannot be undone.{' '}
            <button type="button" class="danger" onClick={() => void purge()}>
              Purge
            </button>{' '}
            <button type="button" onClick={() => setPurging(false)}>
              Cancel
            </button>
          </span>
        )}
      </div>
      <ErrorNote error={actionError} />
      {notice && <p class="notice">{notice}</p>}
      {jobId && <ReplayProgress key={jobId} jobId={jobId} />}

      <ErrorNote error={list.error} />
      {list.value && list.value.items.length === 0 && (
        <p>No dead letters{hasFilter ? ' match the filter' : ''}.</p>
      )}
      {list.value && list.value.items.length > 0 && (
        <table class="dead-letters">
          <thead>
            <tr>
              <th>
                <input
                  type="checkbox"
                  aria-label="select all shown"
                  checked={selected.size > 0 && selected.size === list.value.items.length}
                  onChange={(e) =>
                    setSelected(new Set(e.currentTarget.checked ? list.value!.items.map((d) => d.id) : []))
                  }
                />
              </th>
              <th>Dead-lettered</th>
              <th>Target</th>
              <th>Rule</th>
              <th>Type</th>
              <th>Source</th>
              <th>Error</th>
              <th>Attempts</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {list.value.items.map((d) => (
              <tr key={d.id} data-id={d.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`select ${d.id}`}
                    checked={selected.has(d.id)}
                    onChange={(e) => {
                      const next = new Set(selected);
                      if (e.currentTarget.checked) next.add(d.id);
                      else next.delete(d.id);
                      setSelected(next);
                    }}
                  />
                </td>
                <td>
                  <a href={`#/dead-letters/${encodeURIComponent(d.id)}`}>{formatTime(d.deadLetteredAt)}</a>
                </td>
                <td>{d.target}</td>
                <td>{d.rule}</td>
                <td>{d.type}</td>
                <td>{d.source}</td>
                <td class="error-text">
                  {d.httpStatus ? `${d.httpStatus} ` : ''}
                  {d.errorMessage}
                </td>
                <td>{d.attempts}</td>
                <td>{d.state}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.value?.nextCursor && (
        <p class="muted">The first 100 are shown; narrow the filter to see others.</p>
      )}
    </section>
  );
}

interface DeadLetterDetail extends DeadLetter {
  record: Record<string, unknown> | null;
  body: { contentType: string; encoding: 'json' | 'text' | 'base64'; value: unknown } | null;
  replayFailures: string[];
}

/** The console's settings: FUZE_TRACE_URL, where a trace id links to. */
function useTraceUrl(): string | null {
  const settings = usePoll(
    (signal) =>
      fetch('/console/settings.json', { signal }).then(
        (r) => r.json() as Promise<{ traceUrl: string | null }>,
      ),
    0,
    [],
  );
  return settings.value?.traceUrl ?? null;
}

/** One dead letter: the event, the failure, the attempts; replay it. */
export function DeadLetterView({ id }: { id: string }) {
  const traceUrl = useTraceUrl();
  const detail = usePoll(
    (signal) => api<DeadLetterDetail>('GET', `/v1/dlq/${encodeURIComponent(id)}`, undefined, signal),
    3_000,
    [id],
  );
  const [jobId, setJobId] = useState<string>();
  const [error, setError] = useState<Error>();
  const d = detail.value;
  const replay = async () => {
    setError(undefined);
    try {
      setJobId((await api<{ id: string }>('POST', '/v1/dlq/replay', { id })).id);
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <section>
      <p>
        <a href="#/dead-letters">← Dead letters</a>
      </p>
      <h1>Dead letter {id}</h1>
      <ErrorNote error={detail.error} />
      {d && (
        <>
          <dl class="facts">
            <dt>State</dt>
            <dd data-testid="dead-letter-state">{d.state}</dd>
            <dt>Target</dt>
            <dd>{d.target}</dd>
            <dt>Rule</dt>
            <dd>
              {d.bus}/{d.rule}
            </dd>
            <dt>Event</dt>
            <dd>
              {d.type} from {d.source}, id {d.eventId}
              {d.partitionKey ? `, key ${d.partitionKey}` : ''}
            </dd>
            <dt>Failure</dt>
            <dd class="error-text">
              {d.stage}: {d.errorClass}
              {d.httpStatus ? ` (HTTP ${d.httpStatus})` : ''}: {d.errorMessage}
            </dd>
            <dt>Attempts</dt>
            <dd>
              {d.attempts}, from {formatTime(d.firstAttemptAt)} to {formatTime(d.lastAttemptAt)}
            </dd>
            <dt>Accepted</dt>
            <dd>{formatTime(d.acceptedAt)}</dd>
            <dt>Trace</dt>
            <dd>
              {d.traceId && traceUrl ? (
                <a
                  href={traceUrl.replace('{traceId}', encodeURIComponent(d.traceId))}
                  target="_blank"
                  rel="noreferrer"
                >
                  {d.traceId}
                </a>
              ) : (
                (d.traceId ?? '—')
              )}
            </dd>
            <dt>Replays</dt>
            <dd>
              {d.replayCount}
              {d.lastReplayError ? ` (last error: ${d.lastReplayError})` : ''}
              {d.replayFailures.length > 0 && (
                <>
                  {'; failed again as '}
                  {d.replayFailures.map((f) => (
                    <a key={f} href={`#/dead-letters/${encodeURIComponent(f)}`}>
                      {f}{' '}
                    </a>
                  ))}
                </>
              )}
            </dd>
          </dl>
          <button
            type="button"
            onClick={() => void replay()}
            disabled={d.state === 'purged' || d.state === 'replaying'}
          >
            Replay this event
          </button>
          <ErrorNote error={error} />
          {jobId && <ReplayProgress jobId={jobId} />}
          <h2>Body</h2>
          <pre>
            {d.body
              ? d.body.encoding === 'json'
                ? JSON.stringify(d.body.value, null, 2)
                : String(d.body.value)
              : 'gone (purged or expired)'}
          </pre>
          <h2>Record</h2>
          <pre>{JSON.stringify(d.record, null, 2)}</pre>
        </>
      )}
    </section>
  );
}
