// Browser test of jvisor's web viewer: playwright-core drives Debian's chromium
// (headless, no browser download). JVISOR and HELPERS name the binary and the
// helpers; SHOTS (optional) a directory for the screenshots of docs/.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const JVISOR = process.env.JVISOR, HELPERS = process.env.HELPERS, SHOTS = process.env.SHOTS;
if (!JVISOR || !HELPERS) throw new Error("set JVISOR and HELPERS");
const kill = setTimeout(() => { console.error("browser test: timed out"); process.exit(1); }, 85000);
const children = [];
process.on("exit", () => children.forEach((c) => c.exitCode === null && c.kill("SIGKILL")));

function serve(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(JVISOR, args, { stdio: ["ignore", "pipe", "pipe"] });
    children.push(p);
    p.out = "";
    p.stdout.on("data", (d) => (p.out += d));
    let err = "";
    p.stderr.on("data", (d) => {
      err += d;
      const m = /web viewer at (http:\/\/\S+?)\/#token=([0-9a-f]+)/.exec(err);
      if (m && !p.base) { p.base = m[1]; p.token = m[2]; resolve(p); }
    });
    p.on("exit", () => reject(new Error("jvisor exited: " + err)));
    setTimeout(() => reject(new Error("no address: " + err)), 20000);
  });
}
let passed = 0;
function check(cond, what) {
  if (!cond) {
    console.log(`${passed} passed, 1 failed`);
    throw new Error("failed: " + what);
  }
  passed++;
  console.log("ok - " + what);
}
const until = async (fn, what, ms = 15000) => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out: " + what);
    await new Promise((r) => setTimeout(r, 100));
  }
};
const rowTexts = (page, col) => page.$$eval(`#rows .r[data-seq] > span:nth-child(${col})`, (s) => s.map((x) => x.textContent));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync"],
});
try {
  /* ---- live ---- */
  const live = await serve(["run", "--web", "127.0.0.1:0", "--", join(HELPERS, "web_tick"), "60"]);
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  page.on("pageerror", (e) => { console.error("page error:", e); process.exitCode = 1; });
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto(`${live.base}/#token=${live.token}`);
  await page.waitForSelector("body[data-ready='1']");
  check((await page.textContent("#status")) === "live", "the badge says live");
  await page.waitForSelector("#rows .r[data-seq]");
  const count = async () => +(await page.textContent("#counts")).replace(/[^0-9].*$/, "").replace(/,/g, "") || 0;
  const c1 = await until(count, "a count");
  await until(async () => (await count()) > c1 + 10, "rows arrive live");
  check(true, "rows arrive live");
  const last = await until(async () => { const s = await rowTexts(page, 1); return s.length && +s[s.length - 1]; }, "rows");
  await until(async () => { const s = await rowTexts(page, 1); return +s[s.length - 1] > last; }, "follow shows the newest rows");
  check(true, "follow keeps the newest rows in view");

  // filter by name
  await page.fill("#f-name", "openat");
  await until(async () => { const n = await rowTexts(page, 5); return n.length > 0 && n.every((x) => x === "openat"); }, "only openat rows");
  check(true, "the name filter shows only openat");
  // details of a row
  await page.click("#rows .r[data-seq]:last-child");
  await page.waitForSelector("#details:not([hidden])");
  check((await page.textContent("#d-body")).includes("ENOENT"), "the details panel shows ENOENT");
  check((await page.textContent("#d-body")).includes("/nonexistent/web-tick"), "the details panel shows the path");
  await page.keyboard.press("Escape");
  check(await page.isHidden("#details"), "Escape closes the details");
  await page.click("#f-clear");

  // the process tree: the child that exited 3
  const childPid = await until(() => page.evaluate(() => {
    for (const li of document.querySelectorAll("#tree li"))
      if (li.querySelector(":scope > .st").textContent.includes("exit 3")) return li.querySelector(":scope > .p").dataset.pid;
    return null;
  }), "the child in the tree");
  await page.click(`#tree .p[data-pid="${childPid}"]`);
  check((await page.inputValue("#f-pid")) === childPid, "clicking a process sets the pid filter");
  await until(async () => { const p = await rowTexts(page, 3); return p.length > 0 && p.every((x) => x.startsWith(childPid + "/")); }, "rows of the child only");
  check(true, "the table shows only the child's records");
  await page.click(`#tree .p[data-pid="${childPid}"]`);
  check((await page.inputValue("#f-pid")) === "", "a second click clears it");
  await until(() => page.evaluate(() => !JSON.parse(window.jvisorState.filter).pid), "the pid filter is gone");
  await until(async () => { const p = await rowTexts(page, 3); return p.some((x) => !x.startsWith(childPid + "/")); }, "all processes again");

  // keyboard: focus the table, move and open
  await page.focus("#table");
  await page.keyboard.press("Home");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#details:not([hidden])");
  const title = await until(async () => { const t = await page.textContent("#d-title"); return / #1$/.test(t) && t; }, "record 1 in the details")
    .catch(async (e) => { throw new Error(e.message + ": " + (await page.textContent("#d-title")) + " " + JSON.stringify(await page.evaluate(() => [document.activeElement.id, window.jvisorState.sel, window.jvisorState.total]))); });
  check(true, `keyboard: Home, Down, Enter opens record 1 (${title})`);
  await page.keyboard.press("Escape");
  await page.check("#follow");

  // a hook loaded from the page changes getppid
  await page.waitForSelector("#hooks-panel:not([hidden])");
  await page.click("#load");
  await until(async () => (await page.textContent("#hooks-msg")).startsWith("loaded"), "the hook loads");
  await until(() => live.out.includes("hooked"), "the program sees getppid() == 4242");
  check(true, "a hook loaded from the page reaches the program");
  await until(async () => (await page.textContent("#hooks")).includes("getppid"), "the hook is listed");
  await page.check("#f-hooked");
  await until(async () => { const r = await rowTexts(page, 7); return r.length > 0 && r.every((x) => x === "4242"); }, "hooked rows return 4242");
  check(true, "hooked only shows getppid returning 4242");
  await page.click("#rows .r[data-seq]:last-child");
  await page.waitForSelector("#details:not([hidden])");
  check((await page.textContent("#d-body")).includes("kernel said"), "details show what the hook changed");
  if (SHOTS) await page.screenshot({ path: join(SHOTS, "web-live.png") });
  await page.click("#theme");
  await page.keyboard.press("Escape");
  await page.uncheck("#f-hooked");
  await page.waitForTimeout(600);
  if (SHOTS) await page.screenshot({ path: join(SHOTS, "web-dark.png") });
  await page.click("#unload-all");
  await until(async () => (await page.textContent("#hooks-msg")).startsWith("unloaded"), "unload all")
    .catch(async (e) => { throw new Error(e.message + ": " + (await page.textContent("#hooks-msg"))); });
  check(true, "unload all from the page");

  // kill the program from the tree
  const exited = new Promise((r) => live.on("exit", (code, sig) => r(code)));
  await page.click("#tree > li > .kill");
  check((await exited) === 128 + 9, "kill from the page ends the program (SIGKILL)");
  await page.close();

  /* ---- view of a saved log ---- */
  const dir = mkdtempSync(join(tmpdir(), "jvisor-web-"));
  const log = join(dir, "saved.jsonl");
  const r = spawnSync(JVISOR, ["run", "-o", log, "--", "sh", "-c", "ls / /nonexistent >/dev/null 2>&1; cat /etc/hostname >/dev/null"]);
  check(r.status === 0, "a saved log is written");
  const view = await serve(["view", log]);
  const vp = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  await vp.goto(`${view.base}/`);
  await vp.waitForSelector("body[data-ready='1']");
  check((await vp.textContent("#status")) === "saved log", "the badge says saved log");
  check(await vp.isHidden("#hooks-panel"), "no hooks panel for a saved log");
  await vp.waitForSelector("#rows .r[data-seq]");
  await vp.click("#c-errs button");
  await until(async () => { const r = await rowTexts(vp, 7); return r.length > 0 && r.every((x) => x.startsWith("-1 ")); }, "errors only");
  check(true, "clicking an errno bar filters the errors");
  await vp.click("#f-clear");
  await vp.waitForTimeout(500);
  if (SHOTS) await vp.screenshot({ path: join(SHOTS, "web-view.png") });
  view.kill("SIGTERM");

  /* ---- a big log: the virtual table jumps to the end and to the middle ---- */
  const big = join(dir, "big.jsonl"), N = 200000, lines = [];
  for (let i = 0; i < N; i++)
    lines.push(JSON.stringify({ type: "syscall", ts: 1700000000 + i / 1000, pid: 9, tid: 9, comm: "big",
      sysno: 39, name: "getpid", args: [], ret: i, errno: 0, errname: null, dur_us: 1 }));
  writeFileSync(big, lines.join("\n") + "\n");
  const bv = await serve(["view", big]);
  const bp = await browser.newPage({ viewport: { width: 1200, height: 700 } });
  await bp.goto(`${bv.base}/`);
  await bp.waitForSelector("body[data-ready='1']");
  await bp.waitForSelector("#rows .r[data-seq]");
  await bp.focus("#table");
  await bp.keyboard.press("End");
  await until(async () => (await rowTexts(bp, 1)).includes(String(N - 1)), "End shows the last record");
  check(true, `End shows record ${N - 1} of a ${N}-record log`);
  const t = Date.now();
  await bp.$eval("#scroller", (el) => { el.scrollTop = el.scrollHeight / 2; });
  const mid = await until(async () => {
    const s = await rowTexts(bp, 1);
    return s.length && s.every((x) => x !== "…") && +s[0] > N * 0.4 && +s[0] < N * 0.6 && +s[0];
  }, "the middle rows", 5000);
  check(Date.now() - t < 5000, `the middle of the log shows at once (record ${mid}, ${Date.now() - t} ms)`);
  bv.kill("SIGTERM");
  console.log(`${passed} passed, 0 failed`);
} finally {
  await browser.close();
  clearTimeout(kill);
}
