/*
 * ExamPulse reference student client. Dependency-free UMD module:
 *   <script src="/static/exampulse/exampulse-client.js"></script>  ->  window.ExamPulse
 *   const { ExamPulseClient } = require(".../exampulse-client.js")  (Node, for tests)
 *
 * It turns browser signals into the event types of docs/api.md, gives each event a client_event_id,
 * sends it over /ws/exam/ and keeps it (persisted in storage) until the server acknowledges it
 * with activity_logged. Offline it buffers; on reconnect it flushes through the REST batch
 * endpoint and the socket. The server stores a client_event_id once, so resending is harmless.
 *
 * Privacy: typing samples carry only timing (words per minute, key hold times, inter-key
 * latencies). Which key was pressed never leaves the page; copy/paste carry only a length.
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    root.ExamPulse = factory();
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // The server refuses values outside these ranges (monitoring/live/frames.py), so clamp or drop here.
  var LIMITS = {
    wpm: 1000,
    holdMs: 5000,
    latencyMs: 10000,
    speedPxs: 100000,
    timeSpentSec: 86400,
    blurMs: 86400000,
    listItems: 256,
  };
  var MODIFIER_KEYS = { Shift: 1, Control: 1, Alt: 1, Meta: 1, CapsLock: 1, AltGraph: 1, Fn: 1 };
  // Samples are cheap to lose compared with integrity events, so a full buffer drops them first.
  var SAMPLE_TYPES = { typing_sample: 1, mouse_sample: 1 };
  // Error codes after which resending the same event can never succeed.
  var PERMANENT_CODES = {
    invalid_payload: 1,
    unknown_activity_type: 1,
    frame_too_large: 1,
    bad_frame: 1,
    bad_json: 1,
    forbidden: 1,
  };

  // A join refused with one of these will be refused again.
  var JOIN_FATAL_CODES = {
    not_found: 1,
    exam_not_found: 1,
    exam_not_open: 1,
    forbidden: 1,
    exam_not_allowed: 1,
    invalid_payload: 1,
  };

  function round1(value) {
    return Math.round(value * 10) / 10;
  }

  function mean(values) {
    if (!values.length) return null;
    var sum = 0;
    for (var i = 0; i < values.length; i++) sum += values[i];
    return sum / values.length;
  }

  /** Exponential backoff with "equal jitter": half the window fixed, half random; never zero. */
  function backoffDelay(attempt, options) {
    options = options || {};
    var base = options.base || 500;
    var cap = options.cap || 30000;
    var random = options.random || Math.random;
    var window = Math.min(cap, base * Math.pow(2, Math.max(0, attempt)));
    return Math.round(window / 2 + random() * (window / 2));
  }

  /** A client-side rate limit kept under the server's (20 frames/s, burst 50). */
  function TokenBucket(rate, burst, now) {
    this.rate = rate;
    this.capacity = burst;
    this.tokens = burst;
    this.now = now;
    this.updated = now();
  }
  TokenBucket.prototype.take = function () {
    var t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.updated) / 1000) * this.rate);
    this.updated = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  };
  TokenBucket.prototype.waitMs = function () {
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.rate) * 1000));
  };

  /**
   * Keystroke timing over a sample window. keyDown/keyUp take a key *code* only to pair a press
   * with its release in memory; samples carry counts and durations, never keys.
   */
  function TypingSampler(options) {
    options = options || {};
    this.pauseMs = options.pauseMs || 2000; // a longer gap is thinking, not typing
    this.minKeys = options.minKeys || 5; // fewer keystrokes say nothing about speed
    this.reset();
  }
  TypingSampler.prototype.reset = function () {
    this.down = {};
    this.holds = [];
    this.latencies = [];
    this.keystrokes = 0;
    this.activeMs = 0;
    this.activeChars = 0;
    this.lastDown = null;
    this.firstDown = null;
  };
  TypingSampler.prototype.keyDown = function (code, t, info) {
    info = info || {};
    if (info.repeat || MODIFIER_KEYS[info.key]) return;
    if (this.lastDown !== null) {
      var gap = t - this.lastDown;
      if (gap >= 0 && gap <= this.pauseMs) {
        this.activeMs += gap;
        this.activeChars += 1;
        this.latencies.push(gap);
      }
    }
    if (this.firstDown === null) this.firstDown = t;
    this.lastDown = t;
    this.keystrokes += 1;
    this.down[code] = t;
  };
  TypingSampler.prototype.keyUp = function (code, t) {
    var started = this.down[code];
    if (started === undefined) return;
    delete this.down[code];
    var hold = t - started;
    if (hold >= 0 && hold <= LIMITS.holdMs) this.holds.push(hold);
  };
  /** The sample for the window so far, or null (too few keys yet: they carry over). */
  TypingSampler.prototype.take = function (t) {
    if (this.keystrokes < this.minKeys || this.activeMs <= 0 || this.activeChars < 1) return null;
    // Gross words per minute over the time spent actually typing: 5 characters make a word.
    var wpm = Math.min(LIMITS.wpm, (this.activeChars / 5) * (60000 / this.activeMs));
    var holds = this.holds.slice(-LIMITS.listItems);
    var latencies = this.latencies.slice(-LIMITS.listItems);
    var sample = {
      wpm: round1(wpm),
      keystrokes: this.keystrokes,
      duration_ms: Math.min(3600000, Math.max(0, Math.round((this.lastDown || t) - this.firstDown))),
      latency_ms_mean: round1(mean(latencies)),
      latencies_ms: latencies.map(Math.round),
    };
    if (holds.length) {
      sample.hold_ms_mean = round1(mean(holds));
      sample.hold_times_ms = holds.map(Math.round);
    }
    // Keys still held stay paired across the window boundary; stale ones (lost keyup) go.
    var down = this.down;
    this.reset();
    for (var code in down) {
      if (t - down[code] <= LIMITS.holdMs) this.down[code] = down[code];
    }
    return sample;
  };

  /** Pointer speed over the time the pointer was actually moving. */
  function MouseSampler(options) {
    options = options || {};
    this.gapMs = options.gapMs || 250; // longer between moves means the pointer was resting
    this.minMovingMs = options.minMovingMs || 100;
    this.minDistance = options.minDistance || 10;
    this.last = null;
    this.distance = 0;
    this.movingMs = 0;
  }
  MouseSampler.prototype.move = function (x, y, t) {
    var last = this.last;
    if (last) {
      var dt = t - last.t;
      if (dt > 0 && dt <= this.gapMs) {
        this.distance += Math.sqrt((x - last.x) * (x - last.x) + (y - last.y) * (y - last.y));
        this.movingMs += dt;
      }
    }
    this.last = { x: x, y: y, t: t };
  };
  MouseSampler.prototype.take = function () {
    if (this.movingMs < this.minMovingMs || this.distance < this.minDistance) return null;
    var sample = {
      speed_pxs: round1(Math.min(LIMITS.speedPxs, (this.distance / this.movingMs) * 1000)),
      duration_ms: Math.min(3600000, Math.round(this.movingMs)),
    };
    this.distance = 0;
    this.movingMs = 0;
    return sample;
  };

  /** Time spent on each question, accumulated over every visit (one question on screen at a time). */
  function QuestionClock() {
    this.spentMs = {};
    this.current = null;
    this.since = null;
  }
  QuestionClock.prototype.enter = function (id, t) {
    this.leave(t);
    this.current = String(id);
    this.since = t;
  };
  QuestionClock.prototype.leave = function (t) {
    if (this.current !== null) {
      this.spentMs[this.current] = (this.spentMs[this.current] || 0) + Math.max(0, t - this.since);
    }
    this.current = null;
    this.since = null;
  };
  QuestionClock.prototype.spentSec = function (id, t) {
    id = String(id);
    var ms = this.spentMs[id] || 0;
    if (this.current === id) ms += Math.max(0, t - this.since);
    return Math.min(LIMITS.timeSpentSec, round1(ms / 1000));
  };

  /**
   * Unacknowledged events in order, bounded, mirrored to storage so a reload or a crash keeps them.
   * Entry: {id, session_id, body, inflight}. `inflight` is never persisted.
   */
  function EventBuffer(options) {
    this.storage = options.storage || null;
    this.key = options.key;
    this.max = options.max || 1000;
    this.entries = [];
    this.dropped = 0;
    this.load();
  }
  EventBuffer.prototype.load = function () {
    if (!this.storage) return;
    try {
      var raw = this.storage.getItem(this.key);
      var parsed = raw ? JSON.parse(raw) : [];
      if (Array.isArray(parsed)) {
        this.entries = parsed
          .filter(function (e) {
            return e && typeof e.id === "string" && e.body && typeof e.body === "object";
          })
          .map(function (e) {
            return { id: e.id, session_id: e.session_id, body: e.body, inflight: null };
          });
      }
    } catch (err) {
      this.entries = []; // a corrupt copy must not stop the exam
    }
  };
  EventBuffer.prototype.save = function () {
    if (!this.storage) return;
    var plain = this.entries.map(function (e) {
      return { id: e.id, session_id: e.session_id, body: e.body };
    });
    try {
      if (plain.length) this.storage.setItem(this.key, JSON.stringify(plain));
      else this.storage.removeItem(this.key);
    } catch (err) {
      // Quota exceeded or storage disabled: the in-memory buffer still works for this page.
    }
  };
  /** Append; returns the entry dropped to stay within the bound, or null. */
  EventBuffer.prototype.add = function (entry) {
    var dropped = null;
    if (this.entries.length >= this.max) {
      var index = -1;
      for (var i = 0; i < this.entries.length; i++) {
        if (SAMPLE_TYPES[this.entries[i].body.type] && !this.entries[i].inflight) {
          index = i;
          break;
        }
      }
      if (index < 0) index = 0;
      dropped = this.entries.splice(index, 1)[0];
      this.dropped += 1;
    }
    this.entries.push({ id: entry.id, session_id: entry.session_id, body: entry.body, inflight: null });
    this.save();
    return dropped;
  };
  EventBuffer.prototype.remove = function (id) {
    for (var i = 0; i < this.entries.length; i++) {
      if (this.entries[i].id === id) {
        var removed = this.entries.splice(i, 1)[0];
        this.save();
        return removed;
      }
    }
    return null;
  };
  EventBuffer.prototype.get = function (id) {
    for (var i = 0; i < this.entries.length; i++) if (this.entries[i].id === id) return this.entries[i];
    return null;
  };
  EventBuffer.prototype.size = function () {
    return this.entries.length;
  };

  function defaultIdPrefix(random) {
    var cryptoObj = typeof crypto !== "undefined" ? crypto : null;
    if (cryptoObj && cryptoObj.getRandomValues) {
      var bytes = new Uint8Array(6);
      cryptoObj.getRandomValues(bytes);
      return Array.prototype.map
        .call(bytes, function (b) {
          return ("0" + b.toString(16)).slice(-2);
        })
        .join("");
    }
    return Math.floor(random() * 0xffffffffffff).toString(16);
  }

  function ApiError(status, body) {
    var message = (body && body.error) || "Request failed with HTTP " + status;
    var err = new Error(message);
    err.name = "ApiError";
    err.status = status;
    err.body = body || null;
    err.code = body && body.details && body.details.code;
    return err;
  }

  function noop() {}

  /** A REST refusal because a proctor paused the session (409, details.code session_paused). */
  function isPaused(err) {
    var body = err && err.body;
    return !!(err && err.status === 409 && body && body.details && body.details.code === "session_paused");
  }
  // The server refuses a raise_hand message longer than this.
  var MAX_HAND_MESSAGE = 500;

  /**
   * The student client. Options (only token and examId are required):
   *   token, examId, baseUrl ("" = this origin), wsUrl (default from baseUrl/location),
   *   storage (default localStorage), storageKey, maxBuffer (1000), sampleIntervalMs (5000),
   *   pingIntervalMs (20000), ackTimeoutMs (10000), restFlushThreshold (20), autosaveDelayMs (1000),
   *   sendRate (10/s), sendBurst (20), maxInflight (50), backoffBaseMs (500), backoffCapMs (30000),
   *   capture (true: listen to document/window), detectDevtools (true),
   *   callbacks: onStatus(state, info), onJoined(data), onEvent(body), onAck(data), onWarning(data),
   *   onTerminated(data), onSubmitted(result), onSaved(session), onError(error), onPending(count),
   *   onPaused(data), onResumed(data), onTimeExtended(data), onReset(data) (time control by a proctor).
   *   onHandRaised(data) (the server took raiseHand's request), onHandAnswered(data {hand_id, message}).
   *   Injected for tests: WebSocket, fetch, window, document, now, random, setTimeout, clearTimeout.
   */
  function ExamPulseClient(options) {
    if (!options || !options.token || !options.examId) throw new Error("ExamPulseClient needs token and examId");
    var g = typeof globalThis !== "undefined" ? globalThis : {};
    this.options = options;
    this.token = options.token;
    this.examId = Number(options.examId);
    this.baseUrl = (options.baseUrl || "").replace(/\/$/, "");
    this.window = options.window !== undefined ? options.window : g.window || null;
    this.document = options.document !== undefined ? options.document : g.document || null;
    this.WebSocketImpl = options.WebSocket || g.WebSocket;
    this.fetchImpl = options.fetch || (g.fetch ? g.fetch.bind(g) : null);
    this.now = options.now || Date.now;
    this.random = options.random || Math.random;
    this.setTimeout = options.setTimeout || g.setTimeout.bind(g);
    this.clearTimeout = options.clearTimeout || g.clearTimeout.bind(g);
    this.cfg = {
      sampleIntervalMs: options.sampleIntervalMs || 5000,
      pingIntervalMs: options.pingIntervalMs || 20000,
      ackTimeoutMs: options.ackTimeoutMs || 10000,
      restFlushThreshold: options.restFlushThreshold === undefined ? 20 : options.restFlushThreshold,
      autosaveDelayMs: options.autosaveDelayMs === undefined ? 1000 : options.autosaveDelayMs,
      maxInflight: options.maxInflight || 50,
      backoffBaseMs: options.backoffBaseMs || 500,
      backoffCapMs: options.backoffCapMs || 30000,
      restBatchSize: options.restBatchSize || 200,
      capture: options.capture !== false,
      detectDevtools: options.detectDevtools !== false,
    };
    var cb = {};
    [
      "onStatus",
      "onJoined",
      "onEvent",
      "onAck",
      "onWarning",
      "onTerminated",
      "onSubmitted",
      "onSaved",
      "onError",
      "onPending",
      "onPaused",
      "onResumed",
      "onTimeExtended",
      "onReset",
      "onHandRaised",
      "onHandAnswered",
    ].forEach(function (name) {
      cb[name] = typeof options[name] === "function" ? options[name] : noop;
    });
    this.cb = cb;
    var storage = options.storage;
    if (storage === undefined) {
      try {
        storage = g.localStorage || null;
      } catch (err) {
        storage = null; // storage disabled by the browser's privacy settings
      }
    }
    this.storage = storage;
    this.storageKey = options.storageKey || "exampulse:pending:exam" + this.examId;
    this.buffer = new EventBuffer({ storage: storage, key: this.storageKey, max: options.maxBuffer || 1000 });
    this.bucket = new TokenBucket(options.sendRate || 10, options.sendBurst || 20, this.now);
    this.typing = new TypingSampler(options.typing);
    this.mouse = new MouseSampler(options.mouse);
    this.questions = new QuestionClock();
    this.idPrefix = options.idPrefix || defaultIdPrefix(this.random);
    this.seq = 0;
    this.session = null;
    this.sessionId = null;
    this.deadlineLocal = null;
    this.startedLocal = null;
    this.answers = {};
    this.answersDirty = false;
    this.ws = null;
    this.joined = false;
    this.state = "idle";
    this.attempt = 0;
    this.rateAttempt = 0;
    this.pausedUntil = 0;
    this.ended = false; // submitted, terminated or stopped: nothing more to send
    this.terminated = false;
    // Paused by a proctor: events are kept in the buffer (as when offline) and sent on resume.
    this.paused = false;
    this.pauseReason = "";
    this.pausedRemainingMs = null;
    this.generated = []; // every client_event_id this page created, in order (the demo reports it)
    this.stats = { sent: 0, acked: 0, resent: 0, restStored: 0, restDuplicate: 0, dropped: 0, reconnects: 0 };
    this.timers = {};
    this.listeners = [];
    this.submitting = false;
    this.blurAt = null;
    this.wasFullscreen = false;
    this.devtoolsOpen = false;
    this.restFlushing = null;
    this.maxWarnings = null; // the exam's warning limit (joined_exam), null: none
    this.warningsCount = 0;
  }

  ExamPulseClient.prototype._status = function (state, info) {
    if (this.state === state) return;
    this.state = state;
    this.cb.onStatus(state, info || {});
  };

  ExamPulseClient.prototype._timer = function (name, ms, fn) {
    this._clear(name);
    var self = this;
    this.timers[name] = this.setTimeout(function () {
      delete self.timers[name];
      fn.call(self);
    }, ms);
  };

  ExamPulseClient.prototype._clear = function (name) {
    if (this.timers[name] !== undefined) {
      this.clearTimeout(this.timers[name]);
      delete this.timers[name];
    }
  };

  // --- REST -------------------------------------------------------------------------------------

  /** One JSON request with the bearer token; resolves the envelope's body or rejects with ApiError. */
  ExamPulseClient.prototype.api = function (method, path, body) {
    if (!this.fetchImpl) return Promise.reject(new Error("fetch is not available"));
    var init = {
      method: method,
      headers: { Authorization: "Bearer " + this.token, Accept: "application/json" },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return this.fetchImpl(this.baseUrl + path, init).then(function (response) {
      return response
        .json()
        .catch(function () {
          return null;
        })
        .then(function (payload) {
          if (!response.ok) throw ApiError(response.status, payload);
          return payload;
        });
    });
  };

  // --- lifecycle --------------------------------------------------------------------------------

  /** Start (or resume) the session over REST, then connect, join and start capturing. Resolves the session. */
  ExamPulseClient.prototype.start = function () {
    var self = this;
    this._status("starting");
    return this.api("POST", "/api/exams/" + this.examId + "/start").then(
      function (payload) {
        var session = payload.data;
        self.session = session;
        self.sessionId = session.id;
        self.answers = Object.assign({}, session.answers || {}, self._loadAnswers());
        var t = self.now();
        var remainingMs = (session.remaining_seconds || 0) * 1000;
        // Local times from the server's own count of seconds left, so a wrong client clock cannot skew them.
        var elapsedMs = Date.parse(session.deadline_at) - Date.parse(session.started_at) - remainingMs;
        self.deadlineLocal = t + remainingMs;
        self.startedLocal = isFinite(elapsedMs) ? t - Math.max(0, elapsedMs) : t;
        if (session.paused_at) self._pause({ session_id: session.id, reason: session.pause_reason || "" });
        if (self.cfg.capture) self._install();
        self._checkCapabilities();
        self._tick();
        self.connect();
        if (self.answersDirty) self._scheduleAutosave();
        self.cb.onPending(self.pendingCount());
        return session;
      },
      function (err) {
        self._status("failed", { error: err });
        throw err;
      }
    );
  };

  /** Stop capturing and close the socket; unacknowledged events stay in storage for next time. */
  ExamPulseClient.prototype.stop = function () {
    this._shutdown("closed");
  };

  ExamPulseClient.prototype._shutdown = function (finalState) {
    this.ended = true;
    for (var name in this.timers) this.clearTimeout(this.timers[name]);
    this.timers = {};
    this._uninstall();
    this.questions.leave(this.now());
    if (this.ws) {
      var ws = this.ws;
      this._detach(ws);
      this.ws = null;
      try {
        ws.close(1000, "client stopped");
      } catch (err) {
        /* already closed */
      }
    }
    this.joined = false;
    this._status(finalState);
  };

  /** Milliseconds left before the deadline, from the server's remaining_seconds (immune to clock skew). */
  ExamPulseClient.prototype.remainingMs = function () {
    if (this.deadlineLocal === null) return null;
    // A paused clock stands still; resume restarts it from there (the server moved the deadline).
    if (this.paused && this.pausedRemainingMs !== null) return this.pausedRemainingMs;
    return Math.max(0, this.deadlineLocal - this.now());
  };

  /** The server moved the deadline (time given back for a dropped connection): move the local one by as much. */
  ExamPulseClient.prototype._moveDeadline = function (deadlineAt) {
    if (!deadlineAt || !this.session || this.deadlineLocal === null) return;
    var moved = Date.parse(deadlineAt) - Date.parse(this.session.deadline_at);
    if (!isFinite(moved) || moved === 0) return;
    this.deadlineLocal += moved;
    this.session.deadline_at = deadlineAt;
  };

  /** "Warning k of n" (or "Warning k" without a limit) for the latest warning. */
  ExamPulseClient.prototype.warningText = function (count) {
    var k = typeof count === "number" ? count : this.warningsCount;
    return "Warning " + k + (this.maxWarnings ? " of " + this.maxWarnings : "");
  };

  /**
   * Ask the exam's proctors for help. Returns false when not connected (nothing was sent); the
   * server's answer comes through onHandRaised, then onHandAnswered; a refusal (one open hand at a
   * time: hand_already_raised) through onError.
   */
  ExamPulseClient.prototype.raiseHand = function (message) {
    if (this.ended || !this.joined) return false;
    var text = String(message === undefined || message === null ? "" : message).slice(0, MAX_HAND_MESSAGE);
    return this._send({ event: "raise_hand", data: { exam_id: this.examId, message: text } });
  };

  ExamPulseClient.prototype.pendingCount = function () {
    return this.buffer.size();
  };

  // --- events -----------------------------------------------------------------------------------

  ExamPulseClient.prototype._newId = function () {
    this.seq += 1;
    return "ep-" + this.idPrefix + "-" + this.now().toString(36) + "-" + this.seq.toString(36);
  };

  /** Record one activity: it gets a client_event_id and client_ts and is kept until acknowledged. */
  ExamPulseClient.prototype.track = function (type, payload) {
    if (this.ended || this.sessionId === null) return null;
    var id = this._newId();
    var body = Object.assign({}, payload || {}, {
      type: type,
      exam_id: this.examId,
      client_event_id: id,
      client_ts: this.now(),
    });
    var dropped = this.buffer.add({ id: id, session_id: this.sessionId, body: body });
    if (dropped) {
      this.stats.dropped += 1;
      this.cb.onError({ code: "buffer_full", message: "Event buffer full; dropped the oldest sample.", event: dropped.body });
    }
    this.generated.push(id);
    this.cb.onEvent(body);
    this.cb.onPending(this.buffer.size());
    this._pump();
    return body;
  };

  /** The page shows question `id` (one at a time): its clock runs until another is shown. */
  ExamPulseClient.prototype.questionShown = function (id) {
    this.questions.enter(id, this.now());
  };

  /** The student answered (or changed the answer to) question `id`: records time_spent_sec. */
  ExamPulseClient.prototype.questionAnswered = function (id) {
    return this.track("question_answered", {
      question_id: String(id),
      time_spent_sec: this.questions.spentSec(id, this.now()),
    });
  };

  /** Take the typing and mouse samples now (also done every sampleIntervalMs). */
  ExamPulseClient.prototype.sampleNow = function () {
    var t = this.now();
    var typing = this.typing.take(t);
    if (typing) this.track("typing_sample", typing);
    var mouse = this.mouse.take(t);
    if (mouse) this.track("mouse_sample", mouse);
  };

  ExamPulseClient.prototype._tick = function () {
    if (this.ended) return;
    this.sampleNow();
    this._expireInflight();
    this._timer("tick", this.cfg.sampleIntervalMs, this._tick);
  };

  /** Events sent but not acknowledged in time go back in the queue: resending is idempotent. */
  ExamPulseClient.prototype._expireInflight = function () {
    var t = this.now();
    var expired = false;
    for (var i = 0; i < this.buffer.entries.length; i++) {
      var e = this.buffer.entries[i];
      if (e.inflight === "ws" && t - e.sentAt > this.cfg.ackTimeoutMs) {
        e.inflight = null;
        expired = true;
      }
    }
    if (expired) this._pump();
  };

  // --- answers ----------------------------------------------------------------------------------

  ExamPulseClient.prototype._answersKey = function () {
    return "exampulse:answers:exam" + this.examId + ":session" + this.sessionId;
  };

  ExamPulseClient.prototype._loadAnswers = function () {
    if (!this.storage) return {};
    try {
      var saved = JSON.parse(this.storage.getItem(this._answersKey()) || "null");
      if (saved && saved.dirty && saved.answers && typeof saved.answers === "object") {
        this.answersDirty = true;
        return saved.answers;
      }
    } catch (err) {
      /* ignore a corrupt copy */
    }
    return {};
  };

  ExamPulseClient.prototype._storeAnswers = function () {
    if (!this.storage) return;
    try {
      this.storage.setItem(this._answersKey(), JSON.stringify({ dirty: this.answersDirty, answers: this.answers }));
    } catch (err) {
      /* quota: the server copy is the one that matters */
    }
  };

  /** Set one answer; it is kept locally and autosaved (debounced) to the server. */
  ExamPulseClient.prototype.setAnswer = function (questionId, value) {
    if (this.ended) return;
    this.answers[String(questionId)] = value;
    this.answersDirty = true;
    this._storeAnswers();
    this._scheduleAutosave();
  };

  ExamPulseClient.prototype._scheduleAutosave = function () {
    this._timer("autosave", this.cfg.autosaveDelayMs, function () {
      this.saveAnswers().catch(noop);
    });
  };

  /** PUT the answers now; on failure they stay dirty and are saved again on reconnect. */
  ExamPulseClient.prototype.saveAnswers = function () {
    var self = this;
    if (this.sessionId === null) return Promise.resolve(null);
    var snapshot = Object.assign({}, this.answers);
    return this.api("PUT", "/api/exams/sessions/" + this.sessionId + "/answers", { answers: snapshot }).then(
      function (payload) {
        // Only clean if nothing changed while the request was in flight.
        if (JSON.stringify(snapshot) === JSON.stringify(self.answers)) self.answersDirty = false;
        self._storeAnswers();
        self.cb.onSaved(payload.data);
        return payload.data;
      },
      function (err) {
        if (isPaused(err)) {
          // The answers stay dirty and are saved on resume.
          self._pause({ session_id: self.sessionId, reason: self.pauseReason });
          throw err;
        }
        if (err.status === 409) self._sessionOver({ code: "session_not_active", message: err.message });
        self.cb.onError({ code: "autosave_failed", message: err.message, status: err.status });
        throw err;
      }
    );
  };

  /** Flush every buffered event, then submit over REST. Resolves the graded session summary. */
  ExamPulseClient.prototype.submit = function (options) {
    var self = this;
    options = options || {};
    if (this.sessionId === null) return Promise.reject(new Error("The exam has not started."));
    this.sampleNow();
    this.questions.leave(this.now());
    this._clear("autosave");
    // Everything still unacknowledged goes through REST now (a socket ack racing it is a harmless duplicate).
    this.submitting = true;
    this._requeue("ws");
    var timeTaken =
      options.timeTaken !== undefined
        ? options.timeTaken
        : Math.max(0, Math.round((this.now() - this.startedLocal) / 1000));
    var running = this.restFlushing || Promise.resolve();
    // Events must be stored before the submission: a calibration exam's baseline is taken from them.
    return running
      .catch(noop)
      .then(function () {
        return self.flush();
      })
      .catch(noop)
      .then(function () {
        return self.api("POST", "/api/exams/" + self.examId + "/submit", {
          answers: self.answers,
          time_taken: timeTaken,
        });
      })
      .then(
        function (payload) {
          self.answersDirty = false;
          if (self.storage) {
            try {
              self.storage.removeItem(self._answersKey());
            } catch (err) {
              /* ignore */
            }
          }
          self._shutdown("submitted");
          self.cb.onSubmitted(payload.data);
          return payload.data;
        },
        function (err) {
          self.submitting = false;
          if (isPaused(err)) {
            self._pause({ session_id: self.sessionId, reason: self.pauseReason });
            throw err;
          }
          if (err.status === 409) self._sessionOver({ message: err.message });
          self._pump();
          throw err;
        }
      );
  };

  // --- socket -----------------------------------------------------------------------------------

  ExamPulseClient.prototype._wsUrl = function () {
    var base = this.options.wsUrl;
    if (!base) {
      var origin = this.baseUrl;
      if (!origin && this.window && this.window.location) origin = this.window.location.origin;
      base = origin.replace(/^http/, "ws") + "/ws/exam/";
    }
    return base + (base.indexOf("?") >= 0 ? "&" : "?") + "token=" + encodeURIComponent(this.token);
  };

  ExamPulseClient.prototype._online = function () {
    var nav = this.window && this.window.navigator;
    return !nav || nav.onLine !== false;
  };

  /** Open the socket (no-op when one is open or the exam ended). */
  ExamPulseClient.prototype.connect = function () {
    if (this.ended || this.ws) return;
    this._clear("reconnect");
    if (!this._online()) {
      // navigator.onLine=false is reliable; wait for the browser's `online` event instead of spinning.
      this._status("offline");
      return;
    }
    this._status(this.attempt ? "reconnecting" : "connecting");
    var ws;
    try {
      ws = new this.WebSocketImpl(this._wsUrl());
    } catch (err) {
      this._scheduleReconnect();
      return;
    }
    var self = this;
    this.ws = ws;
    this.joined = false;
    this.lastMessageAt = this.now();
    ws.onopen = function () {
      self._send({ event: "join_exam", data: { exam_id: self.examId } });
      // A join that never answers (server busy, lost frame) must not leave the client half-connected.
      self._timer("join", self.cfg.ackTimeoutMs, function () {
        if (!self.joined && self.ws === ws) self.dropConnection("join timeout");
      });
    };
    ws.onmessage = function (message) {
      var frame;
      try {
        frame = JSON.parse(message.data);
      } catch (err) {
        return;
      }
      self.lastMessageAt = self.now();
      self._onFrame(frame);
    };
    ws.onclose = function (event) {
      self._onClose(ws, event || {});
    };
    ws.onerror = noop; // a close event always follows
  };

  ExamPulseClient.prototype._detach = function (ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  };

  /** Drop the current socket now (dead or offline) and reconnect with backoff. */
  ExamPulseClient.prototype.dropConnection = function (reason) {
    var ws = this.ws;
    if (!ws) return;
    this._detach(ws);
    try {
      ws.close(4000, reason || "client reconnect");
    } catch (err) {
      /* already closing */
    }
    this._onClose(ws, { code: 4000, reason: reason || "client reconnect" });
  };

  ExamPulseClient.prototype._send = function (frame) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch (err) {
      return false;
    }
  };

  ExamPulseClient.prototype._onClose = function (ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.joined = false;
    this._clear("pump");
    this._clear("ping");
    this._requeue("ws");
    if (event.code === 4401) {
      this.ended = true;
      this._uninstall();
      this._status("unauthenticated");
      this.cb.onError({ code: "unauthenticated", message: "The server refused the token; log in again." });
      return;
    }
    if (event.code === 4403 || this.terminated) {
      this._terminate({ reason: event.reason || "Terminated by the proctor." });
      return;
    }
    if (this.ended) return;
    this._scheduleReconnect();
  };

  ExamPulseClient.prototype._scheduleReconnect = function () {
    if (this.ended) return;
    if (!this._online()) {
      this._status("offline");
      return;
    }
    var delay = backoffDelay(this.attempt, {
      base: this.cfg.backoffBaseMs,
      cap: this.cfg.backoffCapMs,
      random: this.random,
    });
    this.attempt += 1;
    this.stats.reconnects += 1;
    this._status("reconnecting", { delayMs: delay, attempt: this.attempt });
    this._timer("reconnect", delay, this.connect);
  };

  ExamPulseClient.prototype._requeue = function (kind) {
    for (var i = 0; i < this.buffer.entries.length; i++) {
      if (this.buffer.entries[i].inflight === kind) this.buffer.entries[i].inflight = null;
    }
  };

  ExamPulseClient.prototype._ping = function () {
    if (!this.ws) return;
    // No frame for two ping periods: the socket is dead even if the browser has not noticed.
    if (this.now() - this.lastMessageAt > 2 * this.cfg.pingIntervalMs + 5000) {
      this.dropConnection("heartbeat timeout");
      return;
    }
    this._send({ event: "ping", data: {} });
    this._timer("ping", this.cfg.pingIntervalMs, this._ping);
  };

  ExamPulseClient.prototype._onFrame = function (frame) {
    var data = (frame && frame.data) || {};
    switch (frame && frame.event) {
      case "joined_exam":
        return this._onJoined(data);
      case "activity_logged":
        return this._onAck(data);
      case "error":
        return this._onErrorFrame(data);
      case "proctor_warning":
        if (typeof data.count === "number") this.warningsCount = data.count;
        if (data.limit !== undefined) this.maxWarnings = data.limit;
        return this.cb.onWarning(data);
      case "hand_answered":
        return this.cb.onHandAnswered(data);
      case "action_ok":
        if (data.action === "raise_hand") return this.cb.onHandRaised(data);
        return undefined;
      case "session_terminated":
        this.terminated = true;
        return this._terminate(data);
      case "exam_submitted":
        this._shutdown("submitted");
        return this.cb.onSubmitted(data);
      case "session_paused":
        return this._pause(data);
      case "session_resumed":
        return this._resume(data);
      case "time_extended":
        return this._extend(data);
      case "attempt_reset":
        return this._reset(data);
      case "access_revoked":
        return this._revoked(data);
      default:
        return undefined; // connected, pong, left_exam: nothing to do
    }
  };

  ExamPulseClient.prototype._onJoined = function (data) {
    this._clear("join");
    this.joined = true;
    this.attempt = 0;
    if (data.session_id && data.session_id !== this.sessionId) this.sessionId = data.session_id;
    if (data.max_warnings !== undefined) this.maxWarnings = data.max_warnings;
    if (typeof data.warnings_count === "number") this.warningsCount = data.warnings_count;
    this._moveDeadline(data.deadline_at);
    this._status("online");
    this.cb.onJoined(data);
    this._timer("ping", this.cfg.pingIntervalMs, this._ping);
    if (this.answersDirty) this._scheduleAutosave();
    var self = this;
    // A long backlog goes in one REST request instead of trickling through the rate limit.
    if (this.buffer.size() > this.cfg.restFlushThreshold) {
      this.flush()
        .catch(noop)
        .then(function () {
          self._pump();
        });
    } else {
      this._pump();
    }
  };

  ExamPulseClient.prototype._acknowledge = function (clientEventId) {
    if (!clientEventId) return false;
    var removed = this.buffer.remove(clientEventId);
    if (removed) this.cb.onPending(this.buffer.size());
    return !!removed;
  };

  ExamPulseClient.prototype._onAck = function (data) {
    if (this._acknowledge(data.client_event_id)) this.stats.acked += 1;
    this.rateAttempt = 0;
    this.cb.onAck(data);
    this._pump();
  };

  ExamPulseClient.prototype._onErrorFrame = function (data) {
    var code = data.code;
    var clientEventId = data.details && data.details.client_event_id;
    if (code === "rate_limited") {
      // The server dropped a frame without saying which: pause, then resend everything in flight.
      this.rateAttempt += 1;
      this.pausedUntil = this.now() + backoffDelay(this.rateAttempt - 1, { base: 500, cap: 10000, random: this.random });
      this._requeue("ws");
      this._pump();
      return;
    }
    if (code === "session_not_active") {
      this._sessionOver(data);
      return;
    }
    if (code === "session_paused") {
      // Refused, not lost: keep the event and hold everything until the proctor resumes.
      var held = clientEventId ? this.buffer.get(clientEventId) : null;
      if (held) held.inflight = null;
      this._pause({ session_id: this.sessionId, reason: this.pauseReason });
      return;
    }
    if (data.event === "join_exam") {
      this._clear("join");
      if (JOIN_FATAL_CODES[code]) {
        // This exam is not the student's to take: retrying cannot help.
        this.cb.onError({ code: code, message: data.message, event: "join_exam" });
        this._shutdown("failed");
      } else {
        this.cb.onError({ code: code, message: data.message, event: "join_exam" });
        this.dropConnection("join failed");
      }
      return;
    }
    if (clientEventId && PERMANENT_CODES[code]) {
      var entry = this.buffer.remove(clientEventId);
      this.cb.onError({ code: code, message: data.message, event: entry ? entry.body : null });
      this.cb.onPending(this.buffer.size());
      this._pump();
      return;
    }
    if (clientEventId) {
      // not_joined, server_error and the like: keep it and try again after a rejoin.
      var kept = this.buffer.get(clientEventId);
      if (kept) kept.inflight = null;
      if (code === "not_joined") this.dropConnection("rejoin");
      else this._pump();
    }
    this.cb.onError({ code: code, message: data.message, event: data.event });
  };

  /**
   * The student may no longer take this exam (taken off the course's roster): the server stopped
   * streaming it, so stop recording and do not reconnect. What was not acknowledged stays in storage.
   */
  ExamPulseClient.prototype._revoked = function (data) {
    if (this.ended || (data.exam_id !== undefined && data.exam_id !== this.examId)) return;
    this.cb.onError({ code: "access_revoked", message: "You no longer have access to this exam." });
    this._shutdown("access_revoked");
  };

  /** The session ended on the server (submitted elsewhere, expired): nothing more can be stored. */
  ExamPulseClient.prototype._sessionOver = function (data) {
    if (this.ended) return;
    this.cb.onError({ code: "session_not_active", message: data.message || "The exam session has ended." });
    this._shutdown("ended");
  };

  ExamPulseClient.prototype._terminate = function (data) {
    if (this.state === "terminated") return;
    this.terminated = true;
    this._shutdown("terminated");
    this.cb.onTerminated(data || {});
  };

  // --- time control (a proctor's pause, resume, extra time, reset) ------------------------------

  /** Paused: hold events in the buffer (like offline) and freeze the countdown; tell the page once. */
  ExamPulseClient.prototype._pause = function (data) {
    if (this.ended || (data.session_id && this.sessionId !== null && data.session_id !== this.sessionId)) return;
    if (data.reason) this.pauseReason = data.reason;
    if (this.paused) return;
    this.pausedRemainingMs = this.remainingMs();
    this.paused = true;
    this._clear("pump");
    this._clear("autosave");
    this._requeue("ws");
    this.cb.onPaused({ session_id: this.sessionId, reason: this.pauseReason });
  };

  /** Resumed: restart the countdown where it stood, then send what was held and save dirty answers. */
  ExamPulseClient.prototype._resume = function (data) {
    if (this.ended || !this.paused || (data.session_id && data.session_id !== this.sessionId)) return;
    if (this.pausedRemainingMs !== null) this.deadlineLocal = this.now() + this.pausedRemainingMs;
    this.paused = false;
    this.pauseReason = "";
    this.pausedRemainingMs = null;
    this.cb.onResumed(data);
    if (this.answersDirty) this._scheduleAutosave();
    var self = this;
    if (this.joined && this.buffer.size() > this.cfg.restFlushThreshold) {
      this.flush()
        .catch(noop)
        .then(function () {
          self._pump();
        });
    } else {
      this._pump();
    }
  };

  /** Extra time: the countdown moves by the minutes given (kept in local time, immune to clock skew). */
  ExamPulseClient.prototype._extend = function (data) {
    if (this.ended || (data.session_id && data.session_id !== this.sessionId)) return;
    var ms = (Number(data.minutes) || 0) * 60000;
    if (this.paused && this.pausedRemainingMs !== null) this.pausedRemainingMs += ms;
    else if (this.deadlineLocal !== null) this.deadlineLocal += ms;
    this.cb.onTimeExtended(data);
  };

  /** The attempt was reset (voided): nothing more of it is stored; the page may start the exam again. */
  ExamPulseClient.prototype._reset = function (data) {
    if (this.ended || (data.session_id && data.session_id !== this.sessionId)) return;
    var voided = this.sessionId;
    var self = this;
    this.buffer.entries.slice().forEach(function (e) {
      if (e.session_id === voided) self.buffer.remove(e.id);
    });
    this.answers = {};
    this.answersDirty = false;
    if (this.storage) {
      try {
        this.storage.removeItem(this._answersKey());
      } catch (err) {
        /* ignore */
      }
    }
    this._shutdown("reset");
    this.cb.onPending(this.buffer.size());
    this.cb.onReset(data);
  };

  /** Send queued events of this session over the socket, within the client-side rate limit. */
  ExamPulseClient.prototype._pump = function () {
    if (!this.joined || !this.ws || this.ended || this.submitting || this.paused) return;
    var wait = this.pausedUntil - this.now();
    if (wait > 0) {
      this._timer("pump", wait, this._pump);
      return;
    }
    var inflight = 0;
    var entries = this.buffer.entries;
    for (var i = 0; i < entries.length; i++) if (entries[i].inflight) inflight += 1;
    for (var j = 0; j < entries.length && inflight < this.cfg.maxInflight; j++) {
      var e = entries[j];
      if (e.inflight || e.session_id !== this.sessionId) continue;
      if (!this.bucket.take()) {
        this._timer("pump", this.bucket.waitMs(), this._pump);
        return;
      }
      if (!this._send({ event: "suspicious_activity", data: e.body })) return;
      if (e.sent) this.stats.resent += 1;
      e.sent = true;
      e.inflight = "ws";
      e.sentAt = this.now();
      this.stats.sent += 1;
      inflight += 1;
    }
  };

  /**
   * POST every buffered event not in flight to its session's REST batch endpoint.
   * Resolves {stored, duplicate, error}; a network failure keeps the events for later.
   */
  ExamPulseClient.prototype.flush = function () {
    if (this.restFlushing) return this.restFlushing;
    // Paused: the server would refuse them (session_paused); they wait for the resume.
    if (this.paused) return Promise.resolve({ stored: 0, duplicate: 0, error: 0 });
    var self = this;
    var groups = {};
    var order = [];
    this.buffer.entries.forEach(function (e) {
      if (e.inflight || e.session_id === null || e.session_id === undefined) return;
      if (!groups[e.session_id]) {
        groups[e.session_id] = [];
        order.push(e.session_id);
      }
      if (groups[e.session_id].length < self.cfg.restBatchSize) groups[e.session_id].push(e);
    });
    var totals = { stored: 0, duplicate: 0, error: 0 };
    if (!order.length) return Promise.resolve(totals);
    var chain = Promise.resolve();
    order.forEach(function (sessionId) {
      chain = chain.then(function () {
        return self._flushBatch(sessionId, groups[sessionId], totals);
      });
    });
    this.restFlushing = chain.then(
      function () {
        self.restFlushing = null;
        self.cb.onPending(self.buffer.size());
        // More than one batch was waiting: go again.
        var left = self.buffer.entries.some(function (e) {
          return !e.inflight;
        });
        if (left && totals.stored + totals.duplicate + totals.error > 0) return self.flush().then(function (more) {
          totals.stored += more.stored;
          totals.duplicate += more.duplicate;
          totals.error += more.error;
          return totals;
        });
        return totals;
      },
      function (err) {
        self.restFlushing = null;
        throw err;
      }
    );
    return this.restFlushing;
  };

  ExamPulseClient.prototype._flushBatch = function (sessionId, entries, totals) {
    var self = this;
    entries.forEach(function (e) {
      e.inflight = "rest";
    });
    var bodies = entries.map(function (e) {
      return e.body;
    });
    return this.api("POST", "/api/exams/sessions/" + sessionId + "/events", { events: bodies }).then(
      function (payload) {
        var results = (payload.data && payload.data.results) || [];
        results.forEach(function (r) {
          var entry = entries[r.index];
          if (!entry) return;
          if (r.status === "stored" || r.status === "duplicate") {
            self.buffer.remove(entry.id);
            totals[r.status] += 1;
            if (r.status === "stored") self.stats.restStored += 1;
            else self.stats.restDuplicate += 1;
            self.cb.onAck(Object.assign({ via: "rest" }, r));
          } else if (r.code === "session_paused") {
            // Paused meanwhile: kept for the resume, not lost.
            self._pause({ session_id: sessionId, reason: self.pauseReason });
          } else {
            // Refused (invalid, or the session is over): resending cannot help.
            self.buffer.remove(entry.id);
            totals.error += 1;
            self.cb.onError({ code: r.code, message: r.message, event: entry.body });
          }
        });
        self._requeue("rest");
      },
      function (err) {
        self._requeue("rest");
        if (err.status === 404 || err.status === 403) {
          // The session is not this student's (or gone): these events can never be stored.
          entries.forEach(function (e) {
            self.buffer.remove(e.id);
          });
          totals.error += entries.length;
          return;
        }
        throw err;
      }
    );
  };

  // --- browser signals --------------------------------------------------------------------------

  ExamPulseClient.prototype._on = function (target, type, handler, opts) {
    if (!target || !target.addEventListener) return;
    var bound = handler.bind(this);
    target.addEventListener(type, bound, opts || false);
    this.listeners.push([target, type, bound, opts || false]);
  };

  ExamPulseClient.prototype._uninstall = function () {
    this.listeners.forEach(function (l) {
      l[0].removeEventListener(l[1], l[2], l[3]);
    });
    this.listeners = [];
  };

  ExamPulseClient.prototype._install = function () {
    var doc = this.document;
    var win = this.window;
    var capture = { capture: true, passive: true };
    this._on(doc, "visibilitychange", function () {
      if (doc.visibilityState === "hidden") this.track("tab_switch", { visibility: "hidden" });
    });
    this._on(win, "blur", function () {
      if (this.blurAt === null) this.blurAt = this.now();
      this.track("window_blur", {});
    });
    this._on(win, "focus", function () {
      if (this.blurAt === null) return;
      var away = Math.min(LIMITS.blurMs, Math.max(0, this.now() - this.blurAt));
      this.blurAt = null;
      this.track("window_focus", { blur_duration_ms: Math.round(away) });
    });
    this._on(
      doc,
      "keydown",
      function (e) {
        this.typing.keyDown(e.code || "k" + e.keyCode, this.now(), { repeat: e.repeat, key: e.key });
      },
      capture
    );
    this._on(
      doc,
      "keyup",
      function (e) {
        this.typing.keyUp(e.code || "k" + e.keyCode, this.now());
      },
      capture
    );
    this._on(
      doc,
      "mousemove",
      function (e) {
        this.mouse.move(e.clientX, e.clientY, this.now());
      },
      capture
    );
    var selectionLength = function () {
      var sel = win && win.getSelection ? win.getSelection() : null;
      return sel ? String(sel).length : 0;
    };
    this._on(doc, "copy", function () {
      this.track("copy", { length: selectionLength() });
    });
    this._on(doc, "cut", function () {
      this.track("cut", { length: selectionLength() });
    });
    this._on(doc, "paste", function (e) {
      var text = e.clipboardData && e.clipboardData.getData ? e.clipboardData.getData("text") : "";
      this.track("paste", { length: text ? text.length : 0 });
    });
    this._on(doc, "contextmenu", function () {
      this.track("right_click", {});
    });
    this._on(doc, "fullscreenchange", function () {
      var full = !!doc.fullscreenElement;
      if (this.wasFullscreen && !full) this.track("fullscreen_exit", {});
      this.wasFullscreen = full;
    });
    if (this.cfg.detectDevtools) {
      this._on(win, "resize", function () {
        // Docked developer tools shrink the viewport but not the window: a heuristic, flagged once.
        var open = win.outerWidth - win.innerWidth > 160 || win.outerHeight - win.innerHeight > 160;
        if (open && !this.devtoolsOpen) this.track("devtools_open", { method: "window_size" });
        this.devtoolsOpen = open;
      });
    }
    this._on(win, "offline", function () {
      this.dropConnection("browser offline");
    });
    this._on(win, "online", function () {
      this.attempt = 0;
      this.connect();
      this.flush().catch(noop);
    });
    this._on(win, "pagehide", function () {
      this.buffer.save();
    });
  };

  ExamPulseClient.prototype._checkCapabilities = function () {
    var doc = this.document;
    var missing = [];
    if (doc && doc.visibilityState === undefined) missing.push("page_visibility");
    if (doc && !doc.fullscreenEnabled) missing.push("fullscreen");
    if (!this.storage) missing.push("storage");
    for (var i = 0; i < missing.length; i++) this.track("capability_unavailable", { capability: missing[i] });
  };

  /** Ask the browser for fullscreen (needs a user gesture); leaving it later is recorded. */
  ExamPulseClient.prototype.enterFullscreen = function () {
    var doc = this.document;
    if (!doc || !doc.documentElement || !doc.documentElement.requestFullscreen) {
      return Promise.reject(new Error("Fullscreen is not available"));
    }
    return doc.documentElement.requestFullscreen();
  };

  return {
    ExamPulseClient: ExamPulseClient,
    TypingSampler: TypingSampler,
    MouseSampler: MouseSampler,
    QuestionClock: QuestionClock,
    EventBuffer: EventBuffer,
    TokenBucket: TokenBucket,
    backoffDelay: backoffDelay,
    LIMITS: LIMITS,
    version: "1.0.0",
  };
});
