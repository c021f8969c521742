// Drives tests/flask/example_app.py from a real browser (headless Chromium through
// playwright-core): the same steps as flask_example_client.js, run in a page of the server's
// own origin, with the browser's XMLHttpRequest/fetch and WebSocket.
//
//   node browser_example_client.js <base url> <transport> <client> <chromium executable>
//
// transport: polling | websocket | upgrade; client: official (socket.io-client 4's browser
// bundle from node_modules) | a path to fastsock-client.js.
// Prints "OK <step>" per step, then the browser's version, and exits 0; or prints
// "FAIL <step>: <why>" and exits 1. DEBUG_BROWSER=1 also prints the page's console and failed
// requests.

"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const [base, transport, client, executablePath] = process.argv.slice(2);
const official = client === "official";
const clientScript = official
  ? path.join(__dirname, "node_modules", "socket.io-client", "dist", "socket.io.min.js") : client;
// No route of the example app: the 404 page is a document of the server's own origin (and
// network address) to run the scripts in, with nothing else on it.
const PAGE = "/__fastsock_browser_test__";

async function main() {
  const browser = await chromium.launch({
    executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu"],
  });
  try {
    const page = await browser.newPage();
    page.on("pageerror", (err) => console.log("page error: " + err.message));
    if (process.env.DEBUG_BROWSER) {
      page.on("console", (m) => console.log("console: " + m.text()));
      page.on("requestfailed", (r) => console.log("failed: " + r.url() + " " +
        r.failure().errorText));
    }
    await page.exposeFunction("report", (line) => console.log(line));
    await page.goto(base + PAGE);
    await page.addScriptTag({ content: fs.readFileSync(clientScript, "utf8") });
    const steps = fs.readFileSync(path.join(__dirname, "example_steps.js"), "utf8");
    await page.addScriptTag({ content: steps });
    const ok = await page.evaluate(
      ([url, how, isOfficial]) => runSteps(exampleSteps(io, url, how, isOfficial), report),
      [base, transport, official],
    );
    console.log("browser " + browser.version());
    return ok;
  } finally {
    await browser.close();
  }
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (err) => { console.log("FAIL browser: " + (err && err.message)); process.exit(1); },
);
