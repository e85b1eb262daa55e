// Entry module of the jwt-edge worker. scripts/build-worker.sh bundles it with esbuild
// (next to wasm-bindgen's index.js) into build/index.js; build/index_bg.wasm stays a
// separate module that index.js imports.
//
// Where it comes from: worker-build 0.8.7, src/js/shim.js (crates.io package
// `worker-build`, version 0.8.7, the default "module" shim with panic recovery), with
// its `$HANDLERS` placeholder expanded the way worker-build's generate_handlers() and
// add_export_wrappers() do for this crate. Keep the two in step when bumping `worker`.
//
// What must be listed here (scripts/build-worker.sh compares this file with the
// wasm-bindgen exports and fails, naming the missing line):
//   - one `Entrypoint.prototype.<name>` line per `#[event(...)]` handler
//     (`fetch`, `scheduled`, `queue`, `email`, `connect`: called as
//     `exports.<name>.call(this, arg, this.env, this.ctx)`);
//   - one line per exported class, i.e. per `#[durable_object]` struct, at the end:
//         export const ReplayGuard = new Proxy(exports.ReplayGuard, classProxyHooks);
//     (the class name is the Rust struct's name), plus in wrangler.toml, for the
//     top level and for [env.dev]:
//         [[durable_objects.bindings]]  name = "REPLAY_GUARD"  class_name = "ReplayGuard"
//     and once, at the top level:
//         [[migrations]]  tag = "v1"  new_sqlite_classes = ["ReplayGuard"]
import { WorkerEntrypoint } from "cloudflare:workers";
import * as exports from "./index.js";

Error.stackTraceLimit = 100;
const initState = exports.__worker_init_state();

// After a Rust panic (panic=abort -> wasm `unreachable`, a WebAssembly.RuntimeError)
// the instance is poisoned: the next call re-instantiates the wasm module
// (wasm-bindgen --experimental-reset-state-function) instead of failing forever.
function checkReinitialize() {
  if (initState.criticalError) {
    console.log("Reinitializing Wasm application");
    exports.__wbg_reset_state();
    initState.criticalError = false;
    initState.instanceId++;
  }
}

addEventListener("error", (e) => {
  handleMaybeCritical(e.error);
});

function handleMaybeCritical(e) {
  if (e instanceof WebAssembly.RuntimeError) {
    console.error("Critical", e);
    initState.criticalError = true;
  }
}

class Entrypoint extends WorkerEntrypoint {}

// ---- $HANDLERS: one line per #[event(...)] handler --------------------------------
Entrypoint.prototype.fetch = function fetch(arg) {
  return exports.fetch.call(this, arg, this.env, this.ctx);
};
// ---- end of $HANDLERS -------------------------------------------------------------

const instanceProxyHooks = {
  set: (target, prop, value, receiver) => Reflect.set(target.instance, prop, value, receiver),
  has: (target, prop) => Reflect.has(target.instance, prop),
  deleteProperty: (target, prop) => Reflect.deleteProperty(target.instance, prop),
  apply: (target, thisArg, args) => Reflect.apply(target.instance, thisArg, args),
  construct: (target, args, newTarget) => Reflect.construct(target.instance, args, newTarget),
  getPrototypeOf: (target) => Reflect.getPrototypeOf(target.instance),
  setPrototypeOf: (target, proto) => Reflect.setPrototypeOf(target.instance, proto),
  isExtensible: (target) => Reflect.isExtensible(target.instance),
  preventExtensions: (target) => Reflect.preventExtensions(target.instance),
  getOwnPropertyDescriptor: (target, prop) => Reflect.getOwnPropertyDescriptor(target.instance, prop),
  defineProperty: (target, prop, descriptor) => Reflect.defineProperty(target.instance, prop, descriptor),
  ownKeys: (target) => Reflect.ownKeys(target.instance),
};

// Wraps the entrypoint and every Durable Object class: an instance built before a
// panic is rebuilt on its next use, and every method call checks for a reset first.
const classProxyHooks = {
  construct(ctor, args, newTarget) {
    try {
      checkReinitialize();
      const instance = {
        instance: Reflect.construct(ctor, args, newTarget),
        instanceId: initState.instanceId,
        ctor,
        args,
        newTarget,
      };
      return new Proxy(instance, {
        ...instanceProxyHooks,
        get(target, prop, receiver) {
          if (target.instanceId !== initState.instanceId) {
            target.instance = Reflect.construct(target.ctor, target.args, target.newTarget);
            target.instanceId = initState.instanceId;
          }
          const original = Reflect.get(target.instance, prop, receiver);
          if (typeof original !== "function") return original;
          if (original.constructor === Function) {
            return new Proxy(original, {
              apply(target, thisArg, argArray) {
                checkReinitialize();
                try {
                  return target.apply(thisArg, argArray);
                } catch (e) {
                  handleMaybeCritical(e);
                  throw e;
                }
              },
            });
          } else {
            return new Proxy(original, {
              async apply(target, thisArg, argArray) {
                checkReinitialize();
                try {
                  return await target.apply(thisArg, argArray);
                } catch (e) {
                  handleMaybeCritical(e);
                  throw e;
                }
              },
            });
          }
        },
      });
    } catch (e) {
      initState.criticalError = true;
      throw e;
    }
  },
};

export default new Proxy(Entrypoint, classProxyHooks);

// ---- Durable Object classes: one line per #[durable_object] struct ------
export const ReplayGuard = new Proxy(exports.ReplayGuard, classProxyHooks);
