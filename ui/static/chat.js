// Citation links: one delegated, capture-phase click handler for the whole page, so it keeps
// working when Gradio re-renders the chat or replaces the sources panel. A click on a [n]
// marker or on a source card opens that card's whole report (rendered once per answer, below its
// cards) and scrolls its highlight into view.
(function () {
  function openMark(id) {
    var mark = document.getElementById(id);
    if (!mark) return false;
    for (var el = mark.parentElement; el; el = el.parentElement) {
      if (el.tagName === "DETAILS") el.open = true;
    }
    document.querySelectorAll("mark.active, .src-card.active").forEach(function (el) {
      el.classList.remove("active");
    });
    mark.classList.add("active");
    var card = document.querySelector('.src-card[data-mark="' + CSS.escape(id) + '"]');
    if (card) card.classList.add("active");
    // centre the highlight inside the report's own scroll box, then bring that box into view
    // with as little movement of the panel and the page as possible
    var box = mark.closest(".src-text");
    if (box) {
      var offset = mark.getBoundingClientRect().top - box.getBoundingClientRect().top;
      box.scrollTop += offset - (box.clientHeight - mark.offsetHeight) / 2;
      box.scrollIntoView({ block: "nearest" });
    } else {
      mark.scrollIntoView({ block: "center" });
    }
    return true;
  }
  document.addEventListener(
    "click",
    function (ev) {
      var target = ev.target;
      if (!(target instanceof Element)) return;
      var link = target.closest("a.cite");
      if (link) {
        ev.preventDefault();
        ev.stopPropagation();
        openMark(link.getAttribute("href").slice(1));
        return;
      }
      // let <summary> toggle, and text in an open report be selected, as usual
      if (target.closest("summary, .src-text")) return;
      var card = target.closest(".src-card[data-mark]");
      if (card) openMark(card.getAttribute("data-mark"));
    },
    true
  );
  // a source card reached with Tab opens its report with Enter or Space, as a click does
  document.addEventListener("keydown", function (ev) {
    var card = ev.target instanceof Element && ev.target.matches(".src-card[data-mark]");
    if (!card || (ev.key !== "Enter" && ev.key !== " ")) return;
    ev.preventDefault();
    openMark(ev.target.getAttribute("data-mark"));
  });
  window.qaOpenMark = openMark;

  // The newest question, and then its answer, are brought into view as they arrive, in
  // whatever scrolls: the chat's own box on a wide screen, the page on a phone or in a narrow
  // window (where the chat is as tall as its messages). An answer being written, or a chat
  // re-rendered, is not a new arrival: a reader who scrolled back is left where they are.
  var newest = "";
  function followNewest() {
    var bubbles = document.querySelectorAll(
      "#chat .qa-question, #chat .qa-answer, #chat .qa-pending"
    );
    var last = bubbles[bubbles.length - 1];
    var key = last ? bubbles.length + " " + last.className + " " + last.id : "";
    if (key === newest) return;
    newest = key;
    if (last) last.scrollIntoView({ block: "nearest" });
  }
  // The date fields (a day typed, or picked from the calendar): the calendar button, an icon
  // only, gets a name to be heard by; a typed text that is not a day is not taken by the field
  // (it turns red), so a note under it says so and that no such filter is used until it is.
  var DAY = /^(\d{4}-\d{2}-\d{2}|\s*now\s*(-\s*\d+\s*[dmhs])?\s*)?$/;
  function dayNote(input) {
    var field = input.closest(".qa-day");
    var note = field.querySelector(".qa-day-note");
    var text = input.value.trim();
    if (DAY.test(text)) {
      if (note) note.remove();
      return;
    }
    if (!note) {
      note = document.createElement("p");
      note.className = "qa-day-note";
      note.setAttribute("role", "status");
      field.appendChild(note);
    }
    var said = "“" + text + "” is not a day: type it as YYYY-MM-DD or pick one " +
      "from the calendar. Until then this date is not used.";
    if (note.textContent !== said) note.textContent = said;  // else the observer calls again
  }
  // the chat's label is not shown (it covered messages): the conversation is named for
  // screen readers
  function nameChat() {
    var log = document.querySelector("#chat [role=log]") || document.getElementById("chat");
    if (log && !log.hasAttribute("aria-label")) log.setAttribute("aria-label", "Chat");
  }
  function dayFields() {
    document.querySelectorAll(".qa-day").forEach(function (field) {
      var button = field.querySelector("button.calendar");
      if (button && !button.hasAttribute("aria-label")) {
        var label = field.querySelector("[data-testid=block-info]");
        button.setAttribute("aria-label", "Pick " + (label ? label.innerText.trim() : "a date"));
      }
      var input = field.querySelector("input.time");
      if (!input) return;
      if (!input.dataset.qaDay) {
        input.dataset.qaDay = "1";
        input.addEventListener("input", function () { dayNote(input); });
      }
      // a day picked from the calendar sets the text without an input event
      if (field.querySelector(".qa-day-note")) dayNote(input);
    });
  }
  // Gradio opens the calendar below its button, fixed to the window: near the window's foot
  // it would open out of sight (and scrolling closes it), so it is moved up into view
  function calendarsInView() {
    document.querySelectorAll(".picker-container").forEach(function (picker) {
      var box = picker.getBoundingClientRect();
      if (box.bottom <= innerHeight || box.height === 0) return;
      picker.style.top = Math.max(4, innerHeight - box.height - 4) + "px";
    });
  }
  // Uploads: a file of a kind not read, or over the size limit, is taken out before Gradio
  // sees it (Gradio would refuse it in a pop-up of its own) and the server says why in the
  // upload status, in the words of its own refusals: the names and sizes go in qaRefused,
  // sent with the upload, or at once by a hidden button when nothing is left to send.
  window.qaRefused = "[]";
  var resending = false;
  function sift(files) {
    var note = document.querySelector("#upload-kinds [data-kinds]");
    if (!note) return null;
    var kinds = note.dataset.kinds.split(",");
    var most = Number(note.dataset.maxBytes);
    var kept = new DataTransfer();
    var refused = [];
    Array.prototype.forEach.call(files, function (file) {
      var dot = file.name.lastIndexOf(".");
      var kind = dot > 0 ? file.name.slice(dot).toLowerCase() : "";
      if (kinds.indexOf(kind) < 0 || file.size > most) refused.push([file.name, file.size]);
      else kept.items.add(file);
    });
    window.qaRefused = JSON.stringify(refused);
    if (!refused.length) return null;
    if (!kept.files.length) document.getElementById("upload-refused").click();
    return kept;
  }
  document.addEventListener(
    "change",
    function (ev) {
      var input = ev.target;
      if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
      if (!input.closest("#upload")) return;
      var kept = sift(input.files);
      if (!kept) return;
      input.files = kept.files;
      if (!kept.files.length) ev.stopImmediatePropagation();
    },
    true
  );
  document.addEventListener(
    "drop",
    function (ev) {
      var target = ev.target;
      if (resending || !ev.dataTransfer || !(target instanceof Element)) return;
      if (!target.closest("#upload")) return;
      var kept = sift(ev.dataTransfer.files);
      if (!kept) return;
      ev.preventDefault();
      ev.stopImmediatePropagation();
      if (!kept.files.length) return;
      resending = true;  // the same drop, with only the files kept
      try {
        target.dispatchEvent(
          new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: kept })
        );
      } finally {
        resending = false;
      }
    },
    true
  );

  new MutationObserver(function () {
    followNewest();
    dayFields();
    calendarsInView();
    nameChat();
  }).observe(document.documentElement, { childList: true, subtree: true });

  // A bubble's text: its paragraphs (line breaks kept) with a blank line between them, without
  // the parts only a screen reader hears or the confidence line.
  function bubbleText(el) {
    var clone = el.cloneNode(true);
    clone.querySelectorAll(".qa-meta, .sr-only").forEach(function (m) { m.remove(); });
    clone.querySelectorAll("br").forEach(function (br) { br.replaceWith("\n"); });
    var blocks = clone.querySelectorAll("p");
    var parts = [];
    (blocks.length ? Array.prototype.slice.call(blocks) : [clone]).forEach(function (p) {
      var text = p.textContent.replace(/[ \t]+/g, " ").replace(/ *\n */g, "\n").trim();
      if (text) parts.push(text);
    });
    return parts.join("\n\n");
  }
  // The source cards of one answer (its id "a3"), the passages a language model cites too.
  function answerCards(aid) {
    return document.querySelectorAll('#sources .src-card[id^="card-' + aid + '-"]');
  }
  function cardLine(c) {
    var meta = c.querySelector(".src-meta");
    return "- " + c.querySelector(".src-n").innerText.trim() + " " +
      c.querySelector(".src-title").innerText.trim() +
      (meta ? " — " + meta.innerText.trim() : "");
  }

  // The conversation as Markdown: each question, its answer with the quotes (and a language
  // model's checked text), and the sources the answer cites (title, source, date), a blank
  // line between parts, for "Copy conversation" and "Export Markdown" (no HTML).
  window.qaConversation = function () {
    var parts = [];
    document.querySelectorAll("#chat .qa-question, #chat .qa-answer").forEach(function (el) {
      if (el.classList.contains("qa-question")) {
        parts.push("**Q:** " + el.innerText.trim());
        return;
      }
      var text = "**A:** " + bubbleText(el);
      var seen = {}, lines = [];
      answerCards(el.id.replace(/^answer-/, "")).forEach(function (c) {
        var line = cardLine(c);
        if (!seen[line]) lines.push(line);
        seen[line] = true;
      });
      if (lines.length) text += "\n\nSources:\n" + lines.join("\n");
      parts.push(text);
    });
    return parts.join("\n\n");
  };

  function download(name, type, text) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: type }));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
  }
  var PRINT_CSS = "body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;" +
    "color:#111}.qa-question{font-weight:600;margin-top:1.6rem}.qa-meta{color:#555;" +
    "font-size:.85rem}.src-card{border:1px solid #ccc;border-radius:6px;padding:.5rem .7rem;" +
    "margin:.4rem 0;break-inside:avoid}.src-meta{color:#555;font-size:.85rem}" +
    "mark{background:#fde68a}mark.hl-answer{background:#fdba74}.sr-only{display:none}" +
    "a{color:inherit}.src-open{display:none}";
  // The conversation as a page to keep or print (to PDF, from the browser): each question,
  // its answer as shown, and the answer's source cards with their quotes, sources and dates.
  function printable() {
    var body = [];
    document.querySelectorAll("#chat .qa-question, #chat .qa-answer").forEach(function (el) {
      body.push(el.outerHTML);
      if (!el.id) return;
      var cards = Array.prototype.map.call(answerCards(el.id.replace(/^answer-/, "")),
        function (c) { return c.outerHTML; });
      if (cards.length) body.push('<section class="qa-sources"><h4>Sources</h4>' +
        cards.join("") + "</section>");
    });
    var title = "reportqa conversation, " + new Date().toISOString().slice(0, 10);
    return "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + title +
      "</title><style>" + PRINT_CSS + "</style></head><body><h1>" + title + "</h1>" +
      body.join("\n") + "</body></html>";
  }
  window.qaExport = function (format) {
    var day = new Date().toISOString().slice(0, 10);
    if (format === "html") download("conversation-" + day + ".html", "text/html", printable());
    else download("conversation-" + day + ".md", "text/markdown", window.qaConversation() + "\n");
  };
})();
