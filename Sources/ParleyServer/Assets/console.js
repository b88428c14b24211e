// Parley web console: a chat with Parley over a WebSocket. Written for this project; no libraries.
"use strict";

(function () {
  const transcript = document.getElementById("transcript");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const list = document.getElementById("commands");
  const completions = document.getElementById("completions");
  if (!transcript || !form || !input) return;

  let socket = null;
  let commands = [];
  let counter = 0;
  const pending = new Map();

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function scroll() {
    transcript.scrollTop = transcript.scrollHeight;
  }

  function renderBlocks(container, blocks) {
    for (const block of blocks) {
      if (block.type === "text") {
        container.appendChild(element("p", "text", block.text));
      } else if (block.type === "code") {
        container.appendChild(element("pre", "code", block.text));
      } else if (block.type === "table") {
        const table = element("table", "reply-table");
        const head = table.createTHead().insertRow();
        for (const cell of block.header) head.appendChild(element("th", "", cell));
        const body = table.createTBody();
        for (const row of block.rows) {
          const tr = body.insertRow();
          for (const cell of row) tr.appendChild(element("td", "", cell));
        }
        container.appendChild(table);
      } else if (block.type === "fields") {
        const dl = element("dl", "fields");
        for (const field of block.fields) {
          dl.appendChild(element("dt", "", field.label));
          dl.appendChild(element("dd", "", field.value));
        }
        container.appendChild(dl);
      } else if (block.type === "actions") {
        const bar = element("div", "actions");
        for (const action of block.actions) {
          const button = element("button", "action " + (action.style || ""), action.label);
          button.type = "button";
          button.dataset.command = action.command;
          button.addEventListener("click", () => {
            button.disabled = true;
            send(action.command);
          });
          bar.appendChild(button);
        }
        container.appendChild(bar);
      }
    }
  }

  function send(text) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      notice("Not connected; reconnecting…");
      connect();
      return;
    }
    const id = "c" + ++counter;
    const entry = element("div", "entry pending");
    entry.dataset.id = id;
    entry.appendChild(element("div", "said", text));
    const live = element("pre", "live");
    live.hidden = true;
    entry.appendChild(live);
    const answer = element("div", "answer", "running…");
    entry.appendChild(answer);
    transcript.appendChild(entry);
    pending.set(id, { entry, live, answer });
    socket.send(JSON.stringify({ type: "message", id, text }));
    scroll();
  }

  function notice(text) {
    transcript.appendChild(element("div", "notice", text));
    scroll();
  }

  function receive(frame) {
    if (frame.type === "hello") {
      commands = frame.commands || [];
      list.replaceChildren(...commands.map((c) => {
        const option = document.createElement("option");
        option.value = c.word;
        return option;
      }));
      notice("Connected as " + frame.user + ". Type help to see what you may run.");
    } else if (frame.type === "output") {
      const item = pending.get(frame.id);
      if (!item) return;
      item.live.hidden = false;
      item.live.textContent += frame.text;
      scroll();
    } else if (frame.type === "reply") {
      const item = pending.get(frame.id);
      if (!item) return;
      pending.delete(frame.id);
      item.entry.classList.remove("pending");
      item.entry.classList.add("outcome-" + frame.outcome);
      item.entry.dataset.outcome = frame.outcome;
      item.answer.textContent = "";
      // The final reply carries the output (tail) itself; the live view has done its job.
      if (frame.blocks.some((block) => block.type === "code")) item.live.hidden = true;
      renderBlocks(item.answer, frame.blocks);
      scroll();
    } else if (frame.type === "error") {
      notice(frame.message);
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws");
    socket.addEventListener("message", (event) => {
      try {
        receive(JSON.parse(event.data));
      } catch (error) {
        notice("Unreadable message from the server");
      }
    });
    socket.addEventListener("close", () => {
      notice("Disconnected; reconnecting in 2 s…");
      setTimeout(connect, 2000);
    });
  }

  function complete() {
    const text = input.value.trimStart().toLowerCase();
    completions.replaceChildren();
    if (!text || text.includes(" ")) return;
    for (const command of commands.filter((c) => c.word.startsWith(text)).slice(0, 8)) {
      const item = element("li", "completion");
      item.appendChild(element("code", "", command.usage));
      item.appendChild(element("span", "", " — " + command.help));
      item.addEventListener("click", () => {
        input.value = command.word + " ";
        completions.replaceChildren();
        input.focus();
      });
      completions.appendChild(item);
    }
  }

  input.addEventListener("input", complete);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Tab" && completions.firstChild) {
      event.preventDefault();
      completions.firstChild.click();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    completions.replaceChildren();
    send(text);
  });
  connect();
})();
