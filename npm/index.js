// Browsers and bundlers: the wasm is fetched next to this module and instantiated once.
import init, * as wasm from './wasm/jwt_edge.js';
import { makeApi } from './api.js';

await init({ module_or_path: new URL('./wasm/jwt_edge_bg.wasm', import.meta.url) });

export const { verify, Verifier, decodeUnverified, RemoteJwks, ReplayGuard, refusal, extractToken, JwtEdgeError } = makeApi(wasm);
