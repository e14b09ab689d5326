// The app in plain Node: every cdktf call the Python synthesis made, made again directly.
//
//   node bench/replay.js <trace> <outdir>
//
// <trace> is the jsii traffic of one `python -O main.py` run, recorded by
// bench/replay.py: each request Python sent to the jsii kernel ("out") and each answer
// ("in"). This program performs the same operations, in the same order, on the same
// cdktf and provider JavaScript, without Python, jsii's kernel or its pipes: objects
// are created, properties read and set, methods called; where the kernel called back
// into Python (the stacks' tagging pass, an Aspect), the object's method here performs
// the operations Python performed then. cdktf therefore builds the same tree, numbers
// its tokens the same way, and writes the same files (bench/replay.py compares them).
// Like a TypeScript app, it requires each provider submodule it uses
// (@cdktf/provider-aws/lib/vpc), not the package's index of ~2,100 submodules.
//
// What remains is what a Node app doing the same work pays; the difference to
// `python -O main.py` is what the Python layer and jsii's kernel cost. The trace is
// read and interpreted here (~20 ms of the run, measured by --dry-run).
"use strict";

const fs = require("fs");

const [tracePath, outdir, mode] = process.argv.slice(2);
const lines = fs.readFileSync(tracePath, "utf8").split("\n").filter(Boolean);
const messages = lines
  .map((line) => ({ dir: line.slice(0, line.indexOf(" ")), body: JSON.parse(line.slice(line.indexOf(" ") + 1)) }))
  .filter((message) => !("exit" in message.body)); // Python's goodbye to the kernel

// --- the trace as a tree: each request with its answer and the callbacks in between ---
let at = 0;
function next(dir) {
  const message = messages[at++];
  if (!message || message.dir !== dir) throw new Error(`trace: expected "${dir}" at message ${at}`);
  return message.body;
}
function parseOperation() {
  const request = next("out");
  let answer = next("in");
  const callbacks = [];
  while (answer.callback) {
    const body = [];
    while (!(messages[at].dir === "out" && messages[at].body.complete)) body.push(parseOperation());
    const complete = next("out").complete;
    if (complete.cbid !== answer.callback.cbid) throw new Error(`trace: callback ${answer.callback.cbid} completed as ${complete.cbid}`);
    callbacks.push({ callback: answer.callback, body, complete });
    answer = next("in");
  }
  if (answer.error !== undefined) throw new Error(`trace: a request failed in the recorded run: ${answer.error}`);
  return { request, callbacks, answer };
}
const program = [];
while (at < messages.length) program.push(parseOperation());
if (mode === "--dry-run") process.exit(0);

// --- types: jsii fully qualified names to the JavaScript they name ---
const packages = { constructs: "constructs", cdktf: "cdktf", "@cdktf/provider-aws": "@cdktf/provider-aws", "@cdktf/provider-kubernetes": "@cdktf/provider-kubernetes" };
const kebab = (namespace) => namespace.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const typeCache = new Map();
function type(fqn) {
  if (fqn === "Object") return Object;
  let found = typeCache.get(fqn);
  if (found) return found;
  const assembly = Object.keys(packages).find((name) => fqn.startsWith(`${name}.`));
  if (!assembly) throw new Error(`unknown assembly of ${fqn}`);
  const parts = fqn.slice(assembly.length + 1).split(".");
  if (assembly.startsWith("@cdktf/provider-")) {
    // "@cdktf/provider-aws.s3Bucket.S3Bucket": the submodule's own file, as a TypeScript app imports it.
    found = require(`${packages[assembly]}/lib/${kebab(parts.shift())}`);
  } else {
    found = require(packages[assembly]);
  }
  for (const part of parts) found = found[part];
  if (found === undefined) throw new Error(`no JavaScript for ${fqn}`);
  typeCache.set(fqn, found);
  return found;
}

// --- values: the wire format to JavaScript and back ---
const objects = new Map(); // jsii reference -> object
function value(wire) {
  if (wire === null || wire === undefined) return undefined; // jsii passes null as undefined
  if (Array.isArray(wire)) return wire.map(value);
  if (typeof wire !== "object") return wire;
  if ("$jsii.byref" in wire) {
    const object = objects.get(wire["$jsii.byref"]);
    if (object === undefined) throw new Error(`unknown reference ${wire["$jsii.byref"]}`);
    return object;
  }
  if ("$jsii.struct" in wire) return value(wire["$jsii.struct"].data);
  if ("$jsii.map" in wire) return value(wire["$jsii.map"]);
  if ("$jsii.enum" in wire) {
    const [fqn, member] = wire["$jsii.enum"].split("/");
    return type(fqn)[member];
  }
  const result = {};
  for (const [key, item] of Object.entries(wire)) {
    const converted = value(item);
    if (converted !== undefined) result[key] = converted;
  }
  return result;
}
// Remember the objects an answer refers to, found at the same place in the actual result.
function bind(wire, actual) {
  if (wire === null || wire === undefined || typeof wire !== "object") return;
  if ("$jsii.byref" in wire) {
    objects.set(wire["$jsii.byref"], actual);
    return;
  }
  const inner = wire["$jsii.map"] ?? wire;
  for (const [key, item] of Object.entries(inner)) bind(item, actual?.[key]);
}

// --- operations ---
const pending = []; // callbacks expected from cdktf, innermost operation last
function callBack(target, name, args) {
  const queue = pending[pending.length - 1];
  const recorded = queue && queue.shift();
  if (!recorded) throw new Error(`replay: an unrecorded call back of ${name}`);
  const call = recorded.callback.invoke ?? recorded.callback.get ?? recorded.callback.set;
  if (objects.get(call.objref["$jsii.byref"]) !== target || (call.method ?? call.property) !== name) {
    throw new Error(`replay: cdktf called ${name} where the recorded run called back ${recorded.callback.cookie}`);
  }
  for (const operation of recorded.body) perform(operation);
  return value(recorded.complete.result);
}
function create({ fqn, args, overrides }) {
  const Base = type(fqn);
  let Class = Base;
  if (overrides && overrides.length) {
    // A Python subclass: the overridden members call back (here: replay what Python did).
    Class = class extends Base {};
    for (const { method, property } of overrides) {
      if (method) {
        Class.prototype[method] = function (...callArgs) {
          return callBack(this, method, callArgs);
        };
      } else {
        Object.defineProperty(Class.prototype, property, { get() { return callBack(this, property, []); } });
      }
    }
  }
  const actual = value(args ?? []);
  if (fqn === "cdktf.App") actual[0] = { ...actual[0], outdir };
  return new Class(...actual);
}
function perform({ request, callbacks, answer }) {
  pending.push(callbacks.slice());
  let result;
  switch (request.api) {
    case "load":
      break;
    case "create":
      result = create(request);
      break;
    case "get":
      result = value(request.objref)[request.property];
      break;
    case "set":
      value(request.objref)[request.property] = value(request.value);
      break;
    case "invoke": {
      const target = value(request.objref);
      result = target[request.method](...value(request.args ?? []));
      break;
    }
    case "sget":
      result = type(request.fqn)[request.property];
      break;
    case "sinvoke":
      result = type(request.fqn)[request.method](...value(request.args ?? []));
      break;
    case "del":
      break;
    default:
      throw new Error(`replay: no ${request.api} operation`);
  }
  const left = pending.pop();
  if (left.length) throw new Error(`replay: ${left.length} recorded call back(s) cdktf did not make`);
  // create answers with the reference; get and sget with {value}; invoke and sinvoke with {result}.
  const ok = answer.ok ?? {};
  bind(request.api === "create" ? ok : (ok.value ?? ok.result), result);
}

for (const operation of program) perform(operation);
