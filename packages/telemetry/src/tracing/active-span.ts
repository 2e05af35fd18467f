import { type Context, context, type Span, trace } from '@opentelemetry/api';

/** The active context (the span a log line or a child span belongs to). */
export function activeContext(): Context {
  return context.active();
}

/**
 * Runs `fn` with `span` active: child spans started and log lines written in its synchronous part
 * belong to it (Fuze's context manager does not follow awaits: pass `contextWithSpan(span)` as the
 * `parent` of spans started later). `parent` is the context the span was started in (default: the active one).
 */
export function withSpan<T>(span: Span, fn: () => T, parent: Context = context.active()): T {
  return context.with(trace.setSpan(parent, span), fn);
}

/** `parent` (default: the active context) with `span` as its current span: the parent of `span`'s children. */
export function contextWithSpan(span: Span, parent: Context = context.active()): Context {
  return trace.setSpan(parent, span);
}
