// The deskbridge demo chat page: a tiny bot, then the hand-off to a human
// agent through the gateway in flow mode. No framework, no build step.
// Everything an agent sends is rendered with DOM nodes and textContent, never
// as HTML, so no script from an agent can run; the markdown renderer is the
// agent console's (mock-desk), so both sides show a message alike.
// Errors the user sees are sentences; what the gateway said goes to the
// browser's console.
import { createClient } from "/deskbridge.js";
import { markdown, safeURL } from "/markdown.js";

const $ = (id) => document.getElementById(id);
const STORE = "deskbridge-demo";
const ACTIVE = new Set(["starting", "waiting", "connected", "agent_left", "transferring", "disconnected", "reconnecting"]);
const WITH_AGENT = new Set(["connected", "agent_left", "transferring", "disconnected"]);

const saved = JSON.parse(sessionStorage.getItem(STORE) || "{}");
// The bot's part of the conversation lives in the page; the agent's part is
// the gateway's event log, replayed from the start after a reload.
const botLog = saved.bot || [];
let state = "idle";
let profile = null;

const client = createClient({
  mode: "flow",
  token: saved.token,
  onEvent,
  onWelcome,
  keepOpen: () => true,
});
window.deskbridgeDemo = { client, get state() { return state; } };

function save() {
  sessionStorage.setItem(STORE, JSON.stringify({ token: client.token || saved.token, bot: botLog }));
}

// ---------- rendering ----------

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** add inserts a transcript line in time order. */
function add(li, time) {
  const t = time || Date.now();
  li.dataset.time = String(t);
  const list = $("transcript");
  let before = null;
  for (const c of list.children) {
    if (Number(c.dataset.time) > t) {
      before = c;
      break;
    }
  }
  list.insertBefore(li, before);
  if (!before) li.scrollIntoView({ block: "end" });
  return li;
}

/** items renders a MessageResponse's generic items. */
function items(message, parent) {
  for (const it of (message && message.output && message.output.generic) || []) {
    const box = el("div", "item");
    switch (it.response_type) {
      case "text":
        markdown(it.text, box);
        break;
      case "image": {
        const src = safeURL(it.source);
        if (src && /^https?:/.test(src)) {
          const img = el("img");
          img.src = src;
          img.alt = it.alt_text || it.title || "";
          img.referrerPolicy = "no-referrer";
          box.append(img);
        } else box.append(document.createTextNode(it.title || "[image]"));
        break;
      }
      case "button": {
        const href = safeURL(it.url);
        if (href) {
          const a = el("a", "link-button", it.label || href);
          a.href = href;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
          box.append(a);
        } else box.append(document.createTextNode(it.label || ""));
        break;
      }
      case "inline_error":
        box.className = "item error";
        box.textContent = it.text || "Error";
        break;
      case "connect_to_agent":
        continue;
      default:
        if (it.text) markdown(it.text, box);
        else continue;
    }
    parent.append(box);
  }
}

function status(text, time) {
  if (text) add(el("li", "status", text), time);
}

function errorLine(text, time) {
  add(el("li", "error", text), time);
}

// userError shows what went wrong as a sentence: what the page tried, then
// the adapter's text for the gateway's code (GatewayError.message). The
// technical detail goes to the browser's console only.
function userError(what, e) {
  console.warn("deskbridge demo:", what, e && e.code, (e && e.detail) || e);
  const text = e && e.name === "GatewayError" ? e.message : "Something went wrong. Try again in a moment.";
  errorLine(what + " " + text);
}

function renderBot(entry) {
  if (entry.who === "user") {
    add(el("li", "user bot-user", entry.text), entry.time);
  } else if (entry.who === "bot") {
    const li = el("li", "bot");
    items(entry.message, li);
    add(li, entry.time);
  } else if (entry.who === "card") {
    renderCard(entry);
  }
}

function renderCard(entry) {
  const li = el("li", "card");
  li.dataset.card = String(entry.time);
  const item = entry.message.output.generic.find((g) => g.response_type === "connect_to_agent") || {};
  if (entry.online === false) {
    li.append(el("div", "card-text", (item.agent_unavailable && item.agent_unavailable.message) || "No agents are available."));
    li.classList.add("no-agents");
  } else {
    li.append(el("div", "card-text", (item.agent_available && item.agent_available.message) || "An agent can help you."));
    const b = el("button", "connect-agent", entry.used ? "Requested" : "Connect to agent");
    b.type = "button";
    b.addEventListener("click", () => connect(entry, b));
    li.append(b);
  }
  add(li, entry.time);
  updateChrome();
}

// uploads is what the desk allows (its capabilities); the 📎 button shows
// only while a chat with an agent can take a file.
let uploads = false;

function updateChrome() {
  $("banner").hidden = !(state === "starting" || state === "waiting" || (state === "reconnecting" && !profile));
  $("agent").hidden = !WITH_AGENT.has(state);
  $("file-label").hidden = !(uploads && WITH_AGENT.has(state));
  $("input").placeholder = ACTIVE.has(state) ? "Message the agent…" : "Type a message… (try: talk to a person)";
  // Only the newest card can connect: an older one is stale (a newer
  // answer may say no agent is available).
  const cards = [...document.querySelectorAll("#transcript li.card")];
  const newest = cards.reduce((n, c) => (n && Number(n.dataset.card) > Number(c.dataset.card) ? n : c), null);
  for (const c of cards) {
    const b = c.querySelector("button.connect-agent");
    if (!b) continue;
    const entry = botLog.find((e) => e.who === "card" && String(e.time) === c.dataset.card);
    const stale = c !== newest;
    b.hidden = stale && !(entry && entry.used);
    let note = c.querySelector(".card-note");
    if (b.hidden && !note) {
      note = el("div", "card-note", "A newer answer is below.");
      c.append(note);
    }
    if (note) note.hidden = !b.hidden;
    b.disabled = stale || !!(entry && entry.used) || ACTIVE.has(state) || b.dataset.busy === "1";
    c.classList.toggle("stale", stale);
  }
  if (!ACTIVE.has(state)) $("agent-typing").hidden = true;
}

function showAgent(p) {
  profile = p;
  $("agent-name").textContent = (p && p.nickname) || "Agent";
  const av = $("agent-avatar");
  av.replaceChildren();
  const src = p && p.profile_picture_url && safeURL(p.profile_picture_url);
  if (src && /^https?:/.test(src)) {
    const img = el("img");
    img.src = src;
    img.alt = "";
    av.append(img);
  } else {
    av.textContent = ((p && p.nickname) || "?").slice(0, 1).toUpperCase();
  }
}

// ---------- events from the gateway ----------

function onWelcome(w) {
  if (w.token) {
    saved.token = w.token;
    save();
  }
  if (w.reset) {
    // The gateway no longer knows what we show: drop the agent part.
    for (const li of [...$("transcript").children]) if (li.dataset.seq) li.remove();
  }
  $("connection").hidden = true;
}

function onEvent(ev) {
  const t = ev.time;
  const mark = (li) => {
    li.dataset.seq = String(ev.seq);
    return li;
  };
  switch (ev.type) {
    case "state":
      state = ev.state;
      if (state === "ended" || state === "idle") profile = null;
      updateChrome();
      break;
    case "queue_update":
      $("banner-text").textContent = ev.text || "Waiting for an agent…";
      break;
    case "agent_joined":
      showAgent(ev.profile);
      add(mark(el("li", "status", ev.text)), t);
      break;
    case "agent_message": {
      const li = mark(el("li", "agent"));
      li.append(el("span", "who", (ev.profile && ev.profile.nickname) || "Agent"));
      items(ev.message, li);
      add(li, t);
      $("agent-typing").hidden = true;
      break;
    }
    case "agent_typing":
      $("agent-typing").hidden = !ev.typing;
      break;
    case "user_message": {
      const li = mark(el("li", "user"));
      li.dataset.id = ev.message_id;
      const text = ev.user_message && ev.user_message.input && ev.user_message.input.text;
      if (text) li.append(document.createTextNode(text));
      for (const f of ev.files || []) li.append(el("span", "file", (text ? " " : "") + "📎 " + f.file.name));
      add(li, t);
      break;
    }
    case "message_status":
      if (ev.status === "failed") {
        const li = document.querySelector(`li.user[data-id="${CSS.escape(ev.message_id)}"]`);
        if (li) li.classList.add("failed");
        add(mark(el("li", "error", ev.text || "Not delivered.")), t);
      }
      break;
    case "file_status":
      if (ev.status === "failed") add(mark(el("li", "error", "File not delivered: " + (ev.text || "error"))), t);
      else if (ev.file_status === "success") add(mark(el("li", "status", "File delivered.")), t);
      break;
    case "screen_share":
      if (ev.screen_share === "requested") {
        if (!$("share-dialog").open) $("share-dialog").showModal();
      } else if ($("share-dialog").open) {
        $("share-dialog").close();
      }
      if (ev.text) add(mark(el("li", "status", ev.text)), t);
      break;
    case "capabilities": {
      const c = ev.capabilities || {};
      uploads = !!c.allowFileUploads;
      $("file").accept = c.allowedFileUploadTypes || "";
      $("file").multiple = !!c.allowMultipleFileUploads;
      updateChrome();
      break;
    }
    case "error":
      add(mark(el("li", "error", ev.text)), t);
      break;
    case "assistant_returned": {
      const li = mark(el("li", "bot"));
      markdown(ev.text, li);
      add(li, t);
      break;
    }
    case "chat_ended":
      $("agent-typing").hidden = true;
      if ($("share-dialog").open) $("share-dialog").close();
      add(mark(el("li", "status", ev.text || "The chat ended.")), t);
      break;
    case "agent_left":
    case "transfer":
    case "disconnected":
    case "reconnected":
    case "reload_warning":
      if (ev.type === "transfer" && ev.profile) showAgent(ev.profile);
      if (ev.text) add(mark(el("li", "status", ev.text)), t);
      break;
  }
}

// ---------- actions ----------

function newID(prefix) {
  return prefix + "-" + crypto.getRandomValues(new Uint32Array(2)).join("");
}

async function askBot(text) {
  let message;
  try {
    const resp = await fetch("/demo/bot", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text }) });
    if (!resp.ok) throw new Error(`/demo/bot answered ${resp.status}`);
    message = await resp.json();
  } catch (e) {
    userError("The bot did not answer.", e);
    return;
  }
  const entry = { who: "bot", message, time: Date.now() };
  botLog.push(entry);
  renderBot(entry);
  const connect = message.output.generic.find((g) => g.response_type === "connect_to_agent");
  if (connect) {
    let online = null;
    try {
      online = (await client.call("areAnyAgentsOnline", { connectMessage: message }, 6000)).online;
    } catch {
      online = false;
    }
    const card = { who: "card", message, online, time: Date.now() };
    botLog.push(card);
    renderCard(card);
  }
  save();
}

async function connect(entry, button) {
  button.dataset.busy = "1";
  button.disabled = true;
  button.textContent = "Connecting…";
  try {
    await client.call("startChat", { connectMessage: entry.message });
    entry.used = true;
    button.textContent = "Requested";
    save();
  } catch (e) {
    button.textContent = "Connect to agent";
    userError("Could not ask for an agent.", e);
  }
  delete button.dataset.busy;
  updateChrome();
}

async function send(text) {
  if (ACTIVE.has(state)) {
    try {
      await client.callRetrying("sendMessageToAgent", { message: { input: { message_type: "text", text } }, messageID: newID("m") });
    } catch (e) {
      userError("Your message was not sent.", e);
    }
    return;
  }
  const entry = { who: "user", text, time: Date.now() };
  botLog.push(entry);
  renderBot(entry);
  save();
  await askBot(text);
}

let typingTimer = null;
let typing = false;
function setTyping(on) {
  if (!WITH_AGENT.has(state) || typing === on) return;
  typing = on;
  client.call("userTyping", { isTyping: on }).catch(() => {});
}

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("input").value.trim();
  if (!text) return;
  $("input").value = "";
  clearTimeout(typingTimer);
  setTyping(false);
  send(text);
});
$("input").addEventListener("input", () => {
  setTyping(true);
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => setTyping(false), 2000);
});
for (const id of ["cancel", "end-chat"]) {
  $(id).addEventListener("click", () => client.call("endChat", {}).catch((e) => userError("The chat could not be ended.", e)));
}
$("share-accept").addEventListener("click", () => answerShare("accepted"));
$("share-decline").addEventListener("click", () => answerShare("declined"));
$("share-dialog").addEventListener("cancel", (e) => {
  e.preventDefault();
  answerShare("declined");
});
function answerShare(st) {
  $("share-dialog").close();
  client.call("screenShareAnswer", { state: st }).catch((e) => userError("Your answer to the screen share request was not sent.", e));
}
$("file").addEventListener("change", async () => {
  const files = [...$("file").files];
  $("file").value = "";
  for (const f of files) {
    const id = newID("file");
    try {
      await client.upload(f, id);
      await client.callRetrying("sendMessageToAgent", { message: { input: { message_type: "text", text: "" } }, messageID: newID("m"), fileIDs: [id] });
    } catch (e) {
      userError(`Could not send ${f.name}.`, e);
    }
  }
});

// ---------- start ----------

for (const entry of botLog) renderBot(entry);
updateChrome();
if (botLog.length === 0) askBot("");
if (saved.token) {
  client.connect().catch(() => {
    $("connection").hidden = false;
  });
}
