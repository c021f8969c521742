// Drives the chat example (python -m fastsock.examples.chat) like two browser tabs would.
//
//   node [--experimental-websocket] flask_chat.js <base url> <client>
//
// client: official (socket.io-client 4) | a path to fastsock-client.js
// Prints "OK <step>" per step and exits 0, or "FAIL <step>: <why>" and exits 1.

"use strict";

const [base, client] = process.argv.slice(2);
const io = client === "official" ? require("socket.io-client").io : require(client);

function next(socket, event, timeout = 3000, filter = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout waiting for " + event)), timeout);
    const on = (...args) => {
      if (!filter(...args)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(args);
    };
    socket.on(event, on);
  });
}

function ack(socket, event, data) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no ack for " + event)), 3000);
    socket.emit(event, data, (reply) => { clearTimeout(timer); resolve(reply); });
  });
}

function check(cond, what) { if (!cond) throw new Error(what); }

(async () => {
  let step = "start";
  try {
    step = "welcome";
    const alice = io(base, { auth: { name: "alice" }, forceNew: true, reconnection: false });
    const [welcome] = await next(alice, "welcome");
    check(welcome.name === "alice" && welcome.rooms.indexOf("python") >= 0, "welcome");
    const bob = io(base, { auth: { name: "bob" }, forceNew: true, reconnection: false });
    await next(bob, "welcome");
    console.log("OK " + step);

    step = "rooms";
    check((await ack(alice, "join", { room: "python" })).members === 1, "alice joins");
    const joined = next(alice, "status", 3000, (s) => s.text === "bob joined python");
    check((await ack(bob, "join", { room: "python" })).members === 2, "bob joins");
    await joined;
    console.log("OK " + step);

    step = "chat";
    const seenByAlice = next(alice, "chat");
    const seenByBob = next(bob, "chat");
    check((await ack(bob, "chat", { room: "python", text: "hi" })).ok, "chat ack");
    const [msg] = await seenByAlice;
    check(msg.name === "bob" && msg.text === "hi" && msg.room === "python", "chat message");
    await seenByBob;
    check(!(await ack(alice, "chat", { room: "elsewhere", text: "x" })).ok, "not in room");
    console.log("OK " + step);

    step = "ticker";
    const [tick] = await next(alice, "tick", 4000);
    check(tick.clients >= 2 && typeof tick.time === "string", "tick " + JSON.stringify(tick));
    console.log("OK " + step);

    step = "rename and leave";
    const renamed = next(bob, "status", 3000, (s) => s.text === "alice is now alicia");
    check((await ack(alice, "rename", "alicia")).name === "alicia", "rename");
    await renamed;
    check((await ack(alice, "leave", { room: "python" })).ok, "leave");
    const left = next(bob, "status", 3000, (s) => /alicia left/.test(s.text));
    alice.disconnect();
    await left;
    bob.disconnect();
    console.log("OK " + step);
    process.exit(0);
  } catch (err) {
    console.log("FAIL " + step + ": " + (err && err.message));
    process.exit(1);
  }
})();
