/* Starts the chat widget (rasa-webchat 1.0.1, from node_modules) and makes what it renders a little
   safer and easier to use with a keyboard or a screen reader. No code from elsewhere. */
(function () {
  "use strict";

  var RASA_PORT = "5005";
  // The page's language: the visitor's choice (the switch, kept in localStorage), else the
  // browser's when it is Spanish, else English. The conversation's own language is the assistant's
  // (it follows what the visitor writes, components/language.py); the switch asks it for one.
  var LANGUAGE_KEY = "cops_language";
  // rasa-webchat sends what this localStorage key holds once it has reconnected after a reload.
  var NEXT_MESSAGE_KEY = "mrbot_next_message";
  // "Delete my conversation": the assistant asks to confirm in the chat (data/rules.yml).
  var ERASE_PAYLOAD = "/erase_conversation";
  // Where rasa-webchat keeps its copy of the conversation (its session id and every message).
  var WIDGET_SESSION_KEY = "chat_session";
  // Once the assistant has erased the conversation, the socket.io channel sends this event
  // (content/formatting.py): the page deletes the widget's copy and starts afresh, and says so.
  var ERASED_EVENT = "conversation_erased";
  var ERASED_KEY = "cops_conversation_erased";
  // Time to read (and hear) the assistant's "deleted" before the page starts afresh.
  var ERASED_PAUSE_MS = 2500;
  // The "Helpful" / "Not helpful" buttons under an answer send this intent (content/feedback.py).
  var RATING_PAYLOAD = "/rate_answer";

  var ENGLISH = {
    skip: "Skip to the chat",
    agency: "U.S. Department of Justice",
    heading: "COPS Office help assistant",
    // null: the page's own English.
    intro: null,
    introEnd: null,
    emergencyCall: null,
    emergency: null,
    privacy: null,
    switchTo: "Español",
    switchToLang: "es",
    switchLabel: "Ver esta página y el chat en español",
    erase: "Delete my conversation",
    erased: "Your conversation has been deleted, here and from our records. The chat below starts afresh.",
    title: "COPS Office help assistant",
    subtitle: "Answers about SROs, NASRO 2019, COPS Office programs and contacts",
    inputTextFieldHint: "Type your question...",
    connectingText: "Connecting to the assistant...",
    region: "Chat with the COPS Office help assistant",
    log: "Conversation",
    box: "Your question",
    send: "Send",
    rating: "Was this answer helpful?"
  };
  var SPANISH = {
    skip: "Ir al chat",
    agency: "Departamento de Justicia de los EE. UU.",
    heading: "Asistente de ayuda de la Oficina COPS",
    intro:
      "Pregúntele al asistente sobre los oficiales de recursos escolares (SRO, por sus siglas en " +
      "inglés) y su capacitación, la conferencia anual de NASRO de 2019, los programas de la Oficina " +
      "COPS o cómo comunicarse con la Oficina COPS. Responde con lo publicado en el",
    introEnd: "de agosto de 2019 y los datos de contacto publicados por la Oficina COPS.",
    emergencyCall: "En una emergencia, llame al 911.",
    emergency: "Este asistente no puede enviar ayuda ni denunciar un delito.",
    privacy:
      "Por favor, no escriba datos personales como su nombre, su dirección, sus números de teléfono, " +
      "de Seguro Social o de tarjeta, ni detalles de un caso. Los números y direcciones de este tipo se " +
      "ocultan antes de guardar una conversación, y las conversaciones se borran pasado un tiempo. " +
      "Puede borrar la suya en cualquier momento: use «Borrar mi conversación» arriba, o escríbalo en el chat.",
    switchTo: "English",
    switchToLang: "en",
    switchLabel: "View this page and the chat in English",
    erase: "Borrar mi conversación",
    erased: "Su conversación se ha borrado, aquí y de nuestros registros. El chat de abajo empieza de nuevo.",
    title: "Asistente de la Oficina COPS",
    subtitle: "Respuestas sobre los SRO, NASRO 2019, los programas de la Oficina COPS y cómo contactarla",
    inputTextFieldHint: "Escriba su pregunta...",
    connectingText: "Conectando con el asistente...",
    region: "Chat con el asistente de ayuda de la Oficina COPS",
    log: "Conversación",
    box: "Su pregunta",
    send: "Enviar",
    rating: "¿Le fue útil esta respuesta?"
  };

  function pageLanguage() {
    var chosen = localStorage.getItem(LANGUAGE_KEY);
    if (chosen === "en" || chosen === "es") {
      return chosen;
    }
    return /^es\b/i.test(navigator.language || "") ? "es" : "en";
  }

  var language = pageLanguage();
  var words = language === "es" ? SPANISH : ENGLISH;
  // The widget, once it is drawn (its innerRef): sendMessage(payload, text shown as the visitor's).
  var chat = null;

  /* The page in its language: <html lang>, the texts marked data-text, and the switch, which names
     the other language in that language. */
  function writePage() {
    document.documentElement.setAttribute("lang", language);
    document.querySelectorAll("[data-text]").forEach(function (element) {
      var text = words[element.getAttribute("data-text")];
      if (text) {
        element.textContent = text;
      }
    });
    var toggle = document.getElementById("language-switch");
    if (toggle) {
      toggle.textContent = words.switchTo;
      toggle.setAttribute("lang", words.switchToLang);
      toggle.setAttribute("aria-label", words.switchLabel);
      toggle.addEventListener("click", function () {
        var other = words.switchToLang;
        localStorage.setItem(LANGUAGE_KEY, other);
        // The assistant is asked for the language once the widget has reconnected after the
        // reload, so the conversation and the page change together.
        localStorage.setItem(
          NEXT_MESSAGE_KEY,
          JSON.stringify({
            message: '/switch_language{"language": "' + other + '"}',
            expiry: Date.now() + 60000
          })
        );
        location.reload();
      });
    }
    var erase = document.getElementById("erase-conversation");
    if (erase) {
      erase.setAttribute("lang", language);
      // The chat shows the request in the visitor's words; the assistant answers with its question.
      erase.addEventListener("click", function () {
        if (chat && chat.sendMessage) {
          chat.sendMessage(ERASE_PAYLOAD, words.erase);
        }
      });
    }
  }

  /* A message's language, for screen readers (lang=): Spanish by its own letters or its commonest
     words, otherwise English. The assistant's answers are written by the team, with accents. */
  var SPANISH_LETTERS = /[ñáéíóú¿¡]/i;
  var SPANISH_WORDS = /(^|[^a-záéíóúñ])(el|la|los|las|de|del|que|para|por|una|usted|puede|es|en|y|con|hola|gracias)([^a-záéíóúñ]|$)/i;

  function languageOf(text) {
    return SPANISH_LETTERS.test(text) || SPANISH_WORDS.test(text) ? "es" : "en";
  }
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

  /* The messages the widget shows, in order, as it keeps them in localStorage: it writes them there
     before it draws them, each with the title of the button chosen under it (chosenReply), and reads
     them back after a reload, so the choice it remembers is the one a reload shows. */
  function shownMessages() {
    var session;
    try {
      session = JSON.parse(localStorage.getItem(WIDGET_SESSION_KEY) || "{}");
    } catch (error) {
      return [];
    }
    return ((session && session.conversation) || []).filter(function (message) {
      return message && !message.hidden;
    });
  }

  function isRatingPair(message) {
    var buttons = message.buttons || [];
    return (
      buttons.length > 0 &&
      buttons.every(function (button) {
        return typeof button.payload === "string" && button.payload.indexOf(RATING_PAYLOAD) === 0;
      })
    );
  }

  /* An answer's rating buttons: a group named by its question, each a toggle button. Once the
     visitor has chosen, the choice stays marked (aria-pressed) and the pair is disabled, as a native
     button would be (out of the Tab order, still read): the widget keeps the pair clickable, and each
     click would store one more rating of the same answer. The widget draws one .rw-message per
     message it does not hide, in order (its Messages component): that order pairs them with the
     stored ones, and a pair is marked only when its titles are the stored message's. */
  function markRatings(root) {
    var stored = shownMessages();
    var drawn = root.querySelectorAll(".rw-group-message > .rw-message:not(.rw-typing-indication)");
    drawn.forEach(function (element, index) {
      var message = stored[index];
      var group = element.querySelector(".rw-replies");
      if (!message || !group || !isRatingPair(message)) {
        return;
      }
      var buttons = group.querySelectorAll("div.rw-reply");
      var titles = message.buttons.map(function (button) {
        return button.title;
      });
      var same =
        buttons.length === titles.length &&
        Array.prototype.every.call(buttons, function (button, position) {
          return button.textContent === titles[position];
        });
      if (!same) {
        return;
      }
      setOnce(group, "role", "group");
      setOnce(group, "aria-label", words.rating);
      var chosen = message.chosenReply;
      buttons.forEach(function (button) {
        setOnce(button, "aria-pressed", chosen && button.textContent === chosen ? "true" : "false");
        if (chosen) {
          setOnce(button, "aria-disabled", "true");
        }
      });
    });
  }

  /* The widget's quick-reply buttons are <div>s: make them reachable and usable by keyboard, and
     give the conversation, the text box and the send button names a screen reader can say. */
  function improve(root) {
    setOnce(root, "role", "region");
    setOnce(root, "aria-label", words.region);
    setOnce(root, "tabindex", "-1");
    root.querySelectorAll(".rw-message-text, .rw-reply").forEach(function (message) {
      setOnce(message, "lang", languageOf(message.textContent || ""));
    });
    root.querySelectorAll("a").forEach(secureLink);
    markRatings(root);
    root.querySelectorAll("div.rw-reply").forEach(function (reply) {
      setOnce(reply, "role", "button");
      setOnce(reply, "tabindex", reply.getAttribute("aria-disabled") === "true" ? "-1" : "0");
    });
    root.querySelectorAll(".rw-messages-container").forEach(function (log) {
      setOnce(log, "role", "log");
      setOnce(log, "aria-live", "polite");
      setOnce(log, "aria-label", words.log);
      setOnce(log, "tabindex", "0");
    });
    root.querySelectorAll("textarea.rw-new-message").forEach(function (box) {
      setOnce(box, "aria-label", words.box);
    });
    root.querySelectorAll("button.rw-send").forEach(function (send) {
      setOnce(send, "aria-label", words.send);
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
    // Before the widget's own handler (React's, on the document): a disabled button does nothing.
    window.addEventListener(
      "click",
      function (event) {
        var target = event.target;
        if (target instanceof Element && target.closest('#rasaWebchatPro div.rw-reply[aria-disabled="true"]')) {
          event.stopPropagation();
          event.preventDefault();
        }
      },
      true
    );
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

  /* The widget would write its copy back on its next change, so the page starts afresh at once:
     a new conversation, with the notice that the last one was deleted. */
  function forgetConversation() {
    setTimeout(function () {
      localStorage.removeItem(WIDGET_SESSION_KEY);
      sessionStorage.setItem(ERASED_KEY, "1");
      location.reload();
    }, ERASED_PAUSE_MS);
  }

  function sayIfErased() {
    if (!sessionStorage.getItem(ERASED_KEY)) {
      return;
    }
    sessionStorage.removeItem(ERASED_KEY);
    // After the page has loaded, so that screen readers announce the change of the live region.
    setTimeout(function () {
      document.getElementById("chat-status").textContent = words.erased;
    }, 100);
  }

  writePage();
  sayIfErased();
  watch();
  window.WebChat.default(
    {
      socketUrl: rasaServer(),
      socketPath: "/socket.io/",
      // A new conversation starts in the page's language: a payload names it as its entity.
      initPayload: language === "es" ? '/greet{"language": "es"}' : "/greet",
      // Reaches the tracker as the user message's metadata (credentials.yml: metadata_key).
      customData: { language: language, page: location.pathname },
      // Kept in localStorage: a reload goes on with the same conversation.
      params: { storage: "local" },
      onSocketEvent: (function () {
        var events = {};
        events[ERASED_EVENT] = forgetConversation;
        return events;
      })(),
      innerRef: function (widget) {
        chat = widget;
      },
      title: words.title,
      subtitle: words.subtitle,
      inputTextFieldHint: words.inputTextFieldHint,
      connectingText: words.connectingText,
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
