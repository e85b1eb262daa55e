// Vercel Edge Functions and Next.js middleware (the `edge-light` condition): the
// bundler turns `*.wasm?module` into a precompiled WebAssembly.Module, since compiling
// wasm from bytes at run time is refused there.
import module from './wasm/jwt_edge_bg.wasm?module';
import * as wasm from './wasm/jwt_edge.js';
import { makeApi } from './api.js';

// Next's sandbox (and edge-runtime's EdgeVM) compile the module in the host realm and
// hand it to a context with its own `WebAssembly`: `module instanceof
// WebAssembly.Module` is then false, and wasm-bindgen's initSync would try to compile
// it again from "bytes" (refused). V8 instantiates a Module from another realm, so only
// the prototype is put right, after checking it is a Module.
const isModule = module instanceof WebAssembly.Module
  || Object.prototype.toString.call(module) === '[object WebAssembly.Module]';
if (!isModule) {
  throw new TypeError('jwt-edge: expected a WebAssembly.Module from the `jwt_edge_bg.wasm?module` import');
}
if (!(module instanceof WebAssembly.Module)) Object.setPrototypeOf(module, WebAssembly.Module.prototype);
wasm.initSync({ module });

export const { verify, Verifier, decodeUnverified, RemoteJwks, ReplayGuard, refusal, extractToken, JwtEdgeError } = makeApi(wasm);
