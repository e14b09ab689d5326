// The jsii kernel in the Node process that Python starts (sophia_infra/jsii_host.py).
//
// jsii's own entry point is a relay: a Node process that starts a second one for the
// kernel and copies every message between Python's pipes and the kernel's channel, so
// that a library writing to stdout cannot corrupt the protocol. Here the kernel
// (./program.js, jsii's bundle with its channel moved to stdin/stdout) runs in this
// process, and what the relay did for the kernel's own stdout and stderr is done below:
// each write becomes one {"stdout"|"stderr": base64} line on stderr, which jsii's
// Python side decodes onto sys.stdout / sys.stderr, as it did the relay's.
"use strict";

const fs = require("fs");
const { Writable } = require("stream");

function relayed(key) {
  return new Writable({
    write(chunk, encoding, callback) {
      const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding);
      const line = Buffer.from(`${JSON.stringify({ [key]: data.toString("base64") })}\n`);
      for (let written = 0; written < line.length; ) {
        try {
          written += fs.writeSync(2, line, written);
        } catch (error) {
          if (error.code !== "EAGAIN") throw error;
        }
      }
      callback();
    },
  });
}

// Replaced before anything reads them: console, warnings and libraries write here.
for (const key of ["stdout", "stderr"]) {
  const stream = relayed(key);
  Object.defineProperty(process, key, { configurable: true, enumerable: false, get: () => stream });
}

// The kernel symlinks each package from its cache instead of copying it only when Node
// runs with this flag (given on the command line by the `node` wrapper next to this file).
if (!process.execArgv.includes("--preserve-symlinks")) {
  throw new Error("jsii host: node must run with --preserve-symlinks");
}

require("./program.js");
