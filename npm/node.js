// Node ≥ 18: the wasm is read from disk and instantiated synchronously at import.
import { readFileSync } from 'node:fs';
import { initSync } from './wasm/jwt_edge.js';
import * as wasm from './wasm/jwt_edge.js';
import { makeApi } from './api.js';

initSync({ module: readFileSync(new URL('./wasm/jwt_edge_bg.wasm', import.meta.url)) });

export const { verify, Verifier, decodeUnverified, RemoteJwks, ReplayGuard, refusal, extractToken, JwtEdgeError } = makeApi(wasm);
