/* Starts the chat widget (rasa-webchat 1.0.1, from node_modules) and makes what it renders a little
   safer and easier to use with a keyboard or a screen reader. No code from elsewhere. */
(function () {
  "use strict";

  var RASA_PORT = "5005";
  // Hosts a ?server= override may name: this page's own host and this machine.
  var LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

  /* The Rasa server: the page's host on port 5005, or ?server=<url> (tests run Rasa on another
     port). An override pointing anywhere else is ignored, so a link to this page cannot make it
     talk to someone else's server. */
  function rasaServer() {
    var fallback = location.protocol + "//" + location.hostname + ":" + RASA_PORT;
    var asked = new URLSearchParams(location.search).get("server");
    if (!asked) {
      return fallback;
    }
    var url;
    try {
      url = new URL(asked);
    } catch (error) {
      console.warn("Ignoring ?server=: not a URL");
      return fallback;
    }
    var web = url.protocol === "http:" || url.protocol === "https:";
    var near = url.hostname === location.hostname || LOCAL_HOSTS.indexOf(url.hostname) !== -1;
    if (!web || !near) {
      console.warn("Ignoring ?server=: only this page's host or this machine may be named");
      return fallback;
    }
    return url.origin;
  }

  /* Links in the bot's answers: the widget already opens them in a new tab (target=_blank,
     rel="noopener noreferrer"); this keeps it so whatever the message asks, and drops any link
     that is not a web page, an e-mail address or a phone number (e.g. javascript:). */
  var SAFE_SCHEMES = ["http:", "https:", "mailto:", "tel:"];

  function secureLink(link) {
    var href = link.getAttribute("href");
    if (href !== null) {
      var scheme;
      try {
        scheme = new URL(href, location.href).protocol;
      } catch (error) {
        scheme = "";
      }
      if (SAFE_SCHEMES.indexOf(scheme) === -1) {
        link.removeAttribute("href");
      }
    }
    if (link.getAttribute("target") !== "_blank") {
      link.setAttribute("target", "_blank");
    }
    var rel = link.getAttribute("rel") || "";
    if (!/\bnoopener\b/.test(rel) || !/\bnoreferrer\b/.test(rel)) {
      link.setAttribute("rel", "noopener noreferrer");
    }
  }

  function setOnce(element, name, value) {
    if (element.getAttribute(name) !== value) {
      element.setAttribute(name, value);
    }
  }

  /* The widget's quick-reply buttons are <div>s: make them reachable and usable by keyboard, and
     give the conversation, the text box and the send button names a screen reader can say. */
  function improve(root) {
    setOnce(root, "role", "region");
    setOnce(root, "aria-label", "Chat with the COPS Office help assistant");
    setOnce(root, "tabindex", "-1");
    root.querySelectorAll("a").forEach(secureLink);
    root.querySelectorAll("div.rw-reply").forEach(function (reply) {
      setOnce(reply, "role", "button");
      setOnce(reply, "tabindex", "0");
    });
    root.querySelectorAll(".rw-messages-container").forEach(function (log) {
      setOnce(log, "role", "log");
      setOnce(log, "aria-live", "polite");
      setOnce(log, "aria-label", "Conversation");
      setOnce(log, "tabindex", "0");
    });
    root.querySelectorAll("textarea.rw-new-message").forEach(function (box) {
      setOnce(box, "aria-label", "Your question");
    });
    root.querySelectorAll("button.rw-send").forEach(function (send) {
      setOnce(send, "aria-label", "Send");
    });
  }

  function watch() {
    var pending = false;
    var observer = new MutationObserver(function () {
      if (pending) {
        return;
      }
      pending = true;
      // Once per batch of changes, before the browser paints them.
      Promise.resolve().then(function () {
        pending = false;
        var root = document.getElementById("rasaWebchatPro");
        if (root) {
          improve(root);
        }
      });
    });
    observer.observe(document.body, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ["href", "target", "rel"]
    });
    document.addEventListener("keydown", function (event) {
      var reply = event.target;
      if (!(reply instanceof HTMLElement) || !reply.matches("#rasaWebchatPro div.rw-reply")) {
        return;
      }
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        reply.click();
      }
    });
  }

  watch();
  window.WebChat.default(
    {
      socketUrl: rasaServer(),
      socketPath: "/socket.io/",
      initPayload: "/greet",
      // Reaches the tracker as the user message's metadata (credentials.yml: metadata_key).
      customData: { language: "en", page: location.pathname },
      // Kept in localStorage: a reload goes on with the same conversation.
      params: { storage: "local" },
      title: "COPS Office help assistant",
      subtitle: "Answers about SROs, NASRO 2019, COPS Office programs and contacts",
      inputTextFieldHint: "Type your question...",
      connectingText: "Connecting to the assistant...",
      embedded: true,
      showCloseButton: false,
      hideWhenNotConnected: false,
      // A short pause before each answer, not the widget's 0.8 to 3 seconds.
      customMessageDelay: function (message) {
        return Math.min(1000, 300 + 5 * String(message || "").length);
      }
    },
    null
  );
})();
