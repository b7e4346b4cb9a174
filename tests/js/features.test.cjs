// Feature computation and buffering units of the client: pure, clock passed in.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { ExamPulse, MemoryStorage } = require("./fakes.cjs");

const { TypingSampler, MouseSampler, QuestionClock, EventBuffer, backoffDelay, TokenBucket } = ExamPulse;

function typeKeys(sampler, { start = 0, gap = 200, hold = 80, count = 10, code = "KeyA" } = {}) {
  let t = start;
  for (let i = 0; i < count; i++) {
    sampler.keyDown(code, t, { key: "a" });
    sampler.keyUp(code, t + hold);
    t += gap;
  }
  return t - gap;
}

test("typing sample measures wpm, hold times and latencies from key timing", () => {
  const sampler = new TypingSampler();
  typeKeys(sampler, { gap: 200, hold: 80, count: 11 });
  const sample = sampler.take(5000);
  // 10 latencies of 200 ms: 10 characters in 2 s = 300 chars/min = 60 wpm.
  assert.equal(sample.wpm, 60);
  assert.equal(sample.keystrokes, 11);
  assert.equal(sample.hold_ms_mean, 80);
  assert.equal(sample.latency_ms_mean, 200);
  assert.equal(sample.latencies_ms.length, 10);
  assert.equal(sample.hold_times_ms.length, 11);
  assert.equal(sample.duration_ms, 2000);
});

test("typing sample never carries which keys were pressed", () => {
  const sampler = new TypingSampler();
  const codes = ["KeyS", "KeyE", "KeyC", "KeyR", "KeyE", "KeyT", "Space", "Digit4", "Digit2"];
  codes.forEach((code, i) => {
    sampler.keyDown(code, i * 150, { key: code.slice(-1).toLowerCase() });
    sampler.keyUp(code, i * 150 + 60);
  });
  const text = JSON.stringify(sampler.take(3000));
  for (const code of codes) assert.ok(!text.includes(code), `${code} leaked into ${text}`);
  assert.ok(!/"[a-z]"/.test(text.replace(/"[a-z_]+":/g, "")), `a key value leaked into ${text}`);
  assert.deepEqual(
    Object.keys(JSON.parse(text)).sort(),
    ["duration_ms", "hold_ms_mean", "hold_times_ms", "keystrokes", "latencies_ms", "latency_ms_mean", "wpm"].sort()
  );
});

test("pauses longer than the pause threshold do not count as typing time", () => {
  const sampler = new TypingSampler({ pauseMs: 2000 });
  const end = typeKeys(sampler, { start: 0, gap: 250, count: 6 });
  typeKeys(sampler, { start: end + 30_000, gap: 250, count: 6 });
  const sample = sampler.take(60_000);
  // Only the 10 in-burst gaps of 250 ms count: 4 chars/s = 48 wpm, not diluted by the 30 s pause.
  assert.equal(sample.wpm, 48);
  assert.equal(sample.latencies_ms.length, 10);
});

test("modifier keys and auto-repeat are not keystrokes", () => {
  const sampler = new TypingSampler({ minKeys: 1 });
  sampler.keyDown("ShiftLeft", 0, { key: "Shift" });
  sampler.keyDown("KeyA", 100, { key: "A" });
  sampler.keyDown("KeyA", 130, { key: "A", repeat: true });
  sampler.keyDown("KeyB", 300, { key: "B" });
  const sample = sampler.take(1000);
  assert.equal(sample.keystrokes, 2);
  assert.deepEqual(sample.latencies_ms, [200]);
});

test("too few keystrokes give no sample and carry over to the next window", () => {
  const sampler = new TypingSampler({ minKeys: 5 });
  typeKeys(sampler, { start: 0, gap: 200, count: 3 });
  assert.equal(sampler.take(1000), null);
  typeKeys(sampler, { start: 600, gap: 200, count: 3 });
  const sample = sampler.take(2000);
  assert.equal(sample.keystrokes, 6);
  assert.equal(sample.wpm, 60);
});

test("the timing lists stay within the server's 256-item limit and values in range", () => {
  const sampler = new TypingSampler();
  typeKeys(sampler, { gap: 120, count: 400 });
  const sample = sampler.take(100_000);
  assert.equal(sample.latencies_ms.length, 256);
  assert.equal(sample.hold_times_ms.length, 256);
  assert.ok(sample.wpm <= 1000);
});

test("a key released after the window closes is paired in the next window", () => {
  const sampler = new TypingSampler({ minKeys: 1 });
  sampler.keyDown("KeyA", 0, { key: "a" });
  sampler.keyDown("KeyB", 100, { key: "b" });
  const first = sampler.take(150);
  assert.equal(first.hold_times_ms, undefined);
  sampler.keyUp("KeyB", 190);
  sampler.keyDown("KeyC", 300, { key: "c" });
  sampler.keyDown("KeyD", 400, { key: "d" });
  const second = sampler.take(500);
  assert.deepEqual(second.hold_times_ms, [90]);
});

test("mouse speed is distance over moving time, resting gaps excluded", () => {
  const sampler = new MouseSampler({ gapMs: 250 });
  // 10 moves of 30 px every 50 ms = 600 px/s.
  for (let i = 0; i <= 10; i++) sampler.move(i * 30, 0, i * 50);
  // A rest of 5 s, then the same again from where it stopped.
  for (let i = 0; i <= 10; i++) sampler.move(300 + i * 30, 0, 5500 + i * 50);
  const sample = sampler.take();
  assert.equal(sample.speed_pxs, 600);
  assert.equal(sample.duration_ms, 1000);
  assert.equal(sampler.take(), null, "a sample resets the window");
});

test("a pointer that barely moved gives no mouse sample", () => {
  const sampler = new MouseSampler();
  sampler.move(0, 0, 0);
  sampler.move(2, 1, 40);
  assert.equal(sampler.take(), null);
});

test("question time accumulates over every visit to the question", () => {
  const clock = new QuestionClock();
  clock.enter("q1", 0);
  clock.enter("q2", 20_000);
  clock.enter("q1", 50_000);
  assert.equal(clock.spentSec("q1", 65_000), 35);
  assert.equal(clock.spentSec("q2", 65_000), 30);
  assert.equal(clock.spentSec("q3", 65_000), 0);
});

test("backoff doubles per attempt with jitter inside the upper half, up to the cap", () => {
  const low = (attempt) => backoffDelay(attempt, { base: 500, cap: 8000, random: () => 0 });
  const high = (attempt) => backoffDelay(attempt, { base: 500, cap: 8000, random: () => 0.999999 });
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(low), [250, 500, 1000, 2000, 4000, 4000]);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(high), [500, 1000, 2000, 4000, 8000, 8000]);
});

test("the send bucket allows a burst then the steady rate", () => {
  let t = 0;
  const bucket = new TokenBucket(10, 3, () => t);
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
  assert.equal(bucket.waitMs(), 100);
  t += 100;
  assert.equal(bucket.take(), true);
});

test("the event buffer persists to storage and a new buffer restores it", () => {
  const storage = new MemoryStorage();
  const buffer = new EventBuffer({ storage, key: "k", max: 10 });
  buffer.add({ id: "a", session_id: 1, body: { type: "tab_switch" } });
  buffer.add({ id: "b", session_id: 1, body: { type: "copy" } });
  buffer.remove("a");
  const again = new EventBuffer({ storage, key: "k", max: 10 });
  assert.deepEqual(
    again.entries.map((e) => [e.id, e.session_id, e.body.type]),
    [["b", 1, "copy"]]
  );
  again.remove("b");
  assert.equal(storage.getItem("k"), null, "an empty buffer leaves nothing behind");
});

test("a full buffer drops the oldest sample before any integrity event", () => {
  const buffer = new EventBuffer({ storage: null, key: "k", max: 3 });
  buffer.add({ id: "tab", session_id: 1, body: { type: "tab_switch" } });
  buffer.add({ id: "typing", session_id: 1, body: { type: "typing_sample" } });
  buffer.add({ id: "paste", session_id: 1, body: { type: "paste" } });
  const dropped = buffer.add({ id: "blur", session_id: 1, body: { type: "window_blur" } });
  assert.equal(dropped.id, "typing");
  assert.deepEqual(
    buffer.entries.map((e) => e.id),
    ["tab", "paste", "blur"]
  );
  const next = buffer.add({ id: "copy", session_id: 1, body: { type: "copy" } });
  assert.equal(next.id, "tab", "with no samples left the oldest goes");
  assert.equal(buffer.dropped, 2);
});

test("corrupt storage and failing writes do not break the buffer", () => {
  const storage = new MemoryStorage();
  storage.setItem("k", "{not json");
  const buffer = new EventBuffer({ storage, key: "k", max: 5 });
  assert.equal(buffer.size(), 0);
  storage.failWrites = true;
  buffer.add({ id: "a", session_id: 1, body: { type: "copy" } });
  assert.equal(buffer.size(), 1);
});
