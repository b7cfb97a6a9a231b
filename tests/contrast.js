// Every visible text (and placeholder) whose contrast with what is behind it is under 4.5:1
// (WCAG AA for body text), with the colours blended through translucent backgrounds and
// opacity. Returns [{text, ratio, fg, bg, tag, cls}] for the browser test to report.
() => {
  const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const over = (top, bottom) => { const a = top[3]; return [0,1,2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]); };
  const background = (el) => { const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let color = [255, 255, 255, 1];
    if (!layers.length || layers[layers.length - 1][3] < 1) color = parse(getComputedStyle(document.body).backgroundColor) || color;
    for (let i = layers.length - 1; i >= 0; i--) color = over(layers[i], color); return color; };
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement; if (!el || seen.has(el) || !n.textContent.trim()) continue; seen.add(el);
    const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || s.visibility === 'hidden' || el.closest('[aria-hidden=true], .sr-only, script, style')) continue;
    let op = 1; for (let e = el; e; e = e.parentElement) op *= Number(getComputedStyle(e).opacity);
    if (op < 0.1) continue;
    const bg = background(el); let fg = parse(s.color); if (!fg) continue; fg = over([fg[0], fg[1], fg[2], fg[3] * op], bg);
    const L1 = lum(fg), L2 = lum(bg); const ratio = (Math.max(L1, L2) + 0.05) / (Math.min(L1, L2) + 0.05);
    if (ratio < 4.5) found.push({text: n.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100, fg: s.color, bg: 'rgb(' + bg.slice(0,3).map(Math.round).join(',') + ')', cls: (el.className || '').toString().slice(0, 50), tag: el.tagName});
  }
  // placeholders
  document.querySelectorAll('input[placeholder], textarea[placeholder]').forEach(el => {
    if (!el.getBoundingClientRect().width) return;
    const s = getComputedStyle(el, '::placeholder'); const bg = background(el); let fg = parse(s.color); if (!fg) return; fg = over(fg, bg);
    const L1 = lum(fg), L2 = lum(bg); const ratio = (Math.max(L1, L2) + 0.05) / (Math.min(L1, L2) + 0.05);
    if (ratio < 4.5) found.push({text: 'placeholder: ' + el.placeholder.slice(0, 30), ratio: Math.round(ratio * 100) / 100, fg: s.color, bg: 'rgb(' + bg.slice(0,3).map(Math.round).join(',') + ')', tag: el.tagName});
  });
  return found;
}
