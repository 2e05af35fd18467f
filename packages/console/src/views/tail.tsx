import { useEffect, useRef, useState } from 'preact/hooks';
import { query } from '../api.js';
import { ErrorNote, Field } from '../components.js';
import { readEventStream } from '../event-stream.js';

interface TailedEvent {
  seq: string;
  event: Record<string, unknown>;
}

const kept = 200;

/** A bus's events as they arrive, filtered by a pattern; paused, it resumes where it stopped. */
export function TailView() {
  const [bus, setBus] = useState('default');
  const [pattern, setPattern] = useState('');
  const [running, setRunning] = useState<{ bus: string; pattern: string } | undefined>({
    bus: 'default',
    pattern: '',
  });
  const [paused, setPaused] = useState(false);
  const [connected, setConnected] = useState(false);
  const [events, setEvents] = useState<TailedEvent[]>([]);
  const [error, setError] = useState<Error>();
  const lastId = useRef<string | undefined>(undefined);
  const stream = useRef<AbortController | undefined>(undefined);

  useEffect(() => {
    if (!running || paused) return;
    const stop = new AbortController();
    stream.current = stop;
    setError(undefined);
    readEventStream(
      `/v1/tail${query({ bus: running.bus, pattern: running.pattern || undefined })}`,
      (message) => {
        if (stop.signal.aborted) return; // paused: what the closing stream still held is read on resume
        if (message.event === 'dropped') {
          setError(
            new Error(
              'The tail fell behind the bus and was cut off; resume to read on from the last event shown.',
            ),
          );
          return;
        }
        if (message.event !== 'message') return;
        lastId.current = message.id;
        const event = JSON.parse(message.data) as Record<string, unknown>;
        setEvents((shown) => [{ seq: message.id ?? '', event }, ...shown].slice(0, kept));
      },
      stop.signal,
      { lastEventId: lastId.current, onOpen: () => setConnected(true) },
    )
      .catch((err: Error) => {
        if (!stop.signal.aborted) setError(err);
      })
      .finally(() => setConnected(false));
    return () => stop.abort();
  }, [running, paused]);

  return (
    <section>
      <h1>Live tail</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          lastId.current = undefined;
          setEvents([]);
          setPaused(false);
          setRunning({ bus, pattern: pattern.trim() });
        }}
      >
        <Field label="Bus">
          <input name="bus" value={bus} onInput={(e) => setBus(e.currentTarget.value)} />
        </Field>
        <Field label="Pattern (JSON, optional)">
          <input
            name="pattern"
            class="wide"
            value={pattern}
            placeholder='{"type": ["order.created"]}'
            onInput={(e) => setPattern(e.currentTarget.value)}
          />
        </Field>
        <button type="submit">Tail</button>
        <button
          type="button"
          onClick={() => {
            // Now, not in the effect's clean-up: that runs after the next paint, and an event
            // arriving in between would still be shown after "Paused".
            if (!paused) stream.current?.abort();
            setPaused(!paused);
          }}
          disabled={!running}
        >
          {paused ? 'Resume' : 'Pause'}
        </button>
      </form>
      <p class="muted" data-testid="tail-status">
        {paused ? 'Paused' : connected ? `Connected to bus ${running?.bus}` : 'Connecting…'}; {events.length}{' '}
        events shown (the last {kept} are kept)
      </p>
      <ErrorNote error={error} />
      <table class="tail">
        <thead>
          <tr>
            <th>Seq</th>
            <th>Time</th>
            <th>Type</th>
            <th>Source</th>
            <th>Id</th>
            <th>Data</th>
          </tr>
        </thead>
        <tbody>
          {events.map(({ seq, event }) => (
            <tr key={seq}>
              <td>{seq}</td>
              <td>{String(event.time ?? '')}</td>
              <td>{String(event.type ?? '')}</td>
              <td>{String(event.source ?? '')}</td>
              <td>{String(event.id ?? '')}</td>
              <td>
                <code>{JSON.stringify(event.data ?? event.data_base64 ?? null)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
