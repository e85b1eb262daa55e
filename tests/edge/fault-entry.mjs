// Test-only entry in front of the built worker (build/index.js), for faults the platform
// produces but Miniflare cannot be asked for. Never part of the worker bundle.
//
// - Binding FAULT_KV = "reads" | "writes" | "both": a KV namespace (FAULT_KV_BINDING,
//   default JWKS_CACHE) is wrapped so that those operations reject, as KV does when it
//   is unavailable.
// - Request header x-test-clock-offset: seconds added to the clock (`new Date()`,
//   `Date.now()`) while the request runs, for clock jumps. The header is removed before
//   the worker sees the request.
// - Request header x-test-fault, for that request only (removed before the worker sees
//   the request): "replay-guard" makes the REPLAY_GUARD Durable Object unreachable (its
//   stubs' fetch rejects, as when the object is overloaded or its location down);
//   "no-replay-kv" leaves the REPLAY KV namespace unbound.
// - GET /__test/wasm-memory: answered here, with the worker's wasm linear memory in
//   bytes ({"bytes": N}), for the memory bound under a flood of unknown kids.
import { memories, wasmMemoryBytes } from './memory-probe.mjs';
import Entrypoint, { ReplayGuard } from '../../build/index.js';

export { ReplayGuard };

const RealDate = Date;
let offsetMs = 0;
class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offsetMs);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offsetMs;
  }
}
globalThis.Date = ShiftedDate;

function faultyKv(kv, mode) {
  const failing = (op) => async () => {
    throw new Error(`KV ${op}: injected failure`);
  };
  const reads = mode === 'reads' || mode === 'both';
  const writes = mode === 'writes' || mode === 'both';
  return {
    get: reads ? failing('get') : (...a) => kv.get(...a),
    getWithMetadata: reads ? failing('getWithMetadata') : (...a) => kv.getWithMetadata(...a),
    list: reads ? failing('list') : (...a) => kv.list(...a),
    put: writes ? failing('put') : (...a) => kv.put(...a),
    delete: writes ? failing('delete') : (...a) => kv.delete(...a),
  };
}

// workers-rs checks a binding's constructor name, hence the class name.
class DurableObjectNamespace {
  constructor(real) {
    this.real = real;
  }
  idFromName(name) {
    return this.real.idFromName(name);
  }
  idFromString(id) {
    return this.real.idFromString(id);
  }
  newUniqueId(options) {
    return this.real.newUniqueId(options);
  }
  get() {
    return {
      fetch: async () => {
        throw new Error('Durable Object: injected failure');
      },
    };
  }
}

function faultyEnv(env, fault) {
  switch (fault) {
    case 'replay-guard':
      return { ...env, REPLAY_GUARD: new DurableObjectNamespace(env.REPLAY_GUARD) };
    case 'no-replay-kv': {
      const { REPLAY, ...rest } = env;
      return rest;
    }
    default:
      throw new Error(`unknown x-test-fault: ${fault}`);
  }
}

export default class FaultEntry extends Entrypoint {
  constructor(ctx, env) {
    const binding = env.FAULT_KV_BINDING ?? 'JWKS_CACHE';
    super(ctx, env.FAULT_KV ? { ...env, [binding]: faultyKv(env[binding], env.FAULT_KV) } : env);
  }

  fetch(request) {
    if (new URL(request.url).pathname === '/__test/wasm-memory') {
      return Response.json({ bytes: wasmMemoryBytes(), instances: memories.length });
    }
    offsetMs = Number(request.headers.get('x-test-clock-offset') ?? 0) * 1000;
    const fault = request.headers.get('x-test-fault');
    if (fault) this.env = faultyEnv(this.env, fault);
    const headers = new Headers(request.headers);
    headers.delete('x-test-clock-offset');
    headers.delete('x-test-fault');
    return super.fetch(new Request(request, { headers }));
  }
}
