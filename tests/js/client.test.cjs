// The client's protocol behaviour against fake socket, fetch, storage and clock.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const {
  ExamPulse,
  Clock,
  MemoryStorage,
  FakeSocket,
  fakeFetch,
  examRoutes,
  lastSocket,
  settle,
  makeClient,
  startJoined,
} = require("./fakes.cjs");

const activities = (socket) => socket.frames("suspicious_activity").map((f) => f.data);

test("start opens the socket with the token and joins the exam", async () => {
  const ctx = makeClient();
  const session = await ctx.client.start();
  assert.equal(session.id, 41);
  assert.deepEqual(ctx.fetch.calls[0].method + " " + ctx.fetch.calls[0].path, "POST /api/exams/7/start");
  assert.equal(ctx.fetch.calls[0].headers.Authorization, "Bearer tok.en");
  const socket = lastSocket();
  assert.equal(socket.url, "ws://exam.test/ws/exam/?token=tok.en");
  socket.serverOpen();
  assert.deepEqual(socket.sent, [{ event: "join_exam", data: { exam_id: 7 } }]);
  socket.serverSend("joined_exam", { exam_id: 7, session_id: 41 });
  assert.equal(ctx.client.state, "online");
  assert.equal(ctx.client.remainingMs(), 1800 * 1000);
});

test("every event carries a unique client_event_id and client_ts and stays until acknowledged", async () => {
  const ctx = makeClient();
  const socket = await startJoined(ctx);
  ctx.client.track("tab_switch", { visibility: "hidden" });
  ctx.client.track("copy", { length: 12 });
  const sent = activities(socket);
  assert.equal(sent.length, 2);
  assert.equal(new Set(sent.map((e) => e.client_event_id)).size, 2);
  for (const event of sent) {
    assert.match(event.client_event_id, /^[A-Za-z0-9_.:-]{1,64}$/);
    assert.equal(event.exam_id, 7);
    assert.equal(event.client_ts, ctx.clock.t);
  }
  assert.equal(ctx.client.pendingCount(), 2);
  assert.match(ctx.storage.getItem("exampulse:pending:exam7"), /tab_switch/);
  socket.serverSend("activity_logged", { client_event_id: sent[0].client_event_id, risk_score: 0.1 });
  assert.equal(ctx.client.pendingCount(), 1);
  assert.doesNotMatch(ctx.storage.getItem("exampulse:pending:exam7"), /tab_switch/);
  assert.deepEqual(ctx.client.generated, sent.map((e) => e.client_event_id));
});

test("a dropped socket reconnects with backoff, rejoins and resends unacknowledged events with the same ids", async () => {
  const ctx = makeClient();
  const first = await startJoined(ctx);
  const event = ctx.client.track("window_blur", {});
  first.serverClose(1006);
  assert.equal(ctx.client.state, "reconnecting");
  ctx.client.track("right_click", {}); // happens while disconnected
  assert.equal(FakeSocket.instances.length, 1, "no reconnect before the backoff delay");
  ctx.clock.advance(400); // attempt 0: 250-500 ms, random 0.5 -> 375 ms
  assert.equal(FakeSocket.instances.length, 2);
  const second = lastSocket();
  second.serverOpen();
  assert.equal(second.sent[0].event, "join_exam");
  second.serverSend("joined_exam", { exam_id: 7, session_id: 41 });
  const resent = activities(second).map((e) => e.client_event_id);
  assert.equal(resent.length, 2);
  assert.equal(resent[0], event.client_event_id);
});

test("consecutive failed connections back off exponentially", async () => {
  const ctx = makeClient();
  await ctx.client.start();
  const opened = [];
  for (let i = 0; i < 4; i++) {
    lastSocket().serverClose(1006);
    const before = FakeSocket.instances.length;
    let waited = 0;
    while (FakeSocket.instances.length === before) {
      ctx.clock.advance(25);
      waited += 25;
    }
    opened.push(waited);
  }
  // random=0.5: 375, 750, 1500, 3000 ms, rounded up to the 25 ms steps.
  assert.deepEqual(opened, [375, 750, 1500, 3000]);
});

test("a backlog is flushed through the REST batch on rejoin, from storage of an earlier page", async () => {
  const storage = new MemoryStorage();
  const earlier = makeClient({ storage, clientOptions: { restFlushThreshold: 3 } });
  await earlier.client.start();
  for (let i = 0; i < 5; i++) earlier.client.track("tab_switch", {});
  const ids = earlier.client.generated.slice();
  earlier.client.stop(); // the page closed while offline: events stay in storage
  assert.equal(JSON.parse(storage.getItem("exampulse:pending:exam7")).length, 5);

  const later = makeClient({ storage, clientOptions: { restFlushThreshold: 3, idPrefix: "u" } });
  await startJoined(later);
  const batch = later.fetch.calls.find((c) => c.path === "/api/exams/sessions/41/events");
  assert.deepEqual(
    batch.body.events.map((e) => e.client_event_id),
    ids
  );
  assert.equal(later.client.pendingCount(), 0);
  assert.equal(storage.getItem("exampulse:pending:exam7"), null);
});

test("duplicates reported by the batch endpoint count as delivered", async () => {
  const routes = {
    "POST /api/exams/sessions/41/events": (body) => ({
      body: { data: { results: body.events.map((e, index) => ({ index, status: "duplicate", client_event_id: e.client_event_id })) } },
    }),
  };
  const ctx = makeClient({ routes });
  await ctx.client.start();
  ctx.client.track("paste", { length: 3 });
  const totals = await ctx.client.flush();
  assert.deepEqual(totals, { stored: 0, duplicate: 1, error: 0 });
  assert.equal(ctx.client.pendingCount(), 0);
});

test("a failed REST flush keeps every event for the next try", async () => {
  let down = true;
  const routes = {
    "POST /api/exams/sessions/41/events": (body) => {
      if (down) throw new Error("network down");
      return { body: { data: { results: body.events.map((e, index) => ({ index, status: "stored" })) } } };
    },
  };
  const ctx = makeClient({ routes });
  await ctx.client.start();
  ctx.client.track("copy", {});
  ctx.client.track("cut", {});
  await assert.rejects(ctx.client.flush());
  assert.equal(ctx.client.pendingCount(), 2);
  down = false;
  assert.deepEqual(await ctx.client.flush(), { stored: 2, duplicate: 0, error: 0 });
  assert.equal(ctx.client.pendingCount(), 0);
});

test("rate_limited pauses sending and resends, never drops", async () => {
  const ctx = makeClient();
  const socket = await startJoined(ctx);
  const event = ctx.client.track("tab_switch", {});
  socket.serverSend("error", { code: "rate_limited", message: "Too many frames; slow down." });
  assert.equal(ctx.client.pendingCount(), 1);
  assert.equal(activities(socket).length, 1, "nothing is resent during the pause");
  ctx.clock.advance(600);
  const sent = activities(socket);
  assert.equal(sent.length, 2);
  assert.equal(sent[1].client_event_id, event.client_event_id);
});

test("the client paces frames under the server's rate limit", async () => {
  const ctx = makeClient({ clientOptions: { sendRate: 10, sendBurst: 5 } });
  const socket = await startJoined(ctx);
  for (let i = 0; i < 12; i++) ctx.client.track("right_click", {});
  assert.equal(activities(socket).length, 5);
  ctx.clock.advance(300);
  assert.equal(activities(socket).length, 8);
  ctx.clock.advance(1000);
  assert.equal(activities(socket).length, 12);
});

test("an event the server refuses as invalid is dropped and reported, not retried", async () => {
  const ctx = makeClient();
  const socket = await startJoined(ctx);
  const event = ctx.client.track("typing_sample", { wpm: 40 });
  socket.serverSend("error", {
    code: "invalid_payload",
    message: "wpm must be between 0 and 1000.",
    details: { client_event_id: event.client_event_id },
  });
  assert.equal(ctx.client.pendingCount(), 0);
  assert.equal(ctx.seen.errors.at(-1).code, "invalid_payload");
});

test("an unacknowledged event is resent after the ack timeout", async () => {
  const ctx = makeClient({ clientOptions: { ackTimeoutMs: 3000, sampleIntervalMs: 1000 } });
  const socket = await startJoined(ctx);
  const event = ctx.client.track("right_click", {});
  ctx.clock.advance(4100);
  const ids = activities(socket).map((e) => e.client_event_id);
  assert.deepEqual(ids, [event.client_event_id, event.client_event_id]);
});

test("a silent socket is dropped by the heartbeat and replaced", async () => {
  const ctx = makeClient({ clientOptions: { pingIntervalMs: 1000 } });
  const socket = await startJoined(ctx);
  ctx.clock.advance(1000);
  assert.equal(socket.frames("ping").length, 1);
  ctx.clock.advance(7000); // no frame from the server for > 2 periods + 5 s
  assert.ok(socket.closedWith, "the dead socket was closed");
  ctx.clock.advance(1000);
  assert.equal(FakeSocket.instances.length, 2);
});

test("proctor warnings reach the page; termination stops the client without reconnecting", async () => {
  const ctx = makeClient();
  const socket = await startJoined(ctx);
  socket.serverSend("proctor_warning", { message: "Eyes on your screen", session_id: 41, from_name: "Demo Proctor" });
  assert.equal(ctx.seen.warnings[0].message, "Eyes on your screen");
  socket.serverSend("session_terminated", { reason: "Phone on desk", session_id: 41 });
  socket.serverClose(4403);
  assert.deepEqual(ctx.seen.terminated, [{ reason: "Phone on desk", session_id: 41 }]);
  assert.equal(ctx.client.state, "terminated");
  ctx.clock.advance(60_000);
  assert.equal(FakeSocket.instances.length, 1);
  assert.equal(ctx.client.track("tab_switch", {}), null, "nothing is recorded after termination");
});

test("access revoked for this exam stops the client without reconnecting; another exam's is ignored", async () => {
  const ctx = makeClient();
  const socket = await startJoined(ctx);
  socket.serverSend("access_revoked", { exam_id: 999 });
  assert.notEqual(ctx.client.state, "access_revoked");
  socket.serverSend("access_revoked", { exam_id: ctx.client.examId });
  assert.equal(ctx.client.state, "access_revoked");
  assert.equal(ctx.seen.errors.at(-1).code, "access_revoked");
  ctx.clock.advance(60_000);
  assert.equal(FakeSocket.instances.length, 1);
  assert.equal(ctx.client.track("tab_switch", {}), null, "nothing is recorded once access is gone");
});

test("a refused token (4401) stops reconnecting and says so", async () => {
  const ctx = makeClient();
  await ctx.client.start();
  lastSocket().serverClose(4401);
  ctx.clock.advance(60_000);
  assert.equal(FakeSocket.instances.length, 1);
  assert.equal(ctx.client.state, "unauthenticated");
  assert.equal(ctx.seen.errors[0].code, "unauthenticated");
});

test("answers autosave once after a burst of changes, and retry after a failure", async () => {
  let failing = true;
  const saved = [];
  const routes = {
    "PUT /api/exams/sessions/41/answers": (body) => {
      if (failing) throw new Error("offline");
      saved.push(body.answers);
      return { body: { data: { answers: body.answers } } };
    },
  };
  const ctx = makeClient({ routes, clientOptions: { autosaveDelayMs: 1000 } });
  const socket = await startJoined(ctx);
  ctx.client.setAnswer("q1", "5");
  ctx.client.setAnswer("q1", "56");
  ctx.client.setAnswer("q2", ["2", "11"]);
  ctx.clock.advance(1000);
  await settle();
  assert.equal(ctx.client.answersDirty, true);
  assert.match(ctx.storage.getItem("exampulse:answers:exam7:session41"), /"dirty":true/);
  failing = false;
  socket.serverClose(1006);
  ctx.clock.advance(500);
  lastSocket().serverOpen();
  lastSocket().serverSend("joined_exam", { exam_id: 7, session_id: 41 });
  ctx.clock.advance(1000);
  await settle();
  assert.deepEqual(saved, [{ q1: "56", q2: ["2", "11"] }]);
  assert.equal(ctx.client.answersDirty, false);
});

test("submit flushes every buffered event before the submission", async () => {
  const order = [];
  const routes = examRoutes();
  const events = routes["POST /api/exams/sessions/41/events"];
  routes["POST /api/exams/sessions/41/events"] = (body) => {
    order.push(["events", body.events.map((e) => e.type)]);
    return events(body);
  };
  routes["POST /api/exams/7/submit"] = (body) => {
    order.push(["submit", body]);
    return { body: { data: { id: 41, status: "submitted" } } };
  };
  const ctx = makeClient({ fetch: fakeFetch(routes) });
  const socket = await startJoined(ctx);
  ctx.client.setAnswer("c2", "My morning");
  ctx.client.questionShown("c2");
  ctx.clock.advance(30_000);
  ctx.client.questionAnswered("c2"); // sent over the socket, never acknowledged
  ctx.clock.advance(1_000);
  const result = await ctx.client.submit();
  assert.equal(result.status, "submitted");
  assert.deepEqual(order[0], ["events", ["question_answered"]]);
  assert.equal(order[1][0], "submit");
  assert.deepEqual(order[1][1].answers, { c2: "My morning" });
  assert.equal(order[1][1].time_taken, 31);
  assert.equal(ctx.client.state, "submitted");
  assert.equal(ctx.seen.submitted.length, 1);
  assert.ok(socket.closedWith, "the socket is closed after submitting");
});

test("question_answered reports the time spent on that question", async () => {
  const ctx = makeClient();
  const socket = await startJoined(ctx);
  ctx.client.questionShown("q1");
  ctx.clock.advance(12_000);
  ctx.client.questionShown("q2");
  ctx.clock.advance(3_000);
  ctx.client.questionShown("q1");
  ctx.clock.advance(6_000);
  ctx.client.questionAnswered("q1");
  const answered = activities(socket).find((e) => e.type === "question_answered");
  assert.equal(answered.question_id, "q1");
  assert.equal(answered.time_spent_sec, 18);
});

test("browser signals become tab_switch, window_blur/focus with duration, copy, paste, right_click, fullscreen_exit", async () => {
  const doc = new EventTarget();
  doc.visibilityState = "visible";
  doc.fullscreenEnabled = true;
  doc.fullscreenElement = null;
  const win = new EventTarget();
  win.navigator = { onLine: true };
  win.getSelection = () => "selected words";
  const ctx = makeClient({ clientOptions: { capture: true, document: doc, window: win } });
  const socket = await startJoined(ctx);
  doc.visibilityState = "hidden";
  doc.dispatchEvent(new Event("visibilitychange"));
  win.dispatchEvent(new Event("blur"));
  ctx.clock.advance(4_250);
  doc.visibilityState = "visible";
  doc.dispatchEvent(new Event("visibilitychange"));
  win.dispatchEvent(new Event("focus"));
  doc.dispatchEvent(new Event("copy"));
  const paste = new Event("paste");
  paste.clipboardData = { getData: () => "pasted text!" };
  doc.dispatchEvent(paste);
  doc.dispatchEvent(new Event("contextmenu"));
  doc.fullscreenElement = {};
  doc.dispatchEvent(new Event("fullscreenchange"));
  doc.fullscreenElement = null;
  doc.dispatchEvent(new Event("fullscreenchange"));
  const sent = activities(socket).map(({ type, blur_duration_ms, length }) => ({ type, blur_duration_ms, length }));
  assert.deepEqual(sent, [
    { type: "tab_switch", blur_duration_ms: undefined, length: undefined },
    { type: "window_blur", blur_duration_ms: undefined, length: undefined },
    { type: "window_focus", blur_duration_ms: 4250, length: undefined },
    { type: "copy", blur_duration_ms: undefined, length: 14 },
    { type: "paste", blur_duration_ms: undefined, length: 12 },
    { type: "right_click", blur_duration_ms: undefined, length: undefined },
    { type: "fullscreen_exit", blur_duration_ms: undefined, length: undefined },
  ]);
});

test("keyboard and pointer activity become periodic samples without key values", async () => {
  const doc = new EventTarget();
  doc.visibilityState = "visible";
  doc.fullscreenEnabled = true;
  const win = new EventTarget();
  win.navigator = { onLine: true };
  const ctx = makeClient({ clientOptions: { capture: true, document: doc, window: win, sampleIntervalMs: 5000 } });
  const socket = await startJoined(ctx);
  const key = (type, code, k) => Object.assign(new Event(type), { code, key: k, repeat: false });
  for (let i = 0; i < 8; i++) {
    doc.dispatchEvent(key("keydown", "KeyQ", "q"));
    ctx.clock.advance(70);
    doc.dispatchEvent(key("keyup", "KeyQ", "q"));
    ctx.clock.advance(130);
    doc.dispatchEvent(Object.assign(new Event("mousemove"), { clientX: i * 20, clientY: 0 }));
  }
  ctx.clock.advance(5000);
  const sent = activities(socket);
  const typing = sent.find((e) => e.type === "typing_sample");
  const mouse = sent.find((e) => e.type === "mouse_sample");
  assert.equal(typing.wpm, 60);
  assert.equal(typing.hold_ms_mean, 70);
  assert.ok(!JSON.stringify(typing).includes("KeyQ") && !JSON.stringify(typing).includes('"q"'));
  assert.equal(mouse.speed_pxs, 100);
});

test("going offline drops the socket and waits for the browser to come back online", async () => {
  const doc = new EventTarget();
  doc.visibilityState = "visible";
  doc.fullscreenEnabled = true;
  const win = new EventTarget();
  win.navigator = { onLine: true };
  const ctx = makeClient({ clientOptions: { capture: true, document: doc, window: win, restFlushThreshold: 1 } });
  const first = await startJoined(ctx);
  win.navigator.onLine = false;
  win.dispatchEvent(new Event("offline"));
  assert.equal(ctx.client.state, "offline");
  assert.ok(first.closedWith);
  ctx.client.track("tab_switch", {});
  ctx.client.track("window_blur", {});
  ctx.clock.advance(120_000);
  assert.equal(FakeSocket.instances.length, 1, "no connection attempts while the browser is offline");
  win.navigator.onLine = true;
  win.dispatchEvent(new Event("online"));
  await settle();
  const batch = ctx.fetch.calls.find((c) => c.path === "/api/exams/sessions/41/events");
  assert.deepEqual(
    batch.body.events.map((e) => e.type),
    ["tab_switch", "window_blur"]
  );
  assert.equal(ctx.client.pendingCount(), 0);
  assert.equal(FakeSocket.instances.length, 2);
});

test("a start refused by the server rejects with the API's error", async () => {
  const ctx = makeClient({
    routes: {
      "POST /api/exams/7/start": () => ({
        status: 409,
        body: { error: "You have already completed this exam; an exam can be taken once.", details: {} },
      }),
    },
  });
  await assert.rejects(ctx.client.start(), (err) => err.status === 409 && /already completed/.test(err.message));
  assert.equal(FakeSocket.instances.length, 0);
});

test("the module also loads as a browser global", () => {
  const fs = require("node:fs");
  const vm = require("node:vm");
  const source = fs.readFileSync(require.resolve("../../monitoring/static/exampulse/exampulse-client.js"), "utf8");
  const sandbox = { self: {} };
  vm.runInNewContext(source, sandbox);
  assert.equal(typeof sandbox.self.ExamPulse.ExamPulseClient, "function");
  assert.equal(ExamPulse.version, sandbox.self.ExamPulse.version);
  void Clock;
});

test("a join the server fails to answer is retried on a new socket", async () => {
  const ctx = makeClient({ clientOptions: { ackTimeoutMs: 2000 } });
  await ctx.client.start();
  const first = lastSocket();
  first.serverOpen();
  first.serverSend("error", { code: "server_error", message: "The server could not handle that frame.", event: "join_exam" });
  assert.ok(first.closedWith, "the half-joined socket is dropped");
  ctx.clock.advance(500);
  const second = lastSocket();
  assert.notEqual(second, first);
  second.serverOpen();
  ctx.clock.advance(2000); // no reply at all this time
  assert.ok(second.closedWith, "a join with no answer times out");
  assert.equal(ctx.client.state, "reconnecting");
});

test("a join refused for good stops the client", async () => {
  const ctx = makeClient();
  await ctx.client.start();
  lastSocket().serverOpen();
  lastSocket().serverSend("error", { code: "exam_not_found", message: "No such exam.", event: "join_exam" });
  ctx.clock.advance(60_000);
  assert.equal(FakeSocket.instances.length, 1);
  assert.equal(ctx.client.state, "failed");
  assert.equal(ctx.seen.errors[0].code, "exam_not_found");
});
