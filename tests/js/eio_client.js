// Drives an echoing fastsock Engine.IO server with the real engine.io-client 6.x.
//
//   node eio_client.js <base url> <polling|websocket|upgrade> <heartbeat wait ms>
//
// Steps: open, (upgrade), text and binary echo, stay connected through heartbeats for the
// given time, echo again, then send "__close__" and expect the server to close the session.
// Prints "OK <step>" per step and "DONE" (exit 0), or "FAIL <step>: <why>" (exit 1).

"use strict";

const { Socket } = require("engine.io-client");

const [base, mode, waitMs] = process.argv.slice(2);
const transports = mode === "polling" ? ["polling"]
  : mode === "websocket" ? ["websocket"] : ["polling", "websocket"];

function next(emitter, event, timeout = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout waiting for " + event)), timeout);
    emitter.once(event, (...args) => { clearTimeout(timer); resolve(args); });
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let step = "open";

async function echo(socket, data) {
  const reply = next(socket, "message");
  socket.send(data);
  const [got] = await reply;
  const same = Buffer.isBuffer(data)
    ? Buffer.isBuffer(got) && Buffer.compare(got, data) === 0
    : got === data;
  if (!same) throw new Error(`echo of ${JSON.stringify(data)} came back as ${JSON.stringify(got)}`);
}

async function main() {
  const socket = new Socket(base, { transports, upgrade: mode === "upgrade" });
  let closedEarly = null;
  socket.on("close", (reason) => { closedEarly = closedEarly || reason; });
  await next(socket, "open");
  console.log("OK open " + socket.transport.name);

  if (mode === "upgrade") {
    step = "upgrade";
    if (socket.transport.name !== "websocket") await next(socket, "upgrade");
    console.log("OK upgrade");
  }

  step = "echo";
  await echo(socket, "héllo ✓");
  await echo(socket, Buffer.from([0, 1, 2, 255]));
  console.log("OK echo");

  step = "heartbeat";
  let pings = 0;
  socket.on("ping", () => { pings += 1; });
  await sleep(Number(waitMs));
  if (closedEarly) throw new Error("closed during heartbeats: " + closedEarly);
  if (pings < 2) throw new Error("only " + pings + " pings seen");
  await echo(socket, "after heartbeats");
  console.log("OK heartbeat " + pings);

  step = "server close";
  const closed = next(socket, "close");
  socket.send("__close__");
  const [reason] = await closed;
  console.log("OK server close " + reason);
  console.log("DONE");
}

main().then(() => process.exit(0), (err) => {
  console.log(`FAIL ${step}: ${err.message}`);
  process.exit(1);
});
