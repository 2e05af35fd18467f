// The admin API's answers, as far as the console reads them (the OpenAPI document at /docs/json
// has them whole).

export interface TargetView {
  name: string;
  kind: 'http' | 'nats' | 'consumer';
  rules: { bus: string; rule: string }[];
  partitions: number;
  circuitBreaker: { failures: number; window: string; openFor: string } | null;
  rateLimit: { perSecond: number; burst: number } | null;
  maxConcurrency: number | null;
  live: {
    workers: number;
    attemptsPerSecond: number;
    deliveredPerSecond: number;
    retriesPerSecond: number;
    deadLettersPerSecond: number;
    latencyMs: { p50: number; p99: number } | null;
    inFlight: number;
    backlog: number;
    deadLetters: number;
    breaker: 'closed' | 'open' | 'half-open' | null;
    breakerOpenUntil: string | null;
  };
}

export interface BusView {
  name: string;
  eventsPerSecond: number;
  rules: { name: string; enabled: boolean; matchedPerSecond: number }[];
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export type DeadLetterState = 'dead' | 'replaying' | 'replayed' | 'purged';

export interface DeadLetter {
  id: string;
  bus: string;
  rule: string;
  target: string;
  type: string;
  source: string;
  eventId: string;
  subject: string | null;
  partitionKey: string | null;
  stage: 'plan' | 'route' | 'deliver';
  errorClass: string;
  errorMessage: string;
  httpStatus: number | null;
  attempts: number;
  firstAttemptAt: string;
  lastAttemptAt: string;
  deadLetteredAt: string;
  acceptedAt: string;
  traceId: string | null;
  state: DeadLetterState;
  replayCount: number;
  lastReplayError: string | null;
}

export interface ReplayJob {
  id: string;
  kind: 'dead-letters' | 'archive';
  state: 'pending' | 'running' | 'completed' | 'cancelled' | 'failed';
  progress: number;
  total: number;
  done: number;
  failed: number;
  skipped: number;
  dryRun: boolean;
}

export interface Timer {
  key: string;
  bus: string;
  origin: 'api' | 'schedule' | 'delayed';
  state: 'scheduled' | 'completed' | 'cancelled' | 'paused' | 'failed';
  event: Record<string, unknown>;
  schedule: { kind: 'at' | 'cron' | 'rate'; at?: string; cron?: string; rate?: string; timezone?: string };
  nextFireAt: string | null;
  lastFiredAt: string | null;
  fireCount: number;
  lastError: string | null;
  lastOutcome: {
    state: string;
    dueAt: string;
    target?: string;
    rule?: string;
    error?: string;
    deadLetterId?: string;
  } | null;
}
