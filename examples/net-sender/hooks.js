// net-sender: change the path of the HTTP GET requests a program sends,
// without the program noticing.
//
// A before-hook on write() and sendto() looks at the start of the outgoing
// bytes. When they begin with "GET <FROM>" (then a space or '?'), the request
// that goes on the wire asks for <TO> instead:
//
//  - FROM and TO of the same length: the path is rewritten in place in the
//    program's own buffer, the kernel sends it, and the after-hook writes the
//    original bytes back before the program runs again.
//  - different lengths: the whole request is copied into a fresh mapping in
//    the program (accessors.anonMmap) with the new path, and the syscall is
//    pointed at it (arguments 1 and 2). The program's buffer is never
//    touched; the after-hook unmaps the copy and reports the byte count of
//    the program's own request, so the program sees exactly what it sent.
//
// Settings: edit FROM and TO below, or define NET_SENDER in a script loaded
// before this one:
//   echo 'var NET_SENDER = {from: "/a.txt", to: "/b.txt"};' > settings.js
//   jvisor run -s settings.js -s hooks.js -- curl http://127.0.0.1:8000/a.txt
var FROM = "/original";
var TO = "/rewritten";
if (typeof NET_SENDER !== "undefined") {
  FROM = NET_SENDER.from;
  TO = NET_SENDER.to;
}
if (!/^\/[\x21-\x7e]*$/.test(FROM) || !/^\/[\x21-\x7e]*$/.test(TO))
  throw new Error("net-sender: FROM and TO must be URL paths (printable ASCII, starting with /)");

var WANT = "GET " + FROM;

function ascii(bytes) {
  return String.fromCharCode.apply(null, bytes);
}

function encode(str) {
  var out = new Uint8Array(str.length);
  for (var i = 0; i < str.length; i++) out[i] = str.charCodeAt(i);
  return out;
}

function before(fd, buf, len) {
  if (len < WANT.length + 1) return;
  var head;
  try {
    // Only the first bytes: this runs for every write of the program.
    head = ascii(new Uint8Array(accessors.readBytes(buf, WANT.length + 1)));
  } catch (e) {
    return; // a bad buffer: let the kernel answer EFAULT as usual
  }
  var next = head[WANT.length];
  if (head.slice(0, WANT.length) !== WANT || (next !== " " && next !== "?")) return;

  accessors.print("[net-sender] " + this.name + "(fd " + fd + "): GET " + FROM +
                  " -> GET " + TO);
  var pathAt = buf + 4; // after "GET "
  if (TO.length === FROM.length) {
    accessors.writeString(pathAt, TO);
    persistence.local.netSender = { restoreAt: pathAt, original: FROM };
    return; // same arguments: the kernel reads the rewritten buffer
  }
  var req = new Uint8Array(accessors.readBytes(buf, len));
  var copy = new Uint8Array(len - FROM.length + TO.length);
  copy.set(encode(WANT.slice(0, 4) + TO), 0);
  copy.set(req.subarray(4 + FROM.length), 4 + TO.length);
  var mem = accessors.anonMmap(copy.length);
  accessors.writeBytes(mem, copy);
  persistence.local.netSender = { mem: mem, size: copy.length, programLen: len };
  return { 1: mem, 2: copy.length };
}

function after(fd, buf, len) {
  var p = persistence.local.netSender;
  if (!p) return;
  delete persistence.local.netSender;
  if (p.restoreAt !== undefined) {
    accessors.writeString(p.restoreAt, p.original);
    return;
  }
  accessors.munmap(p.mem, p.size);
  if (this.errno !== 0) return; // the error as it is
  // The kernel counted the bytes of the copy; the program expects a count of
  // its own request. A whole send maps to the whole request. (A short send of
  // a small request on a fresh socket does not happen in practice; it is
  // mapped approximately.)
  if (this.ret >= p.size) return { ret: p.programLen };
  return { ret: Math.max(0, this.ret - (p.size - p.programLen)) };
}

accessors.AddHookBefore("write", before);
accessors.AddHookBefore("sendto", before);
accessors.AddHookAfter("write", after);
accessors.AddHookAfter("sendto", after);
