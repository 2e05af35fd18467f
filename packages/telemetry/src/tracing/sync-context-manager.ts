import { type Context, type ContextManager, ROOT_CONTEXT } from '@opentelemetry/api';

/**
 * The context manager Fuze registers: a context is active only during the synchronous part of
 * `context.with(ctx, fn)` (a span started there, or a log line written there, sees it; after the
 * first `await` inside `fn` it is gone).
 *
 * Why not AsyncLocalStorage: on Node 20 it is built on promise hooks that tax every promise in the
 * process, about 10% of the gateway's throughput (bench `tracing`), and Fuze does not need it: its
 * hops pass their parent context explicitly (`parent:` of every span helper, `contextWithSpan`).
 */
export class SyncContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const previous = this.current;
    this.current = context;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const manager = this;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(context, () => fn.apply(this, args));
    } as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.current = ROOT_CONTEXT;
    return this;
  }
}
