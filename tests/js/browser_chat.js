// The chat example's own page (python -m fastsock.examples.chat) used the way people use it:
// two headless Chromium windows (separate profiles) load "/", upgrade to WebSocket, and chat
// through the page's forms.
//
//   node browser_chat.js <base url> <chromium executable>
//
// Prints "OK <step>" per step and exits 0, or "FAIL <step>: <why>" and exits 1.

"use strict";

const { chromium } = require("playwright-core");

const [base, executablePath] = process.argv.slice(2);

async function main() {
  const browser = await chromium.launch({
    executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu"],
  });
  const errors = [];
  const step = async (name, fn) => {
    try {
      await fn();
    } catch (err) {
      throw new Error(name + ": " + (err && err.message));
    }
    console.log("OK " + name);
  };
  try {
    const open = async () => {
      const page = await (await browser.newContext()).newPage();
      page.on("pageerror", (err) => errors.push(err.message));
      await page.goto(base + "/");
      return page;
    };
    const textOf = (page, selector) => page.locator(selector).innerText();
    const logHas = (page, text) => page.waitForFunction(
      (t) => document.getElementById("log").innerText.includes(t), text, { timeout: 5000 });
    let alice, bob;

    await step("two windows connect and upgrade to websocket", async () => {
      [alice, bob] = await Promise.all([open(), open()]);
      for (const page of [alice, bob]) {
        await page.waitForFunction(
          () => document.getElementById("state").innerText === "connected (websocket)",
          null, { timeout: 5000 });
        await logHas(page, "welcome, ");
      }
    });

    await step("rename", async () => {
      await alice.fill("#name", "alice");
      await alice.click("#rename-form button");
      await bob.fill("#name", "bob");
      await bob.click("#rename-form button");
      await logHas(bob, "alice");
    });

    await step("chat in the lobby reaches both windows", async () => {
      await alice.fill("#text", "hello from a browser");
      await alice.press("#text", "Enter");
      await logHas(bob, "hello from a browser");
      await logHas(alice, "hello from a browser");
    });

    await step("join a room through the page", async () => {
      await bob.locator("#other-rooms .room", { hasText: "#python" }).getByRole("button").click();
      await logHas(bob, "joined #python");
      await logHas(bob, "(1 here)");
    });

    await step("room messages stay in the room", async () => {
      await bob.fill("#text", "only pythonistas");
      await bob.press("#text", "Enter");
      await logHas(bob, "only pythonistas");
      await alice.waitForTimeout(300);
      if ((await textOf(alice, "#log")).includes("only pythonistas")) {
        throw new Error("alice got a message of a room she is not in");
      }
    });

    await step("the server's ticker reaches the page", async () => {
      await alice.waitForFunction(
        () => / 2 online /.test(document.getElementById("ticker").innerText), null,
        { timeout: 5000 });
    });

    if (errors.length) throw new Error("page errors: " + errors.join("; "));
    return true;
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => { console.log("FAIL " + (err && err.message)); process.exit(1); },
);
