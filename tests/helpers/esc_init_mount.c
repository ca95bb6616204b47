/* Attack helper (issue 13, finding 6): make read-only mounts of --isolate
 * writable with every capability of the sandbox's user namespace (run with a
 * policy that allows the mount syscalls, so that only the kernel decides).
 * For each path: mount_setattr clearing MOUNT_ATTR_RDONLY (plain and
 * AT_RECURSIVE), a bind remount without MS_RDONLY, and umount2; then statvfs.
 * Prints ESCAPED and exits 1 when a path became writable. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

static int writable(const char *path)
{
	struct statvfs sv;
	return statvfs(path, &sv) == 0 && !(sv.f_flag & ST_RDONLY);
}

static void report(const char *what, const char *path, long r)
{
	printf("%s %s: %s\n", what, path, r == 0 ? "succeeded" : strerror(errno));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int bad = 0;
	for (int i = 1; i < argc; i++) {
		const char *p = argv[i];
		if (writable(p)) {
			printf("SKIP %s is writable to start with\n", p);
			bad = 1;
			continue;
		}
		struct mount_attr a = {.attr_clr = MOUNT_ATTR_RDONLY};
		report("mount_setattr", p,
		       syscall(SYS_mount_setattr, AT_FDCWD, p, 0, &a, sizeof(a)));
		report("mount_setattr(AT_RECURSIVE)", p,
		       syscall(SYS_mount_setattr, AT_FDCWD, p, AT_RECURSIVE, &a, sizeof(a)));
		report("remount", p, mount(NULL, p, NULL, MS_REMOUNT | MS_BIND, NULL));
		if (strcmp(p, "/"))
			report("umount2", p, umount2(p, MNT_DETACH));
		if (writable(p)) {
			printf("ESCAPED %s is writable\n", p);
			bad = 1;
		} else {
			printf("BLOCKED %s stays read-only\n", p);
		}
	}
	return bad;
}
