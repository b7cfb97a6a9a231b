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
  new MutationObserver(followNewest).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });

  // The conversation as Markdown: each question, its answer with the quotes, and the sources
  // the answer cites (title, source, date), for "Copy conversation" (no HTML).
  window.qaConversation = function () {
    var parts = [];
    document.querySelectorAll("#chat .qa-question, #chat .qa-answer").forEach(function (el) {
      if (el.classList.contains("qa-question")) {
        parts.push("**Q:** " + el.innerText.trim());
        return;
      }
      var answer = el.cloneNode(true);
      answer.querySelectorAll(".qa-meta, .sr-only").forEach(function (m) { m.remove(); });
      var text = "**A:** " + answer.innerText.trim();
      var aid = el.id.replace(/^answer-/, "");
      var seen = {}, lines = [];
      document.querySelectorAll('#sources .src-card[id^="card-' + aid + '-"]').forEach(function (c) {
        var n = c.querySelector(".src-n").innerText.trim();
        if (seen[n]) return;
        seen[n] = true;
        var meta = c.querySelector(".src-meta");
        lines.push("- " + n + " " + c.querySelector(".src-title").innerText.trim() +
                   (meta ? " — " + meta.innerText.trim() : ""));
      });
      if (lines.length) text += "\n\nSources:\n" + lines.join("\n");
      parts.push(text);
    });
    return parts.join("\n\n");
  };
})();
