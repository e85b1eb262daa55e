// Test-only: keeps a handle on the linear memory of every wasm instance created after
// this module is evaluated, so that tests/edge/fault-entry.mjs can report the worker's
// wasm heap size. Must be imported before the built worker (ES modules evaluate in
// import order). Never part of the worker bundle.
const RealInstance = WebAssembly.Instance;
export const memories = [];

WebAssembly.Instance = new Proxy(RealInstance, {
  construct(target, args, newTarget) {
    const instance = Reflect.construct(target, args, newTarget);
    const memory = Object.values(instance.exports).find((e) => e instanceof WebAssembly.Memory);
    if (memory) memories.push(memory);
    return instance;
  },
});

/** Bytes of linear memory of the newest instance (it only grows, so a high-water mark). */
export function wasmMemoryBytes() {
  return memories.length ? memories[memories.length - 1].buffer.byteLength : 0;
}
