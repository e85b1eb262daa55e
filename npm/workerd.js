// Cloudflare Workers (workerd, through wrangler or Miniflare) and other `worker`
// runtimes whose bundler imports a `.wasm` file as a compiled WebAssembly.Module
// (wrangler's CompiledWasm rule). Workers allow no I/O at global scope and no compiling
// of wasm from bytes, so the module arrives as an import and is instantiated here,
// synchronously, with no fetch.
import module from './wasm/jwt_edge_bg.wasm';
import * as wasm from './wasm/jwt_edge.js';
import { makeApi } from './api.js';

wasm.initSync({ module });

export const { verify, Verifier, decodeUnverified, RemoteJwks, ReplayGuard, refusal, extractToken, JwtEdgeError } = makeApi(wasm);
