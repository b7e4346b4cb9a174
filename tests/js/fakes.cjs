// Test doubles for the client: a manual clock with timers, an in-memory storage, a scripted
// fetch and a WebSocket the test drives from the "server" side. No framework, no network.
"use strict";

const path = require("node:path");

const CLIENT_PATH = path.resolve(__dirname, "../../monitoring/static/exampulse/exampulse-client.js");
const ExamPulse = require(CLIENT_PATH);

class Clock {
  constructor(start = 1_700_000_000_000) {
    this.t = start;
    this.timers = new Map();
    this.nextId = 1;
    this.now = () => this.t;
    this.setTimeout = (fn, ms) => {
      const id = this.nextId++;
      this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
      return id;
    };
    this.clearTimeout = (id) => this.timers.delete(id);
  }

  /** Move time forward, running due timers in order (timers may schedule more timers). */
  advance(ms) {
    const end = this.t + ms;
    for (;;) {
      let nextId = null;
      let next = null;
      for (const [id, timer] of this.timers) {
        if (timer.at <= end && (next === null || timer.at < next.at)) {
          next = timer;
          nextId = id;
        }
      }
      if (next === null) break;
      this.timers.delete(nextId);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }
}

class MemoryStorage {
  constructor() {
    this.map = new Map();
    this.failWrites = false;
  }
  getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }
  setItem(key, value) {
    if (this.failWrites) throw new Error("QuotaExceededError");
    this.map.set(key, String(value));
  }
  removeItem(key) {
    this.map.delete(key);
  }
}

/** fetch double: `routes` maps "METHOD /path" to a function (body) -> {status, body} or throws (network down). */
function fakeFetch(routes) {
  const calls = [];
  const fetch = (url, init = {}) => {
    const method = init.method || "GET";
    const pathname = new URL(url, "http://exam.test").pathname;
    const body = init.body ? JSON.parse(init.body) : undefined;
    calls.push({ method, path: pathname, body, headers: init.headers });
    const key = `${method} ${pathname}`;
    const handler = routes[key];
    if (!handler) return Promise.resolve(response(404, { error: `no route ${key}` }));
    try {
      const result = handler(body, calls);
      return Promise.resolve(response(result.status || 200, result.body));
    } catch (err) {
      return Promise.reject(new TypeError("Failed to fetch"));
    }
  };
  fetch.calls = calls;
  return fetch;
}

function response(status, body) {
  return { ok: status >= 200 && status < 300, status, json: () => Promise.resolve(body) };
}

class FakeSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    FakeSocket.instances.push(this);
  }
  send(text) {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(JSON.parse(text));
  }
  close(code, reason) {
    this.closedWith = { code, reason };
    const wasOpen = this.readyState !== 3;
    this.readyState = 3;
    if (wasOpen && this.onclose) queueMicrotask(() => this.onclose && this.onclose({ code: 1005, reason: "" }));
  }
  // -- the server's side --
  serverOpen() {
    this.readyState = 1;
    this.onopen && this.onopen({});
  }
  serverSend(event, data) {
    this.onmessage && this.onmessage({ data: JSON.stringify({ event, data }) });
  }
  serverClose(code, reason = "") {
    this.readyState = 3;
    this.onclose && this.onclose({ code, reason });
  }
  frames(event) {
    return this.sent.filter((f) => f.event === event);
  }
}
FakeSocket.instances = [];

function lastSocket() {
  return FakeSocket.instances[FakeSocket.instances.length - 1];
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
};

const SESSION = {
  id: 41,
  started_at: "2026-01-01T10:00:00+00:00",
  deadline_at: "2026-01-01T10:30:00+00:00",
  remaining_seconds: 1800,
  answers: {},
  status: "in_progress",
};

/** The usual REST routes of a started exam 7 with session 41; override any in `extra`. */
function examRoutes(extra = {}) {
  return {
    "POST /api/exams/7/start": () => ({ status: 201, body: { message: "Exam started.", data: SESSION } }),
    "PUT /api/exams/sessions/41/answers": (body) => ({ body: { message: "Answers saved.", data: { answers: body.answers } } }),
    "POST /api/exams/sessions/41/events": (body) => ({
      body: {
        message: "ok",
        data: {
          results: body.events.map((e, index) => ({ index, status: "stored", client_event_id: e.client_event_id })),
        },
      },
    }),
    "POST /api/exams/7/submit": () => ({ body: { message: "Exam submitted.", data: { id: 41, status: "submitted" } } }),
    ...extra,
  };
}

/** A client on fakes; returns everything a test needs to drive and observe it. */
function makeClient(options = {}) {
  FakeSocket.instances = [];
  const clock = options.clock || new Clock();
  const storage = options.storage || new MemoryStorage();
  const fetch = options.fetch || fakeFetch(examRoutes(options.routes));
  const seen = { status: [], warnings: [], terminated: [], errors: [], acks: [], submitted: [], saved: [] };
  const client = new ExamPulse.ExamPulseClient({
    token: "tok.en",
    examId: 7,
    baseUrl: "http://exam.test",
    WebSocket: FakeSocket,
    fetch,
    storage,
    now: clock.now,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: () => 0.5,
    idPrefix: "t",
    capture: false,
    window: null,
    document: null,
    onStatus: (state) => seen.status.push(state),
    onWarning: (data) => seen.warnings.push(data),
    onTerminated: (data) => seen.terminated.push(data),
    onError: (err) => seen.errors.push(err),
    onAck: (data) => seen.acks.push(data),
    onSubmitted: (data) => seen.submitted.push(data),
    onSaved: (data) => seen.saved.push(data),
    ...options.clientOptions,
  });
  return { client, clock, storage, fetch, seen };
}

/** Start the client and bring its socket to the joined state. */
async function startJoined(ctx) {
  await ctx.client.start();
  await settle();
  const socket = lastSocket();
  socket.serverOpen();
  socket.serverSend("connected", { user_id: 3 });
  socket.serverSend("joined_exam", { exam_id: 7, session_id: 41, status: "in_progress" });
  await settle();
  return socket;
}

module.exports = { ExamPulse, Clock, MemoryStorage, fakeFetch, FakeSocket, lastSocket, settle, makeClient, startJoined, SESSION, examRoutes };
