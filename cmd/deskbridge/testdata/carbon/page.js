// The @carbon/ai-chat test page: the real ChatContainer with deskbridge's
// adapter as its serviceDeskFactory. The adapter is imported at run time
// from the gateway (another origin), as an integrator would.
import React from "react";
import { createRoot } from "react-dom/client";
import { ChatContainer } from "@carbon/ai-chat";

const params = new URL(location.href).searchParams;
const gateway = params.get("gateway");
const adapter = await import(/* @vite-ignore */ new URL("deskbridge.js", gateway).href);
// "desk" points the adapter at another gateway URL (a dead one, in a test).
// "sd" is Carbon's serviceDesk config (JSON), given to Carbon and to the
// adapter alike, as an integrator does.
const serviceDesk = JSON.parse(params.get("sd") || "{}");
const bridge = adapter.createDeskbridge({ reconnectTimeoutMs: 8000, baseURL: params.get("desk") || undefined, serviceDesk });

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

// The bot: escalates when asked for a person.
async function customSendMessage(request, _options, instance) {
  const text = (request.input && request.input.text) || "";
  if (/person|agent|human/i.test(text)) {
    // A copy each time: Carbon freezes a message it was given.
    await instance.messaging.addMessage(structuredClone(connectMessage));
  } else if (text) {
    await instance.messaging.addMessage({ output: { generic: [{ response_type: "text", text: "Bot: say 'talk to a person'." }] } });
  }
}

window.deskbridgeTest = { log: [], instance: null };

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
