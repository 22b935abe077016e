// mock-desk agent console. Plain DOM, no framework, no build step.
// Customer text is untrusted: it is only ever set with textContent, and
// links and images are only made from http(s) URLs. The agent's own
// messages are rendered from markdown as the customer sees them
// (markdown.js, which deskbridge's demo chat page uses too).
import { markdown } from "./markdown.js";

const $ = (id) => document.getElementById(id);
const view = { version: 0, data: null, selected: null };

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function safeURL(s) {
  try {
    const u = new URL(s, location.href);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch (_) {
    return null;
  }
}

function me() {
  const d = view.data;
  const id = $("agent-select").value;
  const a = d && d.agents.find((x) => x.profile.id === id);
  return a ? a.profile : null;
}

function chat() {
  return view.data && view.data.chats.find((c) => c.chat_id === view.selected);
}

// What the person at the console reads for each error code of the control
// API; the desk's own message goes to the browser console.
const ERROR_TEXTS = {
  chat_ended: "This chat has ended.",
  wrong_state: "That is not possible at this point of the chat.",
  no_agent: "No agent is in this chat: accept it first.",
  chat_not_found: "This chat no longer exists.",
  agent_not_found: "That agent is not on the roster.",
  no_screen_share: "No screen share is pending or going on.",
  bad_request: "The desk did not understand the request.",
  bad_json: "The desk did not understand the request.",
  rate_limited: "Too many actions at once: wait a moment and try again.",
  unavailable: "The desk is not available right now: try again in a moment.",
  desk_closed: "The desk is shutting down.",
  timeout: "The desk took too long to answer: try again.",
};
const ERROR_FALLBACK = "That did not work: try again in a moment.";

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = false;
}

async function act(path, body, method) {
  $("error").hidden = true;
  let r;
  try {
    r = await fetch(path, {
      method: method || "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
  } catch (e) {
    console.warn("mock-desk console:", path, e);
    showError("The desk cannot be reached: is mock-desk still running?");
    return null;
  }
  if (!r.ok) {
    const e = await r.json().catch(() => ({}));
    const code = (e.error && e.error.code) || "";
    console.warn("mock-desk console:", path, r.status, code, e.error && e.error.message);
    showError(ERROR_TEXTS[code] || ERROR_FALLBACK);
    return null;
  }
  return r.status === 204 ? {} : r.json();
}

const chatPath = (suffix) => "/control/chats/" + encodeURIComponent(view.selected) + suffix;

function renderAgents(d) {
  const sel = $("agent-select");
  const keep = sel.value;
  if (sel.options.length !== d.agents.length) {
    sel.replaceChildren();
    for (const a of d.agents) {
      const o = el("option", "", a.profile.nickname + (a.scripted ? " (scripted)" : ""));
      o.value = a.profile.id;
      sel.append(o);
    }
    const manual = d.agents.find((a) => !a.scripted);
    sel.value = keep || (manual ? manual.profile.id : d.agents[0].profile.id);
  }
  const mine = d.agents.find((a) => a.profile.id === sel.value);
  $("online-toggle").checked = !!(mine && mine.online);
  const tsel = $("transfer-select");
  const tkeep = tsel.value;
  tsel.replaceChildren();
  for (const a of d.agents) {
    if (a.profile.id === sel.value) continue;
    const o = el("option", "", a.profile.nickname);
    o.value = a.profile.id;
    tsel.append(o);
  }
  if (tkeep) tsel.value = tkeep;
}

function chatLabel(c) {
  return (c.customer && (c.customer.name || c.customer.id)) || c.chat_id;
}

function renderLists(d) {
  const byId = new Map(d.chats.map((c) => [c.chat_id, c]));
  $("queue-count").textContent = String(d.queue.length);
  const q = $("queue");
  q.replaceChildren();
  for (const id of d.queue) {
    const c = byId.get(id);
    const li = el("li", "queue-item" + (id === view.selected ? " selected" : ""));
    li.dataset.chat = id;
    li.append(el("strong", "", "#" + c.position + " " + chatLabel(c)));
    li.append(el("div", "sub", c.summary || "no summary"));
    li.append(el("div", "sub", "waits ~" + c.wait_minutes + " min"));
    li.addEventListener("click", () => select(id));
    q.append(li);
  }
  const list = $("chats");
  list.replaceChildren();
  for (const c of d.chats.slice().reverse()) {
    const li = el("li", "chat-item" + (c.chat_id === view.selected ? " selected" : ""));
    li.dataset.chat = c.chat_id;
    const top = el("div");
    top.append(el("span", "state " + c.state, c.state.replace("_", " ")), document.createTextNode(" " + chatLabel(c)));
    li.append(top);
    const last = c.transcript.length ? c.transcript[c.transcript.length - 1].text : "";
    li.append(el("div", "sub", (c.agent ? c.agent.nickname + ": " : "") + last));
    li.addEventListener("click", () => select(c.chat_id));
    list.append(li);
  }
}

// renderText shows a line's text: the agent's as rendered markdown, the
// customer's exactly as typed.
function renderText(li, from, text) {
  const span = el("span", "text");
  if (from === "agent") markdown(text, span);
  else span.textContent = text || "";
  li.append(span);
}

function renderItem(li, from, item) {
  switch (item.response_type) {
    case "text":
      renderText(li, from, item.text);
      break;
    case "image": {
      const src = safeURL(item.source);
      if (src) {
        const img = el("img");
        img.src = src;
        img.alt = item.alt_text || "";
        li.append(img);
      }
      break;
    }
    case "button": {
      const href = safeURL(item.url);
      if (href) {
        const a = el("a", "link-button", item.label || href);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        li.append(document.createElement("br"), a);
      }
      break;
    }
    default:
      li.append(el("span", "muted", "[" + item.response_type + "]"));
  }
}

// renderContext shows the hand-off's context: who the customer is (verified
// by the site, or only the browser's claim), routing attributes, and the
// conversation the customer had with the bot before.
function renderContext(c) {
  const h = c.handoff || {};
  const attrs = { ...(c.attributes || {}), ...(h.attributes || {}) };
  const unverified = h.unverified || {};
  const turns = h.transcript || [];
  const any = h.customer || Object.keys(attrs).length || Object.keys(unverified).length || turns.length;
  $("context-box").hidden = !any;
  if (!any) return;
  const who = $("customer-identity");
  if (h.customer) {
    const cu = h.customer;
    const parts = [cu.name || cu.id, "id " + cu.id];
    if (cu.email) parts.push(cu.email);
    if (cu.locale) parts.push(cu.locale);
    who.textContent = "Verified: " + parts.join(" · ");
    for (const [k, v] of Object.entries(cu.claims || {})) attrs[k] = v;
  } else {
    who.textContent = "Not verified (anonymous)";
  }
  const dl = $("context-attributes");
  dl.replaceChildren();
  for (const [k, v] of Object.entries(attrs).sort()) dl.append(el("dt", "", k), el("dd", "", v));
  for (const [k, v] of Object.entries(unverified).sort()) {
    dl.append(el("dt", "unverified", k), el("dd", "unverified", v + " (the customer's claim, not verified)"));
  }
  $("bot-box").hidden = !turns.length;
  $("bot-heading").textContent = h.transcript_unverified
    ? "Conversation with the bot (as the customer's browser reported it)"
    : "Conversation with the bot";
  const ol = $("bot-transcript");
  ol.replaceChildren();
  if (h.transcript_omitted) ol.append(el("li", "muted", "… " + h.transcript_omitted + " earlier messages left out"));
  for (const t of turns) {
    const li = el("li", t.from);
    li.append(el("span", "who", t.from === "bot" ? "bot" : "customer"), el("span", "", t.text));
    if (t.at) li.title = new Date(t.at).toLocaleString();
    ol.append(li);
  }
}

function renderChat(d) {
  const c = chat();
  $("chat-pane").hidden = !c;
  $("empty-pane").hidden = !!c;
  if (!c) return;
  $("chat-title").textContent = chatLabel(c);
  let meta = c.chat_id + " · " + c.state.replace("_", " ");
  if (c.agent) meta += " · with " + c.agent.nickname;
  if (c.state === "queued") meta += " · position " + c.position;
  if (c.screen_share) meta += " · screen share " + c.screen_share;
  $("chat-meta").textContent = meta;
  $("summary").textContent = c.summary || "(none)";
  renderContext(c);
  const ol = $("transcript");
  const atBottom = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 4;
  ol.replaceChildren();
  for (const line of c.transcript) {
    const li = el("li", line.from);
    if (line.from !== "system") {
      li.append(el("span", "who", line.from === "agent" ? "agent" : "customer"));
    }
    if (line.file) {
      const ok = line.file.status === "ok";
      li.classList.add("file");
      li.append(el("span", "", (ok ? "File: " : "Rejected: ") + line.file.name + " (" + line.file.size + " bytes)"));
      if (ok) {
        const a = el("a", "", " download");
        a.href = chatPath("/files/" + encodeURIComponent(line.file.file_id));
        li.append(a);
      } else {
        li.append(el("div", "muted", line.file.reason || ""));
      }
    } else if (line.message && line.message.output && line.message.output.generic) {
      for (const item of line.message.output.generic) renderItem(li, line.from, item);
    } else if (line.from === "system") {
      li.append(el("span", "text", line.text));
    } else {
      renderText(li, line.from, line.text);
    }
    ol.append(li);
  }
  if (atBottom) ol.scrollTop = ol.scrollHeight;
  $("typing-indicator").hidden = !c.customer_typing;
  const ended = c.state === "ended";
  const mine = c.agent && me() && c.agent.id === me().id;
  // A control that cannot act now is disabled (and looks it).
  $("accept").disabled = ended || c.state === "active";
  for (const id of ["send", "leave", "request-files"]) $(id).disabled = !mine || ended;
  $("transfer").disabled = $("transfer-select").disabled = !mine || ended || $("transfer-select").options.length === 0;
  $("screen-share").disabled = !mine || ended || !!c.screen_share;
  $("end").disabled = ended;
  $("end-screen-share").disabled = ended || !c.screen_share;
  $("reply").disabled = !mine || ended;
}

function render() {
  const d = view.data;
  renderAgents(d);
  renderLists(d);
  renderChat(d);
}

function select(id) {
  view.selected = id;
  render();
}

async function loop() {
  for (;;) {
    try {
      // The first load answers at once (a fresh desk has version 0); later
      // ones wait for a change.
      const r = await fetch(view.data ? "/control/state?since=" + view.version + "&wait=25" : "/control/state");
      if (!r.ok) throw new Error(r.statusText);
      const d = await r.json();
      view.version = d.version;
      view.data = d;
      $("conn-status").textContent = "live";
      render();
    } catch (e) {
      $("conn-status").textContent = "reconnecting…";
      await new Promise((ok) => setTimeout(ok, 1000));
    }
  }
}

let typingTimer = null;
function typing() {
  if (!chat() || $("reply").disabled) return;
  if (!typingTimer) act(chatPath("/typing"), { typing: true });
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => {
    typingTimer = null;
    if (chat()) act(chatPath("/typing"), { typing: false });
  }, 2000);
}

document.addEventListener("DOMContentLoaded", () => {
  $("agent-select").addEventListener("change", render);
  $("online-toggle").addEventListener("change", (e) =>
    act("/control/agents/" + encodeURIComponent($("agent-select").value), { online: e.target.checked }, "PUT"));
  $("accept").addEventListener("click", () => act(chatPath("/join"), { agent: me() }));
  $("composer").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("reply").value.trim();
    if (!text) return;
    if (await act(chatPath("/say"), { text })) $("reply").value = "";
    clearTimeout(typingTimer);
    typingTimer = null;
  });
  $("reply").addEventListener("input", typing);
  $("reply").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("transfer").addEventListener("click", () => act(chatPath("/transfer"), { agent_id: $("transfer-select").value }));
  $("leave").addEventListener("click", () => act(chatPath("/leave")));
  $("end").addEventListener("click", () => act(chatPath("/end")));
  $("screen-share").addEventListener("click", () => act(chatPath("/screen_share")));
  $("end-screen-share").addEventListener("click", () => act(chatPath("/screen_share/end")));
  $("request-files").addEventListener("click", () => act(chatPath("/request_files"), { text: "Could you upload the file here?" }));
  loop();
});
