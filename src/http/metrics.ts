/**
 * Prometheus metrics for HTTP: request count and latency by method, route template and
 * status. Route templates (never concrete paths) keep label cardinality bounded and user
 * ids out of the metrics. Other modules register their own metrics on the same registry.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class HttpMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"method" | "route" | "status">;
  private readonly duration: Histogram<"method" | "route">;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "sluice_" });
    this.requests = new Counter({
      name: "sluice_http_requests_total",
      help: "HTTP requests answered, by method, route template and status",
      labelNames: ["method", "route", "status"],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: "sluice_http_request_duration_seconds",
      help: "Time to answer HTTP requests, by method and route template",
      labelNames: ["method", "route"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
  }

  /** Sync tokens found stale, by cause (epoch, future, stamp, reset). */
  readonly staleTokens = new Counter({
    name: "sluice_sync_stale_tokens_total",
    help: "Sync tokens from a database that no longer exists or from before an operator reset, by cause",
    labelNames: ["cause"],
    registers: [this.registry],
  });

  /** Start-ups that found the database behind the high-water mark (restore, failover). */
  readonly databaseBehind = new Counter({
    name: "sluice_database_behind_total",
    help: "Start-ups that found the database behind the positions clients had been given (epoch rotated)",
    registers: [this.registry],
  });

  observe(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.duration.observe({ method, route }, seconds);
  }
}
