// Per-syscall latency histogram, printed when the program's first process
// ends: observe-mode hooks (docs/hooks.md) collect each call's duration
// (event.dur_us) without stopping the program for the hook.
//
// Settings (optional, in a script loaded before this one):
//   var LATENCY = {syscalls: ["read", "write", ...]};
// The durations are those jvisor measures: with an event backend (BPF) the
// kernel's entry-to-exit time; in the fallback modes they include the stops.
const settings = typeof LATENCY === "object" ? LATENCY : {};
const SYSCALLS = settings.syscalls || ["read", "write", "openat", "close", "newfstatat",
                                       "getdents64", "mmap", "pread64", "lseek"];

// Buckets: <1 us, 1-2, 2-4, ... (powers of two), as bpftrace's hist() does.
function bucket(us) {
  return us < 1 ? 0 : 1 + Math.floor(Math.log2(us));
}
function label(b) {
  if (b === 0)
    return "<1".padStart(11);
  const lo = 2 ** (b - 1), hi = 2 ** b;
  return (lo + "-" + hi).padStart(11);
}

function record() {
  if (this.dur_us === undefined)
    return; // the call never returned
  persistence.glb.mode = this.mode;
  const h = (persistence.glb.hist = persistence.glb.hist || {});
  const s = (h[this.name] = h[this.name] || {count: 0, total: 0, buckets: []});
  const b = bucket(this.dur_us);
  s.count++;
  s.total += this.dur_us;
  s.buckets[b] = (s.buckets[b] || 0) + 1;
}
for (const name of SYSCALLS)
  accessors.AddHookAfter(name, record, {mode: "observe"});

// The program's first process: the one that made the first execve jvisor saw.
accessors.AddHookBefore("execve", function () {
  if (persistence.glb.root === undefined)
    persistence.glb.root = this.pid;
}, {mode: "observe"});

accessors.AddHookBefore("exit_group", function () {
  if (this.pid !== persistence.glb.root)
    return;
  const h = persistence.glb.hist || {};
  const lines = ["latency histogram (us, per syscall; fed by " + persistence.glb.mode + ")"];
  for (const name of Object.keys(h).sort((a, b) => h[b].count - h[a].count)) {
    const s = h[name];
    lines.push(name + ": " + s.count + " calls, avg " + (s.total / s.count).toFixed(1) + " us");
    const max = Math.max(...s.buckets.filter((x) => x));
    s.buckets.forEach((n, b) => {
      if (n)
        lines.push("  " + label(b) + " " + String(n).padStart(7) + " |" +
                   "@".repeat(Math.max(1, Math.round(40 * n / max))));
    });
  }
  for (const l of lines)
    accessors.print(l);
}, {mode: "observe"});
