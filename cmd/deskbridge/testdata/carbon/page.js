// The @carbon/ai-chat page: the real ChatContainer with deskbridge's
// adapter as its serviceDeskFactory, imported at run time from the
// gateway, as an integrator would. Two uses: the browser tests serve it on
// another origin and name the gateway (?gateway=URL); "deskbridge demo
// --carbon" serves it at /carbon/ beside the gateway and the demo bot.
import React from "react";
import { createRoot } from "react-dom/client";
import { ChatContainer } from "@carbon/ai-chat";

const params = new URL(location.href).searchParams;
const demo = !params.get("gateway");
const gateway = params.get("gateway") || new URL("/", location.href).href;
const adapter = await import(/* @vite-ignore */ new URL("deskbridge.js", gateway).href);
// "desk" points the adapter at another gateway URL (a dead one, in a test).
// "sd" is Carbon's serviceDesk config (JSON), given to Carbon and to the
// adapter alike, as an integrator does.
const serviceDesk = JSON.parse(params.get("sd") || "{}");
// "identity" is the user's identity token, as a site's server would sign
// it for its page (here the test signs it).
const identity = params.get("identity") || undefined;
// The page's bot hears who answers the user and how an agent chat ended.
const onOwner = (owner) => window.deskbridgeTest.owners.push(owner);
const onChatEnded = (end) => (window.deskbridgeTest.ended = end);
const bridge = adapter.createDeskbridge({ reconnectTimeoutMs: 8000, baseURL: params.get("desk") || undefined, serviceDesk, identity, onOwner, onChatEnded });

const connectMessage = {
  output: {
    generic: [
      { response_type: "text", text: "Let me find you a person." },
      {
        response_type: "connect_to_agent",
        message_to_human_agent: "The customer asked for a person.",
        agent_available: { message: "An agent can help you now." },
        agent_unavailable: { message: "No agents are available." },
        transfer_info: { summary_message_to_agent: [{ response_type: "text", text: "Customer asked for a person." }] },
      },
    ],
  },
};

// The bot: in the demo, deskbridge's demo bot; in the tests, one that
// escalates when asked for a person.
async function customSendMessage(request, _options, instance) {
  const text = (request.input && request.input.text) || "";
  if (demo) {
    const resp = await fetch("/demo/bot", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text }) });
    await instance.messaging.addMessage(await resp.json());
  } else if (/person|agent|human/i.test(text)) {
    // A copy each time: Carbon freezes a message it was given.
    await instance.messaging.addMessage(structuredClone(connectMessage));
  } else if (text) {
    await instance.messaging.addMessage({ output: { generic: [{ response_type: "text", text: "Bot: say 'talk to a person'." }] } });
  }
}

window.deskbridgeTest = { log: [], instance: null, owners: [], ended: null };

createRoot(document.getElementById("root")).render(
  React.createElement(ChatContainer, {
    serviceDeskFactory: bridge.serviceDeskFactory,
    serviceDesk,
    messaging: { customSendMessage, customLoadHistory: bridge.customLoadHistory },
    openChatByDefault: true,
    onBeforeRender: (instance) => {
      window.deskbridgeTest.instance = instance;
    },
  }),
);
