/* A static program for container tests (tests/test_oci.py): runs in an image
 * with no libc. oci_probe bind | steal-log | exit N | sleep | getppid N */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int do_bind(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("bind: %s\n", errno == EADDRINUSE ? "EADDRINUSE" : strerror(errno));
		return 1;
	}
	printf("bind: ok\n");
	return 0;
}

/* Try every descriptor of every process we can see, and the log's path. */
static int steal_log(const char *path)
{
	int wrote = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		char dir[300];
		snprintf(dir, sizeof(dir), "/proc/%s/fd", de->d_name);
		DIR *fds = opendir(dir);
		struct dirent *f;
		while (fds && (f = readdir(fds))) {
			char p[600], target[256] = "";
			snprintf(p, sizeof(p), "%s/%s", dir, f->d_name);
			if (readlink(p, target, sizeof(target) - 1) < 0 ||
			    !strstr(target, ".jsonl"))
				continue;
			int fd = open(p, O_WRONLY | O_APPEND);
			if (fd >= 0 && write(fd, "STOLEN\n", 7) == 7) {
				printf("wrote through %s\n", p);
				wrote = 1;
			}
		}
		if (fds)
			closedir(fds);
	}
	for (int fd = 3; fd < 1024; fd++)
		if (write(fd, "STOLEN\n", 7) == 7) {
			printf("wrote through inherited fd %d\n", fd);
			wrote = 1;
		}
	int fd = open(path, O_WRONLY | O_APPEND);
	if (fd >= 0 && write(fd, "STOLEN\n", 7) == 7) {
		printf("wrote %s\n", path);
		wrote = 1;
	}
	printf("steal-log: %s\n", wrote ? "WROTE" : "denied");
	return wrote;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "bind"))
		return do_bind();
	if (argc >= 3 && !strcmp(argv[1], "steal-log"))
		return steal_log(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "exit"))
		return atoi(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "sleep")) {
		printf("sleeping\n");
		for (;;)
			pause();
	}
	if (argc >= 3 && !strcmp(argv[1], "getppid")) {
		long n = atol(argv[2]);
		for (long i = 0; i < n; i++)
			getppid();
		return 0;
	}
	fprintf(stderr, "usage: oci_probe bind|steal-log PATH|exit N|sleep|getppid N\n");
	return 2;
}
