// Deno (the `deno` condition, from node_modules or `npm:jwt-edge`): a source-phase
// import gives the compiled WebAssembly.Module, so no file read and no permissions
// (`--allow-read`) are needed.
import source module from './wasm/jwt_edge_bg.wasm';
import * as wasm from './wasm/jwt_edge.js';
import { makeApi } from './api.js';

wasm.initSync({ module });

export const { verify, Verifier, decodeUnverified, RemoteJwks, ReplayGuard, refusal, extractToken, JwtEdgeError } = makeApi(wasm);
