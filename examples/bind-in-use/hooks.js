// All addresses already in use: every bind() fails with EADDRINUSE.
//
// The before-hook returns both `ret` and `errno`, so jvisor skips the real
// bind() and the program sees -1 with errno 98 (EADDRINUSE), whatever the
// address or port. A server under this hook can never start listening.
//
// "bind" may also be written as its x86_64 number, 49, as in seed scripts:
//   hooks.AddCbBefore(49, function () { return { ret: -1, errno: 98 }; });
accessors.AddHookBefore("bind", function (fd, addr, addrlen) {
  accessors.print("[hook] bind(fd " + fd + ") by pid " + this.pid + " -> EADDRINUSE");
  return { ret: -1, errno: 98 };
});
