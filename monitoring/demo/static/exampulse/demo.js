/*
 * The demo student pages' script. It uses only the public API (REST + exampulse-client.js), the way
 * a real exam front end would; the demo part is logging in as a seeded student with a published password.
 */
(function () {
  "use strict";

  var STUDENT_KEY = "exampulse:demo:student";

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  function remember(email) {
    try {
      sessionStorage.setItem(STUDENT_KEY, email);
    } catch (err) {
      /* private mode: the URL still carries the choice */
    }
  }

  function remembered() {
    try {
      return sessionStorage.getItem(STUDENT_KEY);
    } catch (err) {
      return null;
    }
  }

  // --- /demo/ ---------------------------------------------------------------------------------

  function initIndex() {
    var saved = remembered();
    var radios = document.querySelectorAll('input[name="student"]');
    radios.forEach(function (radio) {
      if (radio.value === saved) radio.checked = true;
    });
    document.querySelectorAll("a.take-exam").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var chosen = document.querySelector('input[name="student"]:checked');
        if (!chosen) return;
        event.preventDefault();
        remember(chosen.value);
        window.location.href = link.getAttribute("href") + "?student=" + encodeURIComponent(chosen.value);
      });
    });
  }

  // --- /demo/exam/<id>/ -----------------------------------------------------------------------

  function initExam() {
    var config = JSON.parse($("demo-config").textContent);
    var params = new URLSearchParams(window.location.search);
    var demo = { config: config, client: null, questions: [], index: 0, user: null, finished: false, errors: [] };
    window.examDemo = demo;

    function showError(message) {
      var box = $("page-error");
      box.textContent = message;
      box.hidden = false;
    }

    function setConnection(state) {
      var badge = $("connection");
      badge.textContent = state;
      badge.dataset.state = state;
      document.body.dataset.connection = state;
    }

    function tokenKey(email) {
      return "exampulse:demo:auth:" + email;
    }

    function login(email, fresh) {
      if (!fresh) {
        try {
          var cached = JSON.parse(sessionStorage.getItem(tokenKey(email)) || "null");
          if (cached && cached.token) return Promise.resolve(cached);
        } catch (err) {
          /* fall through to a real login */
        }
      }
      return fetch("/api/auth/login", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ email: email, password: config.password }),
      })
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) throw new Error(body.error || "Login failed");
            return { token: body.token, user: body.data.user };
          });
        })
        .then(function (auth) {
          try {
            sessionStorage.setItem(tokenKey(email), JSON.stringify(auth));
          } catch (err) {
            /* the token just will not survive a reload */
          }
          return auth;
        });
    }

    function pickStudent() {
      var box = $("login-box");
      var list = $("login-students");
      list.innerHTML = "";
      config.students.forEach(function (student) {
        var button = el("button", { type: "button", className: "student-card", "data-email": student.email }, [
          el("span", { className: "avatar", "aria-hidden": "true", text: student.name.charAt(0) }),
          el("span", {}, [el("strong", { text: student.name }), el("small", { text: student.email })]),
        ]);
        button.addEventListener("click", function () {
          remember(student.email);
          box.hidden = true;
          begin(student.email, false);
        });
        list.appendChild(button);
      });
      box.hidden = false;
    }

    function begin(email, retried) {
      setConnection("logging in");
      login(email, retried)
        .then(function (auth) {
          demo.user = auth.user;
          $("student-name").textContent = auth.user.name;
          return run(auth, email, retried);
        })
        .catch(function (err) {
          setConnection("failed");
          showError(err.message);
        });
    }

    function run(auth, email, retried) {
      var sampleMs = Number(params.get("sample_ms"));
      var client = new window.ExamPulse.ExamPulseClient({
        token: auth.token,
        examId: config.examId,
        storageKey: "exampulse:pending:exam" + config.examId + ":user" + auth.user.id,
        sampleIntervalMs: sampleMs >= 500 && sampleMs <= 60000 ? sampleMs : 5000,
        onStatus: setConnection,
        onAck: onAck,
        onPending: function (count) {
          if ($("pending")) $("pending").textContent = String(count);
        },
        onWarning: onWarning,
        onTerminated: onTerminated,
        onHandRaised: function () {
          $("hand-status").textContent = "Your hand is raised; a proctor will answer.";
        },
        onHandAnswered: function (data) {
          $("hand-status").textContent = "Proctor's answer: " + (data.message || "");
          $("raise-hand").disabled = false;
        },
        onSubmitted: onSubmitted,
        onPaused: onPaused,
        onResumed: onResumed,
        onTimeExtended: onTimeExtended,
        onReset: onReset,
        onSaved: function () {
          $("saved").textContent = "Saved " + new Date().toLocaleTimeString();
        },
        onError: function (err) {
          demo.errors.push(err);
          if (err.code === "autosave_failed") $("saved").textContent = "Not saved yet (offline?)";
          if (err.event === "raise_hand") {
            $("hand-status").textContent = err.message || "The hand was not raised.";
            $("raise-hand").disabled = false;
          }
        },
      });
      demo.client = client;
      return client.start().then(
        function (session) {
          demo.session = session;
          demo.questions = session.exam.questions || [];
          $("exam-body").hidden = false;
          $("hand-box").hidden = false;
          $("raise-hand").addEventListener("click", function () {
            if (client.raiseHand($("hand-message").value.trim())) {
              $("raise-hand").disabled = true;
              $("hand-status").textContent = "Raising your hand…";
            } else {
              $("hand-status").textContent = "Not connected; try again in a moment.";
            }
          });
          renderNav();
          show(0);
          tickTimer();
          window.setInterval(tickTimer, 1000);
        },
        function (err) {
          if (err.status === 401 && !retried) return begin(email, true);
          setConnection("not started");
          if (err.status === 409 && !email) {
            showError("You have already completed this exam (" + err.message + ")");
          } else if (err.status === 409) {
            showError(auth.user.name + " has already completed this exam (" + err.message + ") Pick another student on the demo page.");
          } else {
            showError(err.message);
          }
          return null;
        }
      );
    }

    // --- questions ----------------------------------------------------------------------------

    function answerOf(q) {
      var value = demo.client.answers[q.id];
      return value === undefined ? null : value;
    }

    function answered(q) {
      var value = answerOf(q);
      return value !== null && value !== "" && !(Array.isArray(value) && value.length === 0);
    }

    function renderNav() {
      var nav = $("question-nav");
      nav.innerHTML = "";
      demo.questions.forEach(function (q, i) {
        var button = el("button", { type: "button", className: "nav-pill", text: String(i + 1), "aria-label": "Question " + (i + 1) });
        if (answered(q)) button.classList.add("answered");
        if (i === demo.index) button.setAttribute("aria-current", "step");
        button.addEventListener("click", function () {
          show(i);
        });
        nav.appendChild(button);
      });
    }

    function record(q, value, final) {
      demo.client.setAnswer(q.id, value);
      if (final) demo.client.questionAnswered(q.id);
      renderNav();
    }

    function show(i) {
      demo.index = Math.max(0, Math.min(demo.questions.length - 1, i));
      var q = demo.questions[demo.index];
      var card = $("question");
      card.innerHTML = "";
      if (!q) return;
      demo.client.questionShown(q.id);
      card.appendChild(
        el("p", { className: "question-meta", text: "Question " + (demo.index + 1) + " of " + demo.questions.length + (q.points ? " · " + q.points + " point" + (q.points === 1 ? "" : "s") : "") })
      );
      card.appendChild(el("h2", { id: "question-text", text: q.text }));
      var current = answerOf(q);
      if (q.type === "mcq" || q.type === "multi") {
        var multi = q.type === "multi";
        var group = el("div", { className: "options", role: multi ? "group" : "radiogroup", "aria-labelledby": "question-text" });
        (q.options || []).forEach(function (option) {
          var input = el("input", { type: multi ? "checkbox" : "radio", name: "answer-" + q.id, value: option });
          input.checked = multi ? Array.isArray(current) && current.indexOf(option) >= 0 : current === option;
          input.addEventListener("change", function () {
            if (multi) {
              var picked = Array.prototype.filter
                .call(group.querySelectorAll("input"), function (box) {
                  return box.checked;
                })
                .map(function (box) {
                  return box.value;
                });
              record(q, picked, true);
            } else {
              record(q, option, true);
            }
          });
          group.appendChild(el("label", { className: "option" }, [input, el("span", { text: option })]));
        });
        card.appendChild(group);
      } else {
        var area = el("textarea", { id: "answer-" + q.id, rows: "6", "aria-labelledby": "question-text", placeholder: "Type your answer…" });
        area.value = typeof current === "string" ? current : "";
        area.addEventListener("input", function () {
          record(q, area.value, false);
        });
        // One question_answered per finished edit, not per keystroke.
        area.addEventListener("change", function () {
          record(q, area.value, true);
        });
        card.appendChild(area);
      }
      $("prev").disabled = demo.index === 0;
      $("next").disabled = demo.index === demo.questions.length - 1;
      renderNav();
    }

    // --- live feedback ------------------------------------------------------------------------

    function onAck(data) {
      var client = demo.client;
      if (!$("acked")) return; // the event panel is the demo's (an LMS launch shows the exam alone)
      $("acked").textContent = String(client.stats.acked + client.stats.restStored + client.stats.restDuplicate);
      $("rest").textContent = String(client.stats.restStored + client.stats.restDuplicate);
      var risk = $("risk");
      if (typeof data.risk_score === "number") {
        risk.textContent = data.risk_score.toFixed(2) + " " + (data.risk_level || "");
        risk.dataset.level = data.risk_level || "";
      } else {
        // The exam does not show students their risk (show_risk_to_student off): the ack carries none.
        risk.textContent = "not shown to students";
        risk.dataset.level = "";
      }
      var log = $("event-log");
      var item = el("li", { className: "sev-" + (data.severity || "low") }, [
        el("span", { className: "event-type", text: (data.event_type || "event").replace(/_/g, " ") }),
        el("span", { className: "event-meta", text: (data.severity || "") + (data.via === "rest" ? " · REST" : "") }),
      ]);
      log.insertBefore(item, log.firstChild);
      while (log.children.length > 8) log.removeChild(log.lastChild);
    }

    function onWarning(data) {
      var box = $("warnings");
      var close = el("button", { type: "button", className: "link-button", text: "Dismiss" });
      var card = el("div", { className: "warning", role: "alert" }, [
        el("strong", {
          className: "warning-count",
          text: (demo.client ? demo.client.warningText(data.count) : "Warning") + " from " + (data.from_name || "the proctor") + ": ",
        }),
        el("span", { className: "warning-message", text: data.message || "" }),
        close,
      ]);
      close.addEventListener("click", function () {
        box.removeChild(card);
      });
      box.appendChild(card);
    }

    function onTerminated(data) {
      demo.finished = true;
      tickTimer();
      $("terminated-reason").textContent = data.reason ? "Reason: " + data.reason : "";
      $("terminated").hidden = false;
      $("exam-body").hidden = true;
      $("hand-box").hidden = true;
    }

    // --- time control by the proctor -------------------------------------------------------------

    function onPaused(data) {
      $("paused-reason").textContent = data.reason ? ": " + data.reason : "";
      $("paused").hidden = false;
      $("submit").disabled = true;
      tickTimer();
    }

    function onResumed() {
      $("paused").hidden = true;
      $("submit").disabled = demo.submitting;
      tickTimer();
    }

    function onTimeExtended(data) {
      onWarning({ from_name: "the proctor", message: "You have " + data.minutes + " more minute" + (data.minutes === 1 ? "" : "s") + "." });
      tickTimer();
    }

    function onReset() {
      demo.finished = true;
      tickTimer();
      $("paused").hidden = true;
      $("exam-body").hidden = true;
      $("reset").hidden = false;
    }

    $("restart").addEventListener("click", function () {
      window.location.reload();
    });

    function onSubmitted(result) {
      demo.finished = true;
      tickTimer();
      $("exam-body").hidden = true;
      var box = $("result");
      box.innerHTML = "";
      box.appendChild(el("h2", { text: config.isCalibration ? "Calibration submitted" : "Exam submitted" }));
      if (config.isCalibration) {
        box.appendChild(el("p", { text: "Thank you. This attempt is not marked; it teaches ExamPulse how you work." }));
      } else {
        var score = result.max_score ? result.score + " / " + result.max_score + " points" : "recorded";
        if (result.pending_manual_points) score += " (+ up to " + result.pending_manual_points + " after manual marking)";
        box.appendChild(el("p", { text: "Score: " + score + "." }));
      }
      var baseline = el("p", { id: "baseline-summary", hidden: "" });
      box.appendChild(baseline);
      if (config.indexUrl) box.appendChild(el("p", {}, [el("a", { className: "button", href: config.indexUrl, text: "Back to the demo" })]));
      box.hidden = false;
      if (config.isCalibration) {
        demo.client.api("GET", "/api/baselines/").then(
          function (payload) {
            var b = payload.data;
            var parts = [b.sample_count + " sample" + (b.sample_count === 1 ? "" : "s") + " (" + b.status + ")"];
            if (b.typing_speed_wpm) parts.push(b.typing_speed_wpm.toFixed(0) + " wpm");
            if (b.mouse_speed_pxs) parts.push(b.mouse_speed_pxs.toFixed(0) + " px/s");
            if (b.avg_question_time_sec) parts.push(b.avg_question_time_sec.toFixed(0) + " s per question");
            baseline.textContent = "Your baseline now: " + parts.join(" · ") + ".";
            baseline.hidden = false;
          },
          function () {}
        );
      }
    }

    function tickTimer() {
      var client = demo.client;
      if (!client) return;
      if (demo.finished) {
        $("timer").textContent = "ended";
        $("timer").classList.remove("urgent");
        return;
      }
      var ms = client.remainingMs();
      if (ms === null) return;
      var total = Math.ceil(ms / 1000);
      var text = String(Math.floor(total / 60)).padStart(2, "0") + ":" + String(total % 60).padStart(2, "0");
      var timer = $("timer");
      timer.textContent = text;
      timer.classList.toggle("urgent", total <= 60);
      if (total === 0 && !demo.finished && !client.paused) submit();
    }

    function submit() {
      if (demo.finished || demo.submitting) return;
      demo.submitting = true;
      $("submit").disabled = true;
      $("submit").textContent = "Submitting…";
      demo.client.submit().catch(function (err) {
        demo.submitting = false;
        $("submit").disabled = false;
        $("submit").textContent = "Submit exam";
        showError("Could not submit: " + err.message + " Your answers are kept; try again.");
      });
    }

    $("prev").addEventListener("click", function () {
      show(demo.index - 1);
    });
    $("next").addEventListener("click", function () {
      show(demo.index + 1);
    });
    $("submit").addEventListener("click", submit);
    if ($("fullscreen")) {
      $("fullscreen").addEventListener("click", function () {
        if (demo.client) demo.client.enterFullscreen().catch(function () {});
      });
    }

    // Launched from the LMS (LTI): the server already signed the student in and put their tokens in
    // the page; no demo login, no student picker.
    var launchNode = $("exampulse-launch");
    if (launchNode) {
      var launch = JSON.parse(launchNode.textContent);
      demo.launch = launch;
      demo.user = { id: launch.user_id, name: launch.name };
      $("student-name").textContent = launch.name;
      run({ token: launch.access, user: demo.user }, null, true);
      return;
    }

    var email = params.get("student") || remembered();
    var known = config.students.some(function (s) {
      return s.email === email;
    });
    if (known) {
      remember(email);
      begin(email, false);
    } else {
      setConnection("choose a student");
      pickStudent();
    }
  }

  if (document.getElementById("demo-config")) initExam();
  else initIndex();
})();
