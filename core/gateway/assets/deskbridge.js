// deskbridge.js: the browser side of the deskbridge gateway.
//
// For @carbon/ai-chat:
//
//   import { serviceDeskFactory, customLoadHistory } from "https://chat.example.com/deskbridge.js";
//   <cds-aichat-container .serviceDeskFactory=${serviceDeskFactory}
//       .messaging=${{ customSendMessage, customLoadHistory }}>
//
// For any page: createClient({ mode: "flow", onEvent }) gives a socket that
// resumes by itself and hands over the engine's events.
//
// No dependencies, no build step. The protocol is docs/gateway-protocol.md.

const MODULE_BASE = new URL(".", import.meta.url).href;

const DEFAULTS = {
  baseURL: MODULE_BASE,
  name: "deskbridge",
  callTimeoutMs: 15000,
  connectTimeoutMs: 8000,
  // serviceDesk is the same object the page gives Carbon as its
  // serviceDesk config (availabilityTimeoutSeconds, allowReconnect, ...):
  // Carbon does not let its desk read it, and the adapter must keep to it.
  serviceDesk: {},
  reconnectTimeoutMs: 10000,
  maxBackoffMs: 10000,
  // A socket lost this long during an agent chat is shown to the user as
  // a lost connection (Carbon's DISCONNECTED status), until it is back.
  lostAfterMs: 2000,
  // identity is the identity token the site's server signed for the
  // logged-in user (a JWT), or a function returning one (or a Promise of
  // one), asked again at every connection so that a short-lived token is
  // renewed. Without it the session is anonymous.
  identity: null,
  // transcript: the conversation with the bot (the user's and the bot's
  // text turns, as the page showed them) goes with the request for an
  // agent, so that the agent sees it. false keeps it on the page.
  transcript: true,
  maxTurns: 50,
  maxTurnChars: 2000,
  texts: {
    waitEndedOnReload:
      "Your request for an agent was cancelled when the page reloaded. Ask again to be connected.",
    resumeFailed: "Your chat with the agent could not be resumed. Ask again to be connected.",
    fileUploadFailed: "The file could not be uploaded.",
    notDelivered: "Your message could not be delivered to the agent.",
  },
  // What a person reads for each gateway error code; the gateway's own
  // message (for developers) is GatewayError.detail and the console.
  errorTexts: {
    no_chat: "There is no chat with an agent right now. Ask again to be connected.",
    chat_running: "A chat with an agent is already going on.",
    start_cancelled: "The request for an agent was cancelled.",
    end_cancelled: "The chat could not be ended just now. Try again.",
    unknown_file: "The file was not uploaded. Pick it again.",
    uploads_not_allowed: "Files can't be sent in this chat.",
    file_too_large: "The file is too large to send.",
    file_type_not_allowed: "This type of file can't be sent.",
    too_many_files: "Too many files were sent in this chat.",
    rate_limited: "You are sending messages too fast. Wait a moment and try again.",
    frame_too_large: "The message is too long to send.",
    message_too_long: "The message is too long to send.",
    timeout: "The service is taking too long to answer. Try again.",
    unavailable: "The service can't be reached right now. Try again in a moment.",
    connection_lost: "The connection to the service was lost. Try again in a moment.",
    shutting_down: "The service is restarting. Try again in a moment.",
    store_full: "The service is busy right now. Try again later.",
    bad_token: "Your chat session has expired. Reload the page to start again.",
    bad_identity: "We could not confirm who you are. Sign in again or reload the page.",
    unauthorized: "Your chat session has expired. Reload the page to start again.",
    not_delivered: "Your message could not be delivered to the agent.",
  },
  errorFallback: "Something went wrong. Try again in a moment.",
};

// errorText is the sentence a person reads for a gateway error code.
function errorText(code) {
  return DEFAULTS.errorTexts[code] || DEFAULTS.errorFallback;
}

function withDefaults(options) {
  const given = Object.fromEntries(Object.entries(options || {}).filter(([, v]) => v !== undefined && v !== null));
  const o = { ...DEFAULTS, ...given };
  o.texts = { ...DEFAULTS.texts, ...((options && options.texts) || {}) };
  o.serviceDesk = { ...((options && options.serviceDesk) || {}) };
  // Carbon's availability budget: availabilityTimeoutSeconds, else 5 s.
  // The adapter answers inside it, so that the gateway's answer is the one
  // Carbon shows.
  const budget = o.serviceDesk.availabilityTimeoutSeconds ? o.serviceDesk.availabilityTimeoutSeconds * 1000 : 5000;
  if (!o.availabilityTimeoutMs) o.availabilityTimeoutMs = Math.max(200, budget - 300);
  if (!o.baseURL.endsWith("/")) o.baseURL += "/";
  return o;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new GatewayError("timeout", `${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

/**
 * An error the gateway answered (code from docs/gateway-protocol.md) or a
 * local one. Its message is a sentence for the person at the page; detail
 * is what the gateway said, for developers.
 */
export class GatewayError extends Error {
  constructor(code, detail, retryAfterMs, text) {
    super(text || errorText(code));
    this.name = "GatewayError";
    this.code = code;
    this.detail = detail || code;
    this.retryAfterMs = retryAfterMs || 0;
  }
}

/**
 * A socket to the gateway that says hello with its token and last seq,
 * reconnects with backoff while `keepOpen()` says so, drops duplicate events,
 * and watches heartbeats.
 */
class Connection {
  constructor(opts, handlers) {
    this.opts = opts;
    this.h = handlers; // { mode, onEvent(frame), onWelcome(frame), onError(frame), onLost(), onToken(), keepOpen() }
    this.token = null;
    this.session = null;
    this.lastSeq = 0;
    this.limits = null;
    this.ws = null;
    this.ready = null; // Promise of an open, welcomed socket
    this.pending = new Map();
    this.nextId = 1;
    this.failures = 0;
    this.watchdog = null;
    this.closedByUs = false;
    this.live = false; // a welcomed socket is open
  }

  wsURL() {
    const u = new URL("ws", this.opts.baseURL);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    return u.href;
  }

  /** ensure opens the socket and says hello, once; later calls share it. */
  ensure() {
    if (this.ready) return this.ready;
    this.closedByUs = false;
    const p = withTimeout(this.open(), this.opts.connectTimeoutMs, "connect to the gateway");
    this.ready = p;
    p.catch(() => {
      if (this.ready === p) this.ready = null;
    });
    return p;
  }

  /** identityToken asks the page for the user's identity token, if any. */
  async identityToken() {
    const id = this.opts.identity;
    const token = typeof id === "function" ? await id() : id;
    return token ? String(token) : undefined;
  }

  async open() {
    let identity;
    try {
      identity = await this.identityToken();
    } catch (e) {
      throw new GatewayError("bad_identity", "the page's identity function failed: " + String(e));
    }
    return this.openWith(identity);
  }

  openWith(identity) {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(this.wsURL());
      } catch (e) {
        reject(new GatewayError("unavailable", String(e)));
        return;
      }
      this.ws = ws;
      let welcomed = false;
      const helloId = "h" + this.nextId++;
      ws.onopen = () => {
        ws.send(JSON.stringify({ op: "hello", id: helloId, token: this.token || undefined, identity, mode: this.h.mode, last_seq: this.lastSeq }));
      };
      ws.onmessage = (m) => {
        let f;
        try {
          f = JSON.parse(m.data);
        } catch {
          return;
        }
        this.pet();
        if (!welcomed && f.re === helloId) {
          if (f.type === "welcome") {
            welcomed = true;
            this.live = true;
            this.failures = 0;
            this.token = f.token;
            this.session = f.session;
            this.limits = f.limits;
            if (f.reset) this.lastSeq = 0;
            // Events up to skipped_to are no longer this token's to read
            // (an earlier chat, or one that ended a while ago): none come.
            if (f.skipped_to > this.lastSeq) this.lastSeq = f.skipped_to;
            this.h.onWelcome && this.h.onWelcome(f);
            resolve(f);
          } else if (f.type === "error" && f.error && f.error.code === "bad_token") {
            // The session is gone (a restart, a new secret): start afresh.
            this.token = null;
            this.lastSeq = 0;
            this.h.onWelcome && this.h.onWelcome({ type: "welcome", reset: true, lost: true });
            ws.send(JSON.stringify({ op: "hello", id: helloId, identity, mode: this.h.mode, last_seq: 0 }));
          } else {
            reject(new GatewayError(f.error ? f.error.code : "bad_frame", f.error ? f.error.message : "hello refused"));
            ws.close();
          }
          return;
        }
        this.frame(f);
      };
      ws.onerror = () => {};
      ws.onclose = (ev) => {
        clearTimeout(this.watchdog);
        if (this.ws === ws) {
          this.ws = null;
          this.ready = null;
          this.live = false;
        }
        const err = new GatewayError("connection_lost", `the gateway socket closed (${ev.code})`);
        for (const [, p] of this.pending) p.reject(err);
        this.pending.clear();
        if (!welcomed) reject(err);
        if (!this.closedByUs && this.h.keepOpen && this.h.keepOpen()) {
          if (welcomed && this.h.onLost) this.h.onLost();
          this.retryLater();
        }
      };
    });
  }

  retryLater() {
    const base = Math.min(this.opts.maxBackoffMs, 500 * 2 ** Math.min(this.failures, 6));
    this.failures++;
    const delay = base / 2 + Math.random() * (base / 2);
    setTimeout(() => {
      if (this.ws || this.closedByUs || !(this.h.keepOpen && this.h.keepOpen())) return;
      this.ensure().catch(() => this.retryLater());
    }, delay);
  }

  /** pet resets the heartbeat watchdog: a silent socket is presumed dead. */
  pet() {
    clearTimeout(this.watchdog);
    const hb = (this.limits && this.limits.heartbeat_ms) || 20000;
    const ws = this.ws;
    this.watchdog = setTimeout(() => ws && ws.close(4000, "no heartbeat"), hb * 2.5);
  }

  frame(f) {
    switch (f.type) {
      case "event":
        if (f.seq <= this.lastSeq) return; // seen already
        if (f.seq !== this.lastSeq + 1 && this.lastSeq !== 0) {
          // A gap should not happen on one socket; resume to fill it.
          this.ws && this.ws.close(4003, "sequence gap");
          return;
        }
        this.lastSeq = f.seq;
        this.h.onEvent(f);
        return;
      case "status":
        if (this.h.onStatus) this.h.onStatus(f);
        return;
      case "result":
      case "error": {
        const p = f.re && this.pending.get(f.re);
        if (p) {
          this.pending.delete(f.re);
          if (f.type === "result") p.resolve(f.result);
          else p.reject(new GatewayError(f.error.code, f.error.message, f.error.retry_after_ms));
        } else if (f.type === "error") {
          // Events were skipped on purpose (no longer kept, or more than a
          // resume replays): the next event starts the count again.
          if (f.error && f.error.code === "events_trimmed") this.lastSeq = 0;
          if (this.h.onError) this.h.onError(f);
        }
        return;
      }
      case "heartbeat":
        if (f.token) {
          // The token was renewed (tokens expire); keep the new one.
          this.token = f.token;
          this.h.onToken && this.h.onToken();
        }
        if (f.last_seq > this.lastSeq) this.ws && this.ws.close(4003, "missed events");
        return;
    }
  }

  /** call sends op and resolves with its result. */
  async call(op, args, timeoutMs) {
    await this.ensure();
    const id = String(this.nextId++);
    const text = JSON.stringify({ op, id, args });
    const max = this.limits && this.limits.max_frame_bytes;
    if (max && new Blob([text]).size > max) {
      throw new GatewayError("frame_too_large", `${op}: ${text.length} bytes is more than the gateway takes (${max})`);
    }
    const ws = this.ws;
    const answer = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    ws.send(text);
    try {
      return await withTimeout(answer, timeoutMs || this.opts.callTimeoutMs, op);
    } finally {
      this.pending.delete(id);
    }
  }

  /** callRetrying retries ops that are safe to repeat (ids make them so). */
  async callRetrying(op, args, deadlineMs) {
    const end = Date.now() + deadlineMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.call(op, args);
      } catch (e) {
        const again = e.code === "connection_lost" || e.code === "rate_limited" || e.code === "timeout" || e.code === "unavailable";
        if (!again || Date.now() > end) throw e;
        await sleep(e.retryAfterMs || Math.min(2000, 200 * 2 ** attempt));
      }
    }
  }

  close() {
    this.closedByUs = true;
    clearTimeout(this.watchdog);
    if (this.ws) this.ws.close(1000, "done");
    this.ws = null;
    this.ready = null;
  }
}

/**
 * createClient opens a gateway client for pages that draw the chat
 * themselves (mode "flow") or handle Carbon callbacks (mode "desk").
 * onEvent gets every event frame once, in order; token and lastSeq may be
 * stored by the page to resume after a reload.
 */
export function createClient(options) {
  const opts = withDefaults(options);
  const conn = new Connection(opts, {
    mode: opts.mode || "flow",
    onEvent: (f) => opts.onEvent && opts.onEvent(f.event, f),
    onWelcome: (w) => opts.onWelcome && opts.onWelcome(w),
    onError: (f) => opts.onError && opts.onError(f.error),
    keepOpen: () => (opts.keepOpen ? opts.keepOpen() : true),
  });
  if (opts.token) conn.token = opts.token;
  if (opts.lastSeq) conn.lastSeq = opts.lastSeq;
  return {
    connect: () => conn.ensure(),
    call: (op, args, timeoutMs) => conn.call(op, args, timeoutMs),
    callRetrying: (op, args, ms) => conn.callRetrying(op, args, ms || opts.callTimeoutMs),
    upload: (file, id) => uploadFile(opts, conn, file, id),
    close: () => conn.close(),
    get token() {
      return conn.token;
    },
    get lastSeq() {
      return conn.lastSeq;
    },
    get session() {
      return conn.session;
    },
  };
}

/** uploadFile posts one browser File to /v1/files and resolves with its file_id. */
async function uploadFile(opts, conn, file, id) {
  await conn.ensure();
  const form = new FormData();
  form.append("file_id", id);
  form.append("file", file, file.name);
  let resp;
  try {
    resp = await fetch(new URL("v1/files", opts.baseURL), {
      method: "POST",
      headers: { Authorization: "Bearer " + conn.token },
      body: form,
    });
  } catch (e) {
    throw new GatewayError("unavailable", String(e));
  }
  if (resp.status === 201) return id;
  let body = {};
  try {
    body = await resp.json();
  } catch {}
  const err = body.error || {};
  const code = err.code || "upload_failed";
  throw new GatewayError(code, err.message, 0, DEFAULTS.errorTexts[code] || opts.texts.fileUploadFailed);
}

// The adapter keeps this under the key "deskbridge" of Carbon's persisted
// desk state: { token, lastSeq, phase: "waiting" | "connected" }.
const STATE_KEY = "deskbridge";

/** The ServiceDesk that Carbon gets from serviceDeskFactory. */
class DeskbridgeServiceDesk {
  constructor(bridge, params) {
    this.bridge = bridge;
    this.opts = bridge.opts;
    this.callback = params.callback;
    this.instance = params.instance;
    this.phase = "idle";
    this.sendChain = Promise.resolve();
    // Messages sent and not yet settled, by id: Carbon's promise for each
    // resolves when the desk took it and rejects when it failed, which is
    // how Carbon marks the right message failed.
    this.outcomes = new Map();
    this.conn = new Connection(this.opts, {
      mode: "desk",
      onEvent: (f) => this.onEvent(f),
      onWelcome: (w) => this.onWelcome(w),
      onLost: () => this.onLost(),
      onStatus: (f) => this.onStoreStatus(f.store === "unavailable"),
      onToken: () => this.phase !== "idle" && this.persist(),
      keepOpen: () => this.phase === "waiting" || this.phase === "connected",
    });
    this.lostTimer = null;
    this.showingLost = false;
    this.storeDown = false;
    this.turns = bridge.turns();
    if (this.opts.transcript !== false) {
      try {
        this.instance &&
          this.instance.on &&
          this.instance.on([
            { type: "send", handler: (e) => this.noteTurn("user", e) },
            { type: "receive", handler: (e) => this.noteTurn("bot", e) },
          ]);
      } catch (e) {
        console.warn("deskbridge: cannot follow the bot conversation", e);
      }
    }
    const saved = (params.persistedState && params.persistedState[STATE_KEY]) || bridge.mirror();
    if (saved && saved.token) {
      this.conn.token = saved.token;
      // Carbon loads the history before it builds the desk: what the
      // history showed must not come again as events.
      this.conn.lastSeq = Math.max(saved.lastSeq || 0, bridge.historySeq.get(saved.token) || 0);
      this.phase = saved.phase || "idle";
      if (this.phase === "waiting") {
        // Carbon does not resume a request that no agent had taken yet (it
        // calls no reconnect then): end it on the desk rather than leave
        // the user queued there without knowing, and say so.
        this.phase = "idle";
        this.abandonWait(this.opts.texts.waitEndedOnReload);
      } else if (this.phase === "connected" && this.opts.serviceDesk.allowReconnect === false) {
        // Carbon ends the chat on its side without calling endChat or
        // reconnect: end it on the desk too.
        this.phase = "idle";
        this.abandonWait(null);
      }
    }
  }

  /**
   * tellHost passes who answers the user (onOwner: "bot", "queued",
   * "agent", "ended") and the end of an agent chat (onChatEnded: why, and the
   * agent's last words) to the page, so that its bot stays silent while a
   * person has the chat and takes it back after.
   */
  tellHost(ev) {
    try {
      if (ev.type === "owner" && this.opts.onOwner) this.opts.onOwner(ev.owner);
      if (ev.type === "chat_ended" && this.opts.onChatEnded) {
        this.opts.onChatEnded({ reason: ev.reason, endedByAgent: !!ev.ended_by_agent, lastAgentText: ev.last_agent_text || "", text: ev.text || "" });
      }
    } catch (e) {
      console.warn("deskbridge: the page's handler failed", e);
    }
  }

  /**
   * noteTurn keeps one turn of the conversation with the bot (not the
   * agent's: none while a chat is waiting or on) for the next hand-off.
   */
  noteTurn(from, e) {
    if (this.phase === "waiting" || this.phase === "connected") return;
    const m = e && e.data;
    if (!m || (m.history && m.history.silent)) return;
    let text = "";
    if (from === "user") {
      text = (m.input && typeof m.input.text === "string" && m.input.text) || "";
    } else {
      const items = (m.output && m.output.generic) || [];
      text = items
        .filter((it) => !it.agent_message_type && it.response_type !== "connect_to_agent")
        .map((it) => (typeof it.text === "string" && it.text) || [it.title, it.description].filter(Boolean).join(": "))
        .filter(Boolean)
        .join("\n");
    }
    text = text.trim();
    if (!text) return;
    const own = from === "bot" && this.ownNotes ? this.ownNotes.indexOf(text) : -1;
    if (own >= 0) {
      this.ownNotes.splice(own, 1);
      return;
    }
    this.turns.push({ from, text: text.slice(0, this.opts.maxTurnChars), at: new Date().toISOString() });
    if (this.turns.length > this.opts.maxTurns) this.turns.splice(0, this.turns.length - this.opts.maxTurns);
    this.bridge.turns(this.turns);
  }

  // getName must answer at once, or Carbon's hydration fails for good.
  getName() {
    return String(this.opts.name || "deskbridge").slice(0, 40) || "deskbridge";
  }

  persist() {
    const mine = { token: this.conn.token, lastSeq: this.conn.lastSeq, phase: this.phase };
    const state = { [STATE_KEY]: mine };
    this.bridge.mirror(mine);
    try {
      this.callback.updatePersistedState(state, false);
    } catch (e) {
      console.warn("deskbridge: updatePersistedState failed", e);
    }
  }

  clearPersisted() {
    this.bridge.mirror(null);
    try {
      // Not null or undefined: Carbon throws on those.
      this.callback.updatePersistedState({}, false);
    } catch (e) {
      console.warn("deskbridge: clearing the persisted state failed", e);
    }
  }

  tellUser(text) {
    // Carbon reports the note as a received message: it is the adapter's,
    // not the bot's, so noteTurn leaves it out of the transcript.
    (this.ownNotes || (this.ownNotes = [])).push(text);
    if (this.ownNotes.length > 16) this.ownNotes.shift();
    const send = () =>
      this.instance && this.instance.messaging && this.instance.messaging.addMessage({ output: { generic: [{ response_type: "text", text }] } });
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      Promise.resolve().then(send).catch((e) => console.warn("deskbridge: addMessage failed", e));
    };
    // During hydration Carbon is not ready for messages yet.
    try {
      this.instance && this.instance.once && this.instance.once({ type: "chat:ready", handler: once });
    } catch {}
    setTimeout(once, 1500);
  }

  async abandonWait(text) {
    this.clearPersisted();
    try {
      await this.conn.callRetrying("endChat", { info: { endedByHumanAgent: false } }, 10000);
    } catch (e) {
      console.warn("deskbridge: could not end the abandoned chat", e.detail || e);
    }
    this.conn.close();
    if (text) this.tellUser(text);
  }

  /**
   * endInCarbon ends, in Carbon, a chat the server ended for a reason
   * Carbon has no callback for (the user's end from the server side: the
   * abandon sweep, a Go host's Session.EndChat; a cancel; a failed
   * resume). It is what a page's own instance.serviceDesk.endConversation()
   * does, so the user sees the chat end as Carbon shows it.
   */
  endInCarbon(text) {
    this.phase = "ended";
    this.clearPersisted();
    const sd = this.instance && this.instance.serviceDesk;
    Promise.resolve()
      .then(() => sd && sd.endConversation && sd.endConversation())
      .catch((e) => console.warn("deskbridge: endConversation failed", e))
      .finally(() => {
        if (text) this.tellUser(text);
      });
  }

  /**
   * onLost: the socket to the gateway dropped (a network blip, a server
   * restart or deploy). The chat goes on on the server; if the socket is
   * not back soon, Carbon shows the connection as lost (input read-only)
   * rather than anything final, and "reconnected" when it is back.
   * While waiting for an agent nothing is shown: Carbon would end the
   * request on a DISCONNECTED status.
   */
  onLost() {
    if (this.phase !== "connected" || this.lostTimer || this.showingLost) return;
    this.lostTimer = setTimeout(() => {
      this.lostTimer = null;
      if (this.phase !== "connected" || this.conn.live) return;
      this.showingLost = true;
      this.setDisconnected(true);
    }, this.opts.lostAfterMs);
  }

  /**
   * onStoreStatus: the server's store stopped taking saves (or takes them
   * again). The chat is not over: what the user and the agent do waits on
   * the server until the store is back. Carbon shows the connection as
   * lost meanwhile, as for a lost socket, and "reconnected" after.
   */
  onStoreStatus(down) {
    this.storeDown = down;
    if (this.phase !== "connected") return;
    if (down && !this.showingLost) {
      this.showingLost = true;
      this.setDisconnected(true);
    } else if (!down && this.showingLost && this.conn.live) {
      this.showingLost = false;
      this.setDisconnected(false);
    }
  }

  setDisconnected(lost) {
    try {
      this.callback.setErrorStatus({ type: 2, isDisconnected: lost });
    } catch (e) {
      console.warn("deskbridge: setErrorStatus failed", e);
    }
  }

  onWelcome(w) {
    clearTimeout(this.lostTimer);
    this.lostTimer = null;
    const caps = w.snapshot && w.snapshot.capabilities;
    if (caps && caps.allowFileUploads && this.phase !== "idle") {
      // After a reload Carbon has forgotten what the desk allows.
      try {
        this.callback.updateCapabilities(caps);
      } catch (e) {
        console.warn("deskbridge: updateCapabilities failed", e);
      }
    }
    if (w.reset) this.settleAll(new GatewayError("connection_lost", "the gateway lost the session"));
    if (!w.reset && this.phase === "connected") this.onStoreStatus(!!w.store_unavailable);
    if (!w.reset || this.phase === "idle") return;
    this.showingLost = false;
    // The gateway lost the session (a restart without a persistent store):
    // the chat Carbon shows is gone.
    const was = this.phase;
    this.finish();
    if (was === "connected") this.callback.agentEndedChat();
    else this.callback.setErrorStatus({ type: 1 });
  }

  finish() {
    this.phase = "ended";
    this.clearPersisted();
    this.closeWhenSettled();
  }

  /**
   * closeWhenSettled closes the socket of an ended chat once every message
   * sent in it has its outcome: one in flight at the end is reported by the
   * desk's answer, which comes after the end.
   */
  closeWhenSettled() {
    const close = () => {
      if (this.phase !== "ended") return;
      this.settleAll(new GatewayError("not_delivered", "the chat ended", 0, this.opts.texts.notDelivered));
      this.conn.close();
    };
    if (this.outcomes.size === 0) {
      setTimeout(close, 0);
      return;
    }
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(close, 35000);
  }

  settleAll(err) {
    for (const [, o] of this.outcomes) o.reject(err);
    this.outcomes.clear();
  }

  onEvent(f) {
    const ev = f.event || {};
    const cb = f.callback;
    if (ev.chat) this.chatNo = ev.chat;
    this.tellHost(ev);
    if (ev.type === "chat_ended" && ev.chat && ev.chat === this.carbonEnded) {
      // The end of a chat Carbon ended itself. A new chat may already be
      // under way (the user asked again at once): leave that one be.
      if (this.phase === "ended") this.finish();
      return;
    }
    const live = this.phase === "waiting" || this.phase === "connected";
    // Carbon counts a transfer with a profile as connected, as a join: so
    // must the adapter, or a reload would take the chat for a wait.
    if ((ev.type === "agent_joined" || (ev.type === "transfer" && ev.profile)) && this.phase === "waiting") this.phase = "connected";
    if (ev.type === "message_status" && ev.message_id) {
      const o = this.outcomes.get(ev.message_id);
      if (o && ev.status !== "queued") {
        this.outcomes.delete(ev.message_id);
        if (ev.status === "failed") o.reject(new GatewayError("not_delivered", ev.text, 0, ev.text || this.opts.texts.notDelivered));
        else o.resolve();
        if (this.phase === "ended" && this.outcomes.size === 0) this.closeWhenSettled();
      }
    }
    if (cb) {
      try {
        if (cb.method === "screenShareRequest") {
          Promise.resolve(this.callback.screenShareRequest())
            .then((state) => this.conn.call("screenShareAnswer", { state }))
            .catch((e) => console.warn("deskbridge: screen share answer", e));
        } else if (typeof this.callback[cb.method] === "function") {
          this.callback[cb.method](...cb.args);
        }
      } catch (e) {
        console.warn("deskbridge: callback " + cb.method + " failed", e);
      }
    }
    if (ev.type === "chat_ended") {
      if (!cb && live) {
        // Carbon did not end it (it calls endChat first, which moves the
        // phase on) and has no callback for this end: tell it.
        const own = ev.reason === "user" || ev.reason === "cancelled";
        this.endInCarbon(own ? null : ev.text);
      }
      this.finish();
    } else if (this.phase === "waiting" || this.phase === "connected") {
      this.persist();
    }
  }

  async areAnyAgentsOnline(connectMessage) {
    try {
      // The gateway answers within the budget Carbon gives the check; the
      // adapter waits a little longer for that answer.
      const budget = this.opts.availabilityTimeoutMs;
      const r = await this.conn.call("areAnyAgentsOnline", { connectMessage, timeoutMs: Math.max(100, budget - 200) }, budget);
      return r.online; // true, false or null
    } catch (e) {
      console.warn("deskbridge: availability check failed", e);
      return false; // no gateway, no agent
    }
  }

  async startChat(connectMessage, startChatOptions) {
    await this.conn.ensure();
    this.phase = "waiting";
    this.persist();
    const args = { connectMessage, options: { preStartChatPayload: startChatOptions && startChatOptions.preStartChatPayload } };
    if (this.opts.transcript !== false && this.turns.length) {
      args.transcript = this.turns.slice();
      // The oldest turns go first when the request would not fit a frame.
      const max = ((this.conn.limits && this.conn.limits.max_frame_bytes) || 65536) - 1024;
      while (args.transcript.length && new Blob([JSON.stringify(args)]).size > max) args.transcript.shift();
    }
    try {
      try {
        await this.conn.call("startChat", args);
      } catch (e) {
        if (e.code !== "chat_running") throw e;
        // A chat of this tab that Carbon does not show is still open on
        // the server: end it and ask again, with the same payload.
        await this.conn.call("endChat", {}).catch(() => {});
        await this.conn.call("startChat", args);
      }
      // The agent has these turns now; the next hand-off carries what
      // comes after.
      if (args.transcript) {
        this.turns = [];
        this.bridge.turns(this.turns);
      }
    } catch (e) {
      if (e.code === "start_cancelled") {
        // The server's pre-start hook cancelled: as when a Carbon
        // pre:startChat listener cancels, the request just goes, with no
        // error line.
        if (this.phase === "waiting") this.endInCarbon(null);
        return;
      }
      if (this.phase === "waiting") {
        this.phase = "idle";
        this.clearPersisted();
      }
      throw e;
    }
  }

  endChat(info) {
    const was = this.phase;
    this.carbonEnded = this.chatNo;
    this.phase = "ended";
    this.clearPersisted();
    if (was === "idle" && !this.conn.token) return Promise.resolve();
    return this.conn
      .callRetrying("endChat", { info: { preEndChatPayload: info && info.preEndChatPayload, endedByHumanAgent: !!(info && info.endedByHumanAgent) } }, 8000)
      .then(() => undefined)
      .catch((e) => console.warn("deskbridge: endChat", e))
      .finally(() => {
        if (this.phase === "ended") this.closeWhenSettled();
      });
  }

  /**
   * sendMessageToAgent resolves once the desk took the message and
   * rejects when it could not be delivered (now or when the chat ends), so
   * Carbon marks that message failed. The id end to end is message.id:
   * the one Carbon's USER_MESSAGE error looks up (it passes another as
   * messageID).
   */
  sendMessageToAgent(message, messageID, additionalData) {
    const id = (message && message.id) || messageID;
    const outcome = new Promise((resolve, reject) => this.outcomes.set(id, { resolve, reject }));
    outcome.catch(() => {});
    // Uploads and sends one at a time, so that uploads never reorder
    // messages; the outcomes are awaited side by side.
    const run = () => this.send(message, id, additionalData);
    const p = this.sendChain.then(run, run);
    this.sendChain = p.catch(() => {});
    return p.then(
      (sent) => {
        if (!sent) this.outcomes.delete(id);
        return sent ? outcome : undefined;
      },
      (e) => {
        this.outcomes.delete(id);
        throw e;
      },
    );
  }

  async send(message, messageID, additionalData) {
    const files = (additionalData && additionalData.filesToUpload) || [];
    const fileIDs = [];
    for (const up of files) {
      try {
        await uploadFile(this.opts, this.conn, up.file, up.id);
        fileIDs.push(up.id);
      } catch (e) {
        this.callback.setFileUploadStatus(up.id, true, e.message || this.opts.texts.fileUploadFailed);
      }
    }
    const text = message && message.input && message.input.text;
    if (!text && fileIDs.length === 0) return false;
    const plain = { id: messageID, input: message.input, history: message.history };
    // The same messageID again is taken once, so a retry after a lost
    // socket can never double a message.
    await this.conn.callRetrying("sendMessageToAgent", { message: plain, messageID, fileIDs }, 20000);
    return true;
  }

  async userTyping(isTyping) {
    await this.conn.call("userTyping", { isTyping: !!isTyping }).catch(() => {});
  }

  async userReadMessages() {
    await this.conn.call("userReadMessages", {}).catch(() => {});
  }

  filesSelectedForUpload(uploads) {
    const meta = (uploads || []).map((u) => ({ id: u.id, file: { name: u.file.name, size: u.file.size, type: u.file.type } }));
    this.conn.call("filesSelectedForUpload", { uploads: meta }).catch((e) => console.warn("deskbridge: filesSelectedForUpload", e));
  }

  async screenShareStop() {
    await this.conn.call("screenShareStop", {}).catch(() => {});
  }

  /**
   * reconnect resumes the agent chat after a reload: Carbon waits for it
   * without a timeout, so it has one here. When it answers false the chat
   * is also ended on the server, which Carbon would not do.
   */
  async reconnect() {
    try {
      const r = await withTimeout(
        this.conn.call("reconnect", {}, this.opts.reconnectTimeoutMs),
        this.opts.reconnectTimeoutMs,
        "reconnect",
      );
      if (r && r.reconnected) {
        this.phase = "connected";
        this.persist();
        return true;
      }
    } catch (e) {
      console.warn("deskbridge: reconnect failed", e);
    }
    const hadToken = !!this.conn.token;
    this.phase = "ended";
    this.clearPersisted();
    if (hadToken) {
      this.conn
        .callRetrying("endChat", { info: { endedByHumanAgent: false } }, 10000)
        .catch(() => {})
        .finally(() => this.conn.close());
    }
    this.tellUser(this.opts.texts.resumeFailed);
    return false;
  }
}

/**
 * loadHistory fetches the agent conversation of a chat that was running
 * before the reload, for customLoadHistory. It never rejects.
 */
async function loadHistory(bridge) {
  const saved = bridge.mirror();
  if (!saved || !saved.token || saved.phase !== "connected") return [];
  try {
    const resp = await withTimeout(
      fetch(new URL("v1/history", bridge.opts.baseURL), { headers: { Authorization: "Bearer " + saved.token } }),
      bridge.opts.callTimeoutMs,
      "history",
    );
    if (!resp.ok) return [];
    const h = await resp.json();
    // Events up to last_seq are now on screen; the socket resumes after it.
    bridge.historySeq.set(saved.token, h.last_seq || 0);
    return h.items || [];
  } catch (e) {
    console.warn("deskbridge: history", e);
    return [];
  }
}

/**
 * createDeskbridge returns a serviceDeskFactory and a customLoadHistory for
 * one gateway. Options: baseURL (default: where this module was loaded
 * from), name, identity (the signed identity token of the logged-in user,
 * or a function that returns one), transcript (false: the bot conversation
 * stays on the page), onOwner(owner) and onChatEnded({reason, endedByAgent,
 * lastAgentText, text}), reconnectTimeoutMs, callTimeoutMs, texts.
 */
export function createDeskbridge(options) {
  const bridge = { opts: withDefaults(options), historySeq: new Map() };
  // The desk state is also kept in the tab's sessionStorage (the scope of
  // Carbon's own), because Carbon asks for the history before it builds the
  // desk and hands it the persisted state.
  const key = "deskbridge:" + bridge.opts.baseURL;
  bridge.mirror = (value) => {
    try {
      if (value === undefined) return JSON.parse(sessionStorage.getItem(key) || "null");
      if (value === null) sessionStorage.removeItem(key);
      else sessionStorage.setItem(key, JSON.stringify(value));
    } catch {
      return null;
    }
  };
  // The bot conversation, kept in the tab too: a reload does not lose it.
  // Not under "deskbridge:": that is the chat's state, gone with the chat.
  const turnsKey = "deskbridge-turns:" + bridge.opts.baseURL;
  bridge.turns = (value) => {
    try {
      if (value === undefined) return JSON.parse(sessionStorage.getItem(turnsKey) || "[]") || [];
      sessionStorage.setItem(turnsKey, JSON.stringify(value));
    } catch {
      return [];
    }
  };
  bridge.serviceDeskFactory = (params) => {
    // Never rejects, never waits: Carbon spins forever on a failed factory.
    let desk;
    try {
      desk = new DeskbridgeServiceDesk(bridge, params || {});
    } catch (e) {
      console.error("deskbridge: factory", e);
      desk = new DeskbridgeServiceDesk(bridge, { callback: params && params.callback, instance: params && params.instance });
    }
    return Promise.resolve(desk);
  };
  bridge.customLoadHistory = () => loadHistory(bridge);
  return bridge;
}

const defaultBridge = createDeskbridge();

/** serviceDeskFactory for @carbon/ai-chat, talking to the gateway that served this module. */
export const serviceDeskFactory = defaultBridge.serviceDeskFactory;

/** customLoadHistory for @carbon/ai-chat's messaging config: the agent conversation after a reload. */
export const customLoadHistory = defaultBridge.customLoadHistory;
