// Drives Debian's Chromium over the DevTools protocol (Node's built-in WebSocket: run with
// `node --experimental-websocket`; no npm package needed) the way a customer on a phone
// answers a survey: open the link, tap a rating, type a comment, tap "send", read the thanks.
// Saves a screenshot of the form and of the answer. Usage:
//   node --experimental-websocket survey.mjs <devtools ws url> <survey link> <screenshot dir>
// Exits non-zero, saying why, if any step fails; every wait is bounded.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const [browserUrl, link, dir] = process.argv.slice(2);
const STEP_MS = 15000;

function connect(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
}

let nextId = 1;
const pending = new Map();
const waiters = [];

function session(ws) {
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      message.error ? reject(new Error(JSON.stringify(message.error))) : resolve(message.result);
    } else if (message.method) {
      for (const waiter of waiters.filter((w) => w.method === message.method && w.sessionId === message.sessionId)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message.params);
      }
    }
  };
  return (method, params = {}, sessionId) =>
    bounded(
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params, sessionId }));
      }),
      method,
    );
}

function event(method, sessionId) {
  return bounded(new Promise((resolve) => waiters.push({ method, sessionId, resolve })), `waiting for ${method}`);
}

function bounded(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), STEP_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main() {
  const ws = await connect(browserUrl);
  const send = session(ws);
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const page = (method, params) => send(method, params, sessionId);
  await page("Page.enable");
  await page("Runtime.enable");
  // A phone: 390 × 844 CSS pixels, device scale 2.
  await page("Emulation.setDeviceMetricsOverride", { width: 390, height: 844, deviceScaleFactor: 2, mobile: true });

  const loaded = event("Page.loadEventFired", sessionId);
  await page("Page.navigate", { url: link });
  await loaded;
  const evaluate = async (expression) =>
    (await page("Runtime.evaluate", { expression, returnByValue: true })).result.value;

  const title = await evaluate("document.title");
  const fits = await evaluate("document.documentElement.scrollWidth <= window.innerWidth");
  if (!fits) throw new Error("the page is wider than the phone's screen");
  const labelled = await evaluate(
    "[...document.querySelectorAll('input[type=radio]')].every(i => i.labels.length === 1) && !!document.querySelector('fieldset legend') && !!document.querySelector('label[for=comment]')",
  );
  if (!labelled) throw new Error("the rating buttons or the comment have no labels");
  const scripts = await evaluate("document.scripts.length");
  if (scripts !== 0) throw new Error(`the page has ${scripts} scripts; it should need none`);
  shot(await page("Page.captureScreenshot", { format: "png" }), "survey-form.png");

  // Tap rating 4 where a finger would: the centre of its label.
  const box = await evaluate(
    "(() => { const r = document.querySelector('label[for=rating-4]').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()",
  );
  await tap(page, box);
  const chosen = await evaluate("document.querySelector('#rating-4').checked");
  if (!chosen) throw new Error("tapping the label did not choose rating 4");
  await evaluate("document.querySelector('#comment').focus()");
  await page("Input.insertText", { text: "Fast and friendly, 谢谢!" });

  const answered = event("Page.loadEventFired", sessionId);
  const button = await evaluate(
    "(() => { const b = document.querySelector('button[type=submit]'); b.scrollIntoView(); const r = b.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()",
  );
  await tap(page, button);
  await answered;
  const status = await evaluate("document.querySelector('[role=status]')?.textContent ?? ''");
  shot(await page("Page.captureScreenshot", { format: "png" }), "survey-answered.png");
  console.log(JSON.stringify({ title, status }));
  if (!/4/.test(status)) throw new Error(`no recorded rating on the page after sending: ${JSON.stringify(status)}`);
  ws.close();
}

// A tap, as the pointer events a finger's tap ends in (press and release at one point).
async function tap(page, [x, y]) {
  await page("Input.dispatchMouseEvent", { type: "mousePressed", x, y, button: "left", clickCount: 1 });
  await page("Input.dispatchMouseEvent", { type: "mouseReleased", x, y, button: "left", clickCount: 1 });
}

function shot(result, name) {
  writeFileSync(join(dir, name), Buffer.from(result.data, "base64"));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`browser test: ${error.message}`);
    process.exit(1);
  },
);
