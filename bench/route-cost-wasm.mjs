// Runs examples/route_cost.rs compiled for wasm32-wasip1 under Node's WASI: the route
// matching cost per request as WebAssembly in V8 (the engine workerd runs the worker in).
//   cargo build --release --example route_cost --target wasm32-wasip1
//   node bench/route-cost-wasm.mjs
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASI } from 'node:wasi';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const file = path.join(root, 'target/wasm32-wasip1/release/examples/route_cost.wasm');
const wasi = new WASI({ version: 'preview1', args: ['route_cost'], env: {} });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
wasi.start(instance);
