// Audit rule: log and count every open of a sensitive file, without ever
// stopping the program for it (observe mode, docs/hooks.md).
//
// Settings (optional, in a script loaded before this one):
//   var AUDIT = {paths: ["/etc/shadow", ...], prefixes: ["/root/.ssh/", ...]};
// Each matching open becomes one record in the event log (or on stderr without
// one): {"audit": "sensitive-open", "path", "flags", "pid", "tid", "ret",
// "errno", "mode"}. When the program's first process ends, a summary line
// "audit: N sensitive opens: PATH xK, ..." is printed.
const settings = typeof AUDIT === "object" ? AUDIT : {};
const PATHS = new Set(settings.paths || ["/etc/shadow", "/etc/gshadow", "/etc/sudoers",
                                         "/etc/passwd"]);
const PREFIXES = settings.prefixes || ["/root/.ssh/", "/etc/ssl/private/"];

function sensitive(path) {
  return typeof path === "string" &&
         (PATHS.has(path) || PREFIXES.some((p) => path.startsWith(p)));
}

function audit(pathArg, flagsArg) {
  return function () {
    if (persistence.glb.root === undefined)
      persistence.glb.root = this.pid;
    const path = this.args[pathArg]; // decoded at the call, as the log shows it
    if (!sensitive(path))
      return;
    const counts = (persistence.glb.audit = persistence.glb.audit || {});
    counts[path] = (counts[path] || 0) + 1;
    accessors.logJson({audit: "sensitive-open", path: path, flags: this.args[flagsArg],
                       pid: this.pid, tid: this.tid, ret: this.ret, errno: this.errno,
                       mode: this.mode});
  };
}

// open(path, flags, mode), openat(dirfd, path, flags, mode), openat2(dirfd, path, how, size)
accessors.AddHookAfter("open", audit(0, 1), {mode: "observe"});
accessors.AddHookAfter("openat", audit(1, 2), {mode: "observe"});
accessors.AddHookAfter("openat2", audit(1, 2), {mode: "observe"});

// The program's first process: the one that made the first execve jvisor saw.
accessors.AddHookBefore("execve", function () {
  if (persistence.glb.root === undefined)
    persistence.glb.root = this.pid;
}, {mode: "observe"});

accessors.AddHookBefore("exit_group", function () {
  if (this.pid !== persistence.glb.root)
    return;
  const counts = persistence.glb.audit || {};
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  accessors.print("audit: " + total + " sensitive open" + (total === 1 ? "" : "s") +
                  (total ? ": " : "") +
                  Object.keys(counts).sort().map((p) => p + " x" + counts[p]).join(", "));
}, {mode: "observe"});
