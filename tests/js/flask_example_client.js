// Drives tests/flask/example_app.py with a real Socket.IO client in Node and checks every reply.
//
//   node [--experimental-websocket] flask_example_client.js <base url> <transport> <client>
//
// transport: polling | websocket | upgrade (polling first, then the WebSocket upgrade)
// client: official (socket.io-client 4 from node_modules) | a path to fastsock-client.js
// Prints "OK <step>" per step and exits 0, or prints "FAIL <step>: <why>" and exits 1.
// The steps are in example_steps.js; browser_example_client.js runs them in Chromium.

"use strict";

const { exampleSteps, runSteps } = require("./example_steps.js");

const [base, transport, client] = process.argv.slice(2);
const official = client === "official";
const io = official ? require("socket.io-client").io : require(client);

runSteps(exampleSteps(io, base, transport, official), (line) => console.log(line))
  .then((ok) => process.exit(ok ? 0 : 1));
