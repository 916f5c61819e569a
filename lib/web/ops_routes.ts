/**
 * What operators point their probes and scrapers at: `GET /healthz` (alive: serve's health JSON),
 * `GET /readyz` (ready to serve: 503 while the store fails or a held account is not connected)
 * `GET /metrics` (Prometheus text, when serve keeps metrics; behind serve's token) and
 * `GET /v1/openapi.json` (the API described from the loaded schema).
 *
 * @module
 */

import { openApiJson } from "../tl/openapi.ts";
import { HttpError, json, jsonText } from "./http_answers.ts";
import type { WebRoute } from "./routes.ts";

/**
 * Ready unless the health object says otherwise: a store that fails ("degraded"), or fewer held
 * accounts connected than held (when health reports `held_connected`).
 */
function ready(health: Record<string, unknown>): boolean {
  if (health.status !== "ok") return false;
  const connected = health.held_connected;
  return typeof connected !== "number" || connected >= Number(health.held_accounts ?? 0);
}

/** `/healthz`, `/readyz`, `/metrics` and `/v1/openapi.json`. */
export const OPS_ROUTES: WebRoute[] = [
  {
    method: "GET",
    path: "/healthz",
    auth: "open",
    handle: (context) => json(context.front.health()),
  },
  {
    method: "GET",
    path: "/readyz",
    auth: "open",
    handle(context) {
      const health = context.front.health();
      return json(health, ready(health) ? 200 : 503);
    },
  },
  {
    method: "GET",
    path: "/metrics",
    auth: "token",
    handle(context) {
      const metrics = context.front.metrics;
      if (!metrics) {
        throw new HttpError(404, "NotFound", "this serve keeps no metrics");
      }
      return new Response(metrics.render(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    },
  },
  {
    method: "GET",
    path: "/v1/openapi.json",
    auth: "open",
    handle(context) {
      const defaults = context.front.defaults;
      // Made once per schema and then reused (the shipped schema's is about 1.5 MB).
      const text = openApiJson(defaults.schema, { version: defaults.app.appVersion });
      return jsonText(text, 200, { "cache-control": "public, max-age=300" });
    },
  },
];
