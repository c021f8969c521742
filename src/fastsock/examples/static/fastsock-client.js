/*
 * fastsock-client.js: a small Socket.IO v5 / Engine.IO v4 client for browsers (and Node >= 20
 * with a global WebSocket), written for fastsock's examples so they work offline, without a CDN.
 *
 * It speaks the same protocol as the official socket.io-client 4.x, with a subset of its API:
 *
 *   const socket = io();                          // same origin, namespace "/"
 *   const chat = io("/chat", { auth: { name } }); // another namespace over the same connection
 *   socket.on("connect", () => console.log(socket.id, socket.transport));
 *   socket.on("news", (data) => ...);
 *   socket.emit("join", { room: "lobby" }, (ack) => ...);   // a trailing function is an ack
 *   socket.on("question", (data, reply) => reply("answer"));  // the server asked for an ack
 *   socket.disconnect();
 *
 * Options: path ("/socket.io"), transports (["polling", "websocket"]), upgrade (true), auth
 * (object, or function(cb) calling cb(object)), query (object), reconnection (true),
 * reconnectionDelay (1000), reconnectionDelayMax (5000), forceNew (false).
 * Binary data (ArrayBuffer, typed arrays, Blob is not supported) is sent as attachments and
 * received as ArrayBuffer.
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    root.io = root.fastsockio = factory();
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // ---------------------------------------------------------------- a tiny event emitter
  class Emitter {
    constructor() { this._handlers = {}; }
    on(event, fn) { (this._handlers[event] = this._handlers[event] || []).push(fn); return this; }
    once(event, fn) {
      const wrapper = (...args) => { this.off(event, wrapper); fn.apply(this, args); };
      return this.on(event, wrapper);
    }
    off(event, fn) {
      if (event === undefined) { this._handlers = {}; return this; }
      if (fn === undefined) { delete this._handlers[event]; return this; }
      const list = this._handlers[event] || [];
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
      return this;
    }
    emitLocal(event, ...args) {
      for (const fn of (this._handlers[event] || []).slice()) fn.apply(this, args);
      return this;
    }
    listeners(event) { return (this._handlers[event] || []).slice(); }
  }

  // ---------------------------------------------------------------- binary helpers
  function isBinary(obj) {
    return (typeof ArrayBuffer !== "undefined" &&
            (obj instanceof ArrayBuffer || ArrayBuffer.isView(obj)));
  }
  function toUint8(obj) {
    return obj instanceof ArrayBuffer ? new Uint8Array(obj)
      : new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength);
  }
  function toArrayBuffer(obj) {
    if (obj instanceof ArrayBuffer) return obj;
    const u8 = toUint8(obj);
    return u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength);
  }
  function base64Encode(obj) {
    const bytes = toUint8(obj);
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  }
  function base64Decode(text) {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  // ---------------------------------------------------------------- Engine.IO v4
  const EIO = { OPEN: "0", CLOSE: "1", PING: "2", PONG: "3", MESSAGE: "4", UPGRADE: "5",
                NOOP: "6" };
  const RECORD_SEPARATOR = "\x1e";

  // One Engine.IO connection: polling, WebSocket, and the upgrade from the first to the second.
  // Emits "open", "message" (string or ArrayBuffer), "close" (reason).
  class Engine extends Emitter {
    constructor(url, opts) {
      super();
      this.url = url;  // http(s)://host[:port]/path/
      this.opts = opts;
      this.readyState = "closed";
      this.transport = null;  // "polling" | "websocket"
      this.sid = null;
      this.writeBuffer = [];
      this.polling = false;
      this.posting = false;
      this.upgrading = false;
      this.probing = false;
      this.pollDeferred = false;
      this.deferTimer = null;
      this.ws = null;
      this.pingTimer = null;
      this.abort = null;
    }

    query(extra) {
      const params = Object.assign({}, this.opts.query || {}, { EIO: "4" }, extra);
      if (this.sid) params.sid = this.sid;
      return Object.keys(params).map(
        (k) => encodeURIComponent(k) + "=" + encodeURIComponent(params[k])).join("&");
    }
    pollUrl() { return this.url + "?" + this.query({ transport: "polling", t: Date.now().toString(36) }); }
    wsUrl() {
      return this.url.replace(/^http/, "ws") + "?" + this.query({ transport: "websocket" });
    }

    open() {
      this.readyState = "opening";
      this.sid = null;
      this.abort = typeof AbortController !== "undefined" ? new AbortController() : null;
      if (this.opts.transports[0] === "websocket") this.openWebSocket(false);
      else this.poll();
    }

    onOpenPacket(data) {
      const info = JSON.parse(data);
      this.sid = info.sid;
      this.pingInterval = info.pingInterval;
      this.pingTimeout = info.pingTimeout;
      this.upgrades = info.upgrades || [];
      this.readyState = "open";
      this.resetPingTimer();
      this.emitLocal("open");
      if (this.transport === "polling" && this.opts.upgrade &&
          this.upgrades.indexOf("websocket") >= 0 &&
          this.opts.transports.indexOf("websocket") >= 0 && typeof WebSocket !== "undefined") {
        this.openWebSocket(true);
      }
    }

    resetPingTimer() {
      clearTimeout(this.pingTimer);
      // the server pings every pingInterval; without one for pingInterval + pingTimeout it is gone
      this.pingTimer = setTimeout(() => this.onClose("ping timeout"),
                                  this.pingInterval + this.pingTimeout);
    }

    onPacket(packet) {
      if (typeof packet !== "string") {  // a binary message
        this.emitLocal("message", packet);
        return;
      }
      const type = packet[0];
      const data = packet.slice(1);
      if (type === EIO.OPEN) this.onOpenPacket(data);
      else if (type === EIO.PING) { this.resetPingTimer(); this.sendPacket(EIO.PONG + data); }
      else if (type === EIO.MESSAGE) this.emitLocal("message", data);
      else if (type === EIO.CLOSE) this.onClose("transport close");
    }

    // -- polling
    poll() {
      if (this.readyState === "closed" || this.transport === "websocket") return;
      this.transport = "polling";
      this.polling = true;
      const opts = { credentials: "include", cache: "no-store" };
      if (this.abort) opts.signal = this.abort.signal;
      fetch(this.pollUrl(), opts).then((res) => {
        if (!res.ok) throw new Error("polling status " + res.status);
        return res.text();
      }).then((body) => {
        this.polling = false;
        const packets = body.split(RECORD_SEPARATOR);
        for (const p of packets) {
          this.onPacket(p[0] === "b" ? base64Decode(p.slice(1)) : p);
        }
        if (this.upgrading) this.maybeFinishUpgrade();
        else if (this.probing && packets.indexOf(EIO.NOOP) >= 0) this.deferPoll();
        else if (this.readyState === "open" || this.readyState === "opening") this.poll();
      }).catch((err) => {
        this.polling = false;
        if (this.readyState !== "closed") this.onClose("transport error", err);
      });
    }

    deferPoll() {
      // A NOOP during a probe is the server releasing the GET for the upgrade (alone, or after
      // the packets that were waiting): a new GET now would wait for data until the next ping,
      // so wait for "3probe" instead (briefly).
      this.pollDeferred = true;
      clearTimeout(this.deferTimer);
      this.deferTimer = setTimeout(() => this.resumePolling(), 1000);
    }

    resumePolling() {
      clearTimeout(this.deferTimer);
      if (!this.pollDeferred) return;
      this.pollDeferred = false;
      if (this.transport === "polling" && !this.polling && this.readyState === "open") this.poll();
    }

    flushPolling() {
      if (this.posting || !this.writeBuffer.length || this.readyState !== "open") return;
      const packets = this.writeBuffer.splice(0);
      const body = packets.map((p) => (typeof p === "string" ? p : "b" + base64Encode(p)))
        .join(RECORD_SEPARATOR);
      this.posting = true;
      const opts = { method: "POST", body: body, credentials: "include",
                     headers: { "Content-Type": "text/plain;charset=UTF-8" } };
      if (this.abort) opts.signal = this.abort.signal;
      fetch(this.pollUrl(), opts).then((res) => {
        if (!res.ok) throw new Error("polling POST status " + res.status);
        return res.text();
      }).then(() => {
        this.posting = false;
        if (this.upgrading) this.maybeFinishUpgrade();
        else this.flush();
      }).catch((err) => {
        this.posting = false;
        if (this.readyState !== "closed") this.onClose("transport error", err);
      });
    }

    // -- WebSocket
    openWebSocket(probe) {
      let ws;
      try {
        ws = new WebSocket(this.wsUrl());
      } catch (err) {
        if (!probe) this.onClose("transport error", err);
        return;
      }
      ws.binaryType = "arraybuffer";
      if (probe) {
        // the upgrade: ping over the new socket, and switch once polling is idle
        this.probing = true;
        ws.onopen = () => ws.send(EIO.PING + "probe");
        ws.onmessage = (ev) => {
          if (ev.data === EIO.PONG + "probe" && this.probing) {
            this.probing = false;
            this.pollDeferred = false;
            clearTimeout(this.deferTimer);
            this.upgrading = true;
            this.probe = ws;
            this.maybeFinishUpgrade();
          } else {
            ws.close();
          }
        };
        ws.onerror = ws.onclose = () => {
          if (this.probe === ws || this.probing) {
            // the upgrade failed: stay on polling
            this.probing = this.upgrading = false;
            this.probe = null;
            if (this.pollDeferred) this.resumePolling();
            else if (this.transport === "polling" && !this.polling) this.poll();
          }
        };
        return;
      }
      this.transport = "websocket";
      this.attachWebSocket(ws);
    }

    attachWebSocket(ws) {
      this.ws = ws;
      ws.onmessage = (ev) => this.onPacket(ev.data);
      ws.onclose = () => { if (this.ws === ws) this.onClose("transport close"); };
      ws.onerror = () => { if (this.ws === ws) this.onClose("transport error"); };
    }

    maybeFinishUpgrade() {
      // polling must be idle (the server answers the pending GET with a noop) before switching
      if (!this.upgrading || this.polling || this.posting) return;
      const ws = this.probe;
      this.upgrading = false;
      this.probe = null;
      this.transport = "websocket";
      this.attachWebSocket(ws);
      ws.send(EIO.UPGRADE);
      this.emitLocal("upgrade", "websocket");
      this.flush();
    }

    // -- writing
    sendPacket(packet) {
      if (this.readyState === "closed") return;
      this.writeBuffer.push(packet);
      this.flush();
    }
    send(data) {  // a message: string or binary
      this.sendPacket(typeof data === "string" ? EIO.MESSAGE + data : toArrayBuffer(data));
    }
    flush() {
      if (this.upgrading) return;
      if (this.transport === "websocket" && this.ws && this.ws.readyState === 1) {
        for (const p of this.writeBuffer.splice(0)) this.ws.send(p);
      } else if (this.transport === "polling") {
        this.flushPolling();
      }
    }

    close() {
      if (this.readyState === "closed") return;
      this.writeBuffer = [];
      if (this.transport === "websocket" && this.ws && this.ws.readyState === 1) {
        this.ws.send(EIO.CLOSE);
      } else if (this.readyState === "open" && this.transport === "polling") {
        fetch(this.pollUrl(), { method: "POST", body: EIO.CLOSE, credentials: "include" })
          .catch(() => {});
      }
      this.onClose("forced close");
    }

    onClose(reason, err) {
      if (this.readyState === "closed") return;
      this.readyState = "closed";
      clearTimeout(this.pingTimer);
      if (this.abort) this.abort.abort();
      for (const ws of [this.ws, this.probe]) {
        if (ws) { ws.onclose = ws.onerror = ws.onmessage = null; try { ws.close(); } catch (e) { /* gone */ } }
      }
      this.ws = this.probe = null;
      this.upgrading = this.polling = this.posting = this.probing = this.pollDeferred = false;
      clearTimeout(this.deferTimer);
      this.transport = null;
      this.emitLocal("close", reason, err);
    }
  }

  // ---------------------------------------------------------------- Socket.IO v5 packets
  const SIO = { CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4, BINARY_EVENT: 5,
                BINARY_ACK: 6 };

  function hasBinary(obj) {
    if (!obj || typeof obj !== "object") return false;
    if (isBinary(obj)) return true;
    if (Array.isArray(obj)) return obj.some(hasBinary);
    return Object.keys(obj).some((k) => hasBinary(obj[k]));
  }
  function deconstruct(obj, buffers) {
    if (isBinary(obj)) {
      buffers.push(toArrayBuffer(obj));
      return { _placeholder: true, num: buffers.length - 1 };
    }
    if (Array.isArray(obj)) return obj.map((x) => deconstruct(x, buffers));
    if (obj && typeof obj === "object" && !(obj instanceof Date)) {
      const out = {};
      for (const k of Object.keys(obj)) out[k] = deconstruct(obj[k], buffers);
      return out;
    }
    return obj;
  }
  function reconstruct(obj, buffers) {
    if (Array.isArray(obj)) return obj.map((x) => reconstruct(x, buffers));
    if (obj && typeof obj === "object") {
      if (obj._placeholder === true && typeof obj.num === "number") return buffers[obj.num];
      for (const k of Object.keys(obj)) obj[k] = reconstruct(obj[k], buffers);
    }
    return obj;
  }

  // -> [string, ...ArrayBuffer]: the packet text and its attachments
  function encodePacket(type, nsp, data, id) {
    const buffers = [];
    if ((type === SIO.EVENT || type === SIO.ACK) && hasBinary(data)) {
      type = type === SIO.EVENT ? SIO.BINARY_EVENT : SIO.BINARY_ACK;
      data = deconstruct(data, buffers);
    }
    let text = String(type);
    if (buffers.length) text += buffers.length + "-";
    if (nsp && nsp !== "/") text += nsp + ",";
    if (id !== undefined && id !== null) text += id;
    if (data !== undefined) text += JSON.stringify(data);
    return [text].concat(buffers);
  }

  function decodePacket(text) {
    let i = 0;
    const pkt = { type: Number(text[0]), nsp: "/", id: undefined, data: undefined,
                  attachments: 0 };
    i = 1;
    if (pkt.type === SIO.BINARY_EVENT || pkt.type === SIO.BINARY_ACK) {
      const dash = text.indexOf("-", i);
      pkt.attachments = Number(text.slice(i, dash));
      i = dash + 1;
    }
    if (text[i] === "/") {
      const comma = text.indexOf(",", i);
      const end = comma < 0 ? text.length : comma;
      pkt.nsp = text.slice(i, end);
      i = comma < 0 ? end : end + 1;
    }
    let digits = "";
    while (i < text.length && text[i] >= "0" && text[i] <= "9") digits += text[i++];
    if (digits) pkt.id = Number(digits);
    if (i < text.length) pkt.data = JSON.parse(text.slice(i));
    return pkt;
  }

  // ---------------------------------------------------------------- the Manager
  // One Engine.IO connection shared by the sockets (namespaces) of one server, and reconnection.
  class Manager extends Emitter {
    constructor(url, opts) {
      super();
      this.uri = url;
      this.opts = opts;
      this.nsps = {};
      this.engine = null;
      this.partial = null;
      this.attempts = 0;
      this.reconnectTimer = null;
      this.skipReconnect = false;
    }

    socket(nsp, opts) {
      let socket = this.nsps[nsp];
      if (!socket) {
        socket = this.nsps[nsp] = new Socket(this, nsp, opts || {});
      }
      return socket;
    }

    open() {
      if (this.engine && this.engine.readyState !== "closed") return;
      this.skipReconnect = false;
      const engine = this.engine = new Engine(this.uri, this.opts);
      engine.on("open", () => {
        this.attempts = 0;
        this.emitLocal("open");
      });
      engine.on("message", (data) => this.onMessage(data));
      engine.on("upgrade", (name) => this.emitLocal("upgrade", name));
      engine.on("close", (reason, err) => this.onClose(reason, err));
      engine.open();
    }

    onMessage(data) {
      if (this.partial) {  // an attachment of the binary packet in progress
        this.partial.buffers.push(data);
        if (this.partial.buffers.length === this.partial.attachments) {
          const pkt = this.partial;
          this.partial = null;
          pkt.data = reconstruct(pkt.data, pkt.buffers);
          this.dispatch(pkt);
        }
        return;
      }
      if (typeof data !== "string") return;  // a stray attachment
      let pkt;
      try {
        pkt = decodePacket(data);
      } catch (e) {
        return;  // not a packet we understand
      }
      if (pkt.attachments > 0) {
        pkt.buffers = [];
        this.partial = pkt;
      } else {
        this.dispatch(pkt);
      }
    }

    dispatch(pkt) {
      const socket = this.nsps[pkt.nsp];
      if (socket) socket.onPacket(pkt);
    }

    sendPacket(type, nsp, data, id) {
      if (!this.engine || this.engine.readyState !== "open") return false;
      for (const part of encodePacket(type, nsp, data, id)) this.engine.send(part);
      return true;
    }

    onClose(reason, err) {
      this.partial = null;
      for (const nsp of Object.keys(this.nsps)) this.nsps[nsp].onEngineClose(reason);
      this.emitLocal("close", reason, err);
      if (!this.skipReconnect && this.opts.reconnection) this.scheduleReconnect();
    }

    scheduleReconnect() {
      clearTimeout(this.reconnectTimer);
      const base = Math.min(this.opts.reconnectionDelay * Math.pow(2, this.attempts),
                            this.opts.reconnectionDelayMax);
      const delay = Math.round(base * (0.5 + Math.random() * 0.5));
      this.attempts++;
      this.emitLocal("reconnect_attempt", this.attempts);
      this.reconnectTimer = setTimeout(() => this.open(), delay);
    }

    close() {
      this.skipReconnect = true;
      clearTimeout(this.reconnectTimer);
      if (this.engine) this.engine.close();
    }

    socketGone() {
      // the last connected namespace left: close the Engine.IO connection too
      for (const nsp of Object.keys(this.nsps)) if (this.nsps[nsp].active) return;
      this.close();
    }
  }

  // ---------------------------------------------------------------- the Socket (a namespace)
  const RESERVED = ["connect", "connect_error", "disconnect", "disconnecting"];

  class Socket extends Emitter {
    constructor(manager, nsp, opts) {
      super();
      this.io = manager;
      this.nsp = nsp;
      this.auth = opts.auth;
      this.id = undefined;
      this.connected = false;
      this.active = false;
      this.sendBuffer = [];
      this.receiveBuffer = [];
      this.acks = {};
      this.ackId = 0;
      this.anyHandlers = [];
      this._onOpen = () => this.sendConnect();
      manager.on("open", this._onOpen);
    }

    get disconnected() { return !this.connected; }
    get transport() { return this.io.engine ? this.io.engine.transport : null; }

    connect() {
      this.active = true;
      if (this.connected) return this;
      if (this.io.engine && this.io.engine.readyState === "open") this.sendConnect();
      else this.io.open();
      return this;
    }
    open() { return this.connect(); }

    sendConnect() {
      if (!this.active || this.connected) return;
      const send = (auth) => this.io.sendPacket(SIO.CONNECT, this.nsp, auth);
      if (typeof this.auth === "function") this.auth(send);
      else send(this.auth);
    }

    onAny(fn) { this.anyHandlers.push(fn); return this; }

    emit(event, ...args) {
      if (RESERVED.indexOf(event) >= 0) throw new Error('"' + event + '" is a reserved event name');
      let id;
      if (args.length && typeof args[args.length - 1] === "function") {
        id = this.ackId++;
        this.acks[id] = args.pop();
      }
      const packet = [SIO.EVENT, [event].concat(args), id];
      if (this.connected) this.io.sendPacket(SIO.EVENT, this.nsp, packet[1], id);
      else this.sendBuffer.push(packet);
      return this;
    }
    send(...args) { return this.emit("message", ...args); }

    emitWithAck(event, ...args) {
      return new Promise((resolve) => this.emit(event, ...args, (...reply) =>
        resolve(reply.length > 1 ? reply : reply[0])));
    }

    onPacket(pkt) {
      switch (pkt.type) {
        case SIO.CONNECT:
          if (pkt.data && pkt.data.sid) {
            this.id = pkt.data.sid;
            this.connected = true;
            this.emitLocal("connect");
            for (const args of this.receiveBuffer.splice(0)) this.emitEvent(args);
            for (const [, data, id] of this.sendBuffer.splice(0)) {
              this.io.sendPacket(SIO.EVENT, this.nsp, data, id);
            }
          }
          break;
        case SIO.EVENT:
        case SIO.BINARY_EVENT: {
          const args = (pkt.data || []).slice();
          if (pkt.id !== undefined) {
            let sent = false;
            args.push((...reply) => {
              if (sent) return;
              sent = true;
              this.io.sendPacket(SIO.ACK, this.nsp, reply, pkt.id);
            });
          }
          // like socket.io-client, events that arrive before the CONNECT ack wait for it
          if (this.connected) this.emitEvent(args);
          else this.receiveBuffer.push(args);
          break;
        }
        case SIO.ACK:
        case SIO.BINARY_ACK: {
          const fn = this.acks[pkt.id];
          if (fn) {
            delete this.acks[pkt.id];
            fn.apply(this, pkt.data || []);
          }
          break;
        }
        case SIO.DISCONNECT:
          this.active = false;  // a server-side disconnect is not retried
          this.onDisconnected("io server disconnect");
          this.io.socketGone();
          break;
        case SIO.CONNECT_ERROR: {
          this.active = false;
          const data = pkt.data || {};
          const err = new Error(typeof data === "string" ? data : data.message);
          err.data = data.data;
          this.emitLocal("connect_error", err);
          break;
        }
      }
    }

    emitEvent(args) {
      for (const fn of this.anyHandlers.slice()) fn.apply(this, args);
      Emitter.prototype.emitLocal.apply(this, args);
    }

    onEngineClose(reason) {
      this.onDisconnected(reason);
    }

    onDisconnected(reason) {
      if (!this.connected) return;
      this.connected = false;
      this.id = undefined;
      this.emitLocal("disconnect", reason);
    }

    disconnect() {
      if (this.connected) this.io.sendPacket(SIO.DISCONNECT, this.nsp);
      this.active = false;
      this.onDisconnected("io client disconnect");
      this.io.socketGone();
      return this;
    }
    close() { return this.disconnect(); }
  }

  // ---------------------------------------------------------------- io()
  const cache = {};

  function io(uri, opts) {
    if (typeof uri === "object" && uri !== null) { opts = uri; uri = undefined; }
    opts = Object.assign({
      path: "/socket.io", transports: ["polling", "websocket"], upgrade: true,
      reconnection: true, reconnectionDelay: 1000, reconnectionDelayMax: 5000,
      forceNew: false, autoConnect: true,
    }, opts || {});
    const base = typeof location !== "undefined" ? location.href : "http://localhost/";
    const parsed = new URL(uri || "/", base);
    const origin = parsed.protocol + "//" + parsed.host;
    const nsp = parsed.pathname || "/";
    let path = opts.path;
    if (path[0] !== "/") path = "/" + path;
    if (path[path.length - 1] !== "/") path += "/";
    if (parsed.search) {
      opts.query = Object.assign({}, Object.fromEntries(parsed.searchParams), opts.query || {});
    }
    const key = origin + path;
    let manager = cache[key];
    if (!manager || opts.forceNew || manager.nsps[nsp]) {
      manager = new Manager(origin + path, opts);
      if (!opts.forceNew) cache[key] = manager;
    }
    const socket = manager.socket(nsp, opts);
    if (opts.autoConnect) socket.connect();
    return socket;
  }

  io.Manager = Manager;
  io.Socket = Socket;
  io.protocol = 5;
  return io;
});
