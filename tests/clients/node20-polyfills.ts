/**
 * Polyfills that matrix-js-sdk 43 needs on Node 20. Import this module before the SDK is
 * loaded (the client tests import it first and then load the SDK with a dynamic import).
 *
 * Promise.withResolvers (ES2024, Node 22+): the SDK calls it in its sync loop keep-alives,
 * in the scheduler (every sendMessage), in InteractiveAuth.attemptAuth, in uploads and in
 * rust-crypto. Without it the sync loop dies silently and UIA never starts
 * (docs: /work/shared/reference/clients.md §1.1).
 */

interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

type PromiseCtor = new <T>(executor: (resolve: (value: T | PromiseLike<T>) => void, reject: (reason?: unknown) => void) => void) => Promise<T>;

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };

if (typeof P.withResolvers !== "function") {
  // Same shape as the native one: a non-enumerable, writable, configurable static method
  // that honours subclassing (`this` is the constructor it was called on).
  Object.defineProperty(Promise, "withResolvers", {
    value: function withResolvers<T>(this: PromiseCtor): Resolvers<T> {
      let resolve!: Resolvers<T>["resolve"];
      let reject!: Resolvers<T>["reject"];
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

export {};
