// Drives tests/socketio/e2e_app.py with the real socket.io-client 4.x.
//
//   node sio_scenario.js <base url> <polling|websocket|upgrade> [restart]
//
// Prints "OK <step>" per step. With "restart" it prints "RESTART" once the first part is done
// and expects the test to restart the server on the same port; the client must reconnect by
// itself. Ends with "DONE" (exit 0), or prints "FAIL <step>: <why>" and exits 1.

"use strict";

const { Manager } = require("socket.io-client");

const [base, transport, restart] = process.argv.slice(2);
const transports = transport === "polling" ? ["polling"]
  : transport === "websocket" ? ["websocket"] : ["polling", "websocket"];
const SECRET = { token: "secret" };

function manager(extra) {
  return new Manager(base, Object.assign({
    transports, reconnectionDelay: 100, reconnectionDelayMax: 300, timeout: 5000,
  }, extra || {}));
}

function next(emitter, event, timeout = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout waiting for " + event)), timeout);
    emitter.once(event, (...args) => { clearTimeout(timer); resolve(args); });
  });
}

function ack(socket, event, ...args) {
  return socket.timeout(5000).emitWithAck(event, ...args);
}

function ackAll(socket, event, ...args) {  // every ack argument (emitWithAck keeps the first)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout waiting for ack of " + event)), 5000);
    socket.emit(event, ...args, (...reply) => { clearTimeout(timer); resolve(reply); });
  });
}

function check(cond, what) { if (!cond) throw new Error(what); }
function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

let step = "start";
async function run(name, fn) {
  step = name;
  await fn();
  console.log("OK " + name);
}

async function main() {
  await run("refused", async () => {
    const m = manager({ reconnection: false });
    const bad = m.socket("/", { auth: { token: "wrong" } });
    const [err] = await next(bad, "connect_error");
    check(err.message === "unauthorized", "message " + err.message);
    check(same(err.data, { code: 401 }), "data " + JSON.stringify(err.data));
    bad.close();
    m.engine && m.engine.close();
  });

  const m1 = manager();
  const s = m1.socket("/", { auth: SECRET });
  const chat = m1.socket("/chat", { auth: { room: "lobby" } });
  s.on("question", (n, cb) => cb(n * 10));

  await run("connect", async () => {
    if (!s.connected) await next(s, "connect");
    if (!chat.connected) await next(chat, "connect");
    check(typeof s.id === "string" && s.id !== chat.id, "ids " + s.id + " " + chat.id);
  });

  await run("ack", async () => {
    check((await ack(s, "add", 1, 2)) === 3, "add");
  });

  await run("binary", async () => {
    const reply = await ackAll(s, "echo", Buffer.from([1, 2, 255]), { nested: [Buffer.from([4])] }, "t");
    check(Buffer.isBuffer(reply[0]) && same([...reply[0]], [1, 2, 255]), "echo[0]");
    check(Buffer.isBuffer(reply[1].nested[0]) && reply[1].nested[0][0] === 4, "echo[1]");
    check(reply[2] === "t", "echo[2]");
    const got = next(s, "bin");
    s.emit("binary_me");
    const [data] = await got;
    check(same([...data.data], [0, 1, 255]) && same([...data.list[0]], [97]) && data.list[1] === "b",
      "bin " + JSON.stringify(data));
  });

  await run("server-ack", async () => {
    check((await ack(s, "ask", 4)) === 41, "ask");
  });

  await run("namespace", async () => {
    check((await ack(chat, "msg", "hi")) === "chat:hi", "chat msg");
  });

  if (transport === "upgrade") {
    await run("upgrade", async () => {
      if (m1.engine.transport.name !== "websocket") await next(m1.engine, "upgrade");
    });
  }

  await run("info", async () => {
    const info = await ack(s, "info");
    const expected = transport === "polling" ? "polling" : "websocket";
    check(info.transport === expected, "transport " + info.transport);
    check(typeof info.session.query === "string" && info.session.query.includes("EIO=4"),
      "session " + JSON.stringify(info.session));
  });

  const m2 = manager({ reconnection: false });
  const s2 = m2.socket("/", { auth: SECRET });
  await run("rooms", async () => {
    if (!s2.connected) await next(s2, "connect");
    const rooms = await ack(s, "join", "r");
    check(same(rooms, [s.id, "r"].sort()), "rooms " + JSON.stringify(rooms));
    await ack(s2, "join", "r");
    let echoed = false;
    s2.on("shout", () => { echoed = true; });
    const got = next(s, "shout");
    check((await ack(s2, "shout", "r", "hello")) === "sent", "shout ack");
    const [text] = await got;
    check(text === "hello", "shout " + text);
    await ack(s2, "add", 0, 0);  // anything s2 got would have arrived before this ack
    check(!echoed, "skip_sid ignored");
  });

  await run("server-disconnect", async () => {
    const gone = next(s2, "disconnect");
    s2.emit("kick");
    const [reason] = await gone;
    check(reason === "io server disconnect", "reason " + reason);
    m2.engine && m2.engine.close();
  });

  if (restart) {
    await run("restart", async () => {
      const lost = next(s, "disconnect", 10000);
      console.log("RESTART");
      await lost;
      await next(s, "connect", 10000);
      if (!chat.connected) await next(chat, "connect", 10000);
      check((await ack(s, "add", 2, 2)) === 4, "add after restart");
      check((await ack(chat, "msg", "again")) === "chat:again", "chat after restart");
    });
  }

  s.close();
  chat.close();
  console.log("DONE");
  process.exit(0);
}

main().catch((err) => {
  console.log("FAIL " + step + ": " + (err && err.stack || err));
  process.exit(1);
});
