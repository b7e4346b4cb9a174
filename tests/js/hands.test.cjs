// Raise hand, the warning limit and a deadline moved by disconnect compensation, in the browser client.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { lastSocket, settle, makeClient, startJoined } = require("./fakes.cjs");

function withHands() {
  const hands = { raised: [], answered: [] };
  const ctx = makeClient({
    clientOptions: {
      onHandRaised: (data) => hands.raised.push(data),
      onHandAnswered: (data) => hands.answered.push(data),
    },
  });
  return { ctx, hands };
}

test("raiseHand sends raise_hand with the exam id and message, and reports the server's ok and answer", async () => {
  const { ctx, hands } = withHands();
  const socket = await startJoined(ctx);
  assert.equal(ctx.client.raiseHand("Question 2 is unclear"), true);
  assert.deepEqual(socket.frames("raise_hand").map((f) => f.data), [{ exam_id: 7, message: "Question 2 is unclear" }]);
  socket.serverSend("action_ok", { action: "raise_hand", hand_id: 5, session_id: 41 });
  assert.deepEqual(hands.raised, [{ action: "raise_hand", hand_id: 5, session_id: 41 }]);
  socket.serverSend("hand_answered", { hand_id: 5, message: "Read it as integers." });
  assert.deepEqual(hands.answered, [{ hand_id: 5, message: "Read it as integers." }]);
});

test("raiseHand cuts the message at 500 characters and sends nothing before joining", async () => {
  const { ctx } = withHands();
  await ctx.client.start();
  await settle();
  assert.equal(ctx.client.raiseHand("help"), false);
  const socket = lastSocket();
  socket.serverOpen();
  socket.serverSend("joined_exam", { exam_id: 7, session_id: 41, status: "in_progress" });
  ctx.client.raiseHand("x".repeat(600));
  assert.equal(socket.frames("raise_hand")[0].data.message.length, 500);
});

test("a refused raise_hand reaches onError with its code", async () => {
  const { ctx } = withHands();
  const socket = await startJoined(ctx);
  ctx.client.raiseHand("again");
  socket.serverSend("error", { code: "hand_already_raised", message: "Already raised.", event: "raise_hand" });
  assert.equal(ctx.seen.errors.at(-1).code, "hand_already_raised");
});

test("warnings read 'Warning k of n' from joined_exam's limit and each warning's count", async () => {
  const { ctx } = withHands();
  await ctx.client.start();
  await settle();
  const socket = lastSocket();
  socket.serverOpen();
  socket.serverSend("joined_exam", { exam_id: 7, session_id: 41, max_warnings: 3, warnings_count: 1 });
  assert.equal(ctx.client.warningText(), "Warning 1 of 3");
  socket.serverSend("proctor_warning", { message: "Eyes up", count: 2, limit: 3 });
  assert.equal(ctx.client.warningText(), "Warning 2 of 3");
  assert.equal(ctx.seen.warnings.at(-1).count, 2);
});

test("a joined_exam with a later deadline (time given back) moves the local countdown", async () => {
  const { ctx } = withHands();
  await ctx.client.start();
  await settle();
  const socket = lastSocket();
  socket.serverOpen();
  socket.serverSend("joined_exam", { exam_id: 7, session_id: 41, deadline_at: "2026-01-01T10:32:00+00:00" });
  assert.equal(ctx.client.remainingMs(), (1800 + 120) * 1000);
});
