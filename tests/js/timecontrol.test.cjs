// Time control on the student's side: a proctor's pause holds events (like offline), resume sends
// them, extra time and resume move the countdown, a reset voids the attempt's buffer.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { MemoryStorage, makeClient, startJoined, settle, lastSocket, SESSION } = require("./fakes.cjs");

const activities = (socket) => socket.frames("suspicious_activity").map((f) => f.data);

/** Let time pass on a live socket (the server answers pings, so the heartbeat keeps it). */
function pass(ctx, socket, ms) {
  for (let left = ms; left > 0; left -= 10_000) {
    ctx.clock.advance(Math.min(10_000, left));
    socket.serverSend("pong", {});
  }
}

function timeControlled(options = {}) {
  const paused = [];
  const resumed = [];
  const extended = [];
  const reset = [];
  const ctx = makeClient({
    ...options,
    clientOptions: {
      onPaused: (data) => paused.push(data),
      onResumed: (data) => resumed.push(data),
      onTimeExtended: (data) => extended.push(data),
      onReset: (data) => reset.push(data),
      ...(options.clientOptions || {}),
    },
  });
  return Object.assign(ctx, { paused, resumed, extended, reset });
}

test("a pause holds new events in the buffer and the resume sends them, in order, once", async () => {
  const ctx = timeControlled();
  const socket = await startJoined(ctx);
  socket.serverSend("session_paused", { session_id: 41, reason: "Fire alarm" });
  assert.deepEqual(ctx.paused, [{ session_id: 41, reason: "Fire alarm" }]);
  ctx.client.track("tab_switch", {});
  ctx.client.track("copy", { length: 3 });
  ctx.clock.advance(5_000);
  assert.equal(activities(socket).length, 0, "nothing is sent while paused");
  assert.equal(ctx.client.pendingCount(), 2);
  assert.deepEqual(await ctx.client.flush(), { stored: 0, duplicate: 0, error: 0 });
  assert.equal(ctx.fetch.calls.filter((c) => c.path.endsWith("/events")).length, 0, "no REST flush while paused");

  socket.serverSend("session_resumed", { session_id: 41, deadline_at: "2026-01-01T10:35:00+00:00" });
  assert.equal(ctx.resumed.length, 1);
  assert.deepEqual(
    activities(socket).map((a) => a.type),
    ["tab_switch", "copy"]
  );
});

test("an event refused with session_paused is kept, and the client pauses until resumed", async () => {
  const ctx = timeControlled();
  const socket = await startJoined(ctx);
  ctx.client.track("paste", { length: 4 });
  const [sent] = activities(socket);
  socket.serverSend("error", {
    code: "session_paused",
    message: "A proctor has paused this exam session.",
    details: { client_event_id: sent.client_event_id },
  });
  assert.equal(ctx.client.paused, true);
  assert.equal(ctx.paused.length, 1);
  assert.equal(ctx.client.pendingCount(), 1, "refused while paused is not lost");
  assert.equal(ctx.seen.errors.length, 0);
  // The proctor's own push arriving afterwards tells the page only once.
  socket.serverSend("session_paused", { session_id: 41, reason: "Medical break" });
  assert.equal(ctx.paused.length, 1);
  assert.equal(ctx.client.pauseReason, "Medical break");

  socket.serverSend("session_resumed", { session_id: 41, deadline_at: SESSION.deadline_at });
  const resent = activities(socket);
  assert.equal(resent.length, 2);
  assert.equal(resent[1].client_event_id, sent.client_event_id, "resent with the same id");
});

test("a REST batch refused with session_paused keeps its events for the resume", async () => {
  const routes = {
    "POST /api/exams/sessions/41/events": (body) => ({
      body: {
        data: {
          results: body.events.map((e, index) => ({ index, status: "error", code: "session_paused", message: "paused" })),
        },
      },
    }),
  };
  const ctx = timeControlled({ routes });
  await ctx.client.start();
  ctx.client.track("tab_switch", {});
  const totals = await ctx.client.flush();
  assert.equal(totals.error, 0);
  assert.equal(ctx.client.pendingCount(), 1);
  assert.equal(ctx.client.paused, true);
});

test("the countdown stands still while paused, resumes where it stood and grows with extra time", async () => {
  const ctx = timeControlled();
  const socket = await startJoined(ctx);
  assert.equal(ctx.client.remainingMs(), 1800_000);
  pass(ctx, socket, 60_000);
  socket.serverSend("session_paused", { session_id: 41, reason: "Noise" });
  pass(ctx, socket, 300_000);
  assert.equal(ctx.client.remainingMs(), 1740_000, "frozen while paused");
  socket.serverSend("time_extended", { session_id: 41, minutes: 10, deadline_at: "x" });
  assert.equal(ctx.client.remainingMs(), 2340_000);
  socket.serverSend("session_resumed", { session_id: 41, deadline_at: "y" });
  pass(ctx, socket, 40_000);
  assert.equal(ctx.client.remainingMs(), 2300_000);
  socket.serverSend("time_extended", { session_id: 41, minutes: 5, deadline_at: "z" });
  assert.equal(ctx.client.remainingMs(), 2600_000);
  assert.equal(ctx.extended.length, 2);
});

test("an autosave refused while paused keeps the answers dirty and saves them on resume", async () => {
  let paused = true;
  const saved = [];
  const routes = {
    "PUT /api/exams/sessions/41/answers": (body) => {
      if (paused) return { status: 409, body: { error: "paused", details: { code: "session_paused" } } };
      saved.push(body.answers);
      return { body: { data: { answers: body.answers } } };
    },
  };
  const ctx = timeControlled({ routes, clientOptions: { autosaveDelayMs: 1000 } });
  const socket = await startJoined(ctx);
  ctx.client.setAnswer("q1", "4");
  ctx.clock.advance(1000);
  await settle();
  assert.equal(ctx.client.paused, true);
  assert.equal(ctx.client.state, "online", "a pause is not the end of the session");
  assert.equal(ctx.client.answersDirty, true);
  paused = false;
  socket.serverSend("session_resumed", { session_id: 41, deadline_at: SESSION.deadline_at });
  ctx.clock.advance(1000);
  await settle();
  assert.deepEqual(saved, [{ q1: "4" }]);
});

test("a page opened on a paused session starts paused", async () => {
  const routes = {
    "POST /api/exams/7/start": () => ({
      status: 200,
      body: { data: { ...SESSION, paused_at: "2026-01-01T10:10:00+00:00", remaining_seconds: 1200 } },
    }),
  };
  const ctx = timeControlled({ routes });
  await ctx.client.start();
  await settle();
  ctx.clock.advance(60_000);
  assert.equal(ctx.client.paused, true);
  assert.equal(ctx.client.remainingMs(), 1200_000);
});

test("an attempt reset drops the voided attempt's events and answers and stops the client", async () => {
  const storage = new MemoryStorage();
  const ctx = timeControlled({ storage });
  const socket = await startJoined(ctx);
  socket.serverSend("session_paused", { session_id: 41, reason: "x" });
  ctx.client.track("tab_switch", {});
  ctx.client.setAnswer("q1", "4");
  socket.serverSend("attempt_reset", { session_id: 41, exam_id: 7 });
  assert.deepEqual(ctx.reset, [{ session_id: 41, exam_id: 7 }]);
  assert.equal(ctx.client.state, "reset");
  assert.equal(ctx.client.pendingCount(), 0);
  assert.equal(storage.getItem("exampulse:answers:exam7:session41"), null);
  ctx.clock.advance(60_000);
  assert.equal(lastSocket(), socket, "no reconnect after a reset");
});
