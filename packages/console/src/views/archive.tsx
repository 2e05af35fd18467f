import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorNote, Field } from '../components.js';
import { ReplayProgress } from './replay-progress.js';

/** Replays a bus's archived events of a window through its rules (all, or some), dry run first. */
export function ArchiveView() {
  const [bus, setBus] = useState('default');
  const [from, setFrom] = useState('1h');
  const [to, setTo] = useState('now');
  const [rules, setRules] = useState('');
  const [dryRun, setDryRun] = useState(true);
  const [jobId, setJobId] = useState<string>();
  const [error, setError] = useState<Error>();
  const start = async () => {
    setError(undefined);
    const chosen = rules
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    try {
      const job = await api<{ id: string }>('POST', '/v1/archive/replays', {
        bus,
        from,
        to,
        ...(chosen.length > 0 ? { rules: chosen } : {}),
        ...(dryRun ? { dryRun: true } : {}),
      });
      setJobId(job.id);
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <section>
      <h1>Archive replay</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        <Field label="Bus">
          <input name="bus" value={bus} onInput={(e) => setBus(e.currentTarget.value)} />
        </Field>
        <Field label="From (RFC 3339, or how long ago: 2h)">
          <input name="from" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </Field>
        <Field label="To (RFC 3339, how long ago, or now)">
          <input name="to" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </Field>
        <Field label="Rules (comma-separated; empty: every enabled rule)">
          <input name="rules" value={rules} onInput={(e) => setRules(e.currentTarget.value)} />
        </Field>
        <label>
          <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.currentTarget.checked)} /> dry
          run (count, deliver nothing)
        </label>
        <button type="submit">{dryRun ? 'Count' : 'Start the replay'}</button>
      </form>
      <ErrorNote error={error} />
      {jobId && <ReplayProgress key={jobId} jobId={jobId} />}
    </section>
  );
}
