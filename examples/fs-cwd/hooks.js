// fs-cwd: the program believes it runs in FAKE_CWD, and its relative paths
// open files under REAL_DIR (jvisor's take on tvisor's tvisor-fs example).
//
//  - getcwd(): an after-hook writes FAKE_CWD into the program's buffer and
//    fixes the return value (the raw syscall returns the length with the NUL).
//  - open(), creat(), openat(), openat2(): a before-hook turns a relative
//    path (and a path under FAKE_CWD) into REAL_DIR/path. The new path is
//    written into a fresh mapping in the program (accessors.anonMmap) and the
//    path argument is pointed at it; the program's own string is untouched.
//    An after-hook unmaps it.
//
// Only getcwd and the open calls are changed, as in tvisor-fs: stat, access,
// chdir, exec of relative paths and so on still see the real directory. The
// hooks change paths, they are not a security boundary ("../" walks out of
// REAL_DIR).
//
// Settings: edit the two lines below, or define FS_CWD in a script loaded
// before this one:
//   echo 'var FS_CWD = {fake: "/anydir", real: "/srv/data"};' > settings.js
//   jvisor run -s settings.js -s hooks.js -- /bin/pwd -P
var FAKE_CWD = "/anydir";
var REAL_DIR = "/tmp";
if (typeof FS_CWD !== "undefined") {
  FAKE_CWD = FS_CWD.fake;
  REAL_DIR = FS_CWD.real;
}
FAKE_CWD = FAKE_CWD.replace(/\/+$/, "");
REAL_DIR = REAL_DIR.replace(/\/+$/, "");
if (FAKE_CWD[0] !== "/" || REAL_DIR[0] !== "/")
  throw new Error("fs-cwd: FAKE_CWD and REAL_DIR must be absolute paths other than /");

var AT_FDCWD = -100;
var EFAULT = 14, ERANGE = 34;
var PATH_MAX = 4096;

// Bytes of s in UTF-8, the encoding writeString writes.
function utf8Length(s) {
  return unescape(encodeURIComponent(s)).length;
}

// getcwd(buf, size)
accessors.AddHookAfter("getcwd", function (buf, size) {
  var need = utf8Length(FAKE_CWD) + 1; // with the NUL
  if (size < need) return { errno: ERANGE };
  try {
    accessors.writeString(buf, FAKE_CWD, { nul: true });
  } catch (e) {
    return { errno: EFAULT };
  }
  return { ret: need };
});

// The path the program's path stands for, or null to leave it alone.
function mapped(path) {
  if (path === "") return null;
  if (path[0] !== "/") return REAL_DIR + "/" + path;
  if (path === FAKE_CWD || path.startsWith(FAKE_CWD + "/"))
    return REAL_DIR + path.slice(FAKE_CWD.length);
  return null;
}

// Point argument `index` (a path) at REAL_DIR's copy of it.
function remap(index, addr) {
  var path;
  try {
    path = accessors.readString(addr, PATH_MAX);
  } catch (e) {
    return; // a bad pointer: the kernel answers EFAULT as usual
  }
  var to = mapped(path);
  if (to === null) return;
  var size = utf8Length(to) + 1;
  var mem = accessors.anonMmap(size);
  accessors.writeString(mem, to, { nul: true });
  persistence.local.fsCwd = { mem: mem, size: size };
  var change = {};
  change[index] = mem;
  return change;
}

function unmap() {
  var p = persistence.local.fsCwd;
  if (!p) return;
  delete persistence.local.fsCwd;
  accessors.munmap(p.mem, p.size);
}

function atCwd(dirfd) {
  return (dirfd | 0) === AT_FDCWD; // an int, whatever the upper bits
}

accessors.AddHookBefore("open", function (path) { return remap(0, path); });
accessors.AddHookBefore("creat", function (path) { return remap(0, path); });
accessors.AddHookBefore("openat", function (dirfd, path) {
  // A relative path with a real dirfd is relative to that directory: leave it.
  if (atCwd(dirfd) || accessors.readString(path, 1) === "/") return remap(1, path);
});
accessors.AddHookBefore("openat2", function (dirfd, path) {
  if (atCwd(dirfd) || accessors.readString(path, 1) === "/") return remap(1, path);
});
["open", "creat", "openat", "openat2"].forEach(function (name) {
  accessors.AddHookAfter(name, unmap);
});
