// The agent's markdown, rendered the same in the agent console and in the
// deskbridge demo's chat page (which serves this file too): **bold**,
// *em*, _em_, `code`, [links](https://…) and line breaks. Everything is
// built from DOM nodes and textContent, never HTML, so no markup in a
// message can run; links are made only from http(s) and mailto URLs.

/** safeURL returns u as an absolute http(s) or mailto URL, or null. */
export function safeURL(u) {
  try {
    const x = new URL(u, location.href);
    return ["http:", "https:", "mailto:"].includes(x.protocol) ? x.href : null;
  } catch {
    return null;
  }
}

const INLINE = /(\*\*([^*]+)\*\*)|(`([^`]+)`)|(\[([^\]]+)\]\(([^)\s]+)\))|(\*([^*\s][^*]*)\*)|(_([^_\s][^_]*)_)/;

function node(tag, text) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
}

function inline(text, parent) {
  while (text) {
    const m = INLINE.exec(text);
    if (!m) {
      parent.append(document.createTextNode(text));
      return;
    }
    if (m.index > 0) parent.append(document.createTextNode(text.slice(0, m.index)));
    if (m[1]) {
      const b = node("strong");
      inline(m[2], b);
      parent.append(b);
    } else if (m[3]) {
      parent.append(node("code", m[4]));
    } else if (m[5]) {
      const href = safeURL(m[7]);
      if (href) {
        const a = node("a", m[6]);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        parent.append(a);
      } else {
        parent.append(document.createTextNode(m[6]));
      }
    } else {
      const i = node("em");
      inline(m[9] || m[11], i);
      parent.append(i);
    }
    text = text.slice(m.index + m[0].length);
  }
}

/** markdown appends text, rendered, to parent. */
export function markdown(text, parent) {
  String(text || "")
    .split("\n")
    .forEach((line, i) => {
      if (i > 0) parent.append(node("br"));
      inline(line, parent);
    });
}
