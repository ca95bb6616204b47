// Cut a program off the network without a single ptrace stop: socket() of
// AF_INET (2) or AF_INET6 (10) fails with EACCES; every other socket (AF_UNIX,
// netlink...) and every other syscall runs untouched.
//
// {mode: "notify"}: the hook only denies, so jvisor serves it through seccomp
// user notification instead of a ptrace stop; {args: {0: ...}}: the family
// test is compiled into the seccomp filter, so other socket() calls do not even
// reach jvisor. Deciding on a register argument (the family) is sound in notify
// mode: registers cannot change under the hook (docs/hooks.md, "Notify mode").
const names = { 2: "AF_INET", 10: "AF_INET6" };
for (const family of [2, 10]) {
  accessors.AddHookBefore("socket", function (domain) {
    accessors.print(`[hook] socket(${names[domain]}, ...) denied with EACCES (${this.mode})`);
    return { ret: -1, errno: 13 };
  }, { mode: "notify", args: { 0: family } });
}
