// The steps that drive tests/flask/example_app.py, shared by the Node runner
// (flask_example_client.js) and the browser runner (browser_example_client.js).
//
//   exampleSteps(io, base, transport, official) -> [[name, async fn], ...]
//   runSteps(steps, log) -> true when every step passed; log("OK <step> <ms>") per step, or
//                           log("FAIL <step>: <why>") and stop
//
// io: the client's io() function; base: the server's URL; transport: polling | websocket |
// upgrade (polling first, then the WebSocket upgrade); official: true for socket.io-client 4,
// false for fastsock-client.js.

(function (root, factory) {
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    const api = factory();
    root.exampleSteps = api.exampleSteps;
    root.runSteps = api.runSteps;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  function exampleSteps(io, base, transport, official) {
    function options(extra) {
      const transports = transport === "polling" ? ["polling"]
        : transport === "websocket" ? ["websocket"] : ["polling", "websocket"];
      return Object.assign({ transports, forceNew: true, reconnection: false }, extra || {});
    }

    function bytes(data) {  // Buffer (official client in Node) or ArrayBuffer (browsers, ours) -> number[]
      return Array.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
    }

    function transportName(socket) {
      if (official) return socket.io.engine && socket.io.engine.transport.name;
      return socket.transport;
    }

    function equal(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

    function check(cond, what) { if (!cond) throw new Error(what); }

    function next(socket, event, timeout = 3000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("timeout waiting for " + event)), timeout);
        socket.once(event, (...args) => { clearTimeout(timer); resolve(args); });
      });
    }

    function ack(socket, event, ...args) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("timeout waiting for ack of " + event)), 3000);
        socket.emit(event, ...args, (...reply) => { clearTimeout(timer); resolve(reply); });
      });
    }

    function silent(socket, event, ms = 300) {
      return new Promise((resolve, reject) => {
        const fail = () => reject(new Error("unexpected " + event));
        socket.once(event, fail);
        setTimeout(() => { socket.off(event, fail); resolve(); }, ms);
      });
    }

    async function connected(socket) {
      if (!socket.connected) await next(socket, "connect");
      return socket;
    }

    const steps = [];
    function step(name, fn) { steps.push([name, fn]); }

    let main;

    step("connect with auth and query", async () => {
      main = io(base + "/?q=42", options({ auth: { user: "nodey" } }));
      const [hello] = await next(main, "hello");
      await connected(main);
      check(equal(hello, { user: "nodey", query: "42" }), "hello " + JSON.stringify(hello));
      check(typeof main.id === "string" && main.id.length > 0, "no sid");
    });

    step("upgrade", async () => {
      if (transport !== "upgrade") return;
      for (let i = 0; i < 100 && transportName(main) !== "websocket"; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      check(transportName(main) === "websocket", "still on " + transportName(main));
    });

    step("emit with ack", async () => {
      const reply = await ack(main, "echo", 1, "two", { three: [3] });
      check(equal(reply, [1, "two", { three: [3] }]), "echo ack " + JSON.stringify(reply));
    });

    step("send text and json", async () => {
      const got = next(main, "message");
      main.send("hi");
      check(equal(await got, ["echo: hi"]), "message");
      const gotJson = next(main, "json");
      main.emit("json", { a: 1 });
      check(equal(await gotJson, [{ echo: { a: 1 } }]), "json");
    });

    step("binary both ways", async () => {
      const blob = new Uint8Array([1, 2, 3, 250]);
      const event = next(main, "binary");
      const reply = await ack(main, "binary", blob, { k: "v" });
      check(equal(bytes(reply[0]), [1, 2, 3, 250, 255]) && reply[1] === 4, "binary ack");
      const [reversed, info] = await event;
      check(equal(bytes(reversed), [250, 3, 2, 1]), "binary event data");
      check(equal(info, { size: 4, meta: { k: "v" } }), "binary event meta");
    });

    step("session", async () => {
      check(equal(await ack(main, "whoami"), ["nodey"]), "whoami");
      check(equal(await ack(main, "rename", "renamed"), ["renamed"]), "rename");
      check(equal(await ack(main, "whoami"), ["renamed"]), "whoami after rename");
    });

    step("rooms and broadcast", async () => {
      const other = io(base, options({ auth: { user: "other" } }));
      await next(other, "hello");
      await connected(other);
      check(equal(await ack(main, "join", "r1"), [["r1"]]), "join main");
      const joinedEvent = next(main, "joined");
      check(equal(await ack(other, "join", "r1"), [["r1"]]), "join other");
      check(equal(await joinedEvent, [{ room: "r1" }]), "joined broadcast");
      const said = next(other, "said");
      main.emit("say", "r1", "hello room");
      check(equal(await said, [{ room: "r1", text: "hello room" }]), "said");
      await silent(main, "said");
      const shoutedMain = next(main, "shouted");
      const shoutedOther = next(other, "shouted");
      other.emit("shout", "everyone");
      check(equal(await shoutedMain, ["everyone"]) && equal(await shoutedOther, ["everyone"]),
        "shout");
      check(equal(await ack(other, "leave", "r1"), [[]]), "leave");
      main.emit("say", "r1", "anyone?");
      await silent(other, "said");
      other.disconnect();
    });

    step("server asks for an ack", async () => {
      main.once("question", (q, reply) => reply("forty-two", q.length));
      const answered = next(main, "answered");
      main.emit("ask", "why?");
      check(equal(await answered, [{ question: "why?", answer: ["forty-two", 4] }]), "answered");
    });

    step("background task emits", async () => {
      const got = [];
      const done = new Promise((resolve) => {
        const on = (i) => { got.push(i); if (got.length === 3) { main.off("tick", on); resolve(); } };
        main.on("tick", on);
      });
      main.emit("ticks", 3);
      await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
      check(equal(got, [0, 1, 2]), "ticks " + JSON.stringify(got));
    });

    step("error handler ack", async () => {
      const reply = await ack(main, "boom");
      check(equal(reply, [{ error: "ValueError", message: "boom" }]), "boom " + JSON.stringify(reply));
    });

    step("class-based namespace", async () => {
      const chat = io(base + "/chat", options());
      const [motd] = await next(chat, "motd");
      check(motd === "welcome to /chat", "motd");
      await connected(chat);
      const peer = await connected(io(base + "/chat", options()));
      check(equal(await ack(chat, "enter", "c1"), ["c1"]), "enter");
      const entered = next(chat, "entered");
      await ack(peer, "enter", "c1");
      check((await entered)[0].room === "c1", "entered");
      const post = next(peer, "post");
      check(equal(await ack(chat, "post", { room: "c1", text: "yo" }), [true]), "post ack");
      check(equal(await post, [{ room: "c1", text: "yo" }]), "post");
      const [info] = await ack(chat, "bytes", new Uint8Array([9, 8]));
      check(info.len === 2 && equal(bytes(info.data), [9, 8]), "bytes");
      const announced = next(chat, "announcement");
      const announcedMain = next(main, "announcement");
      const res = await fetch(base + "/announce/news");
      check(res.status === 200, "announce status");
      check(equal(await announced, [{ text: "news" }]), "announcement /chat");
      check(equal(await announcedMain, [{ text: "news" }]), "announcement /");
      chat.disconnect();
      peer.disconnect();
    });

    step("refused connections", async () => {
      const admin = io(base + "/admin", options());
      const [err] = await next(admin, "connect_error");
      check(typeof err.message === "string", "admin refusal");
      admin.close();
      const ok = await connected(io(base + "/admin", options({ auth: { secret: "s3cret" } })));
      check(equal(await ack(ok, "stats"), [{ rooms: [] }]), "admin stats");
      ok.disconnect();
      const bad = io(base, options({ auth: { token: "bad" } }));
      const [badErr] = await next(bad, "connect_error");
      check(badErr.message === "bad token", "bad token message " + badErr.message);
      check(equal(badErr.data, { hint: "use a good one" }), "bad token data");
      bad.close();
    });

    step("server-side disconnect", async () => {
      const gone = next(main, "disconnect");
      main.emit("kick");
      const [reason] = await gone;
      check(reason === "io server disconnect", "reason " + reason);
    });

    return steps;
  }

  async function runSteps(steps, log) {
    const t0 = Date.now();
    for (const [name, fn] of steps) {
      try {
        await fn();
        log("OK " + name + " " + (Date.now() - t0));
      } catch (err) {
        log("FAIL " + name + ": " + (err && err.message));
        return false;
      }
    }
    return true;
  }

  return { exampleSteps, runSteps };
});
