// Test-only entry in front of the built worker (build/index.js): gives the worker an
// Analytics Engine dataset binding JWT_EDGE_METRICS whose data points go to the Node
// side (service binding METRICS_SINK), since Miniflare's local Analytics Engine drops
// them. The object has the binding's interface: writeDataPoint({blobs, doubles, indexes}).
// Never part of the worker bundle.
import Entrypoint, { ReplayGuard } from '../../build/index.js';

export { ReplayGuard };

/** The binding's interface, forwarding each point to the Node side. */
function dataset(env, ctx) {
  return {
    writeDataPoint(point) {
      // As the real binding: synchronous, validated, never awaited by the caller.
      if (!point || !Array.isArray(point.blobs) || !Array.isArray(point.doubles) || !Array.isArray(point.indexes)) {
        throw new TypeError('writeDataPoint: blobs, doubles and indexes must be arrays');
      }
      if (point.indexes.length > 1 || point.blobs.length > 20 || point.doubles.length > 20) {
        throw new TypeError('writeDataPoint: too many values');
      }
      const body = JSON.stringify(point);
      ctx.waitUntil(env.METRICS_SINK.fetch('http://metrics-sink/', { method: 'POST', body }));
    },
  };
}

export default class MetricsEntry extends Entrypoint {
  constructor(ctx, env) {
    super(ctx, { ...env, JWT_EDGE_METRICS: dataset(env, ctx) });
  }
}
