/* ExamPulse live dashboard: one exam, watched over /ws/exam/ with the proctor's session cookie.
 *
 * Plain JavaScript, no build step. Every server value reaches the page through textContent,
 * never innerHTML. The socket reconnects with exponential backoff and jitter, then resynchronises:
 * join_exam again, get_active_students, and the unresolved alerts over HTTP (alerts raised while
 * the socket was down are not replayed by the server).
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("dashboard-config").textContent);
  var LEVELS = { low: "Low", medium: "Medium", high: "High" };
  // Every activity type, served by the page from scoring.catalogue: type -> {category, short, label, ...}.
  var CATALOGUE = JSON.parse(document.getElementById("activity-catalogue").textContent);
  // The incident-reason taxonomy, served by the page from exams.reasons: [{code, label, category}].
  var REASONS = JSON.parse(document.getElementById("incident-reasons").textContent);
  var CATEGORY_TEXT = { environment: "Environment", behaviour: "Behaviour", identity: "Identity", technical: "Technical", other: "Other" };
  var STATUS_TEXT = { in_progress: "In progress", submitted: "Submitted", flagged: "Flagged", null: "Not started" };
  var MAX_BACKOFF_MS = 30000;
  var PING_MS = 25000;
  var RESYNC_MS = 30000;

  var students = new Map(); // user_id -> student
  var alerts = new Map(); // alert_id -> alert
  var hands = new Map(); // hand_id -> open raised hand {hand_id, session_id, user_id, name, message, raised_at}
  var sort = { key: "risk", dir: "desc" };
  var socket = null;
  var attempt = 0;
  var reconnectTimer = null;
  var countdownTimer = null;
  var pingTimer = null;
  var resyncTimer = null;
  var everConnected = false;
  var revoked = false; // taken off the exam's course staff: stop, do not reconnect

  var $ = function (id) { return document.getElementById(id); };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "className") node.className = attrs[name];
      else if (attrs[name] !== null && attrs[name] !== undefined && attrs[name] !== false) node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  // "Medium · 0.64": how a risk is named everywhere (badges, alert cards, toasts, the alert email).
  function riskText(level, score) {
    level = LEVELS[level] ? level : "low";
    return LEVELS[level] + " · " + Number(score || 0).toFixed(2);
  }

  function riskBadge(level, score) {
    level = LEVELS[level] ? level : "low";
    return el("span", { className: "risk risk-" + level, text: riskText(level, score) });
  }

  function timeText(iso) {
    var date = iso ? new Date(iso) : new Date();
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function toast(text, kind) {
    var node = el("div", { className: "toast toast-" + (kind || "info"), text: text });
    $("toasts").appendChild(node);
    setTimeout(function () { node.remove(); }, kind === "error" ? 8000 : 4000);
  }

  // A raised hand is a request for help, not an error: its own toast (hand icon, light colours), which
  // stays longer and leads to the hand's answer box.
  function handToast(h) {
    var name = h.name || "Student " + h.user_id;
    var answer = el("button", { type: "button", className: "button small", text: "Answer" });
    answer.setAttribute("aria-label", "Answer " + name + "'s raised hand");
    var node = el("div", { className: "toast toast-hand", "data-hand-id": h.hand_id }, [
      el("span", { className: "hand-icon", "aria-hidden": "true" }),
      el("div", { className: "toast-body" }, [
        el("strong", { text: name + " raised a hand" }),
        el("span", { className: "toast-text", text: h.message || "(no message)" })
      ]),
      answer
    ]);
    answer.addEventListener("click", function () {
      node.remove();
      var input = document.querySelector('#hand-list input[data-hand-id="' + h.hand_id + '"]');
      if (input) { input.scrollIntoView({ block: "center" }); input.focus(); }
    });
    $("toasts").appendChild(node);
    setTimeout(function () { node.remove(); }, 12000);
  }

  // -- connection --------------------------------------------------------------------------

  function setConnection(state, text) {
    $("conn-dot").className = "dot dot-" + state;
    $("conn-text").textContent = text;
    $("reconnect-now").hidden = state !== "down";
  }

  function send(event, data) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      toast("Not connected: the action was not sent. Reconnecting…", "error");
      return false;
    }
    socket.send(JSON.stringify({ event: event, data: data || {} }));
    return true;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    clearInterval(countdownTimer);
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    setConnection("connecting", everConnected ? "Reconnecting…" : "Connecting…");
    socket = new WebSocket(scheme + location.host + config.wsPath);
    socket.addEventListener("message", function (message) {
      var frame;
      try { frame = JSON.parse(message.data); } catch (err) { return; }
      var handler = handlers[frame.event];
      if (handler) handler(frame.data || {});
    });
    socket.addEventListener("close", onClose);
  }

  function onClose(event) {
    clearInterval(pingTimer);
    clearInterval(resyncTimer);
    if (event.code === 4401) {
      setConnection("down", "Signed out. Log in again and reload this page.");
      $("reconnect-now").hidden = true;
      return;
    }
    if (revoked) return;
    var delay = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, attempt));
    delay = Math.round(delay * (0.5 + Math.random() / 2)); // jitter: a restarted server is not stampeded
    attempt += 1;
    var due = Date.now() + delay;
    var tick = function () {
      var left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      setConnection("down", "Connection lost. Retrying in " + left + " s…");
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
    reconnectTimer = setTimeout(connect, delay);
  }

  function resync() {
    send("get_active_students", { exam_id: config.examId });
    fetch(config.alertsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) return;
        var open = new Set(body.alerts.map(function (a) { return a.alert_id; }));
        alerts.forEach(function (alert, id) {
          if (!alert.resolved && !open.has(id)) { alert.resolved = true; alert.resolved_by_name = alert.resolved_by_name || "another proctor"; }
        });
        body.alerts.forEach(function (a) { if (!alerts.has(a.alert_id)) addAlert(a, true); });
        renderAlerts();
      })
      .catch(function () { /* the next resync tries again */ });
  }

  // -- frames from the server ------------------------------------------------------------------

  var handlers = {
    connected: function () {
      send("join_exam", { exam_id: config.examId });
    },
    access_revoked: function (data) {
      if (data.exam_id !== config.examId) return;
      revoked = true;
      clearInterval(pingTimer);
      clearInterval(resyncTimer);
      setConnection("down", "You no longer have access to this exam (removed from the course's staff).");
      $("reconnect-now").hidden = true;
      toast("Access to this exam was removed; the live view has stopped.", "error");
      socket.close(1000, "access revoked");
    },
    joined_exam: function () {
      var wasReconnect = everConnected;
      everConnected = true;
      attempt = 0;
      setConnection("up", "Live");
      clearInterval(pingTimer);
      clearInterval(resyncTimer);
      pingTimer = setInterval(function () { send("ping"); }, PING_MS);
      resyncTimer = setInterval(resync, RESYNC_MS);
      if (wasReconnect) { resync(); toast("Reconnected and resynchronised.", "ok"); }
    },
    active_students: function (data) {
      if (data.exam_id !== config.examId) return;
      var fresh = new Map();
      (data.students || []).forEach(function (s) { fresh.set(s.user_id, takeRow(s)); });
      students = fresh;
      renderAll();
    },
    // The same row as in active_students (the server builds both alike): incidents, open hand, time state.
    student_joined: function (data) {
      if (data.exam_id !== undefined && data.exam_id !== config.examId) return;
      students.set(data.user_id, takeRow(data));
      renderAll();
    },
    student_left: function (data) {
      var s = students.get(data.user_id);
      if (s) { s.online = false; renderStudents(); }
    },
    student_activity: function (data) {
      var s = upsert(data.user_id, {
        name: data.name, session_id: data.session_id, risk_score: data.risk_score,
        risk_level: data.risk_level, status: "in_progress", online: true
      });
      if (!data.is_technical && (data.severity === "medium" || data.severity === "high")) {
        s.flagged_incidents_count = (s.flagged_incidents_count || 0) + 1;
      }
      var kind = Object.prototype.hasOwnProperty.call(CATALOGUE, data.event_type) ? CATALOGUE[data.event_type] : null;
      s.last_activity = kind ? kind.short : data.event_type;
      s.last_activity_at = data.timestamp;
      s.last_severity = data.is_technical ? "technical" : data.severity;
      s.flash = true;
      renderStudents();
      if (hasAlerts(data.user_id)) renderAlerts(); // their cards say the risk "now"
    },
    high_risk_alert: function (data) {
      if (data.exam_id !== config.examId) return;
      addAlert(data, false);
      upsert(data.user_id, { name: data.name, session_id: data.session_id, risk_score: data.risk_score, risk_level: data.risk_level });
      renderAlerts();
      renderStudents();
      toast("New alert: " + data.name + ", raised at " + riskText(data.risk_level, data.risk_score), "alert");
    },
    alert_resolved: function (data) {
      var alert = alerts.get(data.alert_id);
      if (!alert) return;
      alert.resolved = true;
      alert.resolved_by_name = data.resolved_by_name;
      alert.note = data.note;
      alert.isNew = false;
      renderAlerts();
    },
    student_submitted: function (data) {
      upsert(data.user_id, { status: data.status, risk_score: data.risk_score, risk_level: data.risk_level });
      renderStudents();
    },
    session_terminated: function (data) {
      upsert(data.user_id, { status: data.status || "flagged" });
      renderStudents();
    },
    time_extended: function (data) {
      var s = students.get(data.user_id) || {};
      var extended = data.extended_seconds !== undefined ? data.extended_seconds : (s.extended_seconds || 0) + 60 * (data.minutes || 0);
      upsert(data.user_id, { session_id: data.session_id, deadline_at: data.deadline_at, extended_seconds: extended });
      renderStudents();
    },
    session_paused: function (data) {
      upsert(data.user_id, { session_id: data.session_id, paused: true });
      renderStudents();
    },
    session_resumed: function (data) {
      upsert(data.user_id, { session_id: data.session_id, paused: false, deadline_at: data.deadline_at });
      renderStudents();
    },
    attempt_reset: function (data) {
      upsert(data.user_id, { paused: false, status: "submitted", voided_session: data.session_id });
      renderStudents();
    },
    hand_raised: function (data) {
      if (data.exam_id !== config.examId) return;
      hands.set(data.hand_id, data);
      renderHands();
      renderStudents();
      handToast(data);
    },
    hand_answered: function (data) {
      hands.delete(data.hand_id);
      document.querySelectorAll('.toast-hand[data-hand-id="' + data.hand_id + '"]').forEach(function (node) { node.remove(); });
      renderHands();
      renderStudents();
    },
    action_ok: function (data) {
      if (data.action === "warn_student") {
        // The count the student sees; the next resync brings the server's own.
        students.forEach(function (s) { if (s.session_id === data.session_id) s.warnings_count = (s.warnings_count || 0) + 1; });
        renderStudents();
      }
      var text = {
        warn_student: "Warning sent.", resolve_alert: "Alert resolved.", terminate_session: "Session terminated.",
        extend_time: "Extra time given.", pause_session: "Session paused.", resume_session: "Session resumed.",
        reset_attempt: "Attempt reset: the student may start again.", answer_hand: "Answer sent."
      };
      toast(text[data.action] || "Done.", "ok");
    },
    error: function (data) {
      toast((data.message || "The server refused that.") + (data.code ? " (" + data.code + ")" : ""), "error");
    },
    pong: function () {}
  };

  // A student row from the server (active_students' entries and student_joined): it replaces what the
  // page knew of the student (what happened here since, the last activity, stays), and it is the truth
  // on the student's open hand.
  function takeRow(row) {
    var old = students.get(row.user_id) || {};
    var s = Object.assign({}, old, row, { online: true });
    delete s.hand;
    hands.forEach(function (h, id) {
      if (h.session_id === row.session_id && (!row.hand || row.hand.hand_id !== id)) hands.delete(id);
    });
    if (row.hand) hands.set(row.hand.hand_id, Object.assign({ session_id: row.session_id, user_id: row.user_id, name: row.name }, row.hand));
    return s;
  }

  function renderAll() {
    renderStudents();
    renderHands();
    renderAlerts();
  }

  function hasAlerts(userId) {
    var found = false;
    alerts.forEach(function (a) { if (a.user_id === userId) found = true; });
    return found;
  }

  function handOf(s) {
    var found = null;
    if (!s.session_id) return null;
    hands.forEach(function (h) { if (h.session_id === s.session_id) found = h; });
    return found;
  }

  function upsert(userId, fields) {
    var s = students.get(userId) || { user_id: userId, flagged_incidents_count: 0, risk_score: 0, risk_level: "low" };
    Object.keys(fields).forEach(function (key) {
      if (fields[key] !== undefined && fields[key] !== null) s[key] = fields[key];
    });
    students.set(userId, s);
    return s;
  }

  function addAlert(data, fromResync) {
    alerts.set(data.alert_id, Object.assign({}, data, { isNew: !fromResync, receivedAt: Date.now() }));
    if (!fromResync) {
      setTimeout(function () {
        var alert = alerts.get(data.alert_id);
        if (alert) { alert.isNew = false; renderAlerts(); }
      }, 20000);
    }
  }

  // -- rendering ------------------------------------------------------------------------------

  function compare(a, b) {
    var d = sort.dir === "desc" ? -1 : 1;
    var av, bv;
    if (sort.key === "name") { av = (a.name || "").toLowerCase(); bv = (b.name || "").toLowerCase(); }
    else if (sort.key === "incidents") { av = a.flagged_incidents_count || 0; bv = b.flagged_incidents_count || 0; }
    else { av = a.risk_score || 0; bv = b.risk_score || 0; }
    if (av < bv) return -d;
    if (av > bv) return d;
    return (a.name || "").localeCompare(b.name || "");
  }

  function renderStudents() {
    var rows = $("student-rows");
    var focused = document.activeElement && document.activeElement.closest("tr") ? document.activeElement : null;
    var focusKey = focused ? focused.getAttribute("data-focus-key") : null;
    var list = Array.from(students.values()).sort(compare);
    rows.replaceChildren();
    list.forEach(function (s) {
      var open = s.session_id && s.status === "in_progress";
      var name = s.name || "Student " + s.user_id;
      var hand = handOf(s);
      var who = el("th", { scope: "row" }, [
        el("span", { className: "name", text: name }),
        s.roll_number ? el("span", { className: "sub", text: s.roll_number }) : null,
        hand ? el("span", { className: "tag hand", title: hand.message || "", text: "Hand raised" }) : null
      ]);
      var status = el("td", {}, [
        s.paused && open ? el("span", { className: "tag paused", text: "paused" }) : null,
        s.voided_session && s.voided_session === s.session_id ? el("span", { className: "tag voided", text: "reset" }) : null,
        el("span", { className: "tag status-" + (s.status || "none"), text: STATUS_TEXT[s.status] || s.status || "Not started" }),
        s.online === false ? el("span", { className: "tag offline", text: "offline" }) : null,
        timeControlTags(s)
      ]);
      var warn = el("button", { type: "button", className: "button small", "data-focus-key": "warn-" + s.user_id, disabled: !open, text: "Warn" });
      warn.setAttribute("aria-label", "Warn " + name);
      warn.addEventListener("click", function () { askWarn(s); });
      var stop = el("button", { type: "button", className: "button small danger", "data-focus-key": "stop-" + s.user_id, disabled: !open, text: "Terminate" });
      stop.setAttribute("aria-label", "Terminate the session of " + name);
      stop.addEventListener("click", function () { askTerminate(s); });
      // Review first (it only reads), Terminate last: the buttons wrap in rows of three on narrow screens.
      var link = null;
      if (s.session_id) {
        link = el("a", { className: "button small", href: sessionUrl(s.session_id), "data-focus-key": "open-" + s.user_id, text: "Review" });
        link.setAttribute("aria-label", "Review the session of " + name);
      }
      var buttons = el("div", { className: "row-actions" }, [link, warn].concat(timeButtons(s, name, open), [stop]));
      var activity = el("td", { className: "activity activity-" + (s.last_severity || "none") }, [
        el("span", { className: "what", title: s.last_activity || "", text: s.last_activity || "–" }),
        s.last_activity_at ? el("time", { className: "sub", datetime: s.last_activity_at, text: timeText(s.last_activity_at) }) : null
      ]);
      var row = el("tr", { className: "risk-row-" + (s.risk_level || "low") + (s.flash ? " flash" : "") + (s.online === false ? " is-offline" : ""), "data-user-id": s.user_id }, [
        who,
        el("td", {}, [riskBadge(s.risk_level, s.risk_score)]),
        el("td", { className: "num incidents", text: String(s.flagged_incidents_count || 0) }),
        status,
        activity,
        el("td", { className: "actions" }, [buttons])
      ]);
      s.flash = false;
      rows.appendChild(row);
    });
    $("student-count").textContent = String(list.length);
    $("no-students").hidden = list.length > 0;
    if (focusKey) {
      var again = rows.querySelector('[data-focus-key="' + focusKey + '"]');
      if (again) again.focus();
    }
    document.querySelectorAll("#students thead th[data-key]").forEach(function (th) {
      var key = th.getAttribute("data-key");
      th.setAttribute("aria-sort", key === sort.key ? (sort.dir === "desc" ? "descending" : "ascending") : "none");
    });
  }

  // Warnings "k of n" (n from the exam's max_warnings), extra time given live, the time given back for
  // dropped connections, and the time left (ticking; none while paused).
  function timeControlTags(s) {
    var limit = s.max_warnings || config.maxWarnings || null;
    var parts = [];
    if (s.warnings_count || limit) parts.push("Warnings " + (s.warnings_count || 0) + (limit ? " of " + limit : ""));
    if (s.extended_seconds) parts.push("+" + formatSeconds(s.extended_seconds) + " extra");
    if (s.time_compensated_seconds) parts.push("+" + formatSeconds(s.time_compensated_seconds) + " for drops");
    var left = s.status === "in_progress" && s.deadline_at && !s.paused
      ? el("span", { className: "remaining", "data-deadline": s.deadline_at, text: remainingText(s.deadline_at) })
      : null;
    if (!parts.length && !left) return null;
    return el("span", { className: "sub time-control", "data-user-id": s.user_id }, [
      parts.length ? document.createTextNode(parts.join(" · ") + (left ? " · " : "")) : null,
      left
    ]);
  }

  function remainingText(deadline) {
    var seconds = Math.round((new Date(deadline).getTime() - Date.now()) / 1000);
    if (seconds <= 0) return "time is up";
    return seconds < 60 ? seconds + " s left" : Math.ceil(seconds / 60) + " min left";
  }

  function tickRemaining() {
    document.querySelectorAll("#student-rows [data-deadline]").forEach(function (node) {
      node.textContent = remainingText(node.getAttribute("data-deadline"));
    });
  }

  function formatSeconds(total) {
    var m = Math.floor(total / 60), sec = total % 60;
    return m ? m + " min" + (sec ? " " + sec + " s" : "") : sec + " s";
  }

  function renderHands() {
    var list = $("hand-list");
    var focusKey = document.activeElement ? document.activeElement.getAttribute("data-focus-key") : null;
    var typed = {};
    list.querySelectorAll("input[data-hand-id]").forEach(function (input) { typed[input.getAttribute("data-hand-id")] = input.value; });
    list.replaceChildren();
    var open = Array.from(hands.values()).sort(function (a, b) { return (a.raised_at || "").localeCompare(b.raised_at || ""); });
    open.forEach(function (h) {
      var name = h.name || "Student " + h.user_id;
      var input = el("input", { type: "text", maxlength: "500", "data-hand-id": h.hand_id, "data-focus-key": "hand-input-" + h.hand_id, placeholder: "Answer" });
      input.value = typed[h.hand_id] || "";
      input.setAttribute("aria-label", "Answer to " + name);
      var answer = el("button", { type: "submit", className: "button small primary", "data-focus-key": "hand-answer-" + h.hand_id, text: "Answer" });
      var form = el("form", { className: "hand-answer" }, [input, answer]);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var text = input.value.trim();
        if (text) send("answer_hand", { hand_id: h.hand_id, message: text });
      });
      list.appendChild(el("li", { className: "alert-item hand-item", "data-hand-id": h.hand_id }, [
        el("div", { className: "alert-head" }, [
          el("strong", { text: name }),
          el("time", { datetime: h.raised_at || "", text: timeText(h.raised_at) })
        ]),
        el("p", { className: "alert-message", text: h.message || "(no message)" }),
        form
      ]));
    });
    $("hand-count").textContent = String(open.length);
    $("no-hands").hidden = open.length > 0;
    if (focusKey) {
      var again = list.querySelector('[data-focus-key="' + focusKey + '"]');
      if (again) again.focus();
    }
  }

  function sessionUrl(sessionId) {
    return config.sessionUrl.replace(/0\/change\/$/, sessionId + "/change/");
  }

  // The student's risk now: their live row when connected, else what the alert's payload was built with.
  function riskNow(a) {
    var s = students.get(a.user_id);
    if (s && s.session_id === a.session_id && s.risk_level) return { level: s.risk_level, score: s.risk_score };
    if (a.session_risk_level) return { level: a.session_risk_level, score: a.session_risk_score };
    return { level: a.risk_level, score: a.risk_score };
  }

  function renderAlerts() {
    var feed = $("alert-feed");
    var list = Array.from(alerts.values()).sort(function (a, b) {
      if (a.resolved !== b.resolved) return a.resolved ? 1 : -1;
      return (b.created_at || "").localeCompare(a.created_at || "") || b.alert_id - a.alert_id;
    });
    var focusKey = document.activeElement ? document.activeElement.getAttribute("data-focus-key") : null;
    feed.replaceChildren();
    var open = 0;
    list.forEach(function (a) {
      if (!a.resolved) open += 1;
      var head = el("div", { className: "alert-head" }, [
        el("strong", { text: a.name || "Student " + a.user_id }),
        a.isNew && !a.resolved ? el("span", { className: "tag new", text: "New" }) : null,
        el("time", { datetime: a.created_at || "", text: timeText(a.created_at) })
      ]);
      var now = riskNow(a);
      var levels = el("p", { className: "alert-levels" }, [
        el("span", {}, [document.createTextNode("Raised at "), riskBadge(a.risk_level, a.risk_score)]),
        document.createTextNode(" — "),
        el("span", {}, [document.createTextNode("now "), riskBadge(now.level, now.score)])
      ]);
      var body = el("p", { className: "alert-message", text: a.message || "" });
      var foot = el("div", { className: "alert-actions" });
      if (a.resolved) {
        foot.appendChild(el("span", { className: "resolved-by", text: "Resolved by " + (a.resolved_by_name || "a proctor") + (a.note ? ": " + a.note : "") }));
      } else {
        var resolve = el("button", { type: "button", className: "button small primary", "data-focus-key": "resolve-" + a.alert_id, text: "Resolve" });
        resolve.setAttribute("aria-label", "Resolve the alert for " + (a.name || "this student"));
        resolve.addEventListener("click", function () { askResolve(a); });
        foot.appendChild(resolve);
      }
      var open_ = el("a", { className: "button small", href: sessionUrl(a.session_id), text: "Open session" });
      open_.setAttribute("aria-label", "Open the session of " + (a.name || "this student"));
      foot.appendChild(open_);
      feed.appendChild(el("li", {
        className: "alert-item alert-" + (a.risk_level || "medium") + (a.resolved ? " is-resolved" : "") + (a.isNew && !a.resolved ? " is-new" : ""),
        "data-alert-id": a.alert_id
      }, [head, levels, body, foot]));
    });
    $("alert-count").textContent = String(open);
    $("no-alerts").hidden = list.length > 0;
    document.title = (open ? "(" + open + ") " : "") + document.title.replace(/^\(\d+\) /, "");
    if (focusKey) {
      var again = feed.querySelector('[data-focus-key="' + focusKey + '"]');
      if (again) again.focus();
    }
  }

  // -- proctor actions ---------------------------------------------------------------------------

  function ask(dialogId, name, onConfirm) {
    var dialog = $(dialogId);
    var opener = document.activeElement;
    dialog.querySelectorAll("[data-name]").forEach(function (node) { node.textContent = name; });
    dialog.returnValue = "";
    dialog.addEventListener("close", function handle() {
      dialog.removeEventListener("close", handle);
      if (dialog.returnValue === "confirm") onConfirm(dialog.querySelector("form"));
      if (opener && document.contains(opener)) opener.focus();
    });
    dialog.showModal();
  }

  // Each reason <select> gets the taxonomy once, grouped by category (its first, empty option stays).
  function fillReasonSelects() {
    document.querySelectorAll("select[data-reason-select]").forEach(function (select) {
      var groups = {};
      REASONS.forEach(function (r) {
        if (!groups[r.category]) {
          groups[r.category] = el("optgroup", { label: CATEGORY_TEXT[r.category] || r.category });
          select.appendChild(groups[r.category]);
        }
        groups[r.category].appendChild(el("option", { value: r.code, text: r.label }));
      });
    });
  }

  // A frame field only when a reason was chosen (warn and pause take it optionally).
  function withReason(data, form) {
    var code = form.elements.reason_code ? form.elements.reason_code.value : "";
    if (code) data.reason_code = code;
    return data;
  }

  function askWarn(s) {
    $("warn-reason-code").value = "";
    ask("warn-dialog", s.name, function (form) {
      send("warn_student", withReason({ session_id: s.session_id, message: form.elements.message.value.trim() }, form));
    });
  }

  function askTerminate(s) {
    var field = $("terminate-reason");
    field.value = "";
    $("terminate-reason-code").value = "";
    ask("terminate-dialog", s.name, function (form) {
      send("terminate_session", withReason({ session_id: s.session_id, reason: form.elements.reason.value.trim() }, form));
    });
  }

  // Extend, Pause or Resume, Reset: beside Warn and Terminate, for a session in progress.
  function timeButtons(s, name, open) {
    var extend = el("button", { type: "button", className: "button small", "data-focus-key": "extend-" + s.user_id, disabled: !open, text: "Extend" });
    extend.setAttribute("aria-label", "Give " + name + " extra time");
    extend.addEventListener("click", function () { askExtend(s); });
    var paused = !!s.paused;
    var pause = el("button", { type: "button", className: "button small", "data-focus-key": "pause-" + s.user_id, disabled: !open, text: paused ? "Resume" : "Pause" });
    pause.setAttribute("aria-label", (paused ? "Resume" : "Pause") + " the exam of " + name);
    pause.addEventListener("click", function () {
      if (paused) send("resume_session", { session_id: s.session_id });
      else askPause(s);
    });
    var reset = el("button", { type: "button", className: "button small danger", "data-focus-key": "reset-" + s.user_id, disabled: !open, text: "Reset" });
    reset.setAttribute("aria-label", "Reset the attempt of " + name);
    reset.addEventListener("click", function () { askReset(s); });
    return [extend, pause, reset];
  }

  function askExtend(s) {
    $("extend-reason").value = "";
    ask("extend-dialog", s.name, function (form) {
      send("extend_time", {
        session_id: s.session_id,
        minutes: parseInt(form.elements.minutes.value, 10),
        reason: form.elements.reason.value.trim()
      });
    });
  }

  function askPause(s) {
    $("pause-reason").value = "";
    $("pause-reason-code").value = "";
    ask("pause-dialog", s.name, function (form) {
      send("pause_session", withReason({ session_id: s.session_id, reason: form.elements.reason.value.trim() }, form));
    });
  }

  function askReset(s) {
    $("reset-reason").value = "";
    ask("reset-dialog", s.name, function (form) {
      send("reset_attempt", { session_id: s.session_id, reason: form.elements.reason.value.trim() });
    });
  }

  function askResolve(a) {
    $("resolve-note").value = "";
    ask("resolve-dialog", a.name || "this student", function (form) {
      send("resolve_alert", { alert_id: a.alert_id, note: form.elements.note.value.trim() });
    });
  }

  // -- start ------------------------------------------------------------------------------------

  document.querySelectorAll("#students thead button[data-sort]").forEach(function (button) {
    button.addEventListener("click", function () {
      var key = button.getAttribute("data-sort");
      if (sort.key === key) sort.dir = sort.dir === "desc" ? "asc" : "desc";
      else { sort.key = key; sort.dir = key === "name" ? "asc" : "desc"; }
      renderStudents();
    });
  });
  $("resync").addEventListener("click", resync);
  $("reconnect-now").addEventListener("click", function () { attempt = 0; connect(); });
  (config.alerts || []).forEach(function (a) { addAlert(a, true); });
  fillReasonSelects();
  renderAll();
  setInterval(tickRemaining, 15000);
  connect();
})();
